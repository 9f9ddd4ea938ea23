"""THE plugin contract of ccas-network: every hook a plugin may implement.

Rules (see docs/plugins.md):

* Every hook is prefixed ``ccas_``. Its docstring gives ``:param:`` / ``:return:``, the
  call mode and an example; ``docs/hooks.md`` is generated from these docstrings
  (``ccas plugin docs``) and ``tests/test_hookspecs.py`` walks the plugin manager's hooks
  and fails when one is undocumented, declares no policy or the reference is stale.
* A hook grows by adding arguments only (an implementation may take any subset of the
  arguments, by name). A hook is deprecated with ``warn_on_impl``, never renamed.
* Every tenant-level hook receives ``tenant`` (the ``Tenant``) and ``session`` (the
  tenant-scoped SQLAlchemy session): take them as arguments, never from globals.
* The core calls hooks only through the per-tenant caller (``core.plugins.hooks()``), which
  asks only the plugins enabled for the current tenant, and the core's own features
  (always-on internal plugins). The exceptions are the plugin-level hooks of the first
  section, asked of every installed plugin at start-up.
* Call order is explicit: a plugin that must run first or last says ``tryfirst=True`` or
  ``trylast=True`` on its ``@hookimpl``; otherwise the order is unspecified. The core's
  own reactions to a transition run first (``tryfirst``).
* Call modes: "collected" hooks return a list of every non-``None`` result; "first result"
  hooks stop at the first non-``None`` result.
* Policies (``core/plugins/calling.py``): in a **deciding** hook (checks, vetoes,
  validation, reactions in the same transaction) a plugin that raises refuses the action:
  the user is told which plugin failed and nothing is written. In a **decorating** hook
  (menus, panels, dashboard blocks, report sections, suggestions, destinations) a plugin
  that raises is logged with its name and left out; the page still answers.
* A plugin may declare hooks of its own (``ccas_hookspecs``), with the same markers.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("ccas")
hookimpl = pluggy.HookimplMarker("ccas")

DECIDING = "deciding"
DECORATING = "decorating"


def deciding(spec):
    """Policy marker: a plugin raising in this hook refuses the action (nothing written)."""
    spec.ccas_policy = DECIDING
    return spec


def decorating(spec):
    """Policy marker: a plugin raising in this hook is logged and left out."""
    spec.ccas_policy = DECORATING
    return spec


# ======================================================================================
# Plugin level (asked of every installed plugin at start-up, whatever the tenant)
# ======================================================================================


@deciding
@hookspec
def ccas_plugin_info():
    """Describe the plugin: name, label, version, compatible core versions, settings.

    Call mode: collected (each plugin answers for itself). A plugin whose answer is
    missing, raises or does not suit this core is refused at start-up (``ccas plugins
    list`` and ``/readyz`` say why).

    :return: a ``core.plugin_api.PluginInfo``.

    Example::

        @hookimpl
        def ccas_plugin_info():
            return PluginInfo(name="udaf", label="UDAF", version="1.0",
                              core_requires=">=0.2,<1", settings_schema=UdafSettings)
    """


@deciding
@hookspec
def ccas_hookspecs():
    """Hooks of the plugin's own (pytest's ``pytest_addhooks``): e.g. the lender declares
    the hook a connector plugin answers to automate its own check. Declare them
    like the core's, with ``hookspec`` and a policy marker (``deciding`` or
    ``decorating``) from ``core.plugin_api``, prefixed ``ccas_``, documented the same way
    (the hook reference lists them under the plugin). Call them with ``hooks()``.

    Call mode: collected (each plugin answers for itself, at start-up).

    :return: a list of modules or classes holding hookspecs.

    Example::

        # udaf/hookspecs.py
        @decorating
        @hookspec
        def ccas_udaf_budget_tools(case, tenant, session):
            '''...'''

        @hookimpl
        def ccas_hookspecs():
            from . import hookspecs
            return [hookspecs]
    """


@deciding
@hookspec
def ccas_blueprints():
    """Flask blueprints the plugin serves. They are mounted under
    ``/t/<tenant>/p/<plugin name>/`` and answer 404 for a tenant that has not enabled the
    plugin; their views see the tenant already set. Every view carries ``@allow(...)``;
    forms post a CSRF token (no view of these blueprints is exempted).

    Call mode: collected. A plugin whose blueprints fail to register is refused at
    start-up and the platform starts without it.

    :return: a list of ``flask.Blueprint``.

    Example::

        bp = Blueprint("udaf", __name__, template_folder="templates")

        @hookimpl
        def ccas_blueprints():
            return [bp]
    """


@deciding
@hookspec
def ccas_api_blueprints():
    """Token-authenticated JSON routes of the plugin, mounted under
    ``/api/v1/p/<plugin name>/``. The core authenticates the bearer token (the tenant comes
    from it), answers 404 for a tenant that has not enabled the plugin and renders
    ``UserError`` as problem+json. Each view carries ``@token_authenticated`` (the explicit
    CSRF opt-out: no cookie is read there) and ``@allow(...)``, in that order.

    Call mode: collected. A plugin whose API blueprints fail to register is refused.

    :return: a list of ``flask.Blueprint``.

    Example::

        api = Blueprint("udaf_api", __name__)

        @api.route("/visits/<visit_id>")
        @token_authenticated
        @allow(SOCIAL_WORKERS)
        def visit(visit_id):
            return jsonify(...)

        @hookimpl
        def ccas_api_blueprints():
            return [api]
    """


@decorating
@hookspec
def ccas_cli_commands():
    """Click commands added under ``ccas <command>``. Wrap tenant work with
    ``core.plugin_api.tenant_command(plugin_name)`` so that the command refuses a tenant
    that has not enabled the plugin. The commands are loaded when ``ccas`` needs them
    (``ccas --help`` or the command itself), never at import. A ``click.Group`` named as
    a core group (``import``, ``report``…) adds its subcommands to the core's group
    (``ccas import loans``); a core subcommand keeps its name.

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


