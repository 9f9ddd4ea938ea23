"""Lender pages: submitted files, decision form, loans (with arrears), loan page (signing,
withdrawal, disbursement, repayments, default, documents), repayment import with preview;
manager pages: guarantee calls against the cap and the City's subsidy cost."""

from __future__ import annotations

import base64
import binascii
import uuid

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from core.plugin_api import (
    LENDER,
    LENDER_DESK,
    LOAN_READERS,
    MANAGER,
    PURPOSE_LABELS,
    Case,
    NavItem,
    Panel,
    SortColumn,
    SortSpec,
    State,
    UserError,
    affordability,
    allow,
    borrowers,
    column_chart,
    db_session,
    export_document,
    format_money,
    local_today,
    parse_amount,
    parse_date,
    plural,
    read_rows,
    reasons,
    record_audit,
    round_apr,
    rows_statement,
    sort_from,
    sort_rows,
    table_csv,
)

from . import (
    arrears,
    declarations,
    delinquency,
    ficp,
    guarantees,
    repayments,
    rescheduling,
    subsidy,
)
from . import documents as docs
from . import loans as service
from .blueprint import bp
from .ficp_models import FICP_RESULT_LABELS
from .models import (
    LOAN_STATUS_LABELS,
    PARTY_LABELS,
    GuaranteeCall,
    Installment,
    Loan,
    LoanStatus,
    Recovery,
    RecoveryShare,
    Repayment,
)

#: Who records the tripartite signing and the borrower's withdrawal.
SIGNERS = LOAN_READERS


def _case_or_404(case_id: str) -> Case:
    try:
        key = uuid.UUID(case_id)
    except ValueError:
        abort(404)
    case = db_session().scalar(select(Case).where(Case.id == key))
    if case is None:
        abort(404)
    return case


def _loan_or_404(loan_id: str) -> Loan:
    loan = service.get_loan(db_session(), loan_id)
    if loan is None:
        abort(404)
    return loan


def _version() -> int | None:
    return request.form.get("version", type=int)


# -- submitted files and decision ---------------------------------------------------------


@bp.route("/loans/submitted")
@allow(LENDER_DESK)
def loan_submitted():
    waiting = db_session().scalars(
        select(Case).where(Case.state == State.submitted_to_lender)
        .order_by(Case.state_changed_at)
    ).all()
    for case in waiting:
        record_audit(db_session(), "loan.submitted.read", case.person)
    db_session().commit()
    return render_template("credit_municipal/loan_submitted.html", cases=waiting,
                           purposes=PURPOSE_LABELS)


def _decision_page(case: Case, errors=None, values=None, message=None, status=200):
    conf = service.settings()
    return render_template(
        "credit_municipal/loan_decision.html", case=case, purposes=PURPOSE_LABELS,
        refuse_reasons=reasons(g.get("tenant"), "refuse"), conf=conf,
        problems=service.eligibility_problems(conf, case.amount_requested, case.purpose),
        bearable=affordability(db_session(), case, g.get("tenant"), 0).bearable,
        co_borrower=ficp.co_borrower_name(db_session(), case),
        co_check=ficp.co_borrower_check(db_session(), case), ficp_labels=FICP_RESULT_LABELS,
        today=local_today(g.get("tenant")),
        errors=errors or {}, values=values or {}, message=message,
    ), status


@bp.route("/loans/decision/<case_id>", methods=["GET", "POST"])
@allow(LENDER)
def loan_decision(case_id: str):
    case = _case_or_404(case_id)
    if case.state != State.submitted_to_lender:
        abort(404)
    if request.method == "GET":
        record_audit(db_session(), "loan.decision.read", case.person)
        db_session().commit()
        return _decision_page(case)
    action = request.form.get("action")
    try:
        if action == "grant":
            loan = service.grant(db_session(), case, request.form, current_user, _version())
            done = f"Prêt accordé pour le dossier {case.reference}."
        elif action == "refuse":
            service.refuse(db_session(), case, request.form.get("reason", ""), current_user,
                           request.form.get("comment", ""), _version())
            loan, done = None, f"Dossier {case.reference} refusé."
        elif action == "co_ficp":
            ficp.record_co_borrower_result(
                db_session(), case, request.form.get("co_result", ""),
                parse_date(request.form.get("co_checked_on"), "co_checked_on"), current_user)
            db_session().commit()
            flash("Résultat du contrôle FICP du co-emprunteur enregistré.", "success")
            return redirect(url_for("credit_municipal.loan_decision", case_id=str(case.id)))
        elif action == "adjourn":
            service.adjourn(db_session(), case, request.form.get("missing", ""), current_user,
                            _version())
            loan, done = None, f"Dossier {case.reference} ajourné."
        else:
            raise UserError("Choisissez une décision.", status=422)
    except UserError as exc:
        db_session().rollback()
        errors = dict(exc.errors or {})
        if action == "adjourn" and "reason_text" in errors:
            errors["missing"] = errors.pop("reason_text")
        return _decision_page(case, errors, request.form, exc.message, exc.status)
    db_session().commit()
    flash(done, "success")
    if loan is not None:
        return redirect(url_for("credit_municipal.loan_detail", loan_id=str(loan.id)))
    return redirect(url_for("credit_municipal.loan_submitted"))


