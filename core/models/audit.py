"""Audit trail: who did or read what, when, from where. Written in the same transaction as
the change it records; the application offers no way to edit or delete a row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, TenantScoped, UTCDateTime, utcnow


class AuditEvent(TenantScoped, Base):
    __tablename__ = "audit_events"

    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(300))  # "user:<email>", "token:<id>", "cli"
    action: Mapped[str] = mapped_column(String(64))  # e.g. "user.create", "case.read"
    object_type: Mapped[str] = mapped_column(String(64), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


#: French labels of the core's audit actions (``core.labels``, vocabulary
#: ``audit_action``); a plugin labels its own with ``ccas_labels``. A test reads every
#: action the code records and fails on one without a label
#: (``tests/test_audit_labels.py``).
AUDIT_ACTION_LABELS = {
    "accompaniment.follow_up": "Suivi d'accompagnement enregistré",
    "accompaniment.plan": "Plan d'accompagnement enregistré",
    "accompaniment.task": "Tâche d'accompagnement créée",
    "accompaniment.task.close": "Tâche d'accompagnement traitée",
    "accompaniment.task.update": "Tâche d'accompagnement modifiée",
    "appointment.book": "Rendez-vous pris",
    "appointment.letter": "Courrier de rappel de rendez-vous imprimé",
    "appointment.move": "Rendez-vous déplacé",
    "appointment.outcome": "Suite du rendez-vous enregistrée",
    "appointment.reminder": "Rappel de rendez-vous envoyé",
    "case.assign": "Dossier attribué à un travailleur social",
    "case.budget": "Budget du dossier enregistré",
    "case.co_borrower": "Co-emprunteur du dossier modifié",
    "case.create": "Dossier créé",
    "case.interview": "Entretien d'évaluation enregistré",
    "case.list": "Liste de dossiers consultée",
    "case.notice": "Remise de la notice d'information enregistrée",
    "case.read": "Dossier consulté",
    "case.synthesis": "Synthèse du dossier enregistrée",
    "case.transition": "Dossier passé à une autre étape",
    "documents.add": "Pièce ajoutée à la liste",
    "documents.attach": "Document déposé",
    "documents.checklist": "Liste des pièces créée",
    "documents.email": "Liste des pièces envoyée par e-mail",
    "documents.file_read": "Document déposé consulté",
    "documents.mark": "État d'une pièce modifié",
    "documents.remove": "Document déposé supprimé",
    "household.add": "Membre du foyer ajouté",
    "household.remove": "Membre du foyer retiré",
    "household.update": "Membre du foyer modifié",
    "identity.password_sign_in": "Connexion par mot de passe autorisée ou interdite",
    "identity_provider.created": "Fournisseur d'identité ajouté",
    "identity_provider.changed": "Fournisseur d'identité modifié",
    "identity_provider.removed": "Fournisseur d'identité supprimé",
    "identity_provider.unlinked": "Compte détaché de son fournisseur d'identité",
    "import.cases": "Reprise d'historique de dossiers",
    "loan.api.read": "Prêt consulté par l'API",
    "login": "Connexion",
    "login.failed": "Échec de connexion",
    "organisation.create": "Organisation créée",
    "organisation.update": "Organisation modifiée",
    "organisation.webhook": "Adresse de notification d'une organisation modifiée",
    "outbox.requeue": "Envoi en échec relancé",
    "person.anonymise": "Personne anonymisée",
    "person.create": "Personne créée",
    "person.erase_refused": "Effacement refusé (motif légal)",
    "person.export": "Données d'une personne exportées (droit d'accès)",
    "person.read": "Fiche de la personne consultée",
    "person.rectify": "Données d'une personne rectifiées",
    "person.reuse": "Personne déjà connue reprise à l'accueil",
    "person.search": "Recherche d'une personne (droits RGPD)",
    "person.update": "Personne modifiée",
    "plugin.disable": "Extension désactivée",
    "plugin.enable": "Extension activée",
    "plugin.settings": "Réglages d'une extension modifiés",
    "privacy.record": "Demande RGPD enregistrée",
    "referral.anonymise": "Orientation anonymisée",
    "referral.attachment.read": "Pièce jointe d'une orientation consultée",
    "referral.create": "Orientation créée",
    "referral.erase_refused": "Effacement d'une orientation refusé (motif légal)",
    "referral.export": "Orientation exportée (droit d'accès)",
    "referral.list": "Liste d'orientations consultée",
    "referral.read": "Orientation consultée",
    "referral.rectify": "Orientation rectifiée",
    "referral.reminder": "Relance d'une orientation sans réponse",
    "referral.status": "Statut d'une orientation modifié",
    "session.end": "Session fermée",
    "session.end_others": "Autres sessions fermées",
    "staff_time.record": "Temps de travail saisi",
    "suggestion.add": "Suggestion ajoutée au dossier",
    "suggestion.override": "Suggestion écartée avec un motif",
    "suggestion.resolve": "Suggestion traitée",
    "tenant.comparison_consent": "Accord pour la comparaison entre villes modifié",
    "tenant.create": "Territoire créé",
    "tenant.export": "Données du territoire exportées",
    "tenant.import": "Données du territoire importées",
    "tenant.resume": "Territoire réactivé",
    "tenant.suspend": "Territoire suspendu",
    "token.create": "Jeton d'API créé",
    "token.revoke": "Jeton d'API révoqué",
    "user.create": "Compte utilisateur créé",
    "user.deactivate": "Compte utilisateur désactivé",
    "user.invitation": "Invitation envoyée",
    "user.password": "Mot de passe changé",
    "user.password_reset": "Mot de passe réinitialisé",
    "user.password_reset_request": "Réinitialisation du mot de passe demandée",
    "user.reactivate": "Compte utilisateur réactivé",
    "user.totp_disable": "Double authentification désactivée",
    "user.totp_enable": "Double authentification activée",
    "user.totp_recovery_code": "Code de secours de double authentification utilisé",
    "user.update": "Compte utilisateur modifié",
    "workshop.attendance": "Présence à un atelier enregistrée",
    "workshop.evaluation": "Évaluation d'un atelier enregistrée",
    "workshop.invite": "Invitation à un atelier envoyée",
    "workshop.read": "Séance d'atelier consultée",
    "workshop.register": "Inscription à un atelier",
    "workshop.session": "Séance d'atelier créée",
    "workshop.theme": "Thème d'atelier créé",
    "workshop.unregister": "Inscription à un atelier annulée",
}

#: French names of what an audit row is about (``AuditEvent.object_type``: a model's class
#: name; vocabulary ``audit_object``; plugins add theirs with ``ccas_labels``).
AUDIT_OBJECT_LABELS = {
    "AccompanimentPlan": "Plan d'accompagnement", "AccompanimentTask": "Tâche d'accompagnement",
    "ApiToken": "Jeton d'API", "Appointment": "Rendez-vous", "Case": "Dossier",
    "CaseDocument": "Pièce demandée", "CaseSuggestion": "Suggestion", "FollowUp": "Suivi",
    "HouseholdMember": "Membre du foyer", "IdentityProvider": "Fournisseur d'identité",
    "ImportBatch": "Lot importé", "Interview": "Entretien", "Organisation": "Organisation",
    "Person": "Personne", "Referral": "Orientation", "StoredDocument": "Document déposé",
    "Synthesis": "Synthèse", "Tenant": "Territoire", "TimeEntry": "Temps de travail",
    "User": "Compte utilisateur", "WorkshopInvitation": "Invitation à un atelier",
    "WorkshopSession": "Séance d'atelier", "WorkshopTheme": "Thème d'atelier",
    # the core's other tables: not audited today, named so that one would read in French
    "AuditEvent": "Entrée du journal", "BudgetLine": "Ligne de budget",
    "CaseSearchToken": "Mot de recherche d'un dossier",
    "CaseTransition": "Changement d'état du dossier", "FormToken": "Jeton de formulaire",
    "IdempotencyKey": "Clé d'idempotence", "IdentityLink": "Lien avec un compte externe",
    "JobRun": "Exécution d'une tâche", "Operator": "Opérateur de la plateforme",
    "OperatorTotpCredential": "Double authentification d'un opérateur",
    "OperatorTotpRecoveryCode": "Code de secours d'un opérateur",
    "OutboxMessage": "Message à envoyer", "PasswordResetToken": "Lien de réinitialisation",
    "PluginState": "Extension", "ReferralAttachment": "Pièce jointe d'une orientation",
    "ReferralStatusChange": "Changement de statut d'une orientation",
    "TotpCredential": "Double authentification", "TotpRecoveryCode": "Code de secours",
    "WebSession": "Session", "WorkerHeartbeat": "Signal de vie d'un processus de tâches",
}

#: The first part of an action code (``case`` of ``case.read``), for the readable default
#: of an action without a label.
AUDIT_ACTION_PREFIXES = {
    "accompaniment": "Accompagnement", "appointment": "Rendez-vous", "case": "Dossier",
    "documents": "Pièces", "household": "Foyer", "identity": "Connexion",
    "identity_provider": "Fournisseur d'identité", "import": "Reprise d'historique",
    "loan": "Prêt", "login": "Connexion", "organisation": "Organisation",
    "outbox": "Envois", "person": "Personne", "plugin": "Extension", "privacy": "RGPD",
    "referral": "Orientation", "session": "Session", "staff_time": "Temps de travail",
    "suggestion": "Suggestion", "tenant": "Territoire", "token": "Jeton d'API",
    "user": "Compte utilisateur", "workshop": "Atelier",
}

#: French names of the keys of an audit row's detail (vocabulary ``audit_detail``;
#: plugins name theirs with ``ccas_labels``). The journal shows a detail as a list of
#: these names and their values; a key without a name is shown as recorded, as a code.
AUDIT_DETAIL_LABELS = {
    "activity": "Activité", "allowed": "Autorisé", "already_imported": "Déjà importés",
    "attachment": "Pièce jointe", "batch": "Lot", "capacity": "Places", "case": "Dossier",
    "case_id": "Dossier", "category": "Catégorie", "channel": "Canal", "code": "Code",
    "codes": "Codes", "consent": "Accord de la personne", "content_type": "Type de fichier",
    "count": "Nombre", "created": "Créés", "duration": "Durée", "email": "Adresse e-mail",
    "field": "Champ", "fields": "Champs", "file": "Fichier", "files": "Fichiers",
    "format": "Format", "ids": "Identifiants", "interview": "Entretien", "kind": "Type",
    "label": "Libellé", "loan": "Prêt", "loan_months": "Durée du prêt (mois)",
    "member": "Membre du foyer", "message": "Message", "method": "Méthode",
    "minutes": "Minutes", "months": "Mois", "name": "Nom", "new": "Nouvelle valeur",
    "new_ids": "Nouveaux identifiants", "number": "Numéro", "old": "Ancienne valeur",
    "on": "Date", "page": "Page", "plugin": "Extension", "provider": "Fournisseur d'identité",
    "reason": "Motif", "reference": "Référence", "rejected": "Refusés",
    "relationship": "Lien avec la personne", "role": "Rôle", "rows": "Lignes",
    "settings": "Réglages", "signed_on": "Signé le", "size": "Taille", "slug": "Adresse courte",
    "source": "Origine", "status": "Statut", "surface": "Accès", "target": "Destination",
    "task": "Tâche", "tenant": "Territoire", "theme": "Thème", "title": "Titre",
    "to": "Destinataire", "url": "Adresse", "version": "Version", "view": "Partie consultée",
    "what": "Données", "worker": "Travailleur social", "workshop_session": "Séance d'atelier",
    "year": "Année",
}

#: The part of a file read (detail ``view``, or ``page`` when it names one; vocabulary
#: ``audit_view``).
AUDIT_VIEW_LABELS = {
    "accompaniment": "Accompagnement", "appointment": "Rendez-vous",
    "appointment_book": "Prise de rendez-vous", "appointment_ics": "Rendez-vous (agenda)",
    "budget": "Budget", "documents": "Pièces", "documents_letter": "Courrier de pièces",
    "documents_letter_pdf": "Courrier de pièces (PDF)", "history": "Historique",
    "household": "Foyer", "interview": "Entretien", "notice": "Notice d'information",
    "privacy": "Données personnelles", "suggestions": "Suggestions",
    "summary": "Fiche de synthèse", "summary.pdf": "Fiche de synthèse (PDF)",
    "synthesis": "Synthèse",
}

#: Where a read came from (detail ``surface``; vocabulary ``audit_surface``).
AUDIT_SURFACE_LABELS = {"page": "Site", "api": "API"}

#: The vocabulary of a detail's values, by key, or by ``action:key`` where the key's
#: values depend on the action (a case's states, a referral's statuses). A value without
#: a label in it is shown as recorded.
AUDIT_DETAIL_VALUES = {
    "view": "audit_view", "page": "audit_view", "surface": "audit_surface",
    "role": "role", "channel": "channel", "activity": "activity",
    "case.transition:source": "case_state", "case.transition:target": "case_state",
    "referral.status:source": "referral_status", "referral.status:target": "referral_status",
    "organisation.create:kind": "organisation_kind", "plugin": "plugin",
    "suggestion.resolve:status": "suggestion_status",
}
#: Detail keys whose values are words for people (a label, a message), shown as text
#: rather than as a recorded code.
AUDIT_DETAIL_TEXT = frozenset({"label", "message", "name", "comment", "note", "reason_text",
                               "filename", "title"})
