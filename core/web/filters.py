"""Jinja filters: money and dates the French way, in the tenant's timezone."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, g, url_for
from jinja2 import pass_context
from markupsafe import Markup

from .. import clock, formats, labels, workflow
from ..models.referral import TONES as REFERRAL_TONES


def format_money(value) -> str:
    """``Decimal('1234.5')`` -> ``'1 234,50 €'`` (``core.formats.money``)."""
    return formats.money(value)


# The filters: the tenant from the template's context (a dictionary lookup in the
# variables given at render, ``context.parent``: no template sets ``tenant``), ``g`` (a
# context-local proxy, slower: a list page formats a date per row) only when the context
# has none (a macro imported without context).


def _zone(context):
    # a template's context, or the empty dictionary of ``format_date``/``format_datetime``
    tenant = getattr(context, "parent", context).get("tenant")
    return clock.zone(tenant if tenant is not None else g.get("tenant"))


@pass_context
def datetime_fr(context, value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(_zone(context)).strftime("%d/%m/%Y %H:%M")


@pass_context
def date_fr(context, value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(_zone(context))
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | None) -> str:
    """:func:`datetime_fr` outside a template (the request's tenant's zone)."""
    return datetime_fr({}, value)


def format_date(value: date | datetime | None) -> str:
    """:func:`date_fr` outside a template (the request's tenant's zone)."""
    return date_fr({}, value)


_BADGE = Markup('<span class="badge badge-%s">%s</span>')


def badge(text: str, tone: str) -> Markup:
    # the same markup as ``Markup(...).format(tone, text)``, without the formatter's
    # machinery (a list page draws a badge per row)
    return _BADGE % (tone, text)  # ``%`` on Markup escapes both


def state_badge(code) -> Markup:
    """A case state as a badge: its French label, coloured by its outcome."""
    state = workflow.current().states.get(str(code))
    if state is None:
        return badge(labels.label("case_state", code), "in_progress")
    return badge(state.label, state.outcome)


def referral_badge(code) -> Markup:
    """A referral status as a badge; each status's badge built once per request (a list
    page draws one per row)."""
    badges = g.get("ccas_referral_badges")
    if badges is None:
        badges = g.ccas_referral_badges = {}
    markup = badges.get(code)
    if markup is None:
        tone = REFERRAL_TONES.get(str(code), "in_progress")
        markup = badges[code] = badge(labels.label("referral_status", code), tone)
    return markup


class RowUrl:
    """The URL of ``endpoint`` for one row, built once (``url_for`` with a placeholder)
    and completed per row by string concatenation: ``url_for`` costs a routing build per
    call, a list page of 500 rows called it 500 times. ``RowUrl("referrals.detail",
    "referral_id")(r.id)`` equals ``url_for("referrals.detail", referral_id=r.id)`` for an
    id whose text needs no quoting in a URL (UUIDs, integers)."""

    _MARK = "0rowurl0"

    def __init__(self, endpoint: str, key: str, **values):
        self.head, _, self.tail = url_for(endpoint, **{key: self._MARK, **values}
                                          ).partition(self._MARK)

    def __call__(self, value) -> str:
        return f"{self.head}{value}{self.tail}"


def audit_action(code, detail=None) -> Markup:
    """An audit action for the journal: its French label (a case's move says from which
    state to which), the code beside it for the auditors (in ``<code>``); an action
    without a label shows a French default marked ``data-unlabelled`` (the no-raw-code
    crawl fails on it)."""
    text, known = labels.audit_action(code)
    move = Markup("")
    if code == "case.transition" and isinstance(detail, dict) and detail.get("target"):
        move = Markup(' <span class="audit-move">({}{})</span>').format(
            labels.label("case_state", detail["source"]) + " → " if detail.get("source")
            else "", labels.label("case_state", detail["target"]))
    if known:
        return Markup('<span class="audit-action">{}</span>{} <code class="audit-code">{}'
                      '</code>').format(text, move, code)
    return Markup('<span class="audit-action" data-unlabelled="{}">{}</span> '
                  '<code class="audit-code">{}</code>').format(code, text, code)


def audit_object(object_type) -> Markup:
    """What an audit row is about, in French; a type without a label shows "Objet" marked
    ``data-unlabelled`` (the no-raw-code crawl fails on it)."""
    text = labels.label("audit_object", object_type, default="")
    if text:
        return Markup("{}").format(text)
    return Markup('<span data-unlabelled="{}">Objet</span>').format(object_type)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["state_badge"] = state_badge
    app.jinja_env.globals["referral_badge"] = referral_badge
    app.jinja_env.globals["row_url"] = RowUrl
    app.jinja_env.globals["audit_action"] = audit_action
    app.jinja_env.globals["audit_object"] = audit_object
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["datetime_fr"] = datetime_fr
    app.jinja_env.filters["date_fr"] = date_fr
    app.jinja_env.filters["percent"] = formats.percent
    app.jinja_env.filters["number"] = formats.number
    app.jinja_env.filters["label"] = lambda code, vocabulary: labels.label(vocabulary, code)
    app.jinja_env.filters["actor"] = labels.actor
