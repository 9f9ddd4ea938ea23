"""Case pages: the intake sheet (fiche recueil), the case list, the case page with its
timeline and transitions, interviews, the budget sheet, the file summary (page and PDF).

Who sees what (``core.cases``): the CCAS team sees every case; the lender's agents see the
cases from the state the lender's plugin names (``visible_from``: its own check, or the
submission), and the evaluation only once the file is submitted to them; private notes
are read only by social workers and the manager; referrers and funders get no case page
at all (403).
"""

from __future__ import annotations

import logging
import uuid

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import inspect, select
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit, cases, paging, plugins, referrals, sorting, workflow
from ..cases import file_summary
from ..cases import intake as intake_service
from ..cases.intake import IntakeRequest, PossibleDuplicates
from ..db import db
from ..errors import NotFound, UserError
from ..features import suggestions
from ..hookspecs import hookimpl
from ..models import (
    CHARGE_CATEGORIES,
    EMPLOYMENT_LABELS,
    PURPOSE_LABELS,
    RESOURCE_CATEGORIES,
    SOURCE_LABELS,
    Organisation,
    Source,
    State,
)
from ..plugins.types import NavItem
from ..policy import CASE_READERS, CCAS_STAFF, SOCIAL_WORKERS, allow
from ..workflow import reasons
from . import form_tokens

log = logging.getLogger(__name__)

bp = Blueprint("cases", __name__, url_prefix="/t/<tenant>/cases")

PER_PAGE = 25
#: The case list counts the matching cases up to this many and says "more than" beyond:
#: far above a city's files (a large CCAS opens a few thousand a year), so people see
#: the exact count, and a page costs the same whatever the tenant's size.
COUNT_CAP = 10_000



@hookimpl
def ccas_nav_items():
    return [NavItem("Dossiers", "cases.case_list", CASE_READERS, order=10, section="Dossiers"),
            NavItem("Nouvelle fiche recueil", "cases.intake", CCAS_STAFF, order=11,
                    section="Dossiers")]


def _role() -> str:
    return str(current_user.role)


def _field_errors(exc: UserError) -> dict:
    return exc.errors or {"_": [exc.message]}


# -- case list ---------------------------------------------------------------------------


@bp.route("/", methods=["GET", "POST"])
@allow(CASE_READERS)
def case_list():
    """The case list. Its filter form is sent by POST: a name searched for never appears in
    a URL, so never in an access log or the browser's history (issue 18)."""
    args = request.form if request.method == "POST" else _without_name(request.args)
    errors: dict = {}
    filters = cases.CaseFilters(
        state=args.get("state") or None, purpose=args.get("purpose") or None,
        worker=args.get("worker") or None, q=(args.get("q") or "").strip()[:100],
    )
    for name in ("date_from", "date_to"):
        try:
            setattr(filters, name, cases.parse_date(args.get(name), name))
        except UserError as exc:
            errors[name] = [exc.message]
    asked = page = paging.page_from(args.get("page"))
    sort = sorting.sort_from(args, cases.case_sort_spec())
    try:
        # a count that stops at COUNT_CAP: a page's cost must not grow with the tenant
        rows, total = cases.list_cases(db.session, _role(), filters, page, PER_PAGE,
                                       sort=sort, count_cap=COUNT_CAP)
        page = paging.page_within(asked, total, PER_PAGE, COUNT_CAP)
        if page != asked:  # past the last page (an old link): the last one instead
            rows, total = cases.list_cases(db.session, _role(), filters, page, PER_PAGE,
                                           sort=sort, count_cap=COUNT_CAP)
    except UserError as exc:
        errors.update(_field_errors(exc))
        rows, total = [], 0
    audit.record_list_read(db.session, "case.list", rows, page=page, surface="page")
    db.session.commit()
    # the filters (sort headers add their own sort); the pages keep the sort too
    query = {k: v for k, v in args.items()
             if k not in ("page", "csrf_token", "sort", "dir") and v}
    return render_template(
        "cases/list.html", rows=rows, query=query,
        pages=paging.Pages(page, total, PER_PAGE, COUNT_CAP, shown=len(rows), asked=asked),
        page_query={**query, **sort.params()}, sorting=sort,
        filters=filters, args=args, errors=errors, states=workflow.current().labels(),
        purposes=PURPOSE_LABELS, workers=cases.social_workers(db.session)
        if _role() != "lender_agent" else [],
    ), (422 if errors else 200)


