"""The cast of the demonstration city: Toulouse, its partners of the seed document, one
login per role (all with the same printed password), and :class:`Cast`, who is who when
the activity is generated."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from .. import accounts, plugins, tenancy
from ..errors import UserError
from ..models import Operator, Organisation, Tenant, User

DEMO_PASSWORD = "demo-ccas-2026"  # noqa: S105 - demo accounts only, printed on purpose

PARTNERS = [
    ("CCAS de Toulouse", "ccas", None),
    ("Crédit Municipal de Toulouse", "lender", "credit_municipal"),
    ("CAF de la Haute-Garonne", "aid_fund", "caf"),
    ("CPAM de la Haute-Garonne", "aid_fund", None),
    ("CROUS de Toulouse", "aid_fund", None),
    ("Secours Catholique", "association", "secours_catholique"),
    ("ADIE", "association", "adie"),
    ("SOS Famille Emmaüs", "association", None),
    ("UDAF de la Haute-Garonne", "association", None),
    ("Parcours Confiance", "association", None),
    ("Service social du CHU", "other", None),
    ("Ville de Toulouse", "funder", None),
    ("Caisse des dépôts", "funder", None),
]

USERS = [
    ("responsable@ccas-toulouse.demo", "manager", "CCAS de Toulouse", "Claire Responsable"),
    ("secretariat@ccas-toulouse.demo", "secretary", "CCAS de Toulouse", "Samia Secrétaire"),
    ("as@ccas-toulouse.demo", "social_worker", "CCAS de Toulouse", "Paul Travailleur-Social"),
    ("agent@credit-municipal.demo", "lender_agent", "Crédit Municipal de Toulouse",
     "Luc Agent-Prêteur"),
    ("prescripteur@caf.demo", "referrer", "CAF de la Haute-Garonne", "Rita Prescriptrice"),
    ("benevole@secours-catholique.demo", "referrer", "Secours Catholique", "Bruno Bénévole"),
    ("financeur@ville-toulouse.demo", "funder", "Ville de Toulouse", "Fanny Financeur"),
]

OPERATOR_EMAIL = "operateur@plateforme.demo"


SLUG = "toulouse"
PARTNER_PLUGINS = ("credit_municipal", "caf", "secours_catholique", "adie", "city_aids")

#: The demonstration city's own aids (plugin ``city_aids``): examples, not Toulouse's rules.
CITY_AIDS = {
    "postal_codes": ["31000", "31100", "31200", "31300", "31400", "31500"],
    "aids": [
        {"code": "aide_urgence", "label": "Aide facultative d'urgence du CCAS",
         "purposes": ["household_equipment", "health", "debts"],
         "max_resources_per_unit": "700.00", "residents_only": True,
         "action": "Présenter la demande à la commission des aides facultatives."},
        {"code": "aide_mobilite_ville", "label": "Aide à la mobilité de la Ville",
         "purposes": ["mobility"], "min_age": 18, "max_age": 30,
         "max_monthly_resources": "1500.00", "residents_only": True,
         "action": "Orienter vers le guichet mobilité de la Ville (permis, abonnement, "
                   "réparation)."},
        {"code": "aide_premier_loyer", "label": "Aide au premier loyer de la Ville",
         "purposes": ["housing"], "families_only": True,
         "max_resources_per_unit": "900.00", "residents_only": True,
         "action": "Constituer le dossier d'aide au premier loyer avec le bail signé."},
    ],
}


def create_cast(session, password: str | None = None, slug: str = SLUG,
                name: str = "CCAS de Toulouse", city: str = "Toulouse", *,
                password_hash: str | None = None) -> tuple[Tenant, dict]:
    """The tenant, its organisations, its plugins enabled and one login per role
    (idempotent: what exists is kept). Returns the tenant and the logins to print.
    ``password_hash``: the hash of ``password``, computed once (the benchmarks create
    hundreds of tenants; a hash costs tens of milliseconds on purpose)."""
    password = password or DEMO_PASSWORD
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        tenant = accounts.create_tenant(session, slug, name, city)
    lines = []
    with tenancy.tenant_scope(tenant.id):
        for org_name, kind, plugin_name in PARTNERS:
            exists = session.scalar(select(Organisation.id)
                                    .where(Organisation.name == org_name))
            if exists is None:
                usable = plugin_name in plugins.registry().usable()
                accounts.create_organisation(
                    session, org_name, kind, plugin_name if usable else None
                )
        for plugin_name in plugins.registry().usable():
            if plugin_name in PARTNER_PLUGINS:
                plugins.set_enabled(session, plugin_name, True)
        if "city_aids" in plugins.registry().usable() and not plugins.plugin_settings(
                "city_aids")["aids"]:
            plugins.update_settings(session, "city_aids", CITY_AIDS)
        for email, role, org, full_name in USERS:
            if session.scalar(select(User.id).where(User.email == email)) is None:
                accounts.create_user(session, email, role, org, password, full_name,
                                     password_hash=password_hash)
            lines.append(f"{role:14} {email}  → /t/{slug}/login")
        session.flush()  # tenant rows are written while the tenant is set
    if session.scalar(select(Operator.id).where(Operator.email == OPERATOR_EMAIL)) is None:
        accounts.create_operator(session, OPERATOR_EMAIL, password)
    lines.append(f"{'operator':14} {OPERATOR_EMAIL}  → /operator/login")
    return tenant, {"password": password, "accounts": lines}


@dataclass(frozen=True)
class Cast:
    """Who acts in the generated activity (looked up in the current tenant)."""

    users: dict[str, User]  # by role: the first active user of each role
    ccas: Organisation
    partners: dict[str, Organisation]  # by plugin name
    others: tuple[Organisation, ...]  # partner organisations without a plugin

    def user_id(self, role: str) -> uuid.UUID | None:
        user = self.users.get(role)
        return user.id if user is not None else None

    def label(self, role: str) -> str:
        user = self.users.get(role)
        return f"user:{user.email}" if user is not None else "cli"


def find_cast(session) -> Cast:
    """The cast of the current tenant: its CCAS, its partners, a user per role. Raises
    ``UserError`` when the CCAS organisation or its social worker is missing."""
    users: dict[str, User] = {}
    for user in session.scalars(select(User).where(User.active.is_(True))
                                .order_by(User.created_at, User.email)):
        users.setdefault(str(user.role), user)
    orgs = session.scalars(select(Organisation).order_by(Organisation.name)).all()
    ccas = next((o for o in orgs if str(o.kind) == "ccas"), None)
    if ccas is None or "social_worker" not in users:
        raise UserError("Données de démonstration : il faut d'abord l'organisation du CCAS "
                        "et un travailleur social (ccas demo --empty).")
    partners = {o.plugin_name: o for o in orgs if o.plugin_name}
    others = tuple(o for o in orgs if not o.plugin_name
                   and str(o.kind) in ("association", "aid_fund", "other"))
    return Cast(users, ccas, partners, others)