# -- loans ----------------------------------------------------------------------------------


def _status_rank(row) -> int:
    return list(LOAN_STATUS_LABELS).index(row[0].status) \
        if row[0].status in LOAN_STATUS_LABELS else len(LOAN_STATUS_LABELS)


def _late(row):
    position = row[1]
    return position.arrears if position else None


#: The loan list's columns (``sort_from``): the amounts and days late are computed from
#: the ledgers, so the list (every loan of the lender's tenant) is sorted in memory.
LOAN_SORT = SortSpec({
    "reference": SortColumn((lambda r: r[0].reference,)),
    "status": SortColumn((_status_rank, lambda r: r[0].reference)),
    "amount": SortColumn((lambda r: r[0].amount, lambda r: r[0].reference)),
    "outstanding": SortColumn((lambda r: r[1].outstanding if r[1] else None,
                               lambda r: r[0].reference)),
    "days_late": SortColumn((lambda r: _late(r).days_past_due if _late(r) else None,
                             lambda r: r[0].reference), first="desc"),
    "amount_late": SortColumn((lambda r: _late(r).amount_late if _late(r) else None,
                               lambda r: r[0].reference), first="desc"),
}, default="reference")


@bp.route("/loans")
@allow(LENDER_DESK)
def loan_list():
    today = service.today()
    late_only = request.args.get("retard") == "1"
    all_loans = db_session().scalars(select(Loan).order_by(Loan.reference)).all()
    repaying = [loan for loan in all_loans if loan.status == LoanStatus.repaying]
    positions = {p.loan.id: p for p in arrears.positions(db_session(), today, repaying)}
    rows = [(loan, positions.get(loan.id)) for loan in all_loans]
    if late_only:
        rows = [(loan, p) for loan, p in rows if p and p.arrears.days_past_due > 0]
    sorting = sort_from(request.args, LOAN_SORT)
    rows = sort_rows(rows, sorting)
    return render_template(
        "credit_municipal/loan_list.html", rows=rows, late_only=late_only, today=today,
        sorting=sorting, query={"retard": "1"} if late_only else {},
        labels=LOAN_STATUS_LABELS, summary=arrears.portfolio_at_risk(db_session(), today),
        buckets=delinquency.ageing_on(db_session(), today),
    )


def _detail_page(loan: Loan, errors=None, values=None, message=None, status=200):
    today = service.today()
    ledger = repayments.ledger_of(db_session(), loan) if loan.disbursed_on else None
    position = (arrears.loan_arrears(ledger.rows, ledger.regular_paid, today)
                if ledger and loan.status == LoanStatus.repaying else None)
    schedule = None if loan.disbursed_on else service.provisional_schedule(loan)
    calls = db_session().scalars(
        select(GuaranteeCall).where(GuaranteeCall.loan_id == loan.id)
    ).all()
    return render_template(
        "credit_municipal/loan_detail.html", loan=loan, case=loan.case, ledger=ledger,
        position=position, provisional=schedule, labels=LOAN_STATUS_LABELS, today=today,
        provisional_apr=f"{round_apr(schedule.apr):f}".replace(".", ",") if schedule else "",
        repayment_rows=db_session().scalars(
            select(Repayment).where(Repayment.loan_id == loan.id)
            .order_by(Repayment.paid_on, Repayment.created_at)
        ).all(),
        calls=calls, payoff=ledger.payoff(today) if ledger and ledger.outstanding > 0 else None,
        errors=errors or {}, values=values or {}, message=message,
        role=str(current_user.role), State=State, LoanStatus=LoanStatus,
        versions=rescheduling.versions(db_session(), loan), opinions=rescheduling.OPINIONS,
        old_rows=rescheduling.rows_from_json,
        remaining=len(rescheduling.unpaid_rows(ledger.rows, ledger.regular_paid)[1])
        if ledger else 0,
        max_months=service.settings()["max_months"],
        loss=guarantees.loan_loss(db_session(), loan) if loan.default_declared_on else None,
        recoveries=_recoveries(loan), party_labels=PARTY_LABELS,
    ), status