def _without_name(args):
    """A GET's filters without ``q``: a name in a URL is not searched for."""
    return {k: v for k, v in args.items() if k != "q"}


# -- intake sheet ------------------------------------------------------------------------

INTAKE_FIELDS = (
    "last_name", "first_name", "birth_date", "phone", "email", "address", "postal_code",
    "city", "adults", "children_ages", "employment", "monthly_resources", "purpose",
    "amount_requested", "project", "source", "referring_organisation_id",
)


def _children(text: str) -> list[int]:
    ages = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise UserError("Âges des enfants : des nombres séparés par des virgules.",
                            status=422, field="children_ages")
        ages.append(int(part))
    return ages


def _person_data(form) -> cases.PersonData:
    errors: dict = {}
    birth_date = adults = resources = None
    children: list[int] = []
    try:
        birth_date = cases.parse_date(form.get("birth_date"), "birth_date")
    except UserError as exc:
        errors["birth_date"] = [exc.message]
    try:
        adults = int(form.get("adults") or 1)
    except ValueError:
        errors["adults"] = ["Nombre d'adultes entre 1 et 20."]
    try:
        children = _children(form.get("children_ages", ""))
    except UserError as exc:
        errors["children_ages"] = [exc.message]
    if (form.get("monthly_resources") or "").strip():
        try:
            resources = cases.parse_amount(form.get("monthly_resources"), "monthly_resources")
        except UserError as exc:
            errors["monthly_resources"] = [exc.message]
    for name, message in (("last_name", "Le nom est obligatoire."),
                          ("first_name", "Le prénom est obligatoire."),
                          ("purpose", "Choisissez l'objet de la demande."),
                          ("amount_requested", "Indiquez le montant demandé.")):
        if not (form.get(name) or "").strip():
            errors[name] = [message]
    email = (form.get("email") or "").strip()
    if email and ("@" not in email or len(email) > 254):
        errors["email"] = ["Adresse e-mail invalide."]
    if errors:
        first = next(iter(errors))
        raise UserError(errors[first][0], status=422, field=first, errors=errors)
    return cases.PersonData(
        first_name=form.get("first_name", "").strip(), last_name=form.get("last_name", "").strip(),
        birth_date=birth_date, phone=(form.get("phone") or "").strip()[:30] or None,
        email=email or None, address=(form.get("address") or "").strip()[:300] or None,
        postal_code=(form.get("postal_code") or "").strip()[:10] or None,
        city=(form.get("city") or "").strip()[:120] or None, adults=adults,
        children_ages=children, employment=form.get("employment") or None,
        monthly_resources=resources,
    )


INTAKE_FORM = "intake"  # the one-time token's form name (core.web.form_tokens)


def _intake_replay(spent: form_tokens.Spent):
    """A sheet sent twice (double click, "resend the form", two requests at once): say so
    and go to the case the first sending created (or to the list if it created none)."""
    flash("Cette fiche recueil a déjà été envoyée : elle n'a pas été enregistrée une "
          "seconde fois.", "info")
    if spent.result_id is not None:
        return redirect(url_for("cases.case_page", case_id=spent.result_id))
    return redirect(url_for("cases.case_list"))


def _intake_page(values, errors, duplicates=(), status=200):
    organisations = db.session.scalars(
        select(Organisation).where(Organisation.kind != "ccas").order_by(Organisation.name)
    ).all()
    return render_template(
        "cases/intake.html", values=values, errors=errors, duplicates=duplicates,
        purposes=PURPOSE_LABELS, employments=EMPLOYMENT_LABELS,
        sources={k: v for k, v in SOURCE_LABELS.items() if k != Source.import_},
        organisations=organisations, form_token=form_tokens.issue(INTAKE_FORM),
        intake_options=workflow.current().intake_options,
    ), status


