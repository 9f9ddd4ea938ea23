"""The request benchmark's hand-written equivalents answer what the application answers:
the same JSON for the API's reads and its referral creation (but for what differs from
one creation to the next: ids, instants), the same HTML for the pages (``benchmarks/
request_speed.py``: a faster answer that says less, or says it in another format, would
make every ratio a flattering one). Run as a user runs it, on a small generated tenant,
on SQLite and, in the PostgreSQL pass, on a scratch PostgreSQL database of its own (400
cases: more referrals than a page holds, so that the next page's cursor is compared)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("case_read", "case_list", "case_list_state", "case_search", "referral_list",
           "referral_create", "portal_list", "manager_dashboard", "case_page")


def test_the_hand_written_equivalents_answer_the_same_json_and_html(tmp_path):
    db = os.environ.get("CCAS_TEST_POSTGRES_URL") or "sqlite"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "request_speed.py"), "--db", db,
         "--tenants", "1", "--cases", "400", "--requests", "1", "--repeat", "1",
         "--only", ",".join(CHECKED), "--out", str(tmp_path / "figures.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert not [line for line in lines if "DIFFERS" in line], done.stdout[-4000:]
    for name in CHECKED:
        kind = "page the same HTML" if name in ("portal_list", "manager_dashboard",
                                                "case_page") else "answer the same JSON"
        assert f"{name}: hand-written {kind}" in done.stdout, name
