"""The README's recipes run as written: "Deploying a new municipality" executed verbatim by
bash, without a terminal, on a fresh SQLite database; then the PostgreSQL recipe followed by
the same municipality recipe on a throwaway PostgreSQL cluster of the test's own (initdb in
a temporary folder, its own port; never the shared server). Each ends with the new city's
manager signing in (CSRF on) and ``GET /api/v1/me`` with the token the recipe printed."""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from core.app import create_app
from core.db import db

ROOT = Path(__file__).resolve().parents[1]
MANAGER_PASSWORD = "Lyon-responsable-2026"  # noqa: S105 - typed into the recipe's `read`
OPERATOR_PASSWORD = "Operateur-plateforme-2026"  # noqa: S105
STDIN = f"{MANAGER_PASSWORD}\n{OPERATOR_PASSWORD}\n"


def recipe(name: str) -> str:
    """The ```sh block following ``<!-- recipe: name`` in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"<!-- recipe: {name}")
    return re.search(r"```sh\n(.*?)```", text[start:], re.S).group(1)


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CCAS_", "PG", "VIRTUAL_ENV"))}
    env.update(extra)
    return env


def _folder_with_venv(folder: Path) -> Path:
    """A folder whose ``.venv`` is the environment running the tests: the recipe's
    ``. .venv/bin/activate`` then works as from the repository's folder."""
    venv = Path(sys.prefix)
    if not (venv / "bin" / "activate").is_file():
        pytest.skip(f"the tests do not run in a virtual environment ({venv})")
    (folder / ".venv").symlink_to(venv)
    return folder


def run_recipe(script: str, folder: Path, env: dict) -> str:
    path = folder / "recipe.sh"
    path.write_text(script, encoding="utf-8")
    result = subprocess.run(["bash", "-e", str(path)], cwd=folder, env=env, input=STDIN,  # noqa: S603, S607
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"recipe failed:\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def printed_token(output: str) -> str:
    lines = output.splitlines()
    at = next(i for i, line in enumerate(lines) if "Conservez-le" in line)
    return lines[at + 1].strip()


def check_the_city_works(url: str, output: str) -> None:
    app = create_app({"CCAS_ENV": "test", "SECRET_KEY": "recipe-test",
                      "CCAS_DATABASE_URL": url, "CCAS_DATABASE_OWNER_URL": url,
                      "WTF_CSRF_ENABLED": True, "CCAS_LOG_LEVEL": "WARNING"})
    try:
        client = app.test_client()
        page = client.get("/t/lyon/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
        r = client.post("/t/lyon/login", data={"email": "responsable@ccas-lyon.fr",
                                               "password": MANAGER_PASSWORD,
                                               "csrf_token": csrf})
        assert r.status_code == 302, r.get_data(as_text=True)[:2000]
        home = client.get(r.headers["Location"])
        assert home.status_code == 200
        assert "Camille Responsable" in home.get_data(as_text=True)
        token = printed_token(output)
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200, me.get_data(as_text=True)
        body = me.get_json()
        assert body["email"] == "referent@caf69.fr" and body["tenant"]["slug"] == "lyon"
        assert body["organisation"]["name"] == "CAF du Rhône"
    finally:
        db.dispose_url(url)


def test_the_municipality_recipe_runs_as_written_on_sqlite(tmp_path):
    folder = _folder_with_venv(tmp_path)
    url = f"sqlite:///{tmp_path / 'ccas.sqlite3'}"
    output = run_recipe(recipe("deploy"), folder, _clean_env(CCAS_DATABASE_URL=url))
    assert "Territoire créé : lyon" in output
    assert "outbox.drain" in output  # the worker ran its jobs once
    check_the_city_works(url, output)


# -- PostgreSQL: a cluster of the test's own ---------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@pytest.fixture
def throwaway_cluster():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    initdb = shutil.which("initdb") or (found[-1] if found else None)
    if initdb is None:
        pytest.skip("initdb not found (PostgreSQL server binaries not installed)")
    bindir = Path(initdb).parent
    if os.geteuid() == 0:
        try:
            server_user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a 'postgres' user to run the cluster")
    folder = Path(tempfile.mkdtemp(prefix="ccas-recipe-pg-"))
    folder.chmod(0o755)
    data, sockets = folder / "data", folder / "sockets"
    for sub in (data, sockets):
        sub.mkdir()
        if os.geteuid() == 0:
            os.chown(sub, server_user.pw_uid, server_user.pw_gid)
    port = _free_port()
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run(_as_server_user([str(initdb), "-D", str(data), "-U", "postgres", "-A", "trust",  # noqa: S603
                                    "--no-sync", "-E", "UTF8"]),
                   check=True, capture_output=True, timeout=120)
    subprocess.run(_as_server_user([*pg_ctl, "-w", "-l", str(data / "log"), "-o",  # noqa: S603
                                    f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 "
                                    "-c fsync=off", "start"]),
                   check=True, capture_output=True, timeout=120)
    try:
        yield {"PGHOST": "127.0.0.1", "PGPORT": str(port), "PGUSER": "postgres",
               "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    finally:
        subprocess.run(_as_server_user([*pg_ctl, "-m", "immediate", "stop"]),  # noqa: S603
                       capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def test_the_postgresql_recipe_then_the_municipality_recipe(tmp_path, throwaway_cluster):
    folder = _folder_with_venv(tmp_path)
    script = recipe("postgresql") + recipe("deploy")
    output = run_recipe(script, folder, _clean_env(**throwaway_cluster))
    assert "Territoire créé : lyon" in output
    port = throwaway_cluster["PGPORT"]
    # the application's role, as the recipe set it up (not the owner: RLS applies)
    check_the_city_works(f"postgresql+psycopg://ccas_app@127.0.0.1:{port}/ccas", output)
