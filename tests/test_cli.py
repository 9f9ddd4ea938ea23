"""The ``ccas`` command: every subcommand answers --help; bad input exits 1 cleanly."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from core.cli import main


def _all_commands(group, prefix=()):
    import click

    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))


COMMANDS = list(_all_commands(main))


def test_the_core_and_the_plugins_commands_are_listed():
    assert ("loan", "schedule") in COMMANDS and ("plugins", "list") in COMMANDS
    assert ("credit-municipal", "arrears") in COMMANDS  # a plugin's command


@pytest.mark.parametrize("path", COMMANDS)
def test_every_command_has_help(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Utilisation :" in result.output


ENGLISH = re.compile(r"\b(the|and|with|of|from|for|to|is|are|this|by)\b")


def _command(path):
    import click

    command = main
    for name in path:
        command = command.get_command(click.Context(command), name)
    return command


@pytest.mark.parametrize("path", COMMANDS)
def test_every_command_speaks_french(path):
    """docs/development.md: the ``ccas`` command is French for whatever a person reads."""
    command = _command(path)
    texts = [command.help or ""] + [param.help or "" for param in command.params
                                    if getattr(param, "help", None)]
    english = [t for t in texts if ENGLISH.search(t)]
    assert english == [], f"ccas {' '.join(path)}: help in English: {english}"
    result = CliRunner().invoke(main, [*path, "--help"])
    assert "Show this message" not in result.output


def test_the_command_group_loads_nothing_it_does_not_run():
    """``import core.cli`` (what the ``ccas`` script does first) builds no application and
    imports no command module: each is loaded when listed or run."""
    import subprocess
    import sys

    code = ("import sys, core.cli; "
            "print(sorted(m for m in sys.modules if m.startswith(('core.app', 'core.cli.', "
            "'plugins.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_db_upgrade_is_idempotent(ccas):
    assert ccas("db", "upgrade").exit_code == 0
    assert ccas("db", "upgrade").exit_code == 0


def test_tenant_create_then_duplicate_slug_is_refused(ccas):
    r = ccas("tenant", "create", "lyon", "--name", "CCAS de Lyon", "--city", "Lyon")
    assert r.exit_code == 0 and "lyon" in r.output
    r = ccas("tenant", "create", "lyon", "--name", "Autre")
    assert r.exit_code == 1 and "existe déjà" in r.output
    assert "Traceback" not in r.output
    r = ccas("tenant", "list")
    assert r.output.count("lyon") == 1


@pytest.mark.parametrize("slug", ["Lyon", "a", "9lyon", "lyon_2", "x" * 50])
def test_bad_slug_is_refused(ccas, slug):
    r = ccas("tenant", "create", slug, "--name", "X")
    assert r.exit_code == 1 and "Identifiant invalide" in r.output


def test_bad_timezone_is_refused(ccas):
    r = ccas("tenant", "create", "nice", "--name", "Nice", "--timezone", "Mars/Olympus")
    assert r.exit_code == 1 and "Fuseau horaire inconnu" in r.output


def test_user_and_token_lifecycle(ccas, client):
    ccas("tenant", "create", "lyon", "--name", "CCAS de Lyon", "--city", "Lyon")
    r = ccas("org", "create", "--tenant", "lyon", "--name", "CAF du Rhône", "--kind", "aid_fund")
    assert r.exit_code == 0
    r = ccas("user", "create", "--tenant", "lyon", "--email", "Ref@Caf.fr", "--role", "referrer",
             "--org", "CAF du Rhône", "--password-stdin", input="Un-mot-de-passe-long\n")
    assert r.exit_code == 0, r.output
    r = ccas("token", "create", "--tenant", "lyon", "--email", "ref@caf.fr", "--name", "portail")
    assert r.exit_code == 0
    token = r.output.strip().splitlines()[-1]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["email"] == "ref@caf.fr" and me["organisation"]["name"] == "CAF du Rhône"
    token_id = r.output.split()[1]
    assert ccas("token", "revoke", "--tenant", "lyon", token_id).exit_code == 0
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


@pytest.mark.parametrize(
    "args, message",
    [
        (("--role", "boss", "--org", "CCAS de Lyon"), "Rôle inconnu"),
        (("--role", "manager", "--org", "Nulle part"), "Organisation inconnue"),
    ],
)
def test_bad_user_input_is_refused_and_nothing_written(ccas, args, message, session):
    ccas("tenant", "create", "lyon", "--name", "CCAS de Lyon", "--city", "Lyon")
    r = ccas("user", "create", "--tenant", "lyon", "--email", "a@b.fr", *args,
             "--password-stdin", input="Un-mot-de-passe-long\n")
    assert r.exit_code == 1 and message in r.output
    assert ccas("token", "create", "--tenant", "lyon", "--email", "a@b.fr").exit_code == 1


def test_weak_password_is_refused(ccas):
    ccas("tenant", "create", "lyon", "--name", "CCAS de Lyon", "--city", "Lyon")
    r = ccas("user", "create", "--tenant", "lyon", "--email", "a@b.fr", "--role", "manager",
             "--org", "CCAS de Lyon", "--password-stdin", input="court\n")
    assert r.exit_code == 1 and "au moins 10 caractères" in r.output


@pytest.mark.parametrize("password", ["azertyuiop1", "Marseille13!", "1qaz2wsx3edc"])
def test_a_common_password_is_refused_by_user_create(ccas, password):
    """Issue 18, finding 5: the list of common passwords (zxcvbn) and French words."""
    ccas("tenant", "create", "lyon", "--name", "CCAS de Lyon", "--city", "Lyon")
    r = ccas("user", "create", "--tenant", "lyon", "--email", "a@b.fr", "--role", "manager",
             "--org", "CCAS de Lyon", "--password-stdin", input=password + "\n")
    assert r.exit_code == 1 and "trop courant" in r.output


def test_unknown_org_kind_and_tenant(ccas):
    r = ccas("org", "create", "--tenant", "nowhere", "--name", "X", "--kind", "ccas")
    assert r.exit_code == 1 and "Aucun territoire" in r.output
    ccas("tenant", "create", "lyon", "--name", "CCAS de Lyon")
    r = ccas("org", "create", "--tenant", "lyon", "--name", "X", "--kind", "bank")
    assert r.exit_code == 1 and "Type d'organisation inconnu" in r.output


def test_plugins_enable_disable_and_settings(ccas):
    ccas("tenant", "create", "lyon", "--name", "CCAS de Lyon")
    assert ccas("plugins", "enable", "--tenant", "lyon", "caf").exit_code == 0
    r = ccas("plugins", "list", "--tenant", "lyon")
    assert "caf\t0.2.0\tCAF\tactivée" in r.output
    assert "adie\t0.2.0\tADIE\tdésactivée" in r.output
    r = ccas("plugins", "enable", "--tenant", "lyon", "nope")
    assert r.exit_code == 1 and "Extension inconnue" in r.output
    r = ccas("plugins", "settings", "--tenant", "lyon", "credit_municipal",
             "--set", "annual_rate=abc")
    assert r.exit_code == 1 and "annual_rate" in r.output
    r = ccas("plugins", "settings", "--tenant", "lyon", "credit_municipal",
             "--set", "annual_rate=2.5", "--set", "max_months=24")
    assert r.exit_code == 0 and '"annual_rate": "2.50"' in r.output
    r = ccas("plugins", "settings", "--tenant", "lyon", "credit_municipal")
    assert '"max_months": 24' in r.output
    assert ccas("plugins", "disable", "--tenant", "lyon", "caf").exit_code == 0
    assert "caf\t0.2.0\tCAF\tdésactivée" in ccas("plugins", "list", "--tenant", "lyon").output


def test_demo_is_idempotent_and_prints_logins(ccas, client):
    first = ccas("demo")
    assert first.exit_code == 0, first.output
    assert "responsable@ccas-toulouse.demo" in first.output
    second = ccas("demo")
    assert second.exit_code == 0
    r = ccas("plugins", "list", "--tenant", "toulouse")
    enabled = sorted(line.split("\t")[0] for line in r.output.splitlines()
                     if line.endswith("\tactivée"))
    # the demo city runs the four partners of the seed and declares its own aids
    assert enabled == ["adie", "caf", "city_aids", "credit_municipal", "secours_catholique"]
    r = client.post("/t/toulouse/login",
                    data={"email": "as@ccas-toulouse.demo", "password": "demo-ccas-2026"})
    assert r.status_code == 302
