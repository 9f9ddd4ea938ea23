"""Platform-operator pages (the operator console), outside any tenant: sign-in (with the
TOTP second factor of ``core.web.second_factor``, required for every operator when
``CCAS_OPERATOR_TOTP_REQUIRED`` is on), the operator's security page, tenants (create,
suspend or resume, plugins), platform health, usage per tenant and the cross-city
comparison. Figures of a tenant are always read in that tenant's scope."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from .. import accounts, audit, clock, platform_status, plugins, tenancy
from ..accounts import onboarding
from ..db import db
from ..errors import UserError
from ..models import Operator, PluginState, Tenant
from ..policy import operator_only, public
from ..reports import comparison
from . import second_factor, session_pages
from .auth import (
    begin_second_factor,
    complete_login,
    end_session,
    guarded_authenticate,
    second_factor_step,
)
from .views import safe_next, slowed

bp = Blueprint("operator", __name__, url_prefix="/operator")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    error = None
    email = ""
    if request.method == "POST":
        email = (request.form.get("email") or "").strip().lower()
        password = request.form.get("password") or ""
        operator, ok, wait = guarded_authenticate(Operator, email, password)
        if wait:
            return slowed("operator/login.html", wait, email=email)
        if not ok:
            error = "Adresse e-mail ou mot de passe incorrect."
        else:
            next_url = safe_next(request.args.get("next"), url_for("operator.tenants"))
            step = second_factor_step(operator)
            if step is not None:
                begin_second_factor(operator, step, next_url)
                return redirect(url_for(
                    "operator.login_code" if step == "verify" else "operator.login_enrol"))
            complete_login(operator)
            return redirect(next_url)
    return render_template("operator/login.html", error=error, email=email), (
        401 if error else 200
    )


PLACE = second_factor.Place(
    kind="o", login="operator.login", home="operator.tenants", security="operator.security",
    enrol="operator.totp_enrol", disable="operator.totp_disable",
    issuer=f"{second_factor.ISSUER} – Opérateur",
)


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code():
    return second_factor.code_step(PLACE)


@bp.route("/login/enrolment", methods=["GET", "POST"])
@public
def login_enrol():
    """``CCAS_OPERATOR_TOTP_REQUIRED`` and this operator has no second factor: enrol now."""
    return second_factor.enrol_step(PLACE)


@bp.route("/account/security")
@operator_only
def security():
    return second_factor.security_page(PLACE, current_user)


@bp.route("/account/security/totp", methods=["GET", "POST"])
@operator_only
def totp_enrol():
    return second_factor.enrol_page(PLACE, current_user)


@bp.route("/account/security/totp/disable", methods=["POST"])
@operator_only
def totp_disable():
    return second_factor.disable(PLACE, current_user)


def _sessions_place() -> session_pages.Place:
    return session_pages.Place("operator.sessions_page", "operator.end_one_session",
                               "operator.end_other_sessions",
                               session_pages.operator_log(current_user.id))


@bp.route("/account/sessions")
@operator_only
def sessions_page():
    """The operator's open sessions."""
    return session_pages.page(_sessions_place())


@bp.route("/account/sessions/<session_id>/end", methods=["POST"])
@operator_only
def end_one_session(session_id: str):
    return session_pages.end_one(_sessions_place(), session_id)


@bp.route("/account/sessions/end-others", methods=["POST"])
@operator_only
def end_other_sessions():
    return session_pages.end_others(_sessions_place())


@bp.route("/logout", methods=["POST"])
@public
def logout():
    end_session()
    return redirect(url_for("operator.login"))