def _recoveries(loan: Loan) -> list[tuple]:
    """(recovery, {party: amount}) of the loan, oldest first."""
    found = db_session().scalars(select(Recovery).where(Recovery.loan_id == loan.id)
                                 .order_by(Recovery.received_on, Recovery.created_at)).all()
    shares = db_session().scalars(select(RecoveryShare)
                                  .where(RecoveryShare.loan_id == loan.id)).all()
    by_recovery: dict = {}
    for share in shares:
        by_recovery.setdefault(share.recovery_id, {})[share.party] = share.amount
    return [(r, by_recovery.get(r.id, {})) for r in found]


@bp.route("/loans/<loan_id>")
@allow(LOAN_READERS)
def loan_detail(loan_id: str):
    loan = _loan_or_404(loan_id)
    record_audit(db_session(), "loan.read", loan.case.person, loan=str(loan.id))
    db_session().commit()
    return _detail_page(loan)


def _loan_action(loan_id: str, do, done: str):
    loan = _loan_or_404(loan_id)
    try:
        do(loan)
    except UserError as exc:
        db_session().rollback()
        loan = _loan_or_404(loan_id)
        return _detail_page(loan, exc.errors, request.form, exc.message, exc.status)
    db_session().commit()
    flash(done, "success")
    return redirect(url_for("credit_municipal.loan_detail", loan_id=loan_id))


@bp.route("/loans/<loan_id>/sign", methods=["POST"])
@allow(SIGNERS)
def loan_sign(loan_id: str):
    return _loan_action(
        loan_id,
        lambda loan: service.sign(db_session(), loan.case, request.form, current_user,
                                  _version()),
        "Signature tripartite enregistrée : le délai de rétractation court.",
    )


@bp.route("/loans/<loan_id>/withdraw", methods=["POST"])
@allow(SIGNERS)
def loan_withdraw(loan_id: str):
    return _loan_action(
        loan_id, lambda loan: service.withdraw(db_session(), loan.case, current_user, _version()),
        "Rétractation de l'emprunteur enregistrée.",
    )


@bp.route("/loans/<loan_id>/disburse", methods=["POST"])
@allow(LENDER)
def loan_disburse(loan_id: str):
    return _loan_action(
        loan_id,
        lambda loan: service.disburse(db_session(), loan.case, request.form, current_user,
                                      _version()),
        "Décaissement enregistré : l'échéancier est établi.",
    )


@bp.route("/loans/<loan_id>/repayments", methods=["POST"])
@allow(LENDER)
def loan_repayment(loan_id: str):
    def do(loan):
        on, amount = repayments.parse_manual(request.form)
        repayments.record(db_session(), loan, on, amount, current_user,
                          shorten=request.form.get("early_choice") == "shorten")

    return _loan_action(loan_id, do, "Remboursement enregistré.")


@bp.route("/loans/<loan_id>/default", methods=["POST"])
@allow(LENDER_DESK)
def loan_default(loan_id: str):
    def do(loan):
        on = service.parse_date(request.form.get("declared_on"), "declared_on")
        guarantees.declare_default(db_session(), loan, current_user, on)

    return _loan_action(loan_id, do, "Défaillance déclarée : les garants sont appelés.")


@bp.route("/loans/<loan_id>/write-off", methods=["POST"])
@allow(LENDER_DESK)
def loan_write_off(loan_id: str):
    def do(loan):
        on = service.parse_date(request.form.get("written_off_on"), "written_off_on")
        guarantees.write_off(db_session(), loan, current_user, on)

    return _loan_action(loan_id, do, "Prêt passé en perte.")


