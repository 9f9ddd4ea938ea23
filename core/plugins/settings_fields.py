"""Reusable marshmallow fields for plugin settings (exported by ``core.plugin_api``).

Every settings field has a default, a French label and, where useful, a help text; the
manager's settings page (``core.plugins.settings_form``: the widget of each field) and
``ccas plugins settings`` are generated from them. Help texts must hold for every city.
"""

from __future__ import annotations

from decimal import Decimal

from marshmallow import fields, validate

from .. import formats
from ..models import CHARGE_CATEGORIES, EMPLOYMENT_LABELS, RESOURCE_CATEGORIES

NBSP = formats.NBSP

PURPOSES = (
    "mobility", "housing", "household_equipment", "health", "training", "employment",
    "debts", "other",
)


def money(default: str, label: str, help: str = "", minimum: str = "0",  # noqa: A002
          maximum: str = "1000000") -> fields.Decimal:
    return fields.Decimal(
        places=2, as_string=True, load_default=Decimal(default),
        validate=validate.Range(
            Decimal(minimum), Decimal(maximum),
            error=f"Doit être entre {formats.money(Decimal(minimum))} et "
                  f"{formats.money(Decimal(maximum))}."),
        metadata={"label": label, "description": help, "widget": "money", "unit": "€"},
    )


def percent(default: str, label: str, help: str = "", maximum: str = "100") -> fields.Decimal:  # noqa: A002
    return fields.Decimal(
        places=2, as_string=True, load_default=Decimal(default),
        validate=validate.Range(
            Decimal("0"), Decimal(maximum),
            error=f"Doit être un pourcentage entre {formats.percent(Decimal(0), 0)} et "
                  f"{formats.percent(Decimal(maximum), 0)}."),
        metadata={"label": label, "description": help, "widget": "percent", "unit": "%"},
    )


def whole(default: int, label: str, minimum: int, maximum: int, help: str = "",  # noqa: A002
          unit: str = "") -> fields.Integer:
    shown = f"{NBSP}{unit}" if unit else ""
    return fields.Integer(
        load_default=default, strict=False,
        validate=validate.Range(
            minimum, maximum,
            error=f"Doit être entre {formats.number(minimum)}{shown} et "
                  f"{formats.number(maximum)}{shown}."),
        metadata={"label": label, "description": help, "unit": unit},
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
        metadata={"label": label, "description": help, "vocabulary": "purpose"},
    )


def choice(default: str, label: str, choices: dict[str, str], help: str = "",  # noqa: A002
           ) -> fields.String:
    """One code among ``choices`` (``{code: French label}``): radio buttons, or a list
    when there are more than four."""
    return fields.String(
        load_default=default,
        validate=validate.OneOf(list(choices), error="Choisissez une des valeurs proposées."),
        metadata={"label": label, "description": help, "choices": dict(choices)},
    )


def words(default: tuple[str, ...], label: str, help: str = "") -> fields.List:  # noqa: A002
    """A list of words or phrases (a text area, one per line)."""
    return fields.List(
        fields.String(validate=validate.Length(1, 60, error="De 1 à 60 caractères par ligne.")),
        load_default=list(default),
        metadata={"label": label, "description": help, "widget": "words"},
    )


def optional_money(label: str, help: str = "", maximum: str = "1000000"  # noqa: A002
                   ) -> fields.Decimal:
    """An amount that may be left empty (``None``: no ceiling)."""
    return fields.Decimal(
        places=2, as_string=True, load_default=None, allow_none=True,
        validate=validate.Range(
            Decimal(0), Decimal(maximum),
            error=f"Doit être entre {formats.money(Decimal(0))} et "
                  f"{formats.money(Decimal(maximum))}."),
        metadata={"label": label, "description": help, "widget": "money", "unit": "€"},
    )


def optional_whole(label: str, minimum: int, maximum: int, help: str = "",  # noqa: A002
                   unit: str = "") -> fields.Integer:
    """A whole number that may be left empty (``None``: no bound)."""
    shown = f"{NBSP}{unit}" if unit else ""
    return fields.Integer(
        load_default=None, allow_none=True, strict=False,
        validate=validate.Range(
            minimum, maximum,
            error=f"Doit être entre {formats.number(minimum)}{shown} et "
                  f"{formats.number(maximum)}{shown}."),
        metadata={"label": label, "description": help, "unit": unit},
    )


EMPLOYMENTS = tuple(str(code) for code in EMPLOYMENT_LABELS)


def employments(label: str, help: str = "") -> fields.List:  # noqa: A002
    """Employment situations (checkboxes; none ticked: any situation)."""
    return fields.List(
        fields.String(validate=validate.OneOf(EMPLOYMENTS,
                                              error="Situation inconnue : {input}.")),
        load_default=list,
        metadata={"label": label, "description": help, "vocabulary": "employment"},
    )


def budget_category(kind: str, label: str, help: str = "",  # noqa: A002
                    none_label: str = "Aucune condition") -> fields.String:
    """One category of the budget sheet (``kind``: ``"resource"`` or ``"charge"``), or
    ``None`` for none (a list whose first choice, empty, is ``none_label``)."""
    categories = RESOURCE_CATEGORIES if kind == "resource" else CHARGE_CATEGORIES
    choices = {"": none_label, **categories}
    return fields.String(
        load_default=None, allow_none=True,
        validate=validate.OneOf(list(choices), error="Choisissez une des valeurs proposées."),
        metadata={"label": label, "description": help, "choices": choices,
                  "widget": "select"},
    )
