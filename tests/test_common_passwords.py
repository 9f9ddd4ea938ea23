"""The list of common passwords (issue 18, finding 5): at least 10,000 entries, French
ones included, a password built around one of them refused."""

from __future__ import annotations

import pytest

from core.accounts import common_passwords
from core.accounts.credentials import PasswordPolicyError, check_password_policy


def test_the_lists_hold_the_common_breached_passwords_and_french_words():
    words = common_passwords.words()
    assert len(words) >= 40_000
    for word in ("123456", "password", "azerty", "motdepasse", "soleil", "doudou", "bonjour",
                 "marseille", "nicolas"):
        assert word in words, word
    source = common_passwords.FRENCH_WORDS.read_text(encoding="utf-8")
    assert "@zxcvbn-ts/language-fr" in source and "Licence: MIT" in source


@pytest.mark.parametrize("password", ["azertyuiop1", "Azertyuiop2026!", "Soleil2026!",
                                      "p@ssw0rd123", "motdepasse2026", "Élodie2020!",
                                      "123456789012", "Bonjour-1234"])
def test_passwords_built_around_a_common_one_are_refused(password):
    with pytest.raises(PasswordPolicyError, match="trop courant"):
        check_password_policy(password)


@pytest.mark.parametrize("password", ["Test-password-2026!", "Xq9!mz2Lw#", "cheval batterie agrafe",
                                      "Nouveau-mot-2026!"])
def test_unusual_passwords_pass(password):
    check_password_policy(password)
