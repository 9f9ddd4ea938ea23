"""The stable surface for plugins: import from here only.

Everything else in ``core`` is private and may change between minor versions; what is
exported here follows the deprecation rules of ``core/hookspecs.py`` (names are added,
never renamed or removed without a deprecation period, see ``CHANGELOG.md``).
``tests/test_plugin_api.py`` fails when a module under ``plugins/`` imports any other
``core`` module, and when a name listed below goes missing.

What a plugin gets, by need:

Declaring the plugin
    ``hookimpl`` (the marker for hook implementations), ``PluginInfo`` (identity,
    settings schema, compatible core versions), ``settings_fields`` (reusable settings
    fields with French labels), ``plugin_settings(name)`` (the current tenant's typed
    settings), ``PersonalData`` (RGPD descriptor of a plugin table),
    ``tenant_command(name)`` (decorator for the plugin's CLI commands).

Documents laid out as tables (the reports' writers)
    ``ReportTable(title, headers, rows)``, ``export_document({"title": …, "tables": […]},
    fmt)`` (``xlsx``, ``pdf``, ``md``, ``csv`` long format, ``json``), ``table_csv(table)``
    (one table as a flat French CSV), ``money_cell(amount)`` (shown as money everywhere),
    ``column_chart(chart_id, title, [(label, value, text), …])`` (an accessible SVG bar
    chart: title, description listing every value, each value written on its bar).

Sortable lists (``core.sorting``; the header macro ``sort_th`` of ``_sort.html``)
    ``SortSpec({key: column}, default, default_dir)`` of ``SortColumn(order, first=…,
    nulls_last=…)``,
    ``sort_from(request.args, spec)`` (an unknown column or direction gives the default),
    ``order_by(sorting)`` (SQL ``ORDER BY`` clauses), ``sort_rows(rows, sorting)`` (rows
    in memory, with key functions as the column's ``order``).

Legacy imports (the case import's machinery)
    ``read_spreadsheet(data, filename)`` (CSV ``;``/``,``/tab in UTF-8 or Windows-1252, or
    XLSX: headers and rows with their line numbers), ``ImportRowError`` (line, column,
    French message), ``ImportValueProblem``, ``normalise_header``, ``read_date_cell``,
    ``read_amount_cell``, ``read_months_cell``, ``read_text_cell``, ``insert_rows`` (below),
    ``CaseTransition`` (a case's dated moves, for
    an import that records them).

Declaring hooks of the plugin's own (``ccas_hookspecs``)
    ``hookspec`` and the policy markers ``deciding`` / ``decorating``.

The plugin's part of the case workflow (``ccas_case_workflow``)
    ``CaseWorkflow`` with ``CaseState``, ``Transition``, ``IntakeOption``, ``Milestone``.

Values returned by hooks
    ``CaseCheck``, ``Destination``, ``DocumentRequirement``, ``LendingBounds``, ``NavItem``,
    ``Panel``, ``ReportSection`` with its ``Figure`` rows, ``ScheduledJob`` (a task of the worker,
    ``ccas_scheduled_jobs``), ``Suggestion``.

Values hooks receive (read them; their own modules stay private)
    ``Case``, ``Person``, ``Organisation``, ``Referral``, ``Tenant``, ``User``,
    ``Transition``, ``LoanRef`` (what the core reads of a plugin's loan), ``State`` (the
    core's states: ``Case.state`` is a string, a plugin's states are strings too),
    ``PURPOSE_LABELS`` (French labels of the purposes).

Roles (``core.policy``: the one place sets of roles are spelled out)
    ``Role``, ``ROLE_LABELS``, ``ALL_TENANT_ROLES``, ``CCAS_STAFF``, ``SOCIAL_WORKERS``,
    ``LENDER``, ``LENDER_DESK``, ``CASE_READERS``, ``LOAN_READERS``, ``REFERRAL_READERS``,
    ``MANAGER``, ``FUNDERS``; ``allow(*roles_or_groups)`` (the authorization decorator
    every plugin view must carry).

Calling hooks (a plugin may emit or consult hooks too)
    ``hooks()`` (the caller limited to the current tenant's enabled plugins and the
    core's features: ``hooks().ccas_loan_event(loan=…, event=…, data=…)`` applies the
    hook's policy and adds ``tenant`` and ``session``), ``PluginFailure`` (what a
    deciding hook raises when a plugin crashes). ``call_each`` is deprecated (0.2) and
    goes in 0.3: use ``hooks().ccas_x.answers(...)``.

Request and tenant
    ``current_tenant()``, ``db_session()`` (the tenant-scoped SQLAlchemy session; inside
    a hook, prefer the ``session`` argument), ``token_authenticated`` (the API view
    decorator: bearer token, explicit CSRF opt-out; see ``ccas_api_blueprints``).

Tables of a plugin (models and Alembic migrations)
    ``Base`` (the declarative base: one metadata for core and plugins), ``TenantScoped``
    (mixin: ``(tenant_id, id)`` primary key, tenant filtering), ``tenant_fk(column,
    table)`` (composite foreign key to another tenant table), ``UTCDateTime`` (aware UTC
    timestamps; the column type plugin migrations use too), ``utcnow()`` (the platform's
    clock: tests pin it).

Case workflow
    ``apply_transition(session, case, request, actor)`` with a ``TransitionRequest(target,
    version, reason=…, reason_text=…, destination=…, data=…)``; ``TransitionError`` (a
    refused move) and its subclass ``StaleCase`` (the case changed meanwhile: 409);
    ``accompaniment_status(case, session)`` (what a lender may know of the CCAS's
    follow-up), ``affordability(session, case, tenant, instalment)`` (the instalment
    against the payment the case's budget allows: ``Affordability.over``, ``bearable``),
    ``borrowers(session, case)`` (the borrower then the co-borrower, as ``Borrower``:
    names, birth date, ``role``).

Writing what others must know (same transaction, never committed here)
    ``record_audit(session, action, obj, actor=None, **detail)`` and
    ``actor_label(actor)`` (the audit trail), ``enqueue_email(session, to, subject,
    text, …)`` (the outbox: nothing is sent from a request), ``UserError`` (the French
    message for the person in front of the screen or the API client: status, field).

Reading user input and showing values the French way
    ``local_today(tenant)`` (today in the tenant's time zone, from the platform's clock),
    ``parse_amount(value, field)``, ``parse_date(value, field)``,
    ``format_money(amount)``, ``plural(count, one, many)`` (``"1 ligne"``, ``"2 lignes"``),
    ``reasons(tenant, kind)`` (the tenant's reason labels:
    ``"refuse"``, ``"close"``…), ``label(vocabulary, code)`` (the French label of a code:
    the core's vocabularies and what plugins add with ``ccas_labels``).

Loan arithmetic (pure: Decimal in, Decimal out, no database)
    ``build_schedule``, ``remaining_schedule``, ``reschedule`` and ``Rescheduling``
    (payment holiday, new duration), ``MAX_AMOUNT``, ``MAX_MONTHS``,
    ``MAX_HOLIDAY_MONTHS``, ``add_months``, ``months_for_installment``,
    ``validate_loan_inputs`` and
    ``LoanInputError``, ``annual_percentage_rate``, ``round_apr``, ``schedule_json``.

Read-only rows for a page (``core.row_views``)
    ``rows_statement(Model, *criteria, order_by=…, columns=…)`` (a read of one tenant
    table, every column or the ``columns`` named, built once at import; the tenant's
    criterion bound on each run), ``read_rows(session,
    statement, params, Model)`` (its rows as read-only views carrying the model's
    properties and methods: no ORM objects to build, no lazy loads); ``capped(rows,
    cap)`` (a list read with ``.limit(cap + 1)`` cut to ``cap``, and whether rows were
    left out, for the ``shown_count`` macro's "plus de N").
Demonstration data (hook ``ccas_demo_data``)
    ``DemoCase`` (a generated case as the plugin sees it), ``insert_rows(session, model,
    records)`` (bulk insert of dicts, the model's defaults filled in, the tenant
    stamped), ``new_id(rng)`` (a reproducible UUID drawn from the seeded generator).

Helpers shared by partner plugins
    ``has_children``, ``household_facts(session, case)`` (a ``HouseholdFacts``: the
    purpose, the applicant's age on the request day, adults, children's ages, employment,
    monthly resources, the categories the budget sheet shows, postal code: what "other
    aids first" rules read, ``None`` when unknown), ``age_on(born, day)``,
    ``synthesis_text(session, case)`` (the social worker's current synthesis, for words),
    ``keywords_found``, ``normalise_text``, ``organisation_of_plugin``,
    ``partner_flows``, ``partner_flow_figures`` (the same, labelled for the review),
    ``plugin_destination``, ``suggestions_resolved``.
"""

