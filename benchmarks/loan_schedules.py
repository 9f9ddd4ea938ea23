"""Throughput of core.loans schedule generation, compared with numpy-financial.

Usage: python benchmarks/loan_schedules.py [--n N] [--repeat R] [--seed S] [--check]

Builds N schedules (default 50,000) for a spread of amounts (300-3000 EUR), rates and
durations and prints schedules per second on one core:

* 36-month annuity schedules (the target is >= 50,000 a second);
* a mixed spread: 3-36 months, annuity and linear, some subsidised interest;
* the same 36-month schedules with their Decimal instalment rows materialised (a schedule
  keeps an integer-cent ledger and builds its Installment objects on first access);

then times numpy-financial's amortisation of the same 36-month loans (npf.pmt, and
npf.ipmt / npf.ppmt vectorised over the periods of each loan) and prints the ratio.
numpy-financial is optional: without it the baseline is skipped.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.loans import build_schedule  # noqa: E402

TARGET_PER_SECOND = 50_000
RATES = [Decimal(rate) for rate in ("0", "1.5", "2.5", "3.04", "4.2", "5.99")]
SHARES = [Decimal(share) for share in ("0", "0", "50", "100")]
START = date(2025, 1, 31)

Loan = tuple[Decimal, int, Decimal, str, Decimal]  # amount, months, rate, method, share


def make_loans(count: int, seed: int, *, mixed: bool) -> list[Loan]:
    rng = random.Random(seed)
    loans = []
    for _ in range(count):
        amount = Decimal(rng.randrange(30_000, 300_001)).scaleb(-2)
        rate = rng.choice(RATES)
        if mixed:
            loan = (amount, rng.randint(3, 36), rate, rng.choice(("annuity", "linear")))
            loans.append((*loan, rng.choice(SHARES)))
        else:
            loans.append((amount, 36, rate, "annuity", Decimal(0)))
    return loans


def build_all(loans: Sequence[Loan]) -> None:
    for amount, months, rate, method, share in loans:
        build_schedule(amount, months, rate, start_date=START, method=method, subsidy_share=share)


def build_and_materialise(loans: Sequence[Loan]) -> None:
    rows = 0
    for amount, months, rate, method, share in loans:
        schedule = build_schedule(
            amount, months, rate, start_date=START, method=method, subsidy_share=share
        )
        rows += len(schedule.installments)  # builds the Decimal rows
    assert rows == sum(loan[1] for loan in loans)


def best_rate(run: Callable[[Sequence[Loan]], None], loans: Sequence[Loan], repeat: int) -> float:
    """Best throughput (items per second) over ``repeat`` runs."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run(loans)
        best = min(best, time.perf_counter() - started)
    return len(loans) / best


def numpy_financial_rate(loans: Sequence[Loan], repeat: int) -> float | None:
    try:
        import numpy as np
        import numpy_financial as npf
    except ImportError:
        return None
    plain = [(float(amount), months, float(rate) / 1200) for amount, months, rate, _, _ in loans]
    periods = {months: np.arange(1, months + 1) for _, months, _ in plain}

    def run(_: Sequence[Loan]) -> None:
        with np.errstate(divide="ignore", invalid="ignore"):  # npf warns at rate 0
            for amount, months, rate in plain:
                per = periods[months]
                npf.pmt(rate, months, -amount)
                npf.ipmt(rate, per, months, -amount)
                npf.ppmt(rate, per, months, -amount)

    return best_rate(run, loans, repeat)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="schedules per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure (best kept)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument(
        "--check", action="store_true", help="exit with status 1 below the 36-month target"
    )
    args = parser.parse_args(argv)

    annuities = make_loans(args.n, args.seed, mixed=False)
    mixed = make_loans(args.n, args.seed + 1, mixed=True)
    materialised = annuities[: max(1, args.n // 10)]

    ours = best_rate(build_all, annuities, args.repeat)
    verdict = "OK" if ours >= TARGET_PER_SECOND else "BELOW TARGET"
    print(
        f"36-month annuity schedules: {ours:12,.0f} /s  (target {TARGET_PER_SECOND:,}: {verdict})"
    )
    print(f"mixed schedules (3-36 m):   {best_rate(build_all, mixed, args.repeat):12,.0f} /s")
    rows_rate = best_rate(build_and_materialise, materialised, args.repeat)
    print(f"36-month, rows built too:   {rows_rate:12,.0f} /s  ({len(materialised):,} schedules)")

    baseline = numpy_financial_rate(annuities, 1)
    if baseline is None:
        print("numpy-financial baseline skipped: numpy_financial is not installed")
    else:
        print(f"numpy-financial pmt+ipmt+ppmt: {baseline:9,.0f} /s  (same 36-month loans)")
        print(f"ratio ours / numpy-financial:  {ours / baseline:9.1f}")
    return 1 if args.check and ours < TARGET_PER_SECOND else 0


if __name__ == "__main__":
    sys.exit(main())