@bp.route("/loans/<loan_id>/recoveries", methods=["POST"])
@allow(LENDER)
def loan_recovery(loan_id: str):
    def do(loan):
        on = service.parse_date(request.form.get("received_on"), "received_on")
        amount = parse_amount(request.form.get("recovery_amount"), "recovery_amount")
        guarantees.record_recovery(db_session(), loan, on, amount, current_user)

    return _loan_action(loan_id, do,
                        "Recouvrement enregistré et réparti entre les garants et le prêteur.")


@bp.route("/loans/<loan_id>/reschedule", methods=["POST"])
@allow(LENDER)
def loan_reschedule(loan_id: str):
    return _loan_action(
        loan_id,
        lambda loan: rescheduling.reschedule_loan(db_session(), loan, request.form,
                                                  current_user),
        "Réaménagement enregistré : nouvel échéancier et avenant à signer.",
    )


@bp.route("/loans/<loan_id>/avenant-<int:rider_version>.pdf")
@allow(LOAN_READERS)
def loan_rider_pdf(loan_id: str, rider_version: int):
    version = rider_version
    loan = _loan_or_404(loan_id)
    records = rescheduling.versions(db_session(), loan)
    record = next((r for r in records if r.version == version), None)
    if record is None:
        abort(404)
    later = next((r for r in records if r.version == version + 1), None)
    if later is not None:
        rows = rescheduling.rows_from_json(later.previous_schedule)
    else:
        rows = db_session().scalars(
            select(Installment).where(Installment.loan_id == loan.id)
            .order_by(Installment.number)).all()
    person = loan.case.person
    content = docs.rider_pdf(docs.RiderData(
        tenant_name=g.get("tenant").name, loan_reference=loan.reference,
        case_reference=loan.case.reference,
        borrower_name=f"{person.first_name} {person.last_name}", version=record.version,
        agreed_on=record.agreed_on, holiday_months=record.holiday_months,
        months=record.months, overdue_months=record.overdue_months,
        outstanding=record.outstanding, annual_rate=loan.annual_rate,
        subsidy_share=loan.subsidy_share, apr=record.apr, installment=record.installment,
        last_due_date=record.last_due_date,
        opinion_label=rescheduling.OPINIONS.get(record.opinion, record.opinion),
        rows=tuple(r for r in rows if r.number >= record.first_number),
    ))
    record_audit(db_session(), "loan.document", person, document="avenant",
                 loan=str(loan.id), version=version)
    db_session().commit()
    return Response(content, mimetype="application/pdf", headers={
        "Content-Disposition":
            f'attachment; filename="avenant-{version - 1}-{loan.reference}.pdf"'})


def _document_data(loan: Loan) -> docs.LoanDocumentData:
    case, person, tenant = loan.case, loan.case.person, g.get("tenant")
    address = " ".join(filter(None, [person.address, person.postal_code, person.city]))
    worker = case.social_worker.full_name if case.social_worker else ""
    return docs.LoanDocumentData(
        tenant_name=tenant.name, city=tenant.city, case_reference=case.reference,
        loan_reference=loan.reference,
        borrower_name=f"{person.first_name} {person.last_name}", borrower_address=address,
        purpose_label=PURPOSE_LABELS.get(case.purpose, str(case.purpose)), amount=loan.amount,
        months=loan.months, annual_rate=loan.annual_rate, method=loan.method,
        subsidy_share=loan.subsidy_share, decided_on=loan.decided_on,
        offer_valid_until=loan.offer_valid_until, schedule=service.provisional_schedule(loan),
        social_worker_name=worker, signed_on=loan.signed_on,
        co_borrower_name=next((b.full_name for b in borrowers(db_session(), case)
                               if b.role == "co_borrower"), ""),
    )


def _pdf(loan_id: str, render, name: str) -> Response:
    loan = _loan_or_404(loan_id)
    if loan.status == LoanStatus.withdrawn:
        abort(404)
    content = render(_document_data(loan))
    record_audit(db_session(), "loan.document", loan.case.person, document=name,
                 loan=str(loan.id))
    db_session().commit()
    return Response(content, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}-{loan.reference}.pdf"'})


@bp.route("/loans/<loan_id>/offre.pdf")
@allow(LOAN_READERS)
def loan_offer_pdf(loan_id: str):
    return _pdf(loan_id, docs.offer_pdf, "offre-de-pret")


@bp.route("/loans/<loan_id>/fipen.pdf")
@allow(LOAN_READERS)
def loan_fipen_pdf(loan_id: str):
    return _pdf(loan_id, docs.fipen_pdf, "fipen")


