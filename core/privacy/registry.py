"""Where the personal data of the people the CCAS helps live (RGPD registry).

One :class:`PersonalData` descriptor per table (core tables here, plugins' tables through
the ``ccas_personal_data`` hook): which columns hold personal values and what a purge does
with each, which text columns are *not* personal, how a row links to a person, and which
rows are a legal reason to keep the person's file (an open loan).

``tests/test_privacy_purge.py`` fails when a String/Text/JSON/LargeBinary column of any
table is in neither list, so the registry cannot silently go stale.

Links: ``links`` are ``(column, target table)`` pairs. A person's rows are found by a
fixpoint from ``persons.id``: a row belongs to the person when one of its link columns
holds the id of a row already found in the target table (``cases.person_id → persons``,
``interviews.case_id → cases``, ``referral_attachments.referral_id → referrals``…).

Actions (what :mod:`core.privacy.purge` writes in place of a personal value):

* ``name``: ``"Anonymisé"``;
* ``blank``: ``""`` (notes, free texts);
* ``null``: ``NULL``;
* ``empty``: an empty JSON value of the same kind (``[]`` or ``{}``);
* ``birth_date``: a date of the same year that keeps the person's age on each request
  date (the yearly review's age bands stay exact; month and day are no longer the
  person's);
* ``scrub``: JSON whose string leaves containing a personal value become
  ``"Anonymisé"`` (the rest, e.g. the amount granted, stays for the reports);
* ``delete``: the whole row is deleted (attachments, messages to the person).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import has_app_context
from sqlalchemy import JSON, Enum, LargeBinary, String, Text

from .. import plugins

#: What a purge writes in place of a personal name.
ANONYMISED = "Anonymisé"

ACTIONS = frozenset({"name", "blank", "null", "empty", "birth_date", "scrub", "delete"})

#: Case states during which a loan is open: a legal reason to keep the file.
OPEN_LOAN_STATES = ("signing", "withdrawal_period", "disbursed", "repaying")


@dataclass(frozen=True)
class PersonalData:
    """Where personal data sit in one table, and how its rows link to a person.

    :param table: the table name (``credit_municipal_loans``).
    :param personal: ``{column: action}`` for the columns holding personal values (see
        the module's docstring for the actions).
    :param non_personal: the text/JSON/binary columns that hold no personal value of a
        helped person (codes, references, staff names, generated labels).
    :param links: ``(column, target table)`` pairs linking a row to a person's rows
        (``("case_id", "cases")``); ``persons`` itself has ``("id", "persons")``.
    :param hold_column: a column whose value ``in hold_values`` makes the row a legal
        reason to keep the person's data (an open loan).
    :param hold_values: the values of ``hold_column`` that hold the file.
    :param hold_reason: the French reason shown when an erasure is refused.
    :param label: a French title for the subject-access export.
    :param derived: the columns computed from personal columns of other tables and
        rewritten whenever those change (the search tokens of a case, from its person's
        names: ``core.case_search``); neither exported nor purged on their own, the
        purge's new names rewrite them.
    """

    table: str
    personal: dict[str, str] = field(default_factory=dict)
    non_personal: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    hold_column: str | None = None
    hold_values: tuple[str, ...] = ()
    hold_reason: str = ""
    label: str = ""
    derived: tuple[str, ...] = ()

    def __post_init__(self):
        unknown = set(self.personal.values()) - ACTIONS
        if unknown:
            raise ValueError(f"{self.table}: unknown privacy action(s) {sorted(unknown)}")


_STAFF = "staff names and codes, not the helped person's"

CORE: tuple[PersonalData, ...] = (
    PersonalData(
        "persons", label="Identité",
        personal={"first_name": "name", "last_name": "name", "birth_date": "birth_date",
                  "phone": "null", "email": "null", "address": "null", "postal_code": "null",
                  "city": "null", "children_ages": "empty", "monthly_resources": "null"},
        links=(("id", "persons"),),
    ),
    # suffixes of the normalised names and reference of each case (core.case_search)
    PersonalData("case_search_tokens", derived=("token",)),
    PersonalData(
        "household_members", label="Membres du foyer",
        personal={"first_name": "name", "last_name": "name", "birth_date": "birth_date"},
        links=(("person_id", "persons"),),
    ),
    PersonalData(
        "cases", label="Demandes",
        personal={"project": "blank", "import_key": "null"},
        non_personal=("reference", "reoriented_to", "state", "notice_version"),
        links=(("person_id", "persons"),),
        hold_column="state", hold_values=OPEN_LOAN_STATES,
        hold_reason="un prêt est en cours (signature, rétractation, décaissé ou en "
                    "remboursement) : les données sont conservées jusqu'à son terme",
    ),
    PersonalData(
        "case_transitions", label="Historique des demandes",
        personal={"reason_text": "blank", "data": "scrub"},
        non_personal=("from_state", "to_state", "actor_label", "reason_code"),
        links=(("case_id", "cases"),),
    ),
    PersonalData(
        "interviews", label="Entretiens",
        personal={"shared_note": "blank", "private_note": "blank"},
        links=(("case_id", "cases"),),
    ),
    PersonalData(
        "case_syntheses", label="Synthèses d'évaluation",
        personal={"request": "blank", "project": "blank", "resources": "blank",
                  "prospects": "blank"},
        non_personal=("written_by_label",),
        links=(("case_id", "cases"),),
    ),
    PersonalData("budget_lines", label="Budget", non_personal=("category",),
                 links=(("case_id", "cases"),)),
    PersonalData(
        "case_documents", label="Pièces justificatives",
        personal={"note": "blank"},
        non_personal=("code", "label", "source", "updated_by_label"),
        links=(("case_id", "cases"),),
    ),
    # The file goes with its row (core.storage deletes it once the purge commits).
    PersonalData(
        "stored_documents", label="Pièces déposées",
        personal={"filename": "delete"},
        non_personal=("kind", "content_type", "sha256", "storage_key", "uploaded_by_label"),
        links=(("case_id", "cases"),),
    ),
    PersonalData(
        "appointments", label="Rendez-vous",
        personal={"place": "blank", "outcome_note": "blank"},
        non_personal=("created_by_label",),
        links=(("case_id", "cases"),),
    ),
    PersonalData(
        "case_suggestions", label="Autres aides examinées",
        personal={"reason": "blank", "override_reason": "blank"},
        # label, why and action are generated by the plugin's rules.
        non_personal=("plugin", "code", "label", "why", "action"),
        links=(("case_id", "cases"),),
    ),
    # A referral that never became a case (no case_id, no source_case_id) links to no
    # person: the purge anonymises it on its own clock (core.privacy.purge.due_referrals).
    PersonalData(
        "referrals", label="Orientations",
        personal={"first_name": "name", "last_name": "name", "birth_date": "null",
                  "phone": "null", "email": "null", "note": "blank", "extra": "empty"},
        non_personal=("purpose", "consent_by", "decline_reason", "consent_method", "outcome"),
        links=(("case_id", "cases"), ("source_case_id", "cases")),
    ),
    PersonalData(
        "referral_status_changes", label="Suivi des orientations",
        personal={"message": "blank"},
        non_personal=("from_status", "to_status", "actor_label", "reason_code"),
        links=(("referral_id", "referrals"),),
    ),
    PersonalData(
        "referral_attachments", label="Pièces jointes des orientations",
        personal={"filename": "delete", "content": "delete"},
        non_personal=("content_type",),
        links=(("referral_id", "referrals"),),
    ),
    PersonalData("accompaniment_plans", label="Contrat d'accompagnement",
                 non_personal=("months",), links=(("case_id", "cases"),)),
    PersonalData(
        "follow_ups", label="Suivi de l'accompagnement",
        personal={"shared_note": "blank", "private_note": "blank"},
        links=(("case_id", "cases"),),
    ),
    PersonalData(
        "accompaniment_tasks", label="Tâches d'accompagnement",
        personal={"message": "blank", "suggested_action": "blank", "outcome": "blank"},
        non_personal=("source", "closed_by_label"),
        links=(("case_id", "cases"),),
    ),
    PersonalData(
        "workshop_invitations", label="Ateliers budgétaires",
        personal={"comment": "blank"},
        links=(("person_id", "persons"), ("case_id", "cases")),
    ),
    PersonalData("time_entries", label="Temps passé", personal={"note": "blank"},
                 non_personal=("source",), links=(("case_id", "cases"),)),
    # Linked by recipient, topic or payload (core.privacy.purge.outbox_rows): deleted.
    PersonalData(
        "outbox_messages", label="Messages",
        personal={"recipient": "delete", "subject": "delete", "payload": "delete",
                  "topic": "delete", "last_error": "delete"},
    ),
    # Linked by object id (any row of the person); append-only for the application: the
    # purge rewrites ``detail`` through the owner connection (core.rawsql).
    PersonalData(
        "audit_events", label="Journal d'audit",
        personal={"detail": "scrub"},
        non_personal=("actor", "action", "object_type", "object_id", "ip"),
    ),
    # API replays (kept 24 hours): the stored response may show a person; expired keys
    # and keys whose response holds a purged value are deleted.
    PersonalData(
        "idempotency_keys", label="Rejeux de l'API",
        personal={"response_body": "delete"},
        non_personal=("key", "fingerprint", "state", "response_location"),
    ),
    # No personal data of helped persons below (staff accounts, settings, secrets).
    PersonalData("tenants", non_personal=("slug", "name", "city", "timezone", "settings",
                                            "plugins_stamp")),
    PersonalData("operators", non_personal=("email", "password_hash")),
    PersonalData("users", non_personal=("email", "full_name", "password_hash")),
    PersonalData("organisations",
                 non_personal=("name", "plugin_name", "email", "webhook_url", "webhook_secret")),
    PersonalData("plugin_states", non_personal=("plugin_name", "settings")),
    PersonalData("api_tokens", non_personal=("name", "token_hash")),
    PersonalData("password_reset_tokens", non_personal=("token_hash",)),
    PersonalData("totp_credentials", non_personal=("secret",)),
    PersonalData("totp_recovery_codes", non_personal=("code_hash",)),
    PersonalData("operator_totp_credentials", non_personal=("secret",)),
    PersonalData("operator_totp_recovery_codes", non_personal=("code_hash",)),
    # The worker's bookkeeping: job names, worker ids (host:pid), counts per tenant.
    PersonalData("job_runs", non_personal=("job", "worker", "status", "detail")),
    PersonalData("worker_heartbeats", non_personal=("worker", "current_job")),
    # staff's sign-in sessions (core.web.sessions): no beneficiary's data
    PersonalData("web_sessions", non_personal=("secret_hash", "account", "data",
                                                "user_agent", "address")),
    # the city's identity providers (configuration, the secret sealed) and which staff
    # account a provider's subject signs in: no beneficiary's data
    PersonalData("identity_providers", non_personal=(
        "name", "issuer", "client_id", "client_secret_sealed", "scopes", "allowed_domains")),
    PersonalData("identity_links", non_personal=("subject",)),
    PersonalData("workshop_themes", non_personal=("title", "description")),
    PersonalData("workshop_sessions", non_personal=("place",)),
)


def descriptors() -> dict[str, PersonalData]:
    """Every descriptor, core and installed plugins (whatever the tenant enabled: a
    disabled plugin's tables may still hold a person's rows), keyed by table."""
    out = {d.table: d for d in CORE}
    if not has_app_context():
        return out
    for plugin_name, found in plugins.registry().hook("ccas_personal_data").answers().results:
        for descriptor in found:
            if descriptor.table in out:
                raise ValueError(f"{plugin_name}: table {descriptor.table} declared twice")
            out[descriptor.table] = descriptor
    return out


def undeclared_columns(tables, registry: dict[str, PersonalData]) -> list[str]:
    """``table.column`` of every text/JSON/binary column declared neither personal nor
    non-personal (enums excluded: they hold codes)."""
    missing = []
    for table in tables:
        d = registry.get(table.name)
        declared = set(d.personal) | set(d.non_personal) | set(d.derived) if d else set()
        for column in table.c:
            kind = column.type
            if isinstance(kind, Enum) or not isinstance(kind, String | Text | JSON | LargeBinary):
                continue
            if column.name not in declared:
                missing.append(f"{table.name}.{column.name}")
    return missing
