"""Production serving: gunicorn serves the application, forwarded headers are believed
only from the trusted proxies, production refuses SQLite unless forced."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from flask import request

from core import config, proxies
from core.app import create_app
from core.policy import public
from core.web.client import client_address

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_serves_readyz(ccas_database, tmp_path):
    port = _free_port()
    env = {**os.environ, "CCAS_ENV": "production", "CCAS_SECRET_KEY": "s" * 40,
           "CCAS_DATABASE_URL": ccas_database.app_url,
           "CCAS_DATABASE_OWNER_URL": ccas_database.owner_url,
           "CCAS_ALLOW_SQLITE": "1", "CCAS_WEB_WORKERS": "1",
           "CCAS_TRUSTED_PROXIES": "127.0.0.1",
           "CCAS_WEB_BIND": f"127.0.0.1:{port}", "CCAS_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter's gunicorn
        [str(BIN / "gunicorn"), "-c", "python:core.gunicorn_conf", "core.wsgi:app"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        request = urllib.request.Request(f"http://127.0.0.1:{port}/readyz",
                                         headers={"X-Forwarded-For": "203.0.113.9"})
        while True:
            try:
                with urllib.request.urlopen(request) as r:  # noqa: S310
                    body, status, server = r.read(), r.status, r.headers.get("Server", "")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.poll() is not None else ""
                    pytest.fail(f"gunicorn did not answer: {out}")
                time.sleep(0.3)
        assert status == 200
        assert b'"migrations":"head"' in body.replace(b" ", b"")
        assert server == "ccas-network"  # neither werkzeug nor gunicorn and its version
    finally:
        proc.terminate()
        log = proc.communicate(timeout=30)[0].decode()
    # the access log names the client the trusted proxy (here: us) forwarded for, and
    # the path without its query string
    assert '203.0.113.9 "GET /readyz" 200' in log, log


def test_production_refuses_sqlite_unless_forced(tmp_path):
    base = {"CCAS_ENV": "production", "SECRET_KEY": "x" * 40,
            "CCAS_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3"}
    with pytest.raises(config.ConfigError, match="CCAS_ALLOW_SQLITE=1"):
        config.load(str(tmp_path), base)
    assert config.load(str(tmp_path), {**base, "CCAS_ALLOW_SQLITE": "1"})["CCAS_ENV"] == \
        "production"


def test_a_bad_trusted_proxy_is_a_configuration_error(tmp_path):
    with pytest.raises(config.ConfigError, match="not-an-address"):
        config.load(str(tmp_path), {"CCAS_TRUSTED_PROXIES": "10.0.0.1, not-an-address"})


NETS = proxies.parse_networks("10.0.0.0/8, 127.0.0.1")


@pytest.mark.parametrize(("remote", "forwarded", "client"), [
    ("10.1.2.3", "203.0.113.7", "203.0.113.7"),            # trusted proxy: believed
    ("198.51.100.9", "203.0.113.7", "198.51.100.9"),       # untrusted sender: ignored
    ("10.1.2.3", "1.1.1.1, 203.0.113.7", "203.0.113.7"),   # spoofed left part ignored
    ("10.1.2.3", "203.0.113.7, 10.9.9.9", "203.0.113.7"),  # two trusted hops
    ("10.1.2.3", "garbage", "10.1.2.3"),                   # malformed: the proxy itself
    ("10.1.2.3", "", "10.1.2.3"),
])
def test_forwarded_client(remote, forwarded, client):
    assert proxies.forwarded_client(remote, forwarded, NETS) == client


@pytest.fixture
def proxied_app(app_config):
    return create_app({**app_config, "CCAS_TRUSTED_PROXIES": "10.0.0.0/8"})


def _seen(app, remote):
    seen = {}

    @app.route("/_probe_client")
    @public
    def _probe():
        seen["addr"], seen["scheme"] = client_address(request), request.scheme
        return "ok"

    app.test_client().get("/_probe_client", environ_base={"REMOTE_ADDR": remote},
                          headers={"X-Forwarded-For": "203.0.113.7",
                                   "X-Forwarded-Proto": "https"})
    return seen


def test_trusted_proxy_headers_are_honoured(proxied_app):
    assert _seen(proxied_app, "10.0.0.5") == {"addr": "203.0.113.7", "scheme": "https"}


def test_untrusted_sender_headers_are_ignored(proxied_app):
    assert _seen(proxied_app, "198.51.100.9") == {"addr": "198.51.100.9", "scheme": "http"}


def test_the_development_server_refuses_production(ccas, monkeypatch):
    monkeypatch.setenv("CCAS_ENV", "production")
    monkeypatch.setenv("CCAS_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("CCAS_ALLOW_SQLITE", "1")
    result = ccas("serve")
    assert result.exit_code == 1 and "gunicorn -c python:core.gunicorn_conf" in result.output


def test_a_worker_freezes_what_it_built_before_serving():
    """``post_worker_init`` moves the application's objects out of the collector's full
    passes (the long pauses of a large heap)."""
    import gc

    from core import gunicorn_conf

    try:
        gunicorn_conf.post_worker_init(worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
