"""FICP check by the lender (the Banque de France register of repayment incidents).

* The check is the plugin's part of the case workflow (:data:`CASE_WORKFLOW`): the states
  ``ficp_pending`` and ``ficp_registered``, the path intake → FICP → documents in place
  of the core's intake → documents, the intake option ``send_to_ficp``, the lender's
  agents seeing the cases from the check on, the review's milestone "FICP result".
* When a case enters ``ficp_pending``, the automated connector hook ``ccas_ficp_check``
  (declared by this plugin, ``hookspecs.py``) is asked (no connector ships: a
  third-party plugin may answer ``"clear"`` or ``"registered"``); its answer is recorded
  like an agent's.
* Otherwise the case waits in the lender's queue (:func:`ficp_queue`), which shows only the
  identity the check needs: names and birth date. The agent records *clear* or
  *registered* with the date of the consultation.
* *Clear* makes the check of ``ficp_pending`` pass (``ccas_case_checks``), so the CCAS can
  go on; *registered* moves the case to ``ficp_registered`` and tells the CCAS (the
  secretary's dashboard, and an e-mail through the outbox when the CCAS organisation has
  an address). The secretary's dashboard also lists the cleared checks to call back.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, timedelta

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from core.plugin_api import (
    CASE_READERS,
    CCAS_STAFF,
    LENDER_DESK,
    Case,
    CaseCheck,
    CaseState,
    CaseWorkflow,
    IntakeOption,
    Milestone,
    NavItem,
    Organisation,
    Panel,
    StaleCase,
    Transition,
    TransitionRequest,
    UserError,
    actor_label,
    allow,
    apply_transition,
    borrowers,
    capped,
    db_session,
    enqueue_email,
    hooks,
    local_today,
    parse_date,
    read_rows,
    record_audit,
    rows_statement,
    utcnow,
)

from .blueprint import bp
from .ficp_models import FICP_RESULT_LABELS, CoBorrowerFicpCheck, FicpCheck, FicpResult

log = logging.getLogger(__name__)

QUEUE_ROLES = LENDER_DESK
FICP_PENDING = "ficp_pending"
FICP_REGISTERED = "ficp_registered"
#: How long a registration stays on the secretary's list of people to tell.
RECENT_DAYS = 30

#: The plugin's part of the case workflow (hook ``ccas_case_workflow``).
CASE_WORKFLOW = CaseWorkflow(
    states=(
        CaseState(FICP_PENDING, "Contrôle FICP en attente"),
        CaseState(FICP_REGISTERED, "Inscrit au FICP", outcome="refused", terminal=True),
    ),
    transitions=(
        Transition("send_to_ficp", "intake", FICP_PENDING, CCAS_STAFF,
                   "Envoyer au contrôle FICP"),
        Transition("request_documents", FICP_PENDING, "documents_requested", CCAS_STAFF,
                   "Demander les pièces"),
        Transition("ficp_registered", FICP_PENDING, FICP_REGISTERED, LENDER_DESK,
                   "Inscription FICP constatée", side_exit=True),
        Transition("abandon", FICP_PENDING, "abandoned", CCAS_STAFF, "Abandon",
                   reason="abandon", side_exit=True),
    ),
    replaces=(("intake", "documents_requested"),),
    intake_options=(
        IntakeOption("send_to_ficp", "Enregistrer et envoyer au contrôle FICP",
                     "send_to_ficp", done="et envoyée au contrôle FICP",
                     description="Send the case to the lender's FICP check at once "
                                 "(plugin credit_municipal)."),
    ),
    visible_from={"lender_agent": FICP_PENDING},
    milestones=(
        Milestone("ficp_result", "résultat FICP", "from", (FICP_PENDING,), after="intake",
                  towards=("documents_requested", FICP_REGISTERED)),
    ),
    reasons={"refuse": {"ficp": "Inscription au FICP"}},
)


class ConnectorActor:
    """The automated connector, acting as the lender when it finds an incident."""

    role = "lender_agent"
    id = None
    email = "connecteur-ficp"
    full_name = "Connecteur FICP"
    is_operator = False


#: Built once (a statement built per call costs more than the read); the tenant's
#: criterion is added per execution by the session (``core.tenancy``).
_CHECK_OF = select(FicpCheck).where(FicpCheck.case_id == bindparam("case_id"))


def check_of(session, case_id) -> FicpCheck | None:
    return session.scalar(_CHECK_OF, {"case_id": case_id})


# -- hooks -------------------------------------------------------------------------------


def case_checks(session, case, state):
    if str(state) != FICP_PENDING:
        return None
    check = check_of(session, case.id)
    if check is None:
        return [CaseCheck("ficp", "Consultation du FICP", passed=False,
                          message="Le prêteur n'a pas encore enregistré le résultat du "
                                  "contrôle FICP.")]
    if check.result == FicpResult.registered:
        return [CaseCheck("ficp", "Consultation du FICP", passed=False,
                          message="La personne est inscrite au FICP : le dossier ne peut "
                                  "pas continuer.")]
    return [CaseCheck("ficp", "Consultation du FICP", passed=True)]


def after_transition(session, case, transition):
    if transition.target == FICP_PENDING:
        _ask_connector(session, case)
    elif transition.target == FICP_REGISTERED:
        _tell_ccas(session, case)


def nav_items(user):
    return [NavItem(label="Contrôle FICP", endpoint="credit_municipal.ficp_queue",
                    roles=frozenset(QUEUE_ROLES), order=51, section="Prêts")]


def dashboard_panels(session, user):
    role = str(user.role)
    if role == "secretary":
        return [Panel(title="Contrôle FICP", order=12,
                      template="credit_municipal/ficp_secretary_panel.html",
                      context=_secretary_lists(session))]
    if role not in QUEUE_ROLES:
        return None
    waiting = session.scalar(_WAITING_COUNT)
    # rendered with the dashboard's context (its context processors not run again)
    return [Panel(title="Contrôle FICP", template="credit_municipal/ficp_panel.html",
                  context={"waiting": waiting}, order=10)]


#: The cases each of the secretary's FICP lists shows at most.
SECRETARY_SHOWN = 15


def _secretary_lists(session) -> dict:
    """Cleared checks (call the person back with the documents to bring) and recent
    registrations (tell the person, propose a reorientation)."""
    # one more read than listed: past it the heading says "plus de" (never a cut total)
    cleared, cleared_beyond = capped(session.scalars(
        select(Case).join(FicpCheck, FicpCheck.case_id == Case.id)
        .where(Case.state == FICP_PENDING, FicpCheck.result == FicpResult.clear)
        .order_by(Case.state_changed_at).limit(SECRETARY_SHOWN + 1)).all(), SECRETARY_SHOWN)
    since = utcnow() - timedelta(days=RECENT_DAYS)
    registered, registered_beyond = capped(session.scalars(
        select(Case).where(Case.state == FICP_REGISTERED, Case.state_changed_at >= since)
        .order_by(Case.state_changed_at.desc()).limit(SECRETARY_SHOWN + 1)).all(),
        SECRETARY_SHOWN)
    return {"cleared": cleared, "cleared_beyond": cleared_beyond,
            "registered": registered, "registered_beyond": registered_beyond,
            "recent_days": RECENT_DAYS}


#: The case page's block reads the check as a read-only row.
_CHECK_VIEW = rows_statement(FicpCheck, FicpCheck.__table__.c.case_id == bindparam("case_id"))


def case_panels(session, case, user):
    if str(user.role) not in CASE_READERS:
        return None
    checks = read_rows(session, _CHECK_VIEW, {"case_id": case.id}, FicpCheck)
    check = checks[0] if checks else None
    if check is None and case.state != FICP_PENDING:
        return None
    # rendered with the case page's context (its context processors not run again)
    return [Panel(title="Contrôle FICP", template="credit_municipal/ficp_case_panel.html",
                  context={"check": check, "labels": FICP_RESULT_LABELS, "case": case},
                  order=10)]


# -- recording a result ------------------------------------------------------------------


def record_result(session, case: Case, result: str, checked_on: date, actor,
                  version: int | None = None, source: str = "manual") -> FicpCheck:
    """Record the FICP result of ``case`` (in ``ficp_pending``). *Registered* also moves
    the case to ``ficp_registered``. Nothing is committed."""
    try:
        value = FicpResult(result)
    except ValueError as exc:
        raise UserError("Choisissez le résultat : non inscrit ou inscrit.", status=422,
                        field="result") from exc
    if case.state != FICP_PENDING:
        raise UserError("Ce dossier n'attend pas de contrôle FICP.", status=409)
    if checked_on is None:
        raise UserError("Indiquez la date de consultation.", status=422, field="checked_on")
    if checked_on > local_today(g.get("tenant")):
        raise UserError("La date de consultation ne peut pas être dans le futur.", status=422,
                        field="checked_on")
    if version is not None and int(version) != case.version:
        raise StaleCase()
    check = check_of(session, case.id)
    if check is None:
        check = FicpCheck(case_id=case.id, result=value, checked_on=checked_on)
        session.add(check)
    check.result = value
    check.checked_on = checked_on
    check.source = source
    check.agent_id = getattr(actor, "id", None)
    check.agent_label = actor_label(actor)
    check.recorded_at = utcnow()
    session.flush()
    record_audit(session, "ficp.result", case, actor=actor, result=value.value, source=source)
    if value == FicpResult.registered:
        apply_transition(
            session, case,
            TransitionRequest(FICP_REGISTERED, case.version,
                              reason_text="Inscription au FICP constatée."),
            actor,
        )
    return check


# -- the co-borrower ------------------------------------------------------------------------


def co_borrower_check(session, case: Case) -> CoBorrowerFicpCheck | None:
    if case.co_borrower_id is None:
        return None
    return session.scalar(select(CoBorrowerFicpCheck).where(
        CoBorrowerFicpCheck.case_id == case.id,
        CoBorrowerFicpCheck.member_id == case.co_borrower_id))


def co_borrower_name(session, case: Case) -> str:
    return next((b.full_name for b in borrowers(session, case) if b.role == "co_borrower"), "")


def co_borrower_problem(session, case: Case) -> str | None:
    """Why the loan cannot be granted yet for the co-borrower's FICP check (or ``None``)."""
    if case.co_borrower_id is None:
        return None
    check = co_borrower_check(session, case)
    name = co_borrower_name(session, case)
    if check is None:
        return (f"Consultez le FICP pour le co-emprunteur ({name}) avant d'accorder le "
                "prêt.")
    if check.result == FicpResult.registered:
        return f"Le co-emprunteur ({name}) est inscrit au FICP : le prêt ne peut pas être accordé."
    return None