from __future__ import annotations

import functools
import warnings
from typing import Protocol

import click

from . import audit as _audit
from . import outbox as _outbox
from . import plugins
from .api.auth import token_authenticated
from .cases import local_today, parse_amount, parse_date
from .cases.household import Borrower, borrowers
from .cli.context import tenant_context, tenant_option
from .db import db
from .demo.rows import insert_rows, new_id
from .errors import UserError
from .features.accompaniment import status_label
from .features.evaluation import Affordability, affordability
from .formats import plural
from .hookspecs import deciding, decorating, hookimpl, hookspec
from .importer import columns as _columns
from .importer.reading import read_table as read_spreadsheet
from .importer.rows import RowError as ImportRowError
from .labels import label
from .loans import (
    MAX_AMOUNT,
    MAX_HOLIDAY_MONTHS,
    MAX_MONTHS,
    LoanInputError,
    Rescheduling,
    add_months,
    annual_percentage_rate,
    build_schedule,
    months_for_installment,
    remaining_schedule,
    reschedule,
    round_apr,
    schedule_json,
    validate_loan_inputs,
)
from .models import (
    PURPOSE_LABELS,
    Case,
    CaseTransition,
    Organisation,
    Person,
    Referral,
    State,
    Tenant,
    User,
)
from .models.base import Base, TenantScoped, UTCDateTime, tenant_fk, utcnow
from .paging import capped
from .plugins import settings_fields
from .plugins.calling import PluginFailure
from .plugins.helpers import (
    HouseholdFacts,
    age_on,
    has_children,
    household_facts,
    keywords_found,
    normalise_text,
    organisation_of_plugin,
    partner_flow_figures,
    partner_flows,
    plugin_destination,
    suggestions_resolved,
    synthesis_text,
)
from .plugins.types import (
    CaseCheck,
    DemoCase,
    Destination,
    DocumentRequirement,
    Figure,
    LendingBounds,
    NavItem,
    Panel,
    PluginInfo,
    ReportSection,
    ScheduledJob,
    Suggestion,
)
from .policy import (
    ALL_TENANT_ROLES,
    CASE_READERS,
    CCAS_STAFF,
    FUNDERS,
    LENDER,
    LENDER_DESK,
    LOAN_READERS,
    MANAGER,
    REFERRAL_READERS,
    ROLE_LABELS,
    SOCIAL_WORKERS,
    Role,
    allow,
)
from .privacy.registry import PersonalData
from .reports.charts import column_chart
from .reports.export import Table as ReportTable
from .reports.export import export as export_document
from .reports.export import money_cell, table_csv
from .row_views import read as read_rows
from .row_views import statement as rows_statement
from .sorting import SortColumn, SortSpec, order_by, sort_from, sort_rows
from .web.context import current_tenant as _current_tenant
from .web.filters import format_money
from .workflow import (
    CaseState,
    CaseWorkflow,
    IntakeOption,
    Milestone,
    StaleCase,
    Transition,
    TransitionError,
    TransitionRequest,
    apply_transition,
)
from .workflow.reasons import reasons