@bp.route("/loans/<loan_id>/contrat-accompagnement.pdf")
@allow(LOAN_READERS)
def loan_contract_pdf(loan_id: str):
    return _pdf(loan_id, docs.accompaniment_contract_pdf, "contrat-accompagnement")


# -- repayment import ---------------------------------------------------------------------------


@bp.route("/repayments/import", methods=["GET", "POST"])
@allow(LENDER)
def loan_import():
    if request.method == "GET":
        return render_template("credit_municipal/loan_import.html", report=None, errors={})
    content, filename = None, ""
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        content, filename = upload.read(), upload.filename
    elif request.form.get("content"):
        try:
            content = base64.b64decode(request.form["content"], validate=True)
        except (binascii.Error, ValueError):
            content = None
        filename = request.form.get("filename", "")
    if not content:
        message = "Choisissez le fichier CSV du prêteur."
        return render_template("credit_municipal/loan_import.html", report=None,
                               errors={"file": [message]}, message=message), 422
    if request.form.get("confirm") == "1":
        try:
            report, created = repayments.run_import(db_session(), content, filename,
                                                    current_user)
        except UserError as exc:
            db_session().rollback()
            report = repayments.preview_import(db_session(), content, filename)
            return render_template(
                "credit_municipal/loan_import.html", report=report, errors={},
                message=exc.message, encoded=base64.b64encode(content).decode("ascii"),
                filename=filename,
            ), exc.status
        db_session().commit()
        if created:
            flash(f"{plural(created, 'remboursement importé', 'remboursements importés')} ; "
                  f"{plural(len(report.already), 'ligne déjà importée', 'lignes déjà importées')}.",
                  "success")
        else:
            flash("Rien de nouveau : toutes les lignes de ce fichier sont déjà importées.",
                  "info")
        return redirect(url_for("credit_municipal.loan_import"))
    report = repayments.preview_import(db_session(), content, filename)
    db_session().rollback()
    status = 200 if report.ok else 422
    return render_template(
        "credit_municipal/loan_import.html", report=report, errors={},
        encoded=base64.b64encode(content).decode("ascii"), filename=filename,
    ), status


# -- manager: guarantees and subsidy ----------------------------------------------------------


@bp.route("/guarantees")
@allow(LENDER_DESK)
def loan_guarantees():
    conf = service.settings()
    layers = guarantees.layers_from_settings(conf)
    called = guarantees.called_by_guarantor(db_session())
    lent = guarantees.amount_lent(db_session())
    calls = db_session().scalars(
        select(GuaranteeCall).order_by(GuaranteeCall.called_on.desc())
    ).all()
    return render_template(
        "credit_municipal/loan_guarantees.html", layers=layers, called=called, lent=lent,
        usage=guarantees.cap_usage(layers, lent, called), calls=calls,
    )


@bp.route("/subsidy")
@allow(LENDER_DESK)
def loan_subsidy():
    today = service.today()
    return render_template(
        "credit_municipal/loan_subsidy.html", years=subsidy.cost_by_year(db_session(), today),
        today=today,
    )


# -- portfolio over time --------------------------------------------------------------------------


@bp.route("/portfolio")
@allow(LENDER_DESK)
def loan_portfolio():
    from markupsafe import Markup

    from .portfolio import by_month

    months = by_month(db_session(), service.today())

    def pct(value):
        return "–" if value is None else f"{value:.2f}".replace(".", ",") + " %"

    charts = {
        "outstanding": column_chart("graphique-encours", "Encours en fin de mois (€)", [
            (m.label, float(m.outstanding), format_money(m.outstanding).replace(",00", ""))
            for m in months], col_w=80),
        "par30": column_chart("graphique-par30", "PAR30 en fin de mois (%)", [
            (m.label, float(m.par30 or 0), pct(m.par30)) for m in months], col_w=80),
        "defaults": column_chart("graphique-defauts", "Taux de défaillance du mois (%)", [
            (m.label, float(m.default_rate or 0), pct(m.default_rate)) for m in months],
            col_w=80),
    }
    return render_template("credit_municipal/loan_portfolio.html", months=months,
                           charts={k: Markup(v) for k, v in charts.items()},  # noqa: S704 - our escaped SVG
                           pct=pct)


# -- declarations to the funders ----------------------------------------------------------------


