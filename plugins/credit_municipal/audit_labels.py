"""French labels of what the lender's plugin writes to the audit trail (its actions and
the objects they are about), given to the core's label registry by ``ccas_labels``."""

from __future__ import annotations

AUDIT_ACTION_LABELS = {
    "ficp.co_borrower_result": "Résultat FICP du co-emprunteur enregistré",
    "ficp.queue.read": "File des contrôles FICP consultée",
    "ficp.result": "Résultat du contrôle FICP enregistré",
    "import.loans": "Reprise d'historique de prêts",
    "loan.decision.read": "Dossier consulté pour la décision de prêt",
    "loan.declaration": "Déclaration du prêteur téléchargée",
    "loan.default": "Défaillance du prêt déclarée",
    "loan.default_proposed": "Défaillance du prêt proposée",
    "loan.disbursed": "Prêt décaissé",
    "loan.document": "Document du prêt imprimé",
    "loan.granted": "Prêt accordé",
    "loan.read": "Prêt consulté",
    "loan.recovery": "Recouvrement enregistré",
    "loan.repayment": "Remboursement enregistré",
    "loan.repayment_import": "Relevé de remboursements importé",
    "loan.rescheduled": "Prêt rééchelonné",
    "loan.signed": "Signature du prêt enregistrée",
    "loan.submitted.read": "Dossiers transmis au prêteur consultés",
    "loan.withdrawn": "Rétractation de l'emprunteur enregistrée",
    "loan.written_off": "Prêt passé en perte",
}

AUDIT_OBJECT_LABELS = {
    "Loan": "Prêt", "FicpCheck": "Contrôle FICP",
    "CoBorrowerFicpCheck": "Contrôle FICP du co-emprunteur",
    "GuaranteeCall": "Appel en garantie", "Repayment": "Remboursement",
    "Recovery": "Recouvrement", "Rescheduling": "Rééchelonnement",
    "Installment": "Échéance",
    "RecoveryShare": "Part d'un recouvrement",
}


def labels() -> dict[str, dict[str, str]]:
    return {"audit_action": AUDIT_ACTION_LABELS, "audit_object": AUDIT_OBJECT_LABELS,
            "audit_action_prefix": {"ficp": "Contrôle FICP"}}
