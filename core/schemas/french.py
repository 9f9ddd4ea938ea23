"""marshmallow's messages in French: one translated set for every schema of the platform
(the API's ``errors``, the plugins' settings, the forms that load through a schema).

marshmallow builds each field's and validator's messages when the field or validator is
created, from class attributes (its documented way to change them); :func:`apply` sets
those attributes before any schema is defined: ``core/__init__.py`` calls it, so the core,
the shipped plugins and third-party plugins all get French messages.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

FIELD_MESSAGES: dict[type, dict[str, str]] = {
    fields.Field: {
        "required": "Ce champ est obligatoire.",
        "null": "Ce champ ne peut pas être vide.",
        "validator_failed": "Valeur invalide.",
    },
    fields.Boolean: {"invalid": "Oui ou non attendu."},
    fields.Date: {"invalid": "Date invalide (aaaa-mm-jj).",
                  "format": "« {input} » ne peut pas être écrit comme une date."},
    fields.Decimal: {"special": "Les valeurs spéciales (infini, NaN) ne sont pas admises."},
    fields.Float: {"special": "Les valeurs spéciales (infini, NaN) ne sont pas admises."},
    fields.Email: {"invalid": "Adresse e-mail invalide."},
    fields.Enum: {"unknown": "Valeur inconnue : choisissez parmi {choices}."},
    fields.Integer: {"invalid": "Nombre entier attendu."},
    fields.List: {"invalid": "Liste attendue."},
    fields.Mapping: {"invalid": "Objet attendu."},
    fields.Nested: {"type": "Objet attendu."},
    fields.Number: {"invalid": "Nombre attendu.", "too_large": "Nombre trop grand."},
    fields.String: {"invalid": "Texte attendu.", "invalid_utf8": "Texte UTF-8 invalide."},
    fields.TimeDelta: {"invalid": "Durée invalide.",
                       "format": "{input!r} ne peut pas être écrit comme une durée."},
    fields.Tuple: {"invalid": "Liste attendue."},
    fields.Url: {"invalid": "Adresse web invalide."},
    fields.UUID: {"invalid_uuid": "Identifiant invalide."},
    # the base of DateTime, Time and AwareDateTime
    fields._TemporalField: {
        "invalid": "Date ou heure invalide.",
        "invalid_awareness": "Date et heure invalides (fuseau horaire).",
        "format": "« {input} » ne peut pas être écrit comme une date ou une heure.",
    },
}

VALIDATOR_MESSAGES: dict[type, dict[str, str]] = {
    validate.ContainsNoneOf: {"default_message": "Un des choix n'est pas permis : {values}."},
    validate.ContainsOnly: {"default_message": "Un des choix n'est pas parmi : {choices}."},
    validate.Email: {"default_message": "Adresse e-mail invalide."},
    validate.Equal: {"default_message": "Doit valoir {other}."},
    validate.Length: {
        "message_min": "Au moins {min} caractère(s) ou élément(s).",
        "message_max": "Au plus {max} caractères ou éléments.",
        "message_all": "Entre {min} et {max} caractères ou éléments.",
        "message_equal": "Exactement {equal} caractères ou éléments.",
    },
    validate.NoneOf: {"default_message": "Valeur non permise."},
    validate.OneOf: {"default_message": "Valeur inconnue : choisissez parmi {choices}."},
    validate.Predicate: {"default_message": "Valeur invalide."},
    validate.Range: {
        "message_min": "Doit être {min_op} {{min}}.",
        "message_max": "Doit être {max_op} {{max}}.",
        "message_all": "Doit être {min_op} {{min}} et {max_op} {{max}}.",
        "message_gte": "supérieur ou égal à",
        "message_gt": "strictement supérieur à",
        "message_lte": "inférieur ou égal à",
        "message_lt": "strictement inférieur à",
    },
    validate.Regexp: {"default_message": "Format invalide."},
    validate.URL: {"default_message": "Adresse web invalide."},
}

SCHEMA_MESSAGES = {"type": "Objet attendu.", "unknown": "Champ inconnu."}


def apply() -> None:
    """Set the French messages on marshmallow's classes (idempotent)."""
    for cls, messages in FIELD_MESSAGES.items():
        cls.default_error_messages = {**cls.__dict__.get("default_error_messages", {}),
                                      **messages}
    for cls, messages in VALIDATOR_MESSAGES.items():
        for name, text in messages.items():
            setattr(cls, name, text)
    defaults = Schema._default_error_messages
    Schema._default_error_messages = {**defaults, **SCHEMA_MESSAGES}