@deciding
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


@decorating
@hookspec
def ccas_scheduled_jobs():
    """Tasks the worker (``ccas worker``, ``docs/deployment.md``) runs on a schedule: the
    lender's arrears check every morning, a connector's nightly synchronisation… Each job
    runs once per period of its schedule whatever the number of workers (a claimed row in
    ``job_runs``), tenant by tenant for the tenants that enabled the plugin, each inside
    its own tenant scope and transaction: a tenant that fails is recorded as failed and
    rolled back, the other tenants and jobs still run. Operators change a schedule or
    switch a job off with ``CCAS_WORKER_SCHEDULE`` (``name=1d@05:00``, ``name=off``).

    Call mode: collected, plugin level (every installed plugin, at the worker's start).
    A plugin that raises here is logged and its jobs left out.

    :return: a list of ``core.plugin_api.ScheduledJob``.

    Example::

        def sync(tenant, session, now):
            sent = udaf.push_new_cases(session, since=now - timedelta(days=1))
            return f"{sent} dossier(s) transmis"

        @hookimpl
        def ccas_scheduled_jobs():
            return [ScheduledJob("udaf.sync", sync, every=timedelta(days=1),
                                 at=timedelta(hours=2), label="Synchronisation UDAF")]
    """


@decorating
@hookspec
def ccas_labels():
    """The French labels of the codes the plugin shows or stores: new vocabularies, or
    new codes in the core's (``core/labels.py`` lists them: ``purpose``, ``employment``,
    ``organisation_kind``, ``referral_status``…). A code already labelled (by the core or
    another plugin) keeps its label. Templates show a code with
    ``{{ code|label("vocabulary") }}``; Python with ``core.plugin_api.label``.

    Call mode: collected, plugin level (every installed plugin, whatever the tenant).

    :return: ``{vocabulary: {code: French label}}``.

    Example::

        @hookimpl
        def ccas_labels():
            return {"udaf_measure": {"curatelle": "Curatelle", "tutelle": "Tutelle"}}
    """