@bp.route("/declarations")
@allow(LENDER_DESK)
def loan_declarations():
    today = service.today()
    year = request.args.get("annee", type=int) or today.year
    if not 2000 <= year <= today.year:
        year = today.year
    conf = service.settings()
    tenant = g.get("tenant")
    return render_template(
        "credit_municipal/loan_declarations.html", year=year, today=today,
        years=range(today.year, max(2000, today.year - 10) - 1, -1), formats=declarations.FORMATS,
        kinds=declarations.KINDS,
        statements={kind: declarations.statement(db_session(), conf, tenant.name, kind, year,
                                                 today) for kind in declarations.KINDS},
    )


@bp.route("/declarations/<statement>-<int:year>.<statement_format>")
@allow(LENDER_DESK)
def loan_declaration_file(statement: str, year: int, statement_format: str):
    kind, fmt = statement, statement_format
    today = service.today()
    if kind not in declarations.KINDS or fmt not in declarations.FORMATS or not (
            2000 <= year <= today.year):
        abort(404)
    found = declarations.statement(db_session(), service.settings(), g.get("tenant").name,
                                   kind, year, today)
    content = (table_csv(found.loans) if fmt == "csv"
               else export_document(found.document(), fmt))
    record_audit(db_session(), "loan.declaration", None, kind=kind, year=year, format=fmt)
    db_session().commit()
    media = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
    return Response(content, mimetype=media[fmt], headers={
        "Content-Disposition": f'attachment; filename="{kind}-{year}.{fmt}"'})


# -- hook helpers (menu, case page) ----------------------------------------------------------


def nav_items(user):
    return [
        NavItem(label="Dossiers transmis", endpoint="credit_municipal.loan_submitted",
                roles=LENDER, order=50, section="Prêts"),
        NavItem(label="Prêts", endpoint="credit_municipal.loan_list", roles=LENDER_DESK,
                order=52, section="Prêts"),
        NavItem(label="Garanties", endpoint="credit_municipal.loan_guarantees",
                roles=MANAGER, order=53, section="Prêts"),
        NavItem(label="Bonification", endpoint="credit_municipal.loan_subsidy",
                roles=MANAGER, order=54, section="Prêts"),
        NavItem(label="Déclarations", endpoint="credit_municipal.loan_declarations",
                roles=LENDER_DESK, order=55, section="Prêts"),
        NavItem(label="Portefeuille", endpoint="credit_municipal.loan_portfolio",
                roles=LENDER_DESK, order=56, section="Prêts"),
    ]


#: The defaults proposed, as the dashboard lists them: read-only rows of the three
#: columns it shows (id, reference, the day proposed), built once, the tenant's criterion
#: bound at each run (``core.plugin_api.rows_statement``), no ORM objects.
_loans = Loan.__table__
_PROPOSED = rows_statement(
    Loan, _loans.c.default_proposed_on.is_not(None), _loans.c.status == LoanStatus.repaying,
    order_by=(_loans.c.reference,), columns=("id", "reference", "default_proposed_on"))


def dashboard_panels(session, user):
    """The lender's delinquency at a glance: ageing buckets and defaults proposed."""
    if str(user.role) not in LENDER_DESK:
        return None
    today = service.today()
    proposed = read_rows(session, _PROPOSED, {}, Loan)
    # rendered with the dashboard's context (its context processors not run again)
    return [Panel(title="Retards de remboursement", order=20,
                  template="credit_municipal/delinquency_panel.html",
                  context={"buckets": delinquency.ageing_on(session, today),
                           "proposed": proposed, "today": today})]


def case_panels(session, case, user):
    """The loan's block on the case page (staff and the lender)."""
    if str(user.role) not in LOAN_READERS:
        return None
    loan = service.loan_row(session, case)
    if loan is None:
        return None
    outstanding = position = None
    if loan.disbursed_on is not None:
        ledger = repayments.ledger_of(session, loan)
        outstanding = ledger.outstanding
        if loan.status == LoanStatus.repaying:
            position = arrears.loan_arrears(ledger.rows, ledger.regular_paid, service.today())
    # rendered with the case page's context (its context processors not run again)
    return [Panel(title="Prêt", order=30, template="credit_municipal/loan_case_panel.html",
                  context={"loan": loan, "labels": LOAN_STATUS_LABELS,
                           "outstanding": outstanding, "position": position})]
