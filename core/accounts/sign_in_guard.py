"""Sign-in throttling that slows guessing without locking the owner out (issue 18).

Failures are counted three ways, in the rate-limit storage (``CCAS_RATELIMIT_STORAGE_URL``,
shared by every worker through Redis in production):

* per **(account, address)**: after ``CCAS_LOGIN_FREE_FAILURES`` failures (5) each new
  attempt from that address for that account waits a delay that doubles with each failure
  (2 s, 4 s, 8 s… up to ``CCAS_LOGIN_MAX_DELAY_SECONDS``, 900);
* per **account**, from every address: beyond ``CCAS_LOGIN_ACCOUNT_CEILING`` failures (10)
  attempts from an address that is not one of the account's usual addresses wait a
  growing delay too; the owner's usual addresses (where the account signed in within
  ``CCAS_LOGIN_USUAL_DAYS``, 90) are not slowed by failures coming from elsewhere;
* per **address**, for every account: beyond ``CCAS_LOGIN_ADDRESS_CEILING`` failures (50)
  an attempt from that address for an account that does not usually sign in from it waits
  a growing delay; colleagues behind the same office address who signed in from it before
  are not slowed.

Nothing is ever refused for longer than the longest delay; a right password given after
the wait opens the session. The counts last ``CCAS_LOGIN_WINDOW_MINUTES`` (60) after the
first failure; the delays are measured on ``core.clock``. The decision is a pure function
(``wait_seconds``) of the counts, so that it can be read and tested on its own.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass

from flask import current_app
from limits.storage import MemoryStorage

from .. import clock
from . import throttle

log = logging.getLogger(__name__)

DEFAULTS = {
    "CCAS_LOGIN_FREE_FAILURES": 5,
    "CCAS_LOGIN_ACCOUNT_CEILING": 10,
    "CCAS_LOGIN_ADDRESS_CEILING": 50,
    "CCAS_LOGIN_MAX_DELAY_SECONDS": 900,
    "CCAS_LOGIN_WINDOW_MINUTES": 60,
    "CCAS_LOGIN_USUAL_DAYS": 90,
}
BASE_DELAY_SECONDS = 2


@dataclass(frozen=True)
class Counts:
    """Failures known before an attempt, with the instant of the last one (seconds)."""

    pair: int = 0
    pair_last: float = 0
    account: int = 0
    account_last: float = 0
    address: int = 0
    address_last: float = 0
    usual: bool = False


@dataclass(frozen=True)
class Rules:
    free_failures: int = 5
    account_ceiling: int = 10
    address_ceiling: int = 50
    max_delay: int = 900


def delay(failures: int, allowed: int, max_delay: int) -> int:
    """Seconds to wait after ``failures`` when ``allowed`` come free: 0, then 2, 4, 8…"""
    if failures < allowed:
        return 0
    return min(BASE_DELAY_SECONDS * 2 ** min(failures - allowed, 20), max_delay)


def wait_seconds(counts: Counts, rules: Rules, now: float) -> float:
    """How long the attempt must still wait (0: it may go on). Pure."""
    waits = [delay(counts.pair, rules.free_failures, rules.max_delay)
             - (now - counts.pair_last)]
    if not counts.usual:
        waits.append(delay(counts.account, rules.account_ceiling, rules.max_delay)
                     - (now - counts.account_last))
        waits.append(delay(counts.address, rules.address_ceiling, rules.max_delay)
                     - (now - counts.address_last))
    return max(0.0, *waits)


# -- storage ------------------------------------------------------------------------------


def _setting(name: str) -> int:
    value = current_app.config.get(name)
    return int(value if value not in (None, "") else DEFAULTS[name])


def _rules() -> Rules:
    return Rules(_setting("CCAS_LOGIN_FREE_FAILURES"), _setting("CCAS_LOGIN_ACCOUNT_CEILING"),
                 _setting("CCAS_LOGIN_ADDRESS_CEILING"), _setting("CCAS_LOGIN_MAX_DELAY_SECONDS"))


def _digest(*parts) -> str:
    joined = "\x1f".join(str(p) for p in parts)
    return hashlib.sha256(joined.encode("utf-8", "replace")).hexdigest()[:32]


class _Store:
    """The limiter's storage, or this process's memory while it is unreachable."""

    def __init__(self):
        limiter = throttle.limiter()
        self.prefix = throttle.setting("CCAS_RATELIMIT_KEY_PREFIX") + ":signin:"
        self.fallback = current_app.extensions.setdefault("ccas_signin_memory",
                                                          MemoryStorage())
        # a limiter switched off (RATELIMIT_ENABLED=False) has no storage: count in memory
        self.primary = limiter.storage if limiter.enabled else self.fallback

    def _do(self, method: str, key: str, *args):
        try:
            return getattr(self.primary, method)(self.prefix + key, *args)
        except Exception:  # noqa: BLE001 - storage down: count in memory, never refuse
            log.warning("sign-in throttle storage unreachable: counting in memory")
            return getattr(self.fallback, method)(self.prefix + key, *args)

    def get(self, key: str) -> int:
        return int(self._do("get", key) or 0)

    def incr(self, key: str, expiry: int) -> int:
        return self._do("incr", key, expiry)

    def put(self, key: str, value: int, expiry: int) -> None:
        self._do("clear", key)
        self._do("incr", key, expiry, value)

    def clear(self, key: str) -> None:
        self._do("clear", key)

    # The storage keeps integers: an instant is kept in milliseconds. Whole seconds would
    # shorten a wait by up to one second (a failure at 100.9 s stored as 100: checked at
    # 101.1 s, a 2 s delay had 0.9 s left and answered 1).
    def get_instant(self, key: str) -> float:
        return self.get(_INSTANT + key) / 1000

    def put_instant(self, key: str, instant: float, expiry: int) -> None:
        self.put(_INSTANT + key, round(instant * 1000), expiry)


_INSTANT = "ms:"  # the instant of a key's last failure, in milliseconds


def _keys(scope, email: str, address: str) -> tuple[str, str, str]:
    account = _digest(scope, (email or "").strip().lower())
    return (f"pair:{_digest(account, address)}", f"acct:{account}",
            f"addr:{_digest(address)}")


def check(scope, email: str, address: str) -> int:
    """Seconds this attempt must still wait (0: check the password). ``scope``: the tenant
    id, or ``"platform"`` for an operator."""
    store = _Store()
    pair, account, addr = _keys(scope, email, address)
    counts = Counts(
        pair=store.get(pair), pair_last=store.get_instant(pair),
        account=store.get(account), account_last=store.get_instant(account),
        address=store.get(addr), address_last=store.get_instant(addr),
        usual=store.get("usual:" + pair) > 0,
    )
    return math.ceil(wait_seconds(counts, _rules(), clock.timestamp()))


def failed(scope, email: str, address: str) -> None:
    """Count a wrong password (or an unknown account) for the three keys."""
    store = _Store()
    window = _setting("CCAS_LOGIN_WINDOW_MINUTES") * 60
    now = clock.timestamp()
    for key in _keys(scope, email, address):
        store.incr(key, window)
        store.put_instant(key, now, window)


def succeeded(scope, email: str, address: str) -> None:
    """A right password: the address becomes one of the account's usual ones and its own
    failures are forgotten (the account's, from elsewhere, are not)."""
    store = _Store()
    pair, _account, _addr = _keys(scope, email, address)
    store.clear(pair)
    store.clear(_INSTANT + pair)
    store.put("usual:" + pair, 1, _setting("CCAS_LOGIN_USUAL_DAYS") * 86400)


SLOWED_MESSAGE = (
    "Trop de tentatives de connexion pour ce compte ou depuis cette adresse. "
    "Par sécurité, patientez {seconds} avant de réessayer."
)


def slowed_message(seconds: int) -> str:
    if seconds < 60:
        wait = f"{seconds} seconde" + ("s" if seconds > 1 else "")
    else:
        minutes = math.ceil(seconds / 60)
        wait = f"{minutes} minute" + ("s" if minutes > 1 else "")
    return SLOWED_MESSAGE.format(seconds=wait)