class LoanRef(Protocol):
    """What the core reads of a lender plugin's loan (``ccas_loan_event``)."""

    id: object
    case_id: object


# -- declaring the plugin --------------------------------------------------------------


#: A spreadsheet cell that cannot be read (French message naming the value).
ImportValueProblem = _columns.ValueProblem
#: Cells of a legacy spreadsheet, as the case import reads them: ``normalise_header``
#: (lowercase, no accents, punctuation as spaces), dates (ISO or JJ/MM/AAAA), amounts
#: (French or English decimals), months (1-120), text (with a length limit). Each raises
#: ``ImportValueProblem``; an empty cell gives ``None`` (``""`` for text).
normalise_header = _columns.normalise
read_date_cell = _columns.parse_date
read_amount_cell = _columns.parse_amount
read_months_cell = _columns.parse_months
read_text_cell = _columns.text


def bulk_insert(session, model, records: list[dict]) -> None:
    """Insert many rows of the tenant model ``model`` fast, in the session's transaction
    (legacy imports): :func:`insert_rows` (the columns a record leaves out take the
    model's Python defaults; ``tenant_id`` is the current tenant's, filled in when
    missing, refused when another; PostgreSQL's row-level security checks the rows
    again)."""
    insert_rows(session, model, records)


def plugin_settings(name: str) -> dict:
    """Typed settings of plugin ``name`` for the current tenant, defaults filled in."""
    return plugins.plugin_settings(name)