@bp.route("/new", methods=["GET", "POST"])
@allow(CCAS_STAFF)
def intake():
    if request.method == "GET":
        return _intake_page({"adults": "1", "source": "phone"}, {})
    form = request.form
    # A POST without a token (API-like clients) is not checked; with one, it is spent in
    # this transaction, before anything is written (a second sending waits, then replays).
    spent = form_tokens.spend(INTAKE_FORM, form["form_token"]) if form.get("form_token") \
        else None
    if spent is not None and not spent.fresh:
        return _intake_replay(spent)
    values = {k: form.get(k, "") for k in INTAKE_FIELDS}
    action = form.get("action", "")
    option = action.removeprefix("option:") if action.startswith("option:") else None
    try:
        data = _person_data(form)
        choice = form.get("person_choice", "")
        case = intake_service.intake(db.session, g.tenant, current_user, IntakeRequest(
            purpose=form.get("purpose", ""), amount_requested=form.get("amount_requested"),
            person=data, person_id=_chosen_person(choice), new_person=choice == "new",
            project=form.get("project", ""), source=form.get("source") or "phone",
            referring_organisation_id=_referring_organisation(form),
            options={option} if option else set(),
        ))
        if spent is not None:
            spent.remember(case.id)
    except PossibleDuplicates as exc:
        db.session.commit()  # the reads of the people shown are audited
        return _intake_page(values, {}, duplicates=exc.duplicates, status=200)
    except UserError as exc:
        db.session.rollback()
        return _intake_page(values, _field_errors(exc), status=exc.status)
    db.session.commit()
    done = next((o.done for o in workflow.current().intake_options if o.name == option), "")
    flash(f"Fiche recueil {case.reference} enregistrée{(' ' + done) if done else ''}.",
          "success")
    for notice in cases.lending_notices(db.session, case.purpose, case.amount_requested):
        flash(notice, "warning")
    if action == "another":
        return redirect(url_for("cases.intake"))
    return redirect(url_for("cases.case_page", case_id=case.id))


def _chosen_person(choice: str) -> uuid.UUID | None:
    if not choice.startswith("existing:"):
        return None
    try:
        return uuid.UUID(choice[9:])
    except ValueError as exc:
        raise UserError("La personne choisie est introuvable.", status=422,
                        field="person_choice") from exc


def _referring_organisation(form) -> uuid.UUID | None:
    """The referring organisation, when the request comes from a partner's referral."""
    if form.get("source") != Source.referral.value or not form.get("referring_organisation_id"):
        return None
    try:
        return uuid.UUID(form["referring_organisation_id"])
    except ValueError as exc:
        raise UserError("Organisation inconnue.", status=422,
                        field="referring_organisation_id") from exc


# -- case page ---------------------------------------------------------------------------


def _panels(case) -> list:
    """The case page's blocks: the core's features' and the enabled plugins' (a plugin
    that fails is logged and left out)."""
    # the user object, not the context-local proxy: each plugin reads it several times
    user = current_user._get_current_object()
    panels = plugins.hooks().ccas_case_panels.answers(case=case, user=user).flat()
    return sorted(panels, key=lambda p: p.order)


def _attach_workers(workers, *rows) -> None:
    """The social worker of the case from the list of workers already read for the page,
    where it is on it: a user's key is ``(tenant_id, id)`` and the relationship joins on
    the id alone, so the lazy load would query it."""
    by_id = {w.id: w for w in workers}
    for row in rows:
        worker = by_id.get(row.social_worker_id)
        if worker is not None and "social_worker" not in inspect(row).dict:
            set_committed_value(row, "social_worker", worker)


