"""Common and breached passwords (ASVS 5.0 V6.2.4), refused when an account's password is
chosen or changed.

Two lists, loaded once at the first check:

* the 30,000 most common passwords of public breaches, from the ``zxcvbn`` package on
  PyPI (``zxcvbn.frequency_lists``, MIT licence, Dan Wheeler and Dropbox, Inc.);
* French words and names, ``data/french_words.txt`` (from ``@zxcvbn-ts/language-fr`` on
  npm, MIT; its word list derived from OpenSubtitles via OPUS, ODC-BY: the file's header
  names the source, the licences and how to regenerate it).

A password is common when, lower-cased, it is on a list, or when its core is: the
password without the digits and symbols around it (``Azertyuiop1`` → ``azertyuiop``,
``Soleil2026!`` → ``soleil``), with or without accents, with the usual substitutions
undone (``p@ssw0rd`` → ``password``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

FRENCH_WORDS = Path(__file__).with_name("data") / "french_words.txt"

_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SUBSTITUTIONS = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "3": "e",
                                "$": "s", "5": "s", "7": "t", "!": "i"})


@lru_cache(maxsize=1)
def words() -> frozenset[str]:
    """Every refused word (about 50,000)."""
    # deferred: heavy import (100,000 strings), paid at the first password check only
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    french = (line.strip() for line in FRENCH_WORDS.read_text(encoding="utf-8").splitlines())
    listed = set(FREQUENCY_LISTS["passwords"])
    listed.update(word for word in french if word and not word.startswith("#"))
    listed.update({_fold(word) for word in listed})
    return frozenset(listed)


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c))


def candidates(password: str) -> set[str]:
    """The forms of ``password`` looked up in the lists."""
    lowered = password.lower()
    forms = {lowered, _EDGES.sub("", lowered), _EDGES.sub("", lowered.translate(_SUBSTITUTIONS))}
    return {variant for form in forms for variant in (form, _fold(form)) if variant}


#: Runs of keys or digits (a password that is a piece of one of them is refused).
_RUNS = ("01234567890123456789", "abcdefghijklmnopqrstuvwxyz", "azertyuiopqsdfghjklmwxcvbn",
         "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p")


def is_common(password: str) -> bool:
    """Whether ``password`` is, or is built around, a common password or a French word,
    or is a run of keys or digits (``123456789012``, ``azertyuiopqs``)."""
    listed = words()
    lowered = password.lower()
    if any(lowered in run or lowered in run[::-1] for run in _RUNS):
        return True
    return any(form in listed for form in candidates(password))