def tenant_command(plugin_name: str):
    """Decorate a click command: adds ``--tenant SLUG``, opens the app and the tenant
    scope, and refuses (exit code 1) a tenant that has not enabled ``plugin_name``. The
    command receives ``tenant`` (the ``Tenant``)."""

    def decorate(fn):
        @tenant_option
        @functools.wraps(fn)
        def wrapper(tenant_slug, *args, **kwargs):
            with tenant_context(tenant_slug) as tenant:
                if not plugins.is_enabled(plugin_name):
                    raise click.ClickException(
                        f"L'extension {plugin_name!r} n'est pas activée pour {tenant_slug!r}."
                    )
                return fn(*args, tenant=tenant, **kwargs)

        return wrapper

    return decorate


# -- calling hooks ---------------------------------------------------------------------


def hooks():
    """The hook caller limited to the plugins the current tenant enabled (the one the core
    uses): ``hooks().ccas_loan_event(loan=…, event=…, data=…)``."""
    return plugins.hooks()


def call_each(hook, **kwargs):
    """Deprecated in 0.2 (goes in 0.3): use ``hooks().ccas_x.answers(**kwargs)``, which
    applies the hook's policy and names who answered. Yields ``(plugin_name, result)``
    for each implementation; an exception is yielded as the result."""
    warnings.warn("core.plugin_api.call_each is deprecated: use hooks().<hook>.answers()",
                  DeprecationWarning, stacklevel=2)
    for impl in hook.implementations():
        args = {k: v for k, v in kwargs.items() if k in impl.argnames}
        try:
            yield impl.plugin_name, impl.function(**args)
        except Exception as exc:  # noqa: BLE001 - the caller decides, as before
            yield impl.plugin_name, exc


# -- request and tenant ----------------------------------------------------------------


def current_tenant():
    """The current ``Tenant`` (inside a request or a tenant command), or ``None``."""
    return _current_tenant()


def db_session():
    """The request's (or the tenant command's) SQLAlchemy session, tenant-scoped: every
    query on a ``TenantScoped`` model sees the current tenant's rows only. Commit in views
    and commands, never in services. (The session, not the Flask-SQLAlchemy object: a
    plugin has no business with engines, ``create_all`` or the app's metadata.)"""
    return db.session


# -- case workflow ---------------------------------------------------------------------


def accompaniment_status(case, session=None) -> str:
    """What a partner (the lender) may know of the CCAS's accompaniment of ``case``: a
    short French status such as « En cours de suivi par le CCAS » or « Alerte prise en
    charge par le CCAS », never the tasks or the notes."""
    return status_label(case, session or db.session)


# -- audit trail -----------------------------------------------------------------------


def record_audit(session, action: str, obj=None, actor=None, **detail):
    """Add an audit row for ``action`` on ``obj`` to ``session``, in the caller's
    transaction: every read and change of a person's file goes to the trail. ``actor``
    defaults to the signed-in user (``"cli"`` in a command); ``detail`` values are
    stored as JSON (dates, decimals and UUIDs as strings)."""
    return _audit.record(session, action, obj, actor=actor, **detail)


