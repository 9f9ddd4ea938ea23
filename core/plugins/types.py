"""Value objects exchanged through hooks. Plugins import them from ``core.plugin_api``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PluginInfo:
    """What a plugin says about itself (returned by ``ccas_plugin_info``).

    :param name: identifier, also the entry-point name and the URL segment (``[a-z_]+``).
    :param label: French label shown to tenant admins.
    :param version: the plugin's own version.
    :param core_requires: PEP 440 specifier of compatible core versions, e.g. ``">=0.1,<1"``.
    :param settings_schema: marshmallow ``Schema`` class with defaults (``load_default``) for
        every field; ``None`` when the plugin has no settings.
    :param description: one French sentence for the plugin list.
    :param organisation_kind: the kind of organisation the plugin represents, if any.
    """

    name: str
    label: str
    version: str
    core_requires: str = ">=0.1"
    settings_schema: type | None = None
    description: str = ""
    organisation_kind: str | None = None


@dataclass(frozen=True)
class NavItem:
    """A menu entry. ``endpoint`` is a Flask endpoint taking ``tenant`` as URL value.

    :param section: the French label of the menu section the entry belongs to; the core's
        are "Dossiers", "Activité", "Orientations", "Prêts", "Bilans", "Administration" and
        "Mon compte" (shown in the user's corner). The header shows the sections, each
        leading to its first page, and a second row with the current section's pages; an
        entry without a section stands on its own in the header (at most 7 entries there,
        the rest go under "Plus").
    """

    label: str
    endpoint: str
    roles: frozenset[str] = frozenset()
    order: int = 100
    section: str = ""


@dataclass(frozen=True)
class Panel:
    """A block a plugin or a core feature adds to a page (dashboard, case page), one of:

    * ``html`` rendered by the plugin's own (autoescaped) template, shown under ``title``;
    * ``template`` with ``context`` (a mapping, possibly empty): the page renders the
      template while it renders itself, with its own context (``request``,
      ``current_user``, ``_``, ``url_for``, ``csrf_token``… as ``render_template`` gives
      them) and these values, shown under ``title`` — the same HTML as
      ``html=render_template(template, **context)``, without running every context
      processor again for the block; a template that fails is logged and the block left
      out, the page still answers;
    * ``template`` alone: the page includes it with its own context (the template brings
      its heading).
    """

    title: str
    html: str = ""
    order: int = 100
    template: str | None = None
    context: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class CaseCheck:
    """A condition a case must meet to leave a state. ``passed=False`` blocks the move."""

    code: str
    label: str
    passed: bool
    message: str = ""


@dataclass(frozen=True)
class DocumentRequirement:
    """A document the person must bring."""

    code: str
    label: str


@dataclass(frozen=True)
class Suggestion:
    """Another aid or scheme that may apply before a microcredit (issue "other aids first")."""

    code: str
    label: str
    why: str
    action: str = ""
    blocking: bool = False


@dataclass(frozen=True)
class Destination:
    """Where a person may be reoriented: a scheme or a partner organisation."""

    code: str
    label: str
    organisation_name: str | None = None


@dataclass(frozen=True)
class LendingBounds:
    """What a lender lends: amounts from ``minimum`` to ``maximum`` (Decimal, euros) for
    the ``purposes`` given (``None``: every purpose). ``lender`` names it for people."""

    lender: str
    minimum: Any
    maximum: Any
    purposes: frozenset[str] | None = None


@dataclass(frozen=True)
class Figure:
    """One figure of a report section, as people read it.

    :param label: French label (``"Orientations reçues"``).
    :param value: an ``int`` (counts), a ``Decimal`` or number (money, percent, days), or
        ``None`` (no figure).
    :param kind: ``"count"``, ``"money"`` (``1 234,50 €``), ``"percent"`` (``3,04 %``),
        ``"days"`` or ``"text"``.
    :param basis: for a money, percent or days figure, the number of cases, loans or
        calls it derives from: the funders' view hides the figure when that number is
        under 5, as it shows such a count as "< 5" (statistical confidentiality).
    :param group: a French sub-heading the figure is listed under (``"Par statut"``).
    """

    label: str
    value: Any
    kind: str = "count"
    basis: int | None = None
    group: str = ""

    def __post_init__(self):
        if self.kind not in FIGURE_KINDS:
            raise ValueError(f"figure {self.label!r}: unknown kind {self.kind!r}")


FIGURE_KINDS = ("count", "money", "percent", "days", "text")


@dataclass
class ReportSection:
    """A plugin's section of a report: a French ``title``, its ``figures`` (what the pages
    and the files show, labelled and typed) and JSON-ready ``data`` (the API's raw
    figures, for machines)."""

    name: str
    title: str
    data: dict[str, Any] = field(default_factory=dict)
    figures: tuple[Figure, ...] = ()


@dataclass(frozen=True)
class DemoCase:
    """A case of the demonstration data (``ccas demo``, the benchmarks), as given to
    ``ccas_demo_data``: what a plugin needs to write its own rows consistent with it.

    :param id: the case's id.
    :param reference: the case's reference (``2026-00042``).
    :param state: its state today.
    :param purpose: purpose code (``mobility``…).
    :param amount: amount requested (``Decimal``), also the loan's amount when granted.
    :param months: loan duration asked (months).
    :param intake_date: the day the request was taken.
    :param days: ``{state: day}``, the first day the case reached each state it went
        through (local dates).
    :param reasons: ``{state: reason code}`` of the moves that carried one (``refused``,
        ``closed``…).
    :param fate: on a disbursed loan, how the borrower repays: ``on_time``, ``late``
        (behind today), ``defaulted`` or ``repaid_early``; otherwise ``None``.
    :param paid_instalments: on a defaulted loan, the instalments paid before the
        borrower stopped.
    :param social_worker_id: the CCAS social worker in charge (a ``User`` id) or ``None``.
    :param lender_agent_id: the lender's agent who acted on it (a ``User`` id) or ``None``.
    """

    id: Any
    reference: str
    state: str
    purpose: str
    amount: Any
    months: int
    intake_date: Any
    days: dict = field(default_factory=dict)
    reasons: dict = field(default_factory=dict)
    fate: str | None = None
    paid_instalments: int | None = None
    social_worker_id: Any = None
    lender_agent_id: Any = None


@dataclass(frozen=True)
class ScheduledJob:
    """A task the worker (``ccas worker``) runs on a schedule (returned by
    ``ccas_scheduled_jobs``).

    :param name: unique, dotted, starting with the plugin's name
        (``"credit_municipal.arrears"``); the name an operator uses in
        ``CCAS_WORKER_SCHEDULE`` to change its schedule or switch it off.
    :param run: the work, called with any of ``tenant``, ``session`` and ``now`` (aware
        UTC ``datetime``) it names. With ``per_tenant`` (the default) it is called once per
        tenant that enabled the plugin (every tenant for the core's jobs), inside that
        tenant's scope, with the tenant's session; the worker commits after it, or rolls
        back if it raises (that tenant is recorded as failed, the others still run). It may
        return a short summary for the job log (counts, no personal data).
    :param every: the default period (a ``timedelta``); the job runs once per period,
        whatever the number of workers.
    :param at: offset of the periods from midnight UTC (``timedelta(hours=5)`` with
        ``every=timedelta(days=1)``: every day at 05:00 UTC).
    :param label: French label for the operator console.
    :param per_tenant: ``False`` for platform work (no tenant, no tenant table reachable);
        ``run`` then gets ``session`` and ``now`` only.
    :param while_suspended: run it for a tenant the platform's operator suspended too. By
        default a suspended tenant's jobs wait for it to be resumed (no reminder, no mail,
        no rule applied to its files); a legal obligation that does not stop with the
        service (the retention purge) says ``True``.
    """

    name: str
    run: Any
    every: Any
    at: Any = None
    label: str = ""
    per_tenant: bool = True
    while_suspended: bool = False