@deciding
@hookspec
def ccas_case_workflow():
    """The plugin's part of the case workflow, for the tenants that enable it: states it
    owns, transitions into and out of them, core transitions it replaces, intake options,
    which states make a case visible to a role, delay milestones of the review and coded
    reasons. The lender's own check before the documents is declared this way (its two
    states, its path between intake and the documents in place of the core's direct
    move, its intake option, its agents seeing the cases from the check on, the
    review's milestone "check result": see the Crédit Municipal plugin).

    A tenant cannot disable a plugin while cases sit in its states (the count is given).

    Call mode: collected (each plugin answers for itself, at start-up).

    :return: a ``core.plugin_api.CaseWorkflow``, or ``None``.

    Example::

        @hookimpl
        def ccas_case_workflow():
            return CaseWorkflow(
                states=(CaseState("udaf_budget", "Accompagnement budgétaire UDAF"),),
                transitions=(Transition("udaf_start", "evaluation", "udaf_budget",
                                        ROLES.SOCIAL_WORKERS, "Confier à l'UDAF"),
                             Transition("udaf_done", "udaf_budget", "evaluation",
                                        ROLES.SOCIAL_WORKERS, "Reprendre l'évaluation")))
    """


# ======================================================================================
# Tenant level: pages and navigation (asked only of the tenant's enabled plugins)
# ======================================================================================


@decorating
@hookspec
def ccas_nav_items(user, tenant, session):
    """Menu entries for the signed-in user of the current tenant.

    Call mode: collected; the entries are filtered by their ``roles`` and sorted by
    ``order``.

    :param user: the signed-in ``User``.
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: a list of ``core.plugin_api.NavItem``.

    Example::

        @hookimpl
        def ccas_nav_items(user):
            return [NavItem(label="Visites UDAF", endpoint="udaf.visits",
                            roles=SOCIAL_WORKERS)]
    """


@decorating
@hookspec
def ccas_dashboard_panels(user, tenant, session):
    """Blocks added to the signed-in user's dashboard ("my work"): a ``Panel`` as for
    ``ccas_case_panels`` (``html``, ``template`` with ``context``, or ``template``).

    Call mode: collected; the blocks are sorted by ``order``.

    :param user: the signed-in ``User``.
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: a list of ``core.plugin_api.Panel``, or ``None``.

    Example::

        @hookimpl
        def ccas_dashboard_panels(user, session):
            if user.role in SOCIAL_WORKERS:
                return [Panel(title="UDAF", html=render_template("udaf/panel.html"))]
    """


@decorating
@hookspec
def ccas_case_panels(case, user, tenant, session):
    """Blocks added to the case page (e.g. the lender's check, the loan, the documents).

    A ``Panel`` carries ``html`` rendered by the plugin's own (autoescaped) template; or
    a ``template`` with ``context``, its values: the page renders the template with its
    own context and these values, under ``title`` — the same HTML as
    ``html=render_template(template, **context)``, cheaper (the context processors are
    not run again for the block); or a ``template`` alone, which the page includes with
    its own context (``case``, ``role``…; it brings its heading).

    Call mode: collected; the blocks are sorted by ``order``.

    :param case: the ``Case`` shown.
    :param user: the signed-in ``User`` (respect data minimisation by role).
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: a list of ``core.plugin_api.Panel``, or ``None``.

    Example::

        @hookimpl
        def ccas_case_panels(case, user):
            return [Panel(title="Prêt", template="cm/loan_panel.html",
                          context={"case": case})]
    """


# ======================================================================================
# Case workflow
# ======================================================================================


@deciding
@hookspec
def ccas_case_checks(case, state, tenant, session):
    """Checks a case must pass to leave ``state`` (e.g. the lender's recorded answer to
    leave its check's state). A failed check blocks every transition out of the state
    except the
    side exits (abandon, reorient).

    Call mode: collected.

    :param case: the ``Case``.
    :param state: the state being left (a string: a ``core.plugin_api.State`` value or a
        plugin's state).
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: a list of ``core.plugin_api.CaseCheck``, or ``None``.

    Example::

        @hookimpl
        def ccas_case_checks(case, state, session):
            if state == "udaf_budget":
                return [CaseCheck("udaf", "Bilan UDAF", passed=reported(session, case))]
    """


@deciding
@hookspec
def ccas_case_before_transition(case, transition, actor, data, tenant, session):
    """Veto a case transition before it happens.

    Called inside the transaction, before the state changes. Returning a message refuses
    the transition: the case is left unchanged and the message is shown to the user
    (prefixed with the plugin's label).

    Call mode: collected (every veto is shown).

    :param case: the ``Case`` (still in its old state).
    :param transition: the ``core.plugin_api.Transition`` (``source``, ``target``,
        ``name``, ``side_exit``).
    :param actor: the ``User`` asking.
    :param data: dict of the transition's data (``reason``, ``destination``, …).
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: a French veto message, or ``None`` to allow.

    Example::

        @hookimpl
        def ccas_case_before_transition(case, transition):
            if transition.target == "instruction" and case.amount_requested > 3000:
                return "Montant supérieur au plafond du prêteur (3 000 €)."
    """


