"""The CCAS's own features beside the case workflow: accompaniment, appointments and their
reminders, documents to bring, "other aids first" suggestions, budget workshops, staff
time. Each is a service module; those that react to the workflow or add to pages are
always-on internal plugins of the one plugin manager (``core.plugins``), implementing the
same hooks as partner plugins (``core/hookspecs.py``). Their pages are in ``core.web``.
"""
