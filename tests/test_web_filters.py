"""The pages' date filters write the tenant's local time (Europe/Paris, or the tenant's
own zone: Cayenne is UTC-3), from the template's context, or from the request's tenant when
the context has none (a macro imported without context)."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from types import SimpleNamespace

from flask import g, render_template_string
from jinja2 import DictLoader

from core.web import filters

NEW_YEAR_UTC = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)  # 01/01/2026 00:30 in Paris


def test_dates_in_the_tenants_zone_from_the_template_context(app):
    with app.test_request_context("/"):
        g.tenant = SimpleNamespace(timezone="Europe/Paris")
        assert render_template_string("{{ v|datetime_fr }} {{ v|date_fr }} {{ d|date_fr }}",
                                      v=NEW_YEAR_UTC, d=date(2026, 1, 2)) \
            == "01/01/2026 00:30 01/01/2026 02/01/2026"
        g.tenant = SimpleNamespace(timezone="America/Cayenne")
        assert render_template_string("{{ v|datetime_fr }}", v=NEW_YEAR_UTC) \
            == "31/12/2025 20:30"
        assert render_template_string("{{ v|datetime_fr }}{{ n|date_fr }}", v=None, n=None) \
            == ""


def test_a_context_without_tenant_falls_back_to_the_requests_tenant(app):
    with app.test_request_context("/"):
        g.tenant = SimpleNamespace(timezone="America/Cayenne")
        assert filters.datetime_fr({}, NEW_YEAR_UTC) == "31/12/2025 20:30"
        assert filters.date_fr({}, NEW_YEAR_UTC) == "31/12/2025"
        assert filters.format_datetime(NEW_YEAR_UTC) == "31/12/2025 20:30"


def test_the_templates_gettext_formats_as_flask_babel(app):
    """Jinja's newstyle gettext, as Flask-Babel installed it: variables formatted, the
    message itself trusted markup (a translation is the developers' text)."""
    with app.test_request_context("/"):
        assert render_template_string(
            '{{ _("Demandes reçues en %(year)s", year=2026) }} '
            '{{ ngettext("%(num)d personne", "%(num)d personnes", 3) }} '
            '{{ _("l\'équipe & <b>") }}') \
            == "Demandes reçues en 2026 3 personnes l'équipe & <b>"  # trusted, as before



@contextlib.contextmanager
def _templates(app, **sources):
    """``app``'s templates replaced by ``sources`` (name: text) for the block."""
    loader = app.jinja_env.loader
    app.jinja_env.loader = DictLoader(sources)
    try:
        with app.test_request_context("/"):
            yield
    finally:
        app.jinja_env.loader = loader


def test_the_tenant_given_at_render_wins_in_includes_and_macros_imported_with_context(app):
    """The filters read the tenant of the variables given at render (``context.parent``),
    in an included template and a macro imported with context as in the page itself; a
    macro imported without context takes the request's."""
    with _templates(app, **{"inc.html": "{{ v|datetime_fr }}",
                            "mac.html": "{% macro when(v) %}{{ v|datetime_fr }}{% endmacro %}"}):
        g.tenant = SimpleNamespace(timezone="Europe/Paris")
        cayenne = SimpleNamespace(timezone="America/Cayenne")
        page = app.jinja_env.from_string(
            '{% include "inc.html" %} '
            '{% import "mac.html" as with_ctx with context %}{{ with_ctx.when(v) }} '
            '{% import "mac.html" as without %}{{ without.when(v) }}')
        assert page.render(v=NEW_YEAR_UTC, tenant=cayenne) \
            == "31/12/2025 20:30 31/12/2025 20:30 01/01/2026 00:30"


def test_the_templates_gettext_answers_the_same_in_includes_and_macros(app):
    """``_`` finds its catalogue's answers in the variables given at render, in an
    included template and a macro imported with context; a macro imported without
    context asks Flask-Babel: the same text everywhere."""
    with _templates(app, **{"inc.html": '{{ _("Tableau de bord") }}',
                            "mac.html": '{% macro t() %}{{ _("Tableau de bord") }}{% endmacro %}'}):
        assert render_template_string(
            '{{ _("Tableau de bord") }}|{% include "inc.html" %}|'
            '{% import "mac.html" as a with context %}{{ a.t() }}|'
            '{% import "mac.html" as b %}{{ b.t() }}') \
            == "|".join(["Tableau de bord"] * 4)
