"""The tenant manager's administration: organisations, user accounts (invitation by
e-mail, role, deactivation, second factor), API tokens and the cross-city comparison
consent. Thin views over the services of ``core.accounts`` (the CLI calls the same ones);
every change is audited there. Plugin settings stay in ``core.web.views``."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import accounts, plugins
from ..accounts import invitations
from ..db import db
from ..errors import UserError
from ..hookspecs import hookimpl
from ..models import Organisation, OrganisationKind, TotpCredential, User
from ..models.organisation import ORGANISATION_KIND_LABELS
from ..plugins.types import NavItem
from ..policy import MANAGER, ROLE_LABELS, Role, allow
from ..reports import comparison

bp = Blueprint("admin", __name__, url_prefix="/t/<tenant>/admin")

#: Token validity offered on the page (days); "" = until revoked.
TOKEN_VALIDITY = (("30", "30 jours"), ("90", "90 jours"), ("365", "1 an"), ("", "Sans limite"))


@hookimpl
def ccas_nav_items():
    return [
        NavItem("Comptes", "admin.users", MANAGER, order=895, section="Administration"),
        NavItem("Organisations", "admin.organisations", MANAGER, order=896,
                section="Administration"),
        NavItem("Jetons d'API", "admin.tokens", MANAGER, order=897, section="Administration"),
        NavItem("Comparaison entre villes", "admin.sharing", MANAGER, order=960,
                section="Administration"),
    ]


def _form(names: tuple[str, ...]) -> dict[str, str]:
    return {k: (request.form.get(k) or "").strip() for k in names}


def _failed(exc: UserError, default_field: str) -> dict:
    db.session.rollback()
    return exc.errors or {default_field: [exc.message]}


def _organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def _org_choices() -> list[tuple[str, str]]:
    return [(o.name, o.name) for o in _organisations()]


def _plugin_choices() -> list[tuple[str, str]]:
    return [(name, p.info.label) for name, p in sorted(plugins.registry().usable().items())]


def _kind_choices() -> list[tuple[str, str]]:
    return [(k.value, ORGANISATION_KIND_LABELS[k]) for k in OrganisationKind]


def _role_choices() -> list[tuple[str, str]]:
    return [(r.value, ROLE_LABELS[r]) for r in Role]


# -- organisations --------------------------------------------------------------------------

ORG_FIELDS = ("name", "kind", "plugin", "email")


@bp.route("/organisations", methods=["GET", "POST"])
@allow(MANAGER)
def organisations():
    errors: dict = {}
    form = dict.fromkeys(ORG_FIELDS, "") | {"kind": "association"}
    if request.method == "POST":
        form = _form(ORG_FIELDS)
        try:
            org = accounts.create_organisation(db.session, form["name"], form["kind"],
                                               form["plugin"] or None, form["email"] or None)
        except (UserError, plugins.PluginError) as exc:
            errors = _failed(_as_user_error(exc, "plugin"), "name")
        else:
            db.session.commit()
            flash(f"Organisation « {org.name} » créée.", "success")
            return redirect(url_for("admin.organisations"))
    return render_template(
        "admin/organisations.html", organisations=_organisations(), form=form, errors=errors,
        kinds=_kind_choices(), plugin_choices=_plugin_choices(),
        plugin_labels=dict(_plugin_choices()),
    ), (422 if errors else 200)


@bp.route("/organisations/<uuid:org_id>", methods=["GET", "POST"])
@allow(MANAGER)
def organisation_edit(org_id):
    org = accounts.get_organisation_by_id(db.session, org_id)
    errors: dict = {}
    form = {"name": org.name, "kind": org.kind.value, "plugin": org.plugin_name or "",
            "email": org.email or ""}
    if request.method == "POST":
        form = _form(ORG_FIELDS)
        try:
            accounts.update_organisation(db.session, org, form["name"], form["kind"],
                                         form["plugin"] or None, form["email"] or None)
        except (UserError, plugins.PluginError) as exc:
            errors = _failed(_as_user_error(exc, "plugin"), "name")
        else:
            db.session.commit()
            flash(f"Organisation « {org.name} » enregistrée.", "success")
            return redirect(url_for("admin.organisations"))
    return render_template(
        "admin/organisation.html", org=org, form=form, errors=errors, kinds=_kind_choices(),
        plugin_choices=_plugin_choices(),
    ), (422 if errors else 200)


def _as_user_error(exc, field: str) -> UserError:
    if isinstance(exc, UserError):
        return exc
    return UserError(exc.message, status=exc.status, field=field)


# -- user accounts --------------------------------------------------------------------------

USER_FIELDS = ("email", "full_name", "role", "org")


def _with_second_factor() -> set:
    return set(db.session.scalars(
        select(TotpCredential.user_id).where(TotpCredential.confirmed_at.is_not(None))))


@bp.route("/users", methods=["GET", "POST"])
@allow(MANAGER)
def users():
    """The tenant's accounts and the invitation form."""
    errors: dict = {}
    ccas = next((o.name for o in _organisations() if o.kind == OrganisationKind.ccas), "")
    form = dict.fromkeys(USER_FIELDS, "") | {"role": "social_worker", "org": ccas}
    if request.method == "POST":
        form = _form(USER_FIELDS)
        try:
            user = invitations.invite_user(
                db.session, g.tenant, form["email"], form["role"], form["org"],
                current_app.config["CCAS_BASE_URL"], form["full_name"],
            )
        except UserError as exc:
            errors = _failed(exc, "email")
        else:
            db.session.commit()
            flash(f"Invitation envoyée à {user.email} : le lien pour choisir un mot de passe "
                  f"est valable {invitations.INVITATION_LIFETIME.days} jours.", "success")
            return redirect(url_for("admin.users"))
    rows = db.session.scalars(select(User).order_by(User.active.desc(), User.email)).all()
    return render_template(
        "admin/users.html", users=rows, form=form, errors=errors, roles=_role_choices(),
        org_choices=_org_choices(), second_factor=_with_second_factor(),
    ), (422 if errors else 200)