def record_co_borrower_result(session, case: Case, result: str, checked_on: date | None,
                              actor) -> CoBorrowerFicpCheck:
    """Record the FICP result of the case's co-borrower (the lender, before deciding)."""
    if case.co_borrower_id is None:
        raise UserError("Ce dossier n'a pas de co-emprunteur.", status=409)
    try:
        value = FicpResult(result)
    except ValueError as exc:
        raise UserError("Choisissez le résultat : non inscrit ou inscrit.", status=422,
                        field="co_result") from exc
    if checked_on is None:
        raise UserError("Indiquez la date de consultation.", status=422,
                        field="co_checked_on")
    if checked_on > local_today(g.get("tenant")):
        raise UserError("La date de consultation ne peut pas être dans le futur.", status=422,
                        field="co_checked_on")
    check = co_borrower_check(session, case)
    if check is None:
        check = CoBorrowerFicpCheck(case_id=case.id, member_id=case.co_borrower_id,
                                    result=value, checked_on=checked_on)
        session.add(check)
    check.result, check.checked_on = value, checked_on
    check.agent_id = getattr(actor, "id", None)
    check.agent_label = actor_label(actor)
    check.recorded_at = utcnow()
    session.flush()
    record_audit(session, "ficp.co_borrower_result", case, actor=actor, result=value.value)
    return check


