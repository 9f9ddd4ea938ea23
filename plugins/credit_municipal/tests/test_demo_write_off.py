"""Writing off the demo's defaulted loans: whatever the seed and the day the demo is built
on, it shows at least one recovery (the first written-off loan always has one)."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from decimal import Decimal

from plugins.credit_municipal.demo import _write_off

D = Decimal
TODAY = date(2026, 12, 6)


class UnluckyRandom(random.Random):
    """A seeded generator whose coin always says "no recovery"."""

    def random(self):
        return 0.0


def defaulted_loan() -> dict:
    return {"id": uuid.uuid4(), "default_declared_on": TODAY - timedelta(days=90),
            "default_outstanding": D("1200.00"), "decided_by_id": None}


def test_the_first_written_off_loan_has_a_recovery_shared_pro_rata():
    recoveries, shares = [], []
    loan = defaulted_loan()
    calls = {"fcs": D("600.00")}
    _write_off(UnluckyRandom(1), loan, calls, TODAY, recoveries, shares)
    assert loan["written_off_on"] < TODAY
    [recovery] = recoveries
    assert recovery["loan_id"] == loan["id"]
    assert D("120.00") <= recovery["amount"] <= D("360.00")
    assert loan["written_off_on"] < recovery["received_on"] <= TODAY
    assert sum(s["amount"] for s in shares) == recovery["amount"]
    assert {s["party"] for s in shares} == {"fcs", "lender"}


def test_later_written_off_loans_still_follow_the_draw():
    recoveries, shares = [], []
    rng = UnluckyRandom(1)
    for _ in range(3):
        _write_off(rng, defaulted_loan(), {}, TODAY, recoveries, shares)
    assert len(recoveries) == 1


def test_the_write_off_is_reproducible_from_the_seed():
    def build(seed):
        rng, recoveries, shares = random.Random(seed), [], []
        loans = [defaulted_loan() for _ in range(6)]
        for loan in loans:
            _write_off(rng, loan, {}, TODAY, recoveries, shares)
        return ([loan["written_off_on"] for loan in loans],
                [(r["id"], r["amount"], r["received_on"]) for r in recoveries])

    assert build(7) == build(7)
