"""Coded reasons (refusal, abandon, reorientation, referral decline, closure), per tenant.

Peer tools in French social services code these instead of free text so that they can be
counted. Each tenant may replace a list in ``tenant.settings["reasons"][<kind>]``
(``{code: label}``); otherwise the defaults below apply, with the codes the tenant's
enabled plugins add (``CaseWorkflow.reasons``, e.g. the lender's own refusal reasons).
"""

from __future__ import annotations

from .. import plugins

DEFAULTS: dict[str, dict[str, str]] = {
    "abandon": {
        "no_response": "Sans nouvelles de la personne",
        "project_dropped": "Projet abandonné par la personne",
        "documents_missing": "Pièces non fournies",
        "situation_changed": "Situation modifiée (ressources, emploi, logement)",
        "other_solution": "Autre solution trouvée",
        "moved_away": "Départ de la commune",
    },
    "refuse": {
        "insufficient_capacity": "Capacité de remboursement insuffisante",
        "over_indebtedness": "Surendettement",
        "ineligible_purpose": "Objet non finançable",
        "ineligible_amount": "Montant hors des limites",
        "incomplete_file": "Dossier incomplet",
        "other": "Autre motif",
    },
    "reorient": {
        "legal_aid_available": "Une aide légale ou facultative peut être mobilisée",
        "professional_project": "Projet professionnel (création d'activité)",
        "better_scheme": "Dispositif plus adapté",
        "over_indebtedness": "Situation de surendettement",
        "budget_support": "Accompagnement budgétaire d'abord",
    },
    "decline": {
        "out_of_territory": "Hors du territoire",
        "duplicate": "Demande déjà en cours",
        "not_eligible": "Ne relève pas du dispositif",
        "incomplete": "Informations insuffisantes",
        "consent_missing": "Consentement non établi",
    },
    # What came of a referral, reported by the receiving partner (DORA's outcomes).
    "outcome": {
        "aid_granted": "Aide ou accompagnement accordé",
        "aid_refused": "Aide refusée",
        "not_reached": "Personne injoignable",
        "person_withdrew": "La personne a renoncé",
        "redirected": "Orientée vers un autre dispositif",
    },
    "close": {
        "repaid": "Prêt remboursé",
        "early_repayment": "Remboursement anticipé",
        "default": "Défaillance déclarée",
    },
}

#: Schemes the CCAS reorients to without any plugin (plugins add theirs).
CORE_DESTINATIONS: dict[str, str] = {
    "aide_legale": "Aide légale (droits à ouvrir : CAF, CPAM, Pôle emploi…)",
    "aide_facultative_ccas": "Aide facultative du CCAS",
    "commission_surendettement": "Commission de surendettement (Banque de France)",
    "point_conseil_budget": "Point conseil budget",
    "other_partner": "Autre partenaire",
}


def reasons(tenant, kind: str) -> dict[str, str]:
    """``{code: label}`` of the tenant's reasons of ``kind``."""
    if kind not in DEFAULTS:
        raise KeyError(kind)
    custom = ((tenant.settings or {}).get("reasons") or {}).get(kind) if tenant else None
    if custom:
        return dict(custom)
    added = plugins.registry().workflow_for(plugins.enabled_plugins()).reasons.get(kind, {})
    return {**DEFAULTS[kind], **added}