def _ask_connector(session, case: Case) -> None:
    # First result wins; a connector that raises is logged with its plugin's name and
    # skipped (the hook is decorating): the check stays with the agents.
    answer = hooks().ccas_ficp_check(person=case.person, case=case, session=session)
    if answer not in ("clear", "registered"):
        if answer is not None:
            log.warning("FICP connector answered %r for case %s: ignored", answer, case.id)
        return
    try:
        # record_result validates before writing; a refused move to ficp_registered
        # leaves the registered result recorded and the case blocked in ficp_pending.
        record_result(session, case, answer, local_today(g.get("tenant")),
                      ConnectorActor(), source="connector")
    except UserError as exc:
        log.warning("FICP connector answer not applied to case %s: %s", case.id, exc)


def _tell_ccas(session, case: Case) -> None:
    orgs = session.scalars(
        select(Organisation).where(Organisation.kind == "ccas",
                                   Organisation.email.is_not(None))
    ).all()
    if not orgs:
        return
    try:
        link = url_for("cases.case_page", case_id=case.id, _external=True)
    except Exception:  # noqa: BLE001 - outside a request (CLI): no link
        link = ""
    text = (
        f"Le contrôle FICP du dossier {case.reference} a constaté une inscription au "
        "FICP. Le dossier est clos (inscrit au FICP) : prévenez la personne et proposez, "
        "si besoin, une réorientation.\n" + (f"\n{link}\n" if link else "")
    )
    for org in orgs:
        enqueue_email(session, org.email,
                             f"Dossier {case.reference} : inscription au FICP", text,
                             topic=f"ficp:{case.id}")