@deciding
@hookspec
def ccas_case_after_transition(case, transition, actor, data, tenant, session):
    """React to a transition that has been applied (same transaction: writing to the
    outbox here is safe; sending mail or calling a URL here is not). A plugin that raises
    cancels the transition.

    Call mode: collected; return values are ignored.

    :param case: the ``Case``, now in its new state.
    :param transition: the ``core.plugin_api.Transition`` applied.
    :param actor: the ``User`` who moved it.
    :param data: the transition's data.
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: ``None``.

    Example::

        @hookimpl
        def ccas_case_after_transition(case, transition, session):
            if transition.target == "udaf_budget":
                tell_the_udaf(session, case)
    """


@deciding
@hookspec
def ccas_required_documents(case, tenant, session):
    """Documents to add to the tenant's list for this case.

    Asked when the case enters ``documents_requested`` (its checklist is created then) and
    when staff complete a checklist. The tenant's own list comes first; a code already on
    the list is ignored.

    Call mode: collected.

    :param case: the ``Case``.
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: a list of ``core.plugin_api.DocumentRequirement``, or ``None``.

    Example::

        @hookimpl
        def ccas_required_documents(case):
            if case.purpose == "mobility":
                return [DocumentRequirement("driving_licence", "Permis de conduire")]
    """


@decorating
@hookspec
def ccas_suggest_alternatives(case, tenant, session):
    """Other aids or schemes that may apply before a microcredit ("other aids first").
    Suggestions appear at evaluation (``core.features.suggestions`` stores them when the
    case enters it, and again on demand); the move to instruction is vetoed until the
    social worker resolves each one (mobilised, requested, or not applicable with a
    reason). A ``blocking`` suggestion (e.g. a business project for ADIE) vetoes
    instruction until it is overridden with a reason. A suggestion is identified by the
    plugin and its ``code``. A plugin that fails is named on the case page.

    Call mode: collected.

    :param case: the ``Case`` (with its person and budget).
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: a list of ``core.plugin_api.Suggestion``, or ``None``.

    Example::

        @hookimpl
        def ccas_suggest_alternatives(case):
            if case.purpose == "household_equipment":
                return [Suggestion("caf_pret_equipement", "Prêt d'équipement CAF",
                                   why="Famille allocataire", action="Contacter la CAF")]
    """


@decorating
@hookspec
def ccas_lending_bounds(tenant, session):
    """What the enabled lenders lend, so that a request outside it is flagged at intake
    and on the case page. Never a refusal: the CCAS listens first and may adjust the
    amount or reorient the person.

    Call mode: collected.

    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: a ``core.plugin_api.LendingBounds`` (or a list of them), or ``None``.

    Example::

        @hookimpl
        def ccas_lending_bounds():
            conf = plugin_settings("my_lender")
            return LendingBounds("Ma banque solidaire", conf["amount_min"],
                                 conf["amount_max"], frozenset(conf["purposes"]))
    """


@decorating
@hookspec
def ccas_reorientation_destinations(tenant, session):
    """Schemes and partner organisations a person can be reoriented to.

    Call mode: collected.

    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: a list of ``core.plugin_api.Destination``, or ``None``.

    Example::

        @hookimpl
        def ccas_reorientation_destinations():
            return [Destination("adie", "ADIE (microcrédit professionnel)", "ADIE")]
    """


# ======================================================================================
# Referrals
# ======================================================================================


@deciding
@hookspec
def ccas_referral_received(referral, tenant, session):
    """A referral has arrived for an organisation of the tenant (same transaction: write
    to the outbox, never send from here). The core's notifications answer this hook (the
    receiving organisation is told by e-mail and webhook), and so does the Secours
    Catholique plugin (its microcredit desk is told at its contact address).

    Call mode: collected; return values are ignored.

    :param referral: the new ``Referral`` (its ``to_organisation`` and
        ``from_organisation`` are loaded).
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: ``None``.

    Example::

        @hookimpl
        def ccas_referral_received(referral, session):
            if referral.to_organisation.plugin_name == "udaf":
                enqueue_email(session, UDAF_DESK, "Nouvelle orientation", "...")
    """


