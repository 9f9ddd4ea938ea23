"""The recipes of docs/deployment.md, run as written (the test's own values swapped in
for the example's issuer)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import select

from core.accounts import oidc
from core.models import Tenant
from core.testing.oidc_provider import TestProvider

DOC = Path(__file__).resolve().parents[1] / "docs" / "deployment.md"


def recipe(name: str) -> list[str]:
    """The shell lines of the fenced block that follows ``<!-- recipe: name``."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- recipe: {re.escape(name)}\b.*?-->\s*```sh\n(.*?)```", text, re.S)
    assert found, f"no recipe {name!r} in {DOC.name}"
    return [line for line in found.group(1).splitlines() if line.strip()]


@pytest.fixture
def lyon_provider(make_tenant):
    make_tenant("lyon", "CCAS de Lyon")
    with TestProvider(redirect_uri="http://localhost/t/lyon/login/oidc/callback") as op:
        yield op
    oidc.forget_metadata()


def test_identity_provider_recipe_sets_up_a_working_sign_in(ccas, monkeypatch, lyon_provider,
                                                           make_user, client, session):
    op = lyon_provider
    monkeypatch.setenv("CCAS_SECRET_KEY", "test-secret")  # the test app's key
    lyon = session.scalar(select(Tenant).where(Tenant.slug == "lyon"))
    agent = make_user(lyon, "social_worker", email="agent@lyon.fr")
    for line in recipe("identity-provider"):
        line = line.replace("https://sso.lyon.fr/realms/agents", op.issuer)
        command, _, secret_file = line.partition(" < ")
        words = shlex.split(command)
        assert words[0] == "ccas"
        result = ccas(*words[1:], input=f"{op.client_secret}\n" if secret_file else None)
        assert result.exit_code == 0, f"{line}\n{result.output}"
    # Passwords are off: the page offers the button, and the button signs the agent in.
    page = client.get("/t/lyon/login").get_data(as_text=True)
    assert "Se connecter avec Annuaire" in page and 'name="password"' not in page
    start = page.split('href="/t/lyon/login/oidc/')[1].split('"')[0]
    op.person = {"sub": "a-1", "email": agent.email, "email_verified": True}
    to_provider = client.get(f"/t/lyon/login/oidc/{start}")
    answer = requests.get(to_provider.headers["Location"], allow_redirects=False, timeout=10)
    back = urlsplit(answer.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").headers["Location"] == "/t/lyon/"
    assert client.get("/t/lyon/").status_code == 200
