"""THE plugin contract of ccas-network: every hook a plugin may implement.

Rules (see docs/plugins.md):

* Every hook is prefixed ``ccas_``. Its docstring gives ``:param:`` / ``:return:``, the
  call mode and an example; ``docs/hooks.md`` is generated from these docstrings
  (``ccas plugin docs``) and ``tests/test_hookspecs.py`` fails when a hook is
  undocumented or the reference is stale.
* A hook grows by adding arguments only (an implementation may take any subset of the
  arguments, by name). A hook is deprecated with ``warn_on_impl``, never renamed.
* The core calls hooks only through the per-tenant caller (``core.plugins.hooks()``), which
  asks only the plugins enabled for the current tenant. The exceptions are the
  plugin-level hooks of the first section, asked of every installed plugin at start-up.
* Call order is explicit: a plugin that must run first or last says ``tryfirst=True`` or
  ``trylast=True`` on its ``@hookimpl``; otherwise the order is unspecified.
* Call modes: "collected" hooks return a list of every non-``None`` result; "first result"
  hooks stop at the first non-``None`` result.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("ccas")

# ======================================================================================
# Plugin level (asked of every installed plugin at start-up, whatever the tenant)
# ======================================================================================


@hookspec
def ccas_plugin_info():
    """Describe the plugin: name, label, version, compatible core versions, settings.

    Call mode: collected (each plugin answers for itself).

    :return: a ``core.plugin_api.PluginInfo``.

    Example::

        @hookimpl
        def ccas_plugin_info():
            return PluginInfo(name="udaf", label="UDAF", version="1.0",
                              core_requires=">=0.1,<1", settings_schema=UdafSettings)
    """


@hookspec
def ccas_blueprints():
    """Flask blueprints the plugin serves. They are mounted under
    ``/t/<tenant>/p/<plugin name>/`` and answer 404 for a tenant that has not enabled the
    plugin; their views see the tenant already set.

    Call mode: collected.

    :return: a list of ``flask.Blueprint``.

    Example::

        bp = Blueprint("udaf", __name__, template_folder="templates")

        @hookimpl
        def ccas_blueprints():
            return [bp]
    """


@hookspec
def ccas_cli_commands():
    """Click commands added under ``ccas <command>``. Wrap tenant work with
    ``core.plugin_api.tenant_command(plugin_name)`` so that the command refuses a tenant
    that has not enabled the plugin.

    Call mode: collected.

    :return: a list of ``click.Command`` (or groups).

    Example::

        @click.command("udaf-sync")
        @tenant_command("udaf")
        def sync(tenant):
            ...

        @hookimpl
        def ccas_cli_commands():
            return [sync]
    """


@hookspec
def ccas_personal_data():
    """Where the plugin's tables hold personal data of the people the CCAS helps (RGPD).

    Asked of every installed plugin (a disabled plugin's tables may still hold a person's
    rows): the purge (``ccas purge``), the erasure and the subject-access export of
    ``core.privacy`` use it. Declare every table of the plugin, even one without personal
    data: a String/Text/JSON/LargeBinary column declared neither personal nor
    non-personal fails ``tests/test_privacy_purge.py``. A row links to a person through
    ``links`` (``("case_id", "cases")``); ``hold_column``/``hold_values`` mark rows that
    are a legal reason to keep the file (an open loan). Actions: ``name``, ``blank``,
    ``null``, ``empty``, ``birth_date``, ``scrub``, ``delete`` (``docs/privacy.md``).

    Call mode: collected (each plugin answers for itself).

    :return: a list of ``core.plugin_api.PersonalData``.

    Example::

        @hookimpl
        def ccas_personal_data():
            return [PersonalData("udaf_visits", personal={"note": "blank"},
                                 non_personal=("code",), links=(("case_id", "cases"),),
                                 label="Visites UDAF")]
    """


# ======================================================================================
# Tenant level: pages and navigation (asked only of the tenant's enabled plugins)
# ======================================================================================


@hookspec
def ccas_nav_items(user):
    """Menu entries for the signed-in user of the current tenant.

    Call mode: collected.

    :param user: the signed-in ``User``.
    :return: a list of ``core.plugin_api.NavItem`` (filtered by their ``roles``).

    Example::

        @hookimpl
        def ccas_nav_items(user):
            return [NavItem(label="Contrôle FICP", endpoint="credit_municipal.ficp_queue",
                            roles=frozenset({"lender_agent"}))]
    """


@hookspec
def ccas_dashboard_panels(user):
    """Blocks added to the signed-in user's dashboard ("my work").

    Call mode: collected.

    :param user: the signed-in ``User``.
    :return: a list of ``core.plugin_api.Panel``, or ``None``.

    Example::

        @hookimpl
        def ccas_dashboard_panels(user):
            if user.role == "lender_agent":
                return [Panel(title="FICP", html=render_template("cm/panel.html"))]
    """


# ======================================================================================
# Case workflow
# ======================================================================================


@hookspec
def ccas_case_before_transition(case, transition, actor, data):
    """Veto a case transition before it happens.

    Called inside the transaction, before the state changes. Returning a message refuses
    the transition: the case is left unchanged and the message is shown to the user
    (prefixed with the plugin's label). A plugin that raises refuses it too; the error is
    logged with the plugin's name.

    Call mode: collected (every veto is shown).

    :param case: the ``Case`` (still in its old state).
    :param transition: the ``core.workflow.Transition`` (``source``, ``target``, ``name``).
    :param actor: the ``User`` asking.
    :param data: dict of the transition's data (``reason``, ``destination``, …).
    :return: a French veto message, or ``None`` to allow.

    Example::

        @hookimpl
        def ccas_case_before_transition(case, transition):
            if transition.target == "instruction" and case.amount_requested > 3000:
                return "Montant supérieur au plafond du prêteur (3 000 €)."
    """


@hookspec
def ccas_case_after_transition(case, transition, actor, data):
    """React to a transition that has been applied (same transaction: writing to the
    outbox here is safe; sending mail or calling a URL here is not).

    Call mode: collected; return values are ignored.

    :param case: the ``Case``, now in its new state.
    :param transition: the ``core.workflow.Transition`` applied.
    :param actor: the ``User`` who moved it.
    :param data: the transition's data.
    :return: ``None``.

    Example::

        @hookimpl
        def ccas_case_after_transition(case, transition):
            if transition.target == "ficp_pending":
                enqueue_ficp_check(case)
    """


@hookspec
def ccas_case_checks(case, state):
    """Checks a case must pass to leave ``state`` (e.g. the FICP check to leave
    ``ficp_pending``). A failed check blocks every transition out of the state except the
    side exits (abandon, reorient).

    Call mode: collected.

    :param case: the ``Case``.
    :param state: the state being left (a ``core.plugin_api.State`` value).
    :return: a list of ``core.plugin_api.CaseCheck``, or ``None``.

    Example::

        @hookimpl
        def ccas_case_checks(case, state):
            if state == "ficp_pending":
                return [CaseCheck("ficp", "Consultation FICP", passed=ficp_cleared(case))]
    """


@hookspec
def ccas_required_documents(case):
    """Documents to add to the tenant's list for this case.

    Asked when the case enters ``documents_requested`` (its checklist is created then) and
    when staff complete a checklist. The tenant's own list comes first; a code already on
    the list is ignored. A plugin that raises refuses the transition (nothing is written).

    Call mode: collected.

    :param case: the ``Case``.
    :return: a list of ``core.plugin_api.DocumentRequirement``, or ``None``.

    Example::

        @hookimpl
        def ccas_required_documents(case):
            if case.purpose == "mobility":
                return [DocumentRequirement("driving_licence", "Permis de conduire")]
    """


@hookspec
def ccas_case_panels(case, user):
    """Blocks a plugin adds to the case page (e.g. the FICP result, the loan).

    Call mode: collected.

    :param case: the ``Case`` shown.
    :param user: the signed-in ``User`` (respect data minimisation by role).
    :return: a list of ``core.plugin_api.Panel``, or ``None``.

    Example::

        @hookimpl
        def ccas_case_panels(case, user):
            return [Panel(title="Prêt", html=render_template("cm/loan_panel.html", case=case))]
    """


@hookspec
def ccas_suggest_alternatives(case):
    """Other aids or schemes that may apply before a microcredit ("other aids first").
    Suggestions appear at evaluation (``core.features.suggestions`` stores them when the case
    enters it, and again on demand); the move to instruction is vetoed until the social
    worker resolves each one (mobilised, requested, or not applicable with a reason). A
    ``blocking`` suggestion (e.g. a business project for ADIE) vetoes instruction until it
    is overridden with a reason. A suggestion is identified by the plugin and its ``code``.

    Call mode: collected.

    :param case: the ``Case`` (with its person and budget).
    :return: a list of ``core.plugin_api.Suggestion``, or ``None``.

    Example::

        @hookimpl
        def ccas_suggest_alternatives(case):
            if case.purpose == "household_equipment":
                return [Suggestion("caf_pret_equipement", "Prêt d'équipement CAF",
                                   why="Famille allocataire", action="Contacter la CAF")]
    """


@hookspec
def ccas_reorientation_destinations():
    """Schemes and partner organisations a person can be reoriented to.

    Call mode: collected.

    :return: a list of ``core.plugin_api.Destination``, or ``None``.

    Example::

        @hookimpl
        def ccas_reorientation_destinations():
            return [Destination("adie", "ADIE (microcrédit professionnel)", "ADIE")]
    """


# ======================================================================================
# Referrals
# ======================================================================================


@hookspec
def ccas_referral_received(referral):
    """A referral has arrived for an organisation of the tenant (same transaction).

    Call mode: collected; return values are ignored.

    :param referral: the new ``Referral``.
    :return: ``None``.

    Example::

        @hookimpl
        def ccas_referral_received(referral):
            log.info("referral %s from %s", referral.id, referral.from_organisation.name)
    """


@hookspec
def ccas_referral_status_changed(referral, old_status, new_status):
    """A referral's status changed (same transaction; use the outbox to notify).

    Call mode: collected; return values are ignored.

    :param referral: the ``Referral``.
    :param old_status: the previous status (string).
    :param new_status: the new status (string).
    :return: ``None``.

    Example::

        @hookimpl
        def ccas_referral_status_changed(referral, new_status):
            if new_status == "declined":
                count_declined(referral)
    """


@hookspec(firstresult=True)
def ccas_referral_fields_schema(organisation, sender):
    """Extra fields a plugin requires on a referral, as a marshmallow schema validating
    ``referral.extra``: on referrals sent **to** ``organisation`` (e.g. what the UDAF needs
    to receive a family) and, with ``sender``, on referrals its organisation **sends**
    (e.g. the family quotient the CAF knows and the CCAS needs before instruction).

    The portal form shows every field (its ``metadata["label"]``, errors next to it), the
    API validates ``extra`` with them (422, errors keyed ``extra.<field>``) and nothing is
    written unless every field is valid. A plugin answers for its own organisation,
    ``organisation.plugin_name`` or ``sender.plugin_name`` equal to its name; if its
    organisation is on both sides it returns one schema covering both.

    Call mode: collected by the core, which asks each enabled plugin on its own and
    merges every schema returned (a plugin that raises makes the referral impossible for
    now, 503, nothing written). On a field name declared by two plugins, the field of the
    receiving organisation's plugin wins, then the sending organisation's plugin's, then
    the others' by plugin name; the ignored field is logged. The spec stays first-result:
    calling ``hooks().ccas_referral_fields_schema(...)`` yourself gives one schema.

    :param organisation: the receiving ``Organisation``.
    :param sender: the sending ``Organisation`` (``None`` when the core only knows the
        receiver); an implementation that does not take it answers for the receiving
        side only, as before.
    :return: a marshmallow ``Schema`` class, or ``None``.

    Example::

        @hookimpl
        def ccas_referral_fields_schema(organisation, sender):
            if organisation.plugin_name == "caf":
                return CafReferralFields
            if sender is not None and sender.plugin_name == "caf":
                return CafReferralFields  # what the CAF tells the CCAS
            return None
    """


# ======================================================================================
# Loans
# ======================================================================================


@hookspec(firstresult=True)
def ccas_ficp_check(person, case):
    """Automated FICP connector: consult the Banque de France register for ``person``.

    No connector ships with the product; the lender's agents record the result by hand.
    A connector plugin returns ``"clear"`` or ``"registered"``; ``None`` leaves the check
    to the manual queue.

    Call mode: first result.

    :param person: the ``Person`` to check.
    :param case: the ``Case`` the check is for.
    :return: ``"clear"``, ``"registered"`` or ``None``.

    Example::

        @hookimpl
        def ccas_ficp_check(person):
            return my_bank_api.ficp(person.last_name, person.first_name, person.birth_date)
    """


@hookspec
def ccas_loan_event(loan, event, data):
    """Something happened to a loan: ``granted``, ``signed``, ``disbursed``,
    ``repayment``, ``late`` (an instalment unpaid past due), ``default``, ``closed``
    (same transaction; use the outbox to notify). A rejected payment is a ``repayment``
    whose data has ``"bounced": True``. The core's accompaniment always listens: ``late``,
    ``default`` and a bounced payment open a task for the social worker (it reads
    ``loan.case_id``).

    Call mode: collected; return values are ignored.

    :param loan: the ``Loan`` (it has ``case_id``).
    :param event: the event name (string).
    :param data: dict with the event's details (e.g. ``days_late`` for ``late``,
        ``amount``, ``bounced``).
    :return: ``None``.

    Example::

        @hookimpl
        def ccas_loan_event(loan, event, data):
            if event == "late":
                create_follow_up_task(loan.case, days_late=data["days_late"])
    """


@hookspec(firstresult=True)
def ccas_loan_details(loan_id, session):
    """A loan of the current tenant as JSON-ready data, for ``GET /api/v1/loans/<id>``.
    The core knows no loan table: the lender plugin that holds the loan answers. Return
    no personal data beyond the case reference.

    Call mode: first result (the plugin holding the loan answers; ``None`` means 404).

    :param loan_id: the loan's id as given in the URL (a string, maybe not a UUID).
    :param session: the SQLAlchemy session (tenant-scoped).
    :return: a dict (``id``, ``reference``, ``case_id``, ``status``, ``amount``,
        ``months``, ``annual_rate``, ``outstanding``, ``days_past_due``…) or ``None``.

    Example::

        @hookimpl
        def ccas_loan_details(loan_id, session):
            loan = find_loan(session, loan_id)
            return None if loan is None else {"id": str(loan.id), "amount": "3000.00"}
    """


@hookspec(firstresult=True)
def ccas_loan_schedule(loan_id, session):
    """A loan's repayment schedule for ``GET /api/v1/loans/<id>/schedule``, in the shape
    printed by ``ccas loan schedule --format json`` (``core.loans.schedule_json``).

    Call mode: first result (the plugin holding the loan answers; ``None`` means 404).

    :param loan_id: the loan's id as given in the URL (a string, maybe not a UUID).
    :param session: the SQLAlchemy session (tenant-scoped).
    :return: a dict (``amount``, ``months``, ``annual_rate``, ``method``,
        ``installment``, ``total_interest``, ``total_cost``, ``apr``, ``installments``)
        or ``None``.

    Example::

        @hookimpl
        def ccas_loan_schedule(loan_id, session):
            loan = find_loan(session, loan_id)
            return None if loan is None else schedule_json(build_schedule(...))
    """


# ======================================================================================
# Reporting
# ======================================================================================


@hookspec
def ccas_report_sections(tenant, year, session):
    """A plugin's section of the yearly review. Aggregate in SQL; never return a person.

    The section appears under ``"sections"[name]`` of the report (``core.reports``). A
    lender's section may carry ``data["loans"]`` (keys ``count``, ``amount_lent``,
    ``average_amount``, ``average_months``, ``portfolio_outstanding``, ``par30``,
    ``defaults``, ``guarantee_calls``, ``subsidy_cost``; money as decimal strings): the
    report then shows it as its top-level ``"loans"``. The funders' view shows every
    integer under 5 as ``"< 5"`` and hides the other figures of a dict holding one, so
    keep counts and amounts of one topic in one dict.

    Call mode: collected.

    :param tenant: the ``Tenant``.
    :param year: the year reported (int).
    :param session: the SQLAlchemy session (tenant-scoped).
    :return: a ``core.plugin_api.ReportSection``, or ``None``.

    Example::

        @hookimpl
        def ccas_report_sections(year, session):
            return ReportSection("udaf", "UDAF", {"referrals_in": count_referrals(session, year)})
    """
