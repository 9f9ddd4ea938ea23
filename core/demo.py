"""The demo tenant: Toulouse, its partners of the seed document, one user per role."""

from __future__ import annotations

from sqlalchemy import select

from . import accounts, plugins, tenancy
from .models import Operator, Organisation, Tenant, User

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


def create_demo(session, password: str | None = None) -> dict:
    password = password or DEMO_PASSWORD
    tenant = session.scalar(select(Tenant).where(Tenant.slug == "toulouse"))
    if tenant is None:
        tenant = accounts.create_tenant(session, "toulouse", "CCAS de Toulouse", "Toulouse")
    lines = []
    with tenancy.tenant_scope(tenant.id):
        for name, kind, plugin_name in PARTNERS:
            exists = session.scalar(select(Organisation.id).where(Organisation.name == name))
            if exists is None:
                usable = plugin_name in plugins.registry().usable()
                accounts.create_organisation(
                    session, name, kind, plugin_name if usable else None
                )
        for name in plugins.registry().usable():
            if name in {"credit_municipal", "caf", "secours_catholique", "adie"}:
                plugins.set_enabled(session, name, True)
        for email, role, org, full_name in USERS:
            if session.scalar(select(User.id).where(User.email == email)) is None:
                accounts.create_user(session, email, role, org, password, full_name)
            lines.append(f"{role:14} {email}  → /t/toulouse/login")
        session.flush()  # tenant rows are written while the tenant is set
    if session.scalar(select(Operator.id).where(Operator.email == OPERATOR_EMAIL)) is None:
        accounts.create_operator(session, OPERATOR_EMAIL, password)
    lines.append(f"{'operator':14} {OPERATOR_EMAIL}  → /operator/login")
    return {"password": password, "accounts": lines}
