"""Web workers share nothing in memory: two application instances (two workers, as two
gunicorn processes or two machines behind a load balancer) over one database and one
Redis see the same rate-limit counts, so adding workers never multiplies a limit.
See docs/scaling.md."""

from __future__ import annotations

import secrets

import pytest

from core.app import create_app
from core.testing.pytest_plugin import IsolatedClient

from .test_throttle import GOOD, REDIS_URL, _login, _redis_available


@pytest.fixture
def app_config(app_config):
    if not _redis_available():
        pytest.skip("no Redis server on 127.0.0.1:6379")
    return {**app_config, "CCAS_RATELIMIT_STORAGE_URL": REDIS_URL,
            "CCAS_RATELIMIT_KEY_PREFIX": "ccas-test-" + secrets.token_hex(6),
            "CCAS_LOGIN_LIMIT_ACCOUNT": "3 per 15 minutes",
            "CCAS_LOGIN_FREE_FAILURES": 3,
            "CCAS_API_LIMIT": "4 per minute"}


@pytest.fixture
def second_worker(app_config):
    worker = create_app(app_config)
    worker.test_client_class = IsolatedClient
    return worker.test_client()


def test_two_workers_share_the_sign_in_limit_through_redis(client, second_worker, users,
                                                           clock):
    email = users["manager"].email
    assert _login(client, email, "wrong-password").status_code == 401
    assert _login(second_worker, email, "wrong-password").status_code == 401
    assert _login(client, email, "wrong-password").status_code == 401
    # three failures in all, spread over two workers: on both, the next attempt must wait
    # (the clock stands still: the delay has not passed)
    assert _login(second_worker, email, GOOD).status_code == 429
    assert _login(client, email, GOOD).status_code == 429


def test_two_workers_share_the_api_limit_through_redis(client, second_worker, users,
                                                       api_token):
    headers = {"Authorization": f"Bearer {api_token(users['secretary'])}"}
    answers = [worker.get("/api/v1/cases", headers=headers).status_code
               for worker in (client, second_worker, client, second_worker, client)]
    assert answers == [200, 200, 200, 200, 429]