def _case_context(case, errors=None, message=None, failed_transition=None,
                  conflict=False) -> dict:
    role = _role()
    tenant = g.tenant
    moves = workflow.available(case, role)
    reason_lists = {t.name: reasons.reasons(tenant, t.reason) for t in moves if t.reason}
    destinations = workflow.destinations() if any(t.destination for t in moves) else {}
    blocking = []
    if moves and not workflow.current().is_terminal(case.state):
        blocking = workflow.failed_checks(case, case.state)
    sees_file = cases.lender_sees_file(db.session, case, role)
    budget = cases.budget_lines(db.session, case) if sees_file else {}
    timeline = cases.transitions(db.session, case)
    entered = {t.to_state for t in timeline}
    interviews = cases.interviews(db.session, case) if sees_file else []
    workers = cases.social_workers(db.session) if role in CCAS_STAFF else []
    _attach_workers(workers, case)
    if role in CCAS_STAFF:
        # the appointments' panel takes its workers (the booking form's, the listed
        # appointments') from these rather than reading the same users again
        g.ccas_case_workers = workers
    return {
        "case": case, "person": case.person, "role": role, "moves": moves,
        "reason_lists": reason_lists, "destinations": destinations, "blocking": blocking,
        "timeline": timeline, "states": workflow.current().labels(),
        "purposes": PURPOSE_LABELS,
        "sources": SOURCE_LABELS, "employments": EMPLOYMENT_LABELS,
        "sees_file": sees_file,
        "consent_methods": referrals.CONSENT_METHODS,
        "interviews": interviews,
        "interview_authors": cases.worker_names(
            db.session, (i.social_worker_id for i in interviews), workers),
        "private_notes": cases.may_read_private_notes(role),
        "budget": budget,
        "figures": cases.budget_figures(db.session, case, tenant, lines=budget)
        if sees_file else None,
        "resource_labels": RESOURCE_CATEGORIES, "charge_labels": CHARGE_CATEGORIES,
        "workers": workers,
        "panels": _panels(case), "errors": errors or {}, "message": message,
        "failed_transition": failed_transition, "conflict": conflict,
        "reason_labels": {code: label for kind in reasons.DEFAULTS
                          for code, label in reasons.reasons(tenant, kind).items()},
        "can_evaluate": role in SOCIAL_WORKERS and case.state in cases.INTERVIEW_STATES,
        "can_summarise": sees_file and State.instruction.value in entered,
        "destination": referrals.destination_label(db.session, case.reoriented_to,
                                                   destinations),
        "notices": cases.lending_notices(db.session, case.purpose, case.amount_requested),
    }


@bp.route("/<case_id>")
@allow(CASE_READERS)
def case_page(case_id: str):
    case = cases.get_case(db.session, case_id, _role(), page=True)
    context = _case_context(case)
    # The page first (its panels read while it renders), then the read's audit row and
    # the commit: one transaction for every read and the audit row (PostgreSQL sets the
    # tenant once), and SQLite's write lock taken for the insert only, not the rendering.
    # The row is committed before the page is sent.
    page = render_template("cases/case.html", **context)
    audit.record_now(db.session, "case.read", case)
    db.session.commit()
    return page


def _error_page(case_id: str, exc: UserError, failed_transition=None):
    db.session.rollback()
    case = cases.get_case(db.session, case_id, _role(), page=True)
    if failed_transition and case.state in suggestions.OPEN_STATES:
        # The refusal may name an aid the plugins suggest only now (the budget or the
        # household changed since): keep what the check found, so the page shows it to
        # be handled, though the move itself was rolled back.
        suggestions.refresh(db.session, case, current_user)
        db.session.commit()
    context = _case_context(case, errors=exc.errors, message=exc.message,
                            failed_transition=failed_transition, conflict=exc.status == 409)
    return render_template("cases/case.html", **context), exc.status


def _version(form) -> int:
    try:
        return int(form.get("version", ""))
    except ValueError as exc:
        raise UserError("Version du dossier manquante : rechargez la page.", status=400,
                        field="version") from exc


@bp.route("/<case_id>/transition", methods=["POST"])
@allow(CASE_READERS)
def transition(case_id: str):
    case = cases.get_case(db.session, case_id, _role())
    form = request.form
    target = form.get("to", "")
    try:
        record = workflow.apply_transition(
            db.session, case,
            workflow.TransitionRequest(
                target=target, version=_version(form), reason=form.get("reason") or None,
                reason_text=form.get("reason_text", ""),
                destination=form.get("destination") or None,
                data={k: form[k] for k in ("consent", "consent_method") if form.get(k)},
            ),
            current_user,
        )
        db.session.commit()
    except UserError as exc:
        return _error_page(case_id, exc, failed_transition=target)
    flash(f"Dossier {case.reference} : {workflow.current().label(record.to_state)}.", "success")
    return redirect(url_for("cases.case_page", case_id=case.id))


