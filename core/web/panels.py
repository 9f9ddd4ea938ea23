"""The blocks of a page (``_panels.html``): a plugin's block given as a template with its
values (``Panel(template=..., context=...)``) is rendered while the page renders, with the
page's own context.

``render_template`` in the plugin's hook gave the same HTML, but ran every context
processor again (the menu, the translations, the tenant, the signed-in user…) and Flask's
template signals for each block; the page has them already.
"""

from __future__ import annotations

import logging

from flask import Flask
from jinja2 import pass_context
from jinja2.utils import concat
from markupsafe import Markup

log = logging.getLogger(__name__)


@pass_context
def panel_html(context, panel) -> Markup | None:
    """``panel.template`` rendered with the page's context and ``panel.context`` (the
    block's values win), as ``{% include %}`` renders a template; ``None`` when it fails
    (logged with the template's name: the block is left out, the page still answers, as
    for a plugin whose hook raised)."""
    try:
        template = context.environment.get_template(panel.template)
        values = {**context.get_all(), **panel.context}
        html = concat(template.root_render_func(template.new_context(values, True)))
        return Markup(html)  # noqa: S704 - the output of an autoescaped template
    except Exception:
        log.exception("the block %r failed to render (template %s)", panel.title,
                      panel.template)
        return None


def init_app(app: Flask) -> None:
    app.jinja_env.globals["panel_html"] = panel_html
