"""Platform-operator pages, outside any tenant: sign-in (with the TOTP second factor of
``core.web.second_factor``, required for every operator when
``CCAS_OPERATOR_TOTP_REQUIRED`` is on), the operator's security page, tenants and their
plugins."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import accounts, audit, plugins, tenancy
from ..db import db
from ..errors import UserError
from ..models import Operator, PluginState, Tenant
from ..policy import operator_only, public
from . import second_factor
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


@bp.route("/logout", methods=["POST"])
@public
def logout():
    end_session()
    return redirect(url_for("operator.login"))


@bp.route("/", methods=["GET", "POST"])
@operator_only
def tenants():
    errors: dict = {}
    form = {"slug": "", "name": "", "city": "", "timezone": "Europe/Paris"}
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in form}
        try:
            tenant = accounts.create_tenant(
                db.session, form["slug"], form["name"], form["city"] or None,
                form["timezone"] or "Europe/Paris",
            )
            with tenancy.tenant_scope(tenant.id):
                accounts.create_organisation(db.session, f"CCAS de {tenant.city}", "ccas")
                db.session.commit()
        except UserError as exc:
            db.session.rollback()
            errors = exc.errors or {"slug": [exc.message]}
        else:
            flash(f"Territoire « {tenant.name} » créé.", "success")
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