@bp.route("/users/<uuid:user_id>", methods=["GET", "POST"])
@allow(MANAGER)
def user_edit(user_id):
    user = accounts.get_user_by_id(db.session, user_id)
    errors: dict = {}
    form = {"full_name": user.full_name, "role": user.role.value,
            "org": user.organisation.name}
    if request.method == "POST":
        form = _form(("full_name", "role", "org"))
        try:
            accounts.update_user(db.session, user, form["role"], form["org"],
                                 form["full_name"], actor=current_user)
        except UserError as exc:
            errors = _failed(exc, "role")
        else:
            db.session.commit()
            flash(f"Compte {user.email} enregistré.", "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template(
        "admin/user.html", user=user, form=form, errors=errors, roles=_role_choices(),
        org_choices=_org_choices(),
        has_second_factor=user.id in _with_second_factor(),
    ), (422 if errors else 200)


USER_ACTIONS = {
    "send_link": "Un nouveau lien pour choisir un mot de passe a été envoyé à {email}.",
    "deactivate": "Compte {email} désactivé : ses sessions et ses jetons d'API ne "
                  "fonctionnent plus.",
    "reactivate": "Compte {email} réactivé.",
    "reset_totp": "Second facteur de {email} supprimé : il en enregistrera un nouveau à sa "
                  "prochaine connexion si le territoire l'exige.",
}


@bp.route("/users/<uuid:user_id>/action", methods=["POST"])
@allow(MANAGER)
def user_action(user_id):
    """One of :data:`USER_ACTIONS` on an account (a button of the account's page)."""
    user = accounts.get_user_by_id(db.session, user_id)
    action = request.form.get("action", "")
    if action not in USER_ACTIONS:
        raise UserError("Action inconnue.", status=400, field="action")
    try:
        if action == "send_link":
            invitations.send_link(db.session, g.tenant, user,
                                  current_app.config["CCAS_BASE_URL"])
        elif action == "deactivate":
            accounts.deactivate_user(db.session, user, actor=current_user)
        elif action == "reactivate":
            accounts.reactivate_user(db.session, user)
        elif not accounts.reset_second_factor(db.session, user):
            raise UserError(f"{user.email} n'a pas de second facteur.", status=409)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(USER_ACTIONS[action].format(email=user.email), "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


# -- API tokens ------------------------------------------------------------------------------

TOKEN_FIELDS = ("user", "name", "expires_days")


@bp.route("/tokens", methods=["GET", "POST"])
@allow(MANAGER)
def tokens():
    """The tenant's tokens and the creation form; a new token's value is shown once, on
    the answer to the form, never again."""
    errors: dict = {}
    created = None
    form = {"user": "", "name": "", "expires_days": "90"}
    if request.method == "POST":
        form = _form(TOKEN_FIELDS)
        try:
            days = _token_days(form["expires_days"])
            owner = accounts.get_user_by_id(db.session, form["user"]) if form["user"] else None
            if owner is None:
                raise UserError("Choisissez le compte au nom duquel le jeton agira.",
                                field="user")
            if not form["name"]:
                raise UserError("Donnez un nom au jeton (à quoi il sert).", field="name")
            row, clear = accounts.create_token(db.session, owner.email, form["name"], days)
        except UserError as exc:
            errors = _failed(exc, "name")
        else:
            db.session.commit()
            created = {"row": row, "value": clear}
            form = {"user": "", "name": "", "expires_days": "90"}
    active_users = db.session.scalars(
        select(User).where(User.active.is_(True)).order_by(User.email)).all()
    return render_template(
        "admin/tokens.html", tokens=accounts.list_tokens(db.session),
        user_choices=[(str(u.id), f"{u.email} ({ROLE_LABELS[u.role]})") for u in active_users],
        form=form, errors=errors, created=created, validity=TOKEN_VALIDITY,
    ), (422 if errors else (201 if created else 200))


def _token_days(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise UserError("La durée de validité doit être un nombre de jours.",
                        field="expires_days")
    return int(text)


@bp.route("/tokens/<uuid:token_id>/revoke", methods=["POST"])
@allow(MANAGER)
def token_revoke(token_id):
    row = accounts.revoke_token(db.session, token_id)
    db.session.commit()
    flash(f"Jeton « {row.name or row.id} » révoqué : il ne fonctionne plus.", "success")
    return redirect(url_for("admin.tokens"))


# -- sharing (the operator's cross-city comparison) --------------------------------------------


@bp.route("/sharing", methods=["GET", "POST"])
@allow(MANAGER)
def sharing():
    if request.method == "POST":
        consent = request.form.get("comparison") == "on"
        comparison.set_consent(db.session, g.tenant, consent)
        db.session.commit()
        flash("Participation à la comparaison entre villes activée." if consent else
              "Participation à la comparaison entre villes désactivée.", "success")
        return redirect(url_for("admin.sharing"))
    return render_template("admin/sharing.html", consent=comparison.consents(g.tenant),
                           rule=comparison.RULE)
