"""Reusable marshmallow fields for plugin settings (exported by ``core.plugin_api``).

Every settings field has a default, a French label and, where useful, a help text; the
manager's settings page and ``ccas plugins settings`` are generated from them.
"""

from __future__ import annotations

from decimal import Decimal

from marshmallow import fields, validate

PURPOSES = (
    "mobility", "housing", "household_equipment", "health", "training", "employment",
    "debts", "other",
)


def money(default: str, label: str, help: str = "", minimum: str = "0",  # noqa: A002
          maximum: str = "1000000") -> fields.Decimal:
    return fields.Decimal(
        places=2, as_string=True, load_default=Decimal(default),
        validate=validate.Range(Decimal(minimum), Decimal(maximum),
                                error=f"Doit être entre {minimum} et {maximum} €."),
        metadata={"label": label, "description": help},
    )


def percent(default: str, label: str, help: str = "", maximum: str = "100") -> fields.Decimal:  # noqa: A002
    return fields.Decimal(
        places=2, as_string=True, load_default=Decimal(default),
        validate=validate.Range(Decimal("0"), Decimal(maximum),
                                error=f"Doit être un pourcentage entre 0 et {maximum}."),
        metadata={"label": label, "description": help},
    )


def whole(default: int, label: str, minimum: int, maximum: int, help: str = "") -> fields.Integer:  # noqa: A002
    return fields.Integer(
        load_default=default, strict=False,
        validate=validate.Range(minimum, maximum, error=f"Doit être entre {minimum} et {maximum}."),
        metadata={"label": label, "description": help},
    )


def email(label: str = "Adresse de contact", default: str | None = None) -> fields.Email:
    return fields.Email(
        load_default=default, allow_none=True,
        error_messages={"invalid": "Adresse e-mail invalide."},
        metadata={"label": label, "description": "Reçoit les notifications de l'extension."},
    )


def purposes(default: tuple[str, ...], label: str, help: str = "") -> fields.List:  # noqa: A002
    return fields.List(
        fields.String(validate=validate.OneOf(PURPOSES, error="Objet inconnu : {input}.")),
        load_default=list(default),
        metadata={
            "label": label,
            "description": help or "Liste JSON parmi : " + ", ".join(PURPOSES),
        },
    )


def words(default: tuple[str, ...], label: str, help: str = "") -> fields.List:  # noqa: A002
    return fields.List(
        fields.String(validate=validate.Length(1, 60)), load_default=list(default),
        metadata={"label": label, "description": help},
    )