@deciding
@hookspec
def ccas_referral_status_changed(referral, old_status, new_status, message, tenant,
                                 session):
    """A referral's status changed (same transaction; use the outbox to notify). The
    core's notifications answer this hook: the sending organisation is told at each
    change (closed-loop feedback), by e-mail and webhook.

    Call mode: collected; return values are ignored.

    :param referral: the ``Referral``.
    :param old_status: the previous status (string).
    :param new_status: the new status (string).
    :param message: the message written with the change (may be empty).
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: ``None``.

    Example::

        @hookimpl
        def ccas_referral_status_changed(referral, new_status):
            if new_status == "declined":
                count_declined(referral)
    """


@deciding
@hookspec
def ccas_referral_fields_schema(organisation, sender, tenant, session):
    """Extra fields a plugin requires on a referral, as a marshmallow schema validating
    ``referral.extra``: on referrals sent **to** ``organisation`` (e.g. what the UDAF needs
    to receive a family) and, with ``sender``, on referrals its organisation **sends**
    (e.g. the family quotient the CAF knows and the CCAS needs before instruction).

    The portal form shows every field (its ``metadata["label"]``, errors next to it), the
    API validates ``extra`` with them (422, errors keyed ``extra.<field>``) and nothing is
    written unless every field is valid. A plugin answers for its own organisation,
    ``organisation.plugin_name`` or ``sender.plugin_name`` equal to its name; if its
    organisation is on both sides it returns one schema covering both. Every schema
    returned is merged; on a field name declared by two plugins, the field of the
    receiving organisation's plugin wins, then the sending organisation's plugin's, then
    the others' by plugin name (the ignored field is logged). A plugin that raises makes
    the referral impossible for now (503, nothing written). The core builds one instance
    of each schema class per process and calls its ``load`` for every referral: keep no
    state on the instance (a ``pre_load`` reads its data, not ``self``).

    Call mode: collected.

    :param organisation: the receiving ``Organisation``.
    :param sender: the sending ``Organisation`` (``None`` when the core only knows the
        receiver); an implementation that does not take it answers for the receiving
        side only.
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
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


@deciding
@hookspec
def ccas_loan_event(loan, event, data, tenant, session):
    """Something happened to a loan: ``granted``, ``signed``, ``disbursed``,
    ``repayment``, ``late`` (an instalment unpaid past due), ``default``, ``closed``
    (same transaction; use the outbox to notify). A rejected payment is a ``repayment``
    whose data has ``"bounced": True``. The core's accompaniment always listens: ``late``,
    ``default`` and a bounced payment open a task for the social worker.

    Call mode: collected; return values are ignored.

    :param loan: the lender plugin's loan; the core reads only ``loan.id`` and
        ``loan.case_id`` (``core.plugin_api.LoanRef``).
    :param event: the event name (string).
    :param data: dict with the event's details (e.g. ``days_late`` for ``late``,
        ``amount``, ``bounced``).
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: ``None``.

    Example::

        @hookimpl
        def ccas_loan_event(loan, event, data, session):
            if event == "late":
                create_follow_up_task(session, loan.case_id, days_late=data["days_late"])
    """


@deciding
@hookspec(firstresult=True)
def ccas_loan_details(loan_id, tenant, session):
    """A loan of the current tenant as JSON-ready data, for the deprecated
    ``GET /api/v1/loans/<id>`` (the lender plugin serves
    ``/api/v1/p/credit_municipal/loans/<id>`` itself; this hook goes with the old path
    in 0.3). Return no personal data beyond the case reference.

    Call mode: first result (the plugin holding the loan answers; ``None`` means 404).

    :param loan_id: the loan's id as given in the URL (a string, maybe not a UUID).
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: a dict (``id``, ``reference``, ``case_id``, ``status``, ``amount``,
        ``months``, ``annual_rate``, ``outstanding``, ``days_past_due``…) or ``None``.

    Example::

        @hookimpl
        def ccas_loan_details(loan_id, session):
            loan = find_loan(session, loan_id)
            return None if loan is None else {"id": str(loan.id), "amount": "3000.00"}
    """


@deciding
@hookspec(firstresult=True)
def ccas_loan_schedule(loan_id, tenant, session):
    """A loan's repayment schedule for the deprecated ``GET /api/v1/loans/<id>/schedule``,
    in the shape printed by ``ccas loan schedule --format json``
    (``core.plugin_api.schedule_json``); goes with the old path in 0.3.

    Call mode: first result (the plugin holding the loan answers; ``None`` means 404).

    :param loan_id: the loan's id as given in the URL (a string, maybe not a UUID).
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
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
# Messages to the people helped
# ======================================================================================