# -- pages -------------------------------------------------------------------------------


def _waiting_where() -> tuple:
    """The conditions of a case waiting for the check (no result recorded yet)."""
    return Case.state == FICP_PENDING, Case.id.not_in(select(FicpCheck.case_id))


#: The dashboard's count of the cases waiting for the check, built once.
_WAITING_COUNT = select(func.count(Case.id)).where(*_waiting_where())


def _waiting(session) -> list[Case]:
    """Cases waiting for the check, oldest first."""
    return list(session.scalars(select(Case).where(*_waiting_where())
                                .order_by(Case.state_changed_at)))


def _recent(session) -> list[tuple[Case, FicpCheck]]:
    rows = session.execute(
        select(Case, FicpCheck).join(FicpCheck, FicpCheck.case_id == Case.id)
        .order_by(FicpCheck.recorded_at.desc()).limit(20)
    ).all()
    return [(c, k) for c, k in rows]


@bp.route("/ficp")
@allow(QUEUE_ROLES)
def ficp_queue():
    session = db_session()
    waiting = _waiting(session)
    for case in waiting:
        record_audit(session, "ficp.queue.read", case.person)
    recent = _recent(session)
    session.commit()
    return render_template(
        "credit_municipal/ficp_queue.html", waiting=waiting, recent=recent,
        labels=FICP_RESULT_LABELS, today=local_today(g.get("tenant")),
        errors={}, failed=None,
    )


@bp.route("/ficp/<case_id>", methods=["POST"])
@allow(QUEUE_ROLES)
def ficp_record(case_id: str):
    try:
        key = uuid.UUID(case_id)
    except ValueError:
        abort(404)
    session = db_session()
    case = session.scalar(select(Case).where(Case.id == key))
    if case is None or (case.state != FICP_PENDING and check_of(session, key) is None):
        abort(404)
    try:
        checked_on = parse_date(request.form.get("checked_on"), "checked_on")
        try:
            record_result(session, case, request.form.get("result", ""), checked_on,
                          current_user, version=request.form.get("version", type=int))
            session.commit()
        except IntegrityError as exc:  # another agent recorded it at the same moment
            raise StaleCase() from exc
    except UserError as exc:
        session.rollback()
        errors = exc.errors or {}
        waiting = _waiting(session)
        recent = _recent(session)
        return render_template(
            "credit_municipal/ficp_queue.html", waiting=waiting, recent=recent,
            labels=FICP_RESULT_LABELS, today=local_today(g.get("tenant")),
            errors=errors, failed=str(key), message=exc.message,
        ), exc.status
    check = check_of(session, key)
    flash(f"Dossier {case.reference} : {FICP_RESULT_LABELS[check.result]} enregistré.",
          "success")
    return redirect(url_for("credit_municipal.ficp_queue"))