def actor_label(actor=None) -> str:
    """How the audit trail names ``actor`` (``"user:<email>"``, ``"token:…"``, ``"cli"``)."""
    return _audit.actor_label(actor)


# -- outbox ----------------------------------------------------------------------------


def enqueue_email(session, to: str, subject: str, text: str, html: str | None = None,
                  attachments: list[tuple[str, str, bytes]] | None = None,
                  topic: str = ""):
    """Queue an e-mail in the outbox, in the caller's transaction (it is sent after the
    commit, by the delivery worker, with retries). ``attachments``: ``(filename,
    content_type, bytes)``; ``topic`` groups messages about one subject."""
    return _outbox.enqueue_email(session, to, subject, text, html=html,
                                 attachments=attachments, topic=topic)


__all__ = [
    # declaring the plugin
    "hookimpl",
    "PluginInfo",
    "settings_fields",
    "plugin_settings",
    "PersonalData",
    "tenant_command",
    "read_spreadsheet",
    "ImportRowError",
    "ImportValueProblem",
    "normalise_header",
    "read_date_cell",
    "read_amount_cell",
    "read_months_cell",
    "read_text_cell",
    "CaseTransition",
    "ReportTable",
    "export_document",
    "table_csv",
    "money_cell",
    "column_chart",
    # sortable lists
    "SortColumn",
    "SortSpec",
    "sort_from",
    "order_by",
    "sort_rows",
    # hooks of the plugin's own
    "hookspec",
    "deciding",
    "decorating",
    # read-only rows for a page
    "rows_statement",
    "read_rows",
    "capped",
    # demonstration data (hook ccas_demo_data)
    "DemoCase",
    "insert_rows",
    "new_id",
    # the plugin's part of the case workflow
    "CaseWorkflow",
    "CaseState",
    "Transition",
    "IntakeOption",
    "Milestone",
    # values returned by hooks
    "CaseCheck",
    "Destination",
    "LendingBounds",
    "DocumentRequirement",
    "NavItem",
    "Panel",
    "Figure",
    "ReportSection",
    "ScheduledJob",
    "Suggestion",
    # values hooks receive
    "Case",
    "Person",
    "Organisation",
    "Referral",
    "Tenant",
    "User",
    "LoanRef",
    "State",
    "PURPOSE_LABELS",
    # roles
    "Role",
    "ROLE_LABELS",
    "ALL_TENANT_ROLES",
    "CCAS_STAFF",
    "SOCIAL_WORKERS",
    "LENDER",
    "LENDER_DESK",
    "CASE_READERS",
    "LOAN_READERS",
    "REFERRAL_READERS",
    "MANAGER",
    "FUNDERS",
    "allow",
    # calling hooks
    "hooks",
    "call_each",
    "PluginFailure",
    # request and tenant
    "current_tenant",
    "db_session",
    "token_authenticated",
    # tables of a plugin
    "Base",
    "TenantScoped",
    "tenant_fk",
    "UTCDateTime",
    "utcnow",
    # case workflow
    "apply_transition",
    "TransitionRequest",
    "TransitionError",
    "StaleCase",
    "accompaniment_status",
    "affordability",
    "Affordability",
    "borrowers",
    "Borrower",
    # writing what others must know
    "record_audit",
    "actor_label",
    "enqueue_email",
    "UserError",
    # user input and French display
    "local_today",
    "parse_amount",
    "parse_date",
    "format_money",
    "plural",
    "reasons",
    "label",
    # loan arithmetic
    "build_schedule",
    "remaining_schedule",
    "reschedule",
    "Rescheduling",
    "add_months",
    "months_for_installment",
    "MAX_AMOUNT",
    "MAX_MONTHS",
    "MAX_HOLIDAY_MONTHS",
    "validate_loan_inputs",
    "LoanInputError",
    "annual_percentage_rate",
    "round_apr",
    "schedule_json",
    # helpers shared by partner plugins
    "has_children",
    "household_facts",
    "HouseholdFacts",
    "age_on",
    "keywords_found",
    "normalise_text",
    "organisation_of_plugin",
    "partner_flow_figures",
    "partner_flows",
    "plugin_destination",
    "suggestions_resolved",
    "synthesis_text",
]