@bp.route("/<case_id>/assign", methods=["POST"])
@allow(CCAS_STAFF)
def assign(case_id: str):
    case = cases.get_case(db.session, case_id, _role())
    try:
        cases.assign_worker(db.session, case, request.form.get("worker") or None,
                            _version(request.form), current_user)
        db.session.commit()
    except UserError as exc:
        return _error_page(case_id, exc)
    flash("Travailleur social enregistré.", "success")
    return redirect(url_for("cases.case_page", case_id=case.id))


@bp.route("/<case_id>/interviews/new", methods=["GET", "POST"])
@allow(SOCIAL_WORKERS)
def interview_new(case_id: str):
    case = cases.get_case(db.session, case_id, _role())
    values = {"held_on": cases.local_today(g.tenant).isoformat()}
    errors: dict = {}
    status = 200
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in
                  ("held_on", "duration_minutes", "shared_note", "private_note")}
        try:
            cases.add_interview(db.session, case, current_user, values["held_on"],
                                values["duration_minutes"], values["shared_note"],
                                values["private_note"])
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            case = cases.get_case(db.session, case_id, _role())
            errors, status = _field_errors(exc), exc.status
        else:
            flash("Entretien enregistré.", "success")
            return redirect(url_for("cases.case_page", case_id=case.id, _anchor="entretiens"))
    audit.record(db.session, "case.read", case, page="interview")
    db.session.commit()
    return render_template("cases/interview.html", case=case, values=values, errors=errors,
                           open=case.state in cases.INTERVIEW_STATES), status


@bp.route("/<case_id>/budget", methods=["GET", "POST"])
@allow(SOCIAL_WORKERS)
def budget(case_id: str):
    case = cases.get_case(db.session, case_id, _role())
    lines = cases.budget_lines(db.session, case)
    values = {c: str(v).replace(".", ",") for c, v in lines.items()}
    errors: dict = {}
    status = 200
    if request.method == "POST":
        categories = [*RESOURCE_CATEGORIES, *CHARGE_CATEGORIES]
        values = {c: request.form.get(c, "") for c in categories}
        try:
            cases.save_budget(db.session, case, current_user, values)
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            case = cases.get_case(db.session, case_id, _role())
            errors, status = _field_errors(exc), exc.status
        else:
            flash("Budget enregistré.", "success")
            return redirect(url_for("cases.case_page", case_id=case.id, _anchor="budget"))
    figures = cases.budget_figures(db.session, case, g.tenant)
    audit.record(db.session, "case.read", case, page="budget")
    db.session.commit()
    return render_template(
        "cases/budget.html", case=case, values=values, errors=errors, figures=figures,
        resource_labels=RESOURCE_CATEGORIES, charge_labels=CHARGE_CATEGORIES,
        open=case.state in cases.BUDGET_STATES,
    ), status


def _summary_case(case_id: str):
    case = cases.get_case(db.session, case_id, _role())
    if not (cases.lender_sees_file(db.session, case, _role())
            and cases.reached(db.session, case, State.instruction)):

        raise NotFound("Cette synthèse")
    return case


@bp.route("/<case_id>/summary")
@allow(CASE_READERS)
def summary(case_id: str):
    case = _summary_case(case_id)
    data = file_summary.build(db.session, case, g.tenant)
    audit.record(db.session, "case.read", case, page="summary")
    db.session.commit()
    return render_template("cases/summary.html", case=case, s=data)


@bp.route("/<case_id>/summary.pdf")
@allow(CASE_READERS)
def summary_pdf(case_id: str):
    case = _summary_case(case_id)
    data = file_summary.build(db.session, case, g.tenant)
    audit.record(db.session, "case.read", case, page="summary.pdf")
    db.session.commit()
    pdf = file_summary.render_pdf(data)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="synthese-{case.reference}.pdf"'})


