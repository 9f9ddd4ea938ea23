"""The templates' gettext (``_``, ``ngettext``…): the request's translations looked up once
per page, not once per string.

Flask-Babel installs callables that find the translations on every call (the current
context, the domain, the locale: three context-local lookups), and a page calls ``_`` a few
hundred times. Here a context processor puts the request's translations in each template's
context once, and the callables take them from the context they are called in (a
dictionary lookup), and ``_`` keeps each catalogue's answers; a macro imported without
context gets them from Flask-Babel as before.
The strings and their formatting are Flask-Babel's (``newstyle`` gettext in Jinja).
"""

from __future__ import annotations

import weakref

from flask import Flask
from flask_babel import get_translations
from jinja2 import pass_context

KEY = "ccas_translations"

#: Each catalogue's translations of the strings asked so far (a page asks the same few
#: hundred strings every time; a catalogue lookup cost several times a dictionary's).
#: Bounded by the templates' strings; a catalogue reloaded is a new key.
_TRANSLATED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


#: The context's key of its catalogue's answers (``_TRANSLATED[translations]``).
KNOWN = "ccas_translated"


def _of(context):
    found = context.get(KEY)
    return found if found is not None else get_translations()


def _known(translations) -> dict:
    known = _TRANSLATED.get(translations)
    if known is None:
        known = _TRANSLATED[translations] = {}
    return known


def _page_translations() -> dict:
    """The request's translations and their catalogue's answers, once per page."""
    translations = get_translations()
    return {KEY: translations, KNOWN: _known(translations)}


@pass_context
def _gettext(context, string):
    # the catalogue's answers from the context's variables given at render (``parent``: a
    # dictionary lookup, where ``context.get`` costs three calls and the weak dictionary
    # several); a macro imported without context finds them as before
    known = context.parent.get(KNOWN)
    if known is None:
        known = _known(_of(context))
    found = known.get(string)
    if found is None:
        found = known[string] = _of(context).ugettext(string)
    return found


@pass_context
def _ngettext(context, singular, plural, n):
    return _of(context).ungettext(singular, plural, n)


@pass_context
def _pgettext(context, message_context, string):
    return _of(context).upgettext(message_context, string)


@pass_context
def _npgettext(context, message_context, singular, plural, n):
    return _of(context).unpgettext(message_context, singular, plural, n)


def init_app(app: Flask) -> None:
    """After Flask-Babel's ``init_app``: replaces its template callables."""
    app.jinja_env.install_gettext_callables(
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, npgettext=_npgettext,
        newstyle=True)
    app.context_processor(_page_translations)