@deciding
@hookspec(firstresult=True)
def ccas_sms_send(phone, text, tenant, session):
    """Send a text message (SMS) through the provider this plugin connects. Called by the
    outbox's drain (``ccas outbox drain``), never from a request: the core queues an SMS
    (``core.outbox.enqueue_sms``) for a person without e-mail, e.g. an appointment
    reminder, only when an enabled plugin implements this hook.

    Call mode: first result (the first enabled provider that answers sends it). A plugin
    that raises fails the delivery: the outbox retries it with backoff, then keeps it as a
    dead letter.

    :param phone: the person's phone number as recorded (``06 12 34 56 78``; normalise
        it for your provider).
    :param text: the message, plain text (at most 480 characters).
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: the provider's message id (a string) once accepted, or ``None`` when this
        plugin does not send for this tenant.

    Example::

        @hookimpl
        def ccas_sms_send(phone, text):
            response = my_provider.send(to=to_e164(phone), body=text)
            return response["id"]
    """


# ======================================================================================
# Reporting
# ======================================================================================


@decorating
@hookspec
def ccas_report_sections(tenant, year, session):
    """A plugin's section of the yearly review. Aggregate in SQL; never return a person.

    The section appears under ``"sections"[name]`` of the report (``core.reports``). A
    lender's section may carry ``data["loans"]`` (keys ``count``, ``amount_lent``,
    ``average_amount``, ``average_months``, ``portfolio_outstanding``, ``par30``,
    ``defaults``, ``guarantee_calls``, ``subsidy_cost``; money as decimal strings; and
    ``ageing``, ``{"1-30" | "31-60" | "61-90" | "90+": {"count", "outstanding"}}``, the
    loans late by bucket): the report then shows it as its top-level ``"loans"``. The
    funders' view shows every integer under 5 as ``"< 5"`` and hides the other figures
    of a dict holding one, so keep counts and amounts of one topic in one dict. Give
    every amount with the count it derives from:
    ``data["derived_from"] = {"amount_key": "count_key"}`` in the dict holding them (an
    amount split by key names a dict of counts by the same keys); the funders' view hides
    an amount whose count is under 5 (``tests/test_report_sections_suppression.py``
    checks every section). What the pages
    and files show are the section's ``figures`` (``Figure``: label, kind, ``basis``).

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


# ======================================================================================
# Demonstration data
# ======================================================================================


@deciding
@hookspec
def ccas_demo_data(rng, cases, today, tenant, session):
    """Write the plugin's own rows for the demonstration data (``ccas demo``, the
    benchmarks), consistent with the cases the core just wrote. Write in bulk
    (``core.plugin_api.insert_rows``) and keep the work per case small: the benchmarks
    generate a million cases. The core calls it once, after its own rows, in the same
    transaction; a plugin that raises refuses the whole generation (nothing written).

    Call mode: collected; each answer is a ``{French label: count}`` dict printed by
    ``ccas demo`` (or ``None``).

    :param rng: a ``random.Random`` seeded for the plugins (same seed, same rows); draw
        ids with ``core.plugin_api.new_id(rng)``.
    :param cases: the ``core.plugin_api.DemoCase`` of every generated case (state, the
        days it reached each state, amount, duration, the borrower's ``fate``…).
    :param today: the last day of the generated period (a ``date``).
    :param tenant: the ``Tenant``.
    :param session: the tenant-scoped SQLAlchemy session.
    :return: ``{label: count}`` or ``None``.

    Example::

        @hookimpl
        def ccas_demo_data(rng, cases, today, session):
            rows = [{"id": new_id(rng), "case_id": c.id, "amount": c.amount,
                     "decided_on": c.days["granted"]}
                    for c in cases if "granted" in c.days]
            insert_rows(session, UdafLoan, rows)
            return {"Prêts UDAF": len(rows)}
    """