@bp.route("/", methods=["GET", "POST"])
@operator_only
def tenants():
    errors: dict = {}
    form = {"slug": "", "name": "", "city": "", "timezone": "Europe/Paris",
            "manager_email": ""}
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in form}
        try:
            tenant = onboarding.open_tenant(
                db.session, form["slug"], form["name"], form["city"] or None,
                form["timezone"] or "Europe/Paris", form["manager_email"] or None,
                current_app.config["CCAS_BASE_URL"],
            )
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            errors = exc.errors or {"slug": [exc.message]}
            if "email" in errors:
                errors["manager_email"] = errors.pop("email")
        else:
            invited = (f" Invitation envoyée au responsable {form['manager_email']}."
                       if form["manager_email"] else "")
            flash(f"Territoire « {tenant.name} » créé.{invited}", "success")
            return redirect(url_for("operator.tenant_detail", slug=tenant.slug))
    rows = db.session.scalars(select(Tenant).order_by(Tenant.slug)).all()
    return (
        render_template("operator/tenants.html", tenants=rows, form=form, errors=errors),
        422 if errors else 200,
    )


@bp.route("/tenants/<slug>", methods=["GET", "POST"])
@operator_only
def tenant_detail(slug: str):
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        abort(404)
    reg = plugins.registry()
    with tenancy.tenant_scope(tenant.id):
        if request.method == "POST":
            name = request.form.get("plugin", "")
            action = request.form.get("action", "")
            if action not in {"enable", "disable"}:
                abort(400)
            try:
                plugins.set_enabled(db.session, name, action == "enable")
            except plugins.PluginError as exc:
                db.session.rollback()
                raise UserError(exc.message, status=exc.status) from exc
            audit.record(db.session, f"plugin.{action}", None, actor=current_user, plugin=name)
            db.session.commit()
            plugins.forget_enabled_cache()
            label = reg.get(name).info.label
            flash(
                f"Extension « {label} » {'activée' if action == 'enable' else 'désactivée'}.",
                "success",
            )
            return redirect(url_for("operator.tenant_detail", slug=slug))
        states = {s.plugin_name: s.enabled for s in db.session.scalars(select(PluginState))}
    rows = [
        {"name": n, "info": p.info, "enabled": states.get(n, False)}
        for n, p in sorted(reg.usable().items())
    ]
    refused = [p for p in reg.plugins.values() if not p.usable]
    return render_template(
        "operator/tenant.html", tenant=tenant, rows=rows, refused=refused
    )


@bp.route("/tenants/<slug>/status", methods=["POST"])
@operator_only
def tenant_status(slug: str):
    """Suspend a tenant (its pages, sign-in and API answer 403; nothing is deleted) or
    resume it."""
    tenant = db.session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        abort(404)
    action = request.form.get("action", "")
    if action not in {"suspend", "resume"}:
        raise UserError("Action inconnue.", status=400, field="action")
    accounts.set_suspended(db.session, tenant, action == "suspend", actor=current_user)
    db.session.commit()
    flash(f"Territoire « {tenant.name} » suspendu : ses pages et son API ne répondent plus."
          if action == "suspend" else f"Territoire « {tenant.name} » rétabli.", "success")
    return redirect(url_for("operator.tenant_detail", slug=slug))


@bp.route("/health")
@operator_only
def health():
    figures = platform_status.all_tenant_figures(db.session)
    return render_template(
        "operator/health.html", database=platform_status.database_health(db.engine),
        figures=figures, worker=platform_status.worker_status(db.session),
        run_labels=platform_status.RUN_STATUS_LABELS,
        pending=sum(f.outbox_pending for f in figures),
        dead=sum(f.outbox_dead for f in figures),
    )


@bp.route("/usage")
@operator_only
def usage():
    return render_template("operator/usage.html",
                           figures=platform_status.all_tenant_figures(db.session),
                           active_days=platform_status.ACTIVE_DAYS)


@bp.route("/comparison")
@operator_only
def comparison_page():
    this_year = clock.today().year
    years = list(range(this_year, this_year - 6, -1))
    try:
        year = int(request.args.get("year") or this_year - 1)
    except ValueError:
        year = this_year - 1
    if year not in years:
        year = this_year - 1
    compared = comparison.compare(db.session, year)
    return render_template(
        "operator/comparison.html", compared=compared, rows=comparison.rows(compared),
        year=year, years=years, rule=comparison.RULE,
    )
