"""Server-rendered pages (Jinja), in French, accessible."""
