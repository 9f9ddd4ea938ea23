"""The request benchmark over HTTP (``benchmarks/request_speed.py --http``): the application and
its hand-written equivalent each under gunicorn, on loopback, timed by one client.

* the application: ``gunicorn -c python:core.gunicorn_conf core.wsgi:app``, the production
  entry point and settings (workers: the configuration's default, 2 × processors + 1 at
  most 8, unless ``--http-workers``), configured by the environment as a deployment is
  (``CCAS_ENV=production``: secure cookies, CSRF, rate limits in memory per worker);
* the hand-written equivalent: the same configuration file, the entry point
  ``benchmarks.request_speed:hand_wsgi()`` (the benchmark's ``Hand`` app on the same database);
* one client, one request at a time, the variants interleaved request by request (app,
  hand, bare) as in-process, a new connection per request (gunicorn's sync workers close
  it), bounded by a count and a time per endpoint;
* after the run: the resident memory (RSS, ``/proc/<pid>/status``) of every worker.

Standard library only (``http.client``, ``subprocess``).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn master and its workers, started on a free loopback port."""

    def __init__(self, name: str, target: str, env: dict, workers: int | None, log: Path):
        self.name, self.port = name, free_port()
        environment = {**os.environ, **env, "CCAS_WEB_BIND": f"127.0.0.1:{self.port}",
                       "CCAS_LOG_LEVEL": "WARNING"}
        if workers:
            environment["CCAS_WEB_WORKERS"] = str(workers)
        self.log = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:core.gunicorn_conf", target],
            cwd=ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, path: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn ({self.name}) stopped: see {self.log.name}")
            try:
                status, _h, _b = request("GET", self.port, path)
                if status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"gunicorn ({self.name}) not ready after {timeout} s")

    def workers(self) -> list[int]:
        """The worker processes (children of the master)."""
        master = self.process.pid
        out = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                out.append(int(entry.name))
        return sorted(out)

    def rss_mb(self) -> dict:
        """Resident memory (MB) of the master and of each worker."""
        def rss(pid: int) -> float | None:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        return round(int(line.split()[1]) / 1024, 1)
            except OSError:
                return None
            return None

        workers = [r for r in (rss(p) for p in self.workers()) if r is not None]
        return {"master": rss(self.process.pid), "workers": workers,
                "worker_max": max(workers, default=None),
                "worker_mean": round(sum(workers) / len(workers), 1) if workers else None}

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def request(method: str, port: int, url: str, headers: dict | None = None,
            body: bytes | None = None):
    """One request on a new connection: ``(status, headers, body)``."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method.upper(), url, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, response.headers, data
    finally:
        conn.close()


class Client:
    """Cookies kept by hand (the production cookies are ``Secure``: a browser would only
    send them over HTTPS; the benchmark sends them over loopback)."""

    def __init__(self, port: int):
        self.port, self.cookies = port, {}

    def _headers(self, headers: dict | None) -> dict:
        out = dict(headers or {})
        if self.cookies:
            out["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return out

    def _keep(self, headers) -> None:
        for value in headers.get_all("Set-Cookie") or []:
            pair = value.split(";", 1)[0]
            name, _, content = pair.partition("=")
            if content:
                self.cookies[name.strip()] = content
            else:
                self.cookies.pop(name.strip(), None)

    def call(self, method: str, url: str, headers=None, json_body=None, form=None):
        body, headers = None, self._headers(headers)
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        status, response_headers, data = request(method, self.port, url, headers, body)
        self._keep(response_headers)
        return status, data

    def login(self, slug: str, email: str, password: str) -> None:
        status, page = self.call("GET", f"/t/{slug}/login")
        match = CSRF.search(page.decode("utf-8", "replace"))
        form = {"email": email, "password": password}
        if match:
            form["csrf_token"] = match.group(1) or match.group(2)
        status, _ = self.call("POST", f"/t/{slug}/login", form=form)
        if status != 302:
            raise SystemExit(f"HTTP login of {email} failed: {status}")


def run(specs: dict, ctx: dict, app_env: dict, hand_env: dict, *, password: str,
        requests: int, repeat: int, seconds: float, workers: int | None, logs: Path,
        percentiles) -> dict:
    """Time every endpoint of ``specs`` (as ``benchmarks/request_speed.py`` builds them) over
    HTTP; returns the figures per endpoint, the servers' worker counts and their RSS."""
    app = Server("app", "core.wsgi:app", app_env, workers, logs / "gunicorn-app.log")
    hand = Server("hand", "benchmarks.request_speed:hand_wsgi()", hand_env, workers,
                  logs / "gunicorn-hand.log")
    try:
        app.wait_ready(f"/t/{ctx['slug']}/login")
        hand.wait_ready(f"/bare/cases/{ctx['case_id']}?t={ctx['tenant_id']}")
        clients = {"hand": Client(hand.port), "bare": Client(hand.port),
                   "app": Client(app.port)}
        for role in ("social_worker", "referrer", "manager"):
            client = Client(app.port)
            client.login(ctx["slug"], f"{role}@{ctx['slug']}.test", password)
            clients[("app", role)] = client
            # the hand-written pages read the same server-side session from its cookie
            signed_in = Client(hand.port)
            signed_in.cookies = dict(client.cookies)
            clients[("hand", role)] = signed_in
        n_workers = len(app.workers())

        def call(variant, spec):
            method, url, kwargs, expected = spec
            kwargs = dict(kwargs() if callable(kwargs) else kwargs)
            login = kwargs.pop("login", None)
            client = clients[(variant, login)] if login else clients[variant]
            status, data = client.call(method, url, headers=kwargs.get("headers"),
                                       json_body=kwargs.get("json"))
            if status != expected:
                raise SystemExit(f"HTTP {variant} {url}: {status} {data[:300]!r}")

        results = {}
        for name, variants in specs.items():
            for variant, spec in variants.items():  # every worker builds its caches
                for _ in range(min(requests, 4 * max(n_workers, 1))):
                    call(variant, spec)
            runs = {v: [] for v in variants}
            done, started = 0, time.monotonic()
            for _ in range(repeat):
                samples = {v: [] for v in variants}
                for _ in range(requests):
                    for variant, spec in variants.items():
                        t0 = time.perf_counter_ns()
                        call(variant, spec)
                        samples[variant].append((time.perf_counter_ns() - t0) / 1000)
                    done += 1
                    if time.monotonic() - started > seconds:
                        break
                for variant, values in samples.items():
                    if values:
                        runs[variant].append(percentiles(values))
                if time.monotonic() - started > seconds:
                    break
            out = {"requests_done": done, "seconds": round(time.monotonic() - started, 1)}
            for variant, figures in runs.items():
                p50, p95 = min(figures)
                out[variant] = {"p50_us": round(p50), "p95_us": round(p95),
                                "runs_p50_us": [round(f[0]) for f in figures]}
            for variant in ("hand", "bare"):
                if variant in out:
                    out[f"ratio_{variant}"] = {
                        "p50": round(out["app"]["p50_us"] / out[variant]["p50_us"], 2),
                        "p95": round(out["app"]["p95_us"] / out[variant]["p95_us"], 2)}
            results[name] = out
            print(f"http {name:18} app {out['app']['p50_us']:>8,}/{out['app']['p95_us']:<8,} "
                  f"hand {out['hand']['p50_us']:>7,}/{out['hand']['p95_us']:<7,} "
                  f"ratio {out['ratio_hand']['p50']}/{out['ratio_hand']['p95']} "
                  f"({done} x {len(variants)} requests, {out['seconds']} s)", flush=True)
        return {"workers": n_workers, "endpoints": results,
                "rss_mb": {"app": app.rss_mb(), "hand": hand.rss_mb()}}
    finally:
        app.stop()
        hand.stop()
