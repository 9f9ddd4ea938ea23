"""``ccas plugin new``: the scaffolded plugin installs in a fresh virtual environment,
shows in the plugin list, can be enabled for a tenant and passes its own tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.cli import main
from core.errors import UserError
from core.plugins import scaffold

ROOT = Path(__file__).resolve().parents[1]


def test_the_scaffold_has_an_entry_point_plugin_settings_templates_tests_and_readme():
    files = scaffold.render("udaf")
    assert set(files) == {
        "pyproject.toml", "README.md", "ccas_udaf/__init__.py", "ccas_udaf/settings.py",
        "ccas_udaf/templates/udaf/index.html", "tests/__init__.py", "tests/test_plugin.py",
    }
    project = tomllib.loads(files["pyproject.toml"])
    assert project["project"]["entry-points"]["ccas_network.plugins"] == {"udaf": "ccas_udaf"}
    plugin = files["ccas_udaf/__init__.py"]
    for hook in ("ccas_plugin_info", "ccas_suggest_alternatives", "ccas_report_sections"):
        assert f"def {hook}(" in plugin
    assert "from core.plugin_api import" in plugin and "# " in plugin
    compile(plugin, "plugin", "exec")
    compile(files["tests/test_plugin.py"], "tests", "exec")


def test_a_bad_name_is_refused():
    for bad in ("Udaf", "u", "1udaf", "udaf-x", ""):
        with pytest.raises(UserError):
            scaffold.render(bad)


def test_the_command_writes_the_project_and_refuses_to_overwrite(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["plugin", "new", "udaf", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ccas-plugin-udaf" / "ccas_udaf" / "__init__.py").is_file()
    again = runner.invoke(main, ["plugin", "new", "udaf", "--output", str(tmp_path)])
    assert again.exit_code == 1 and "existe déjà" in again.output


def _run(args, cwd, env):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=900, check=False)
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def test_a_scaffolded_plugin_installs_in_a_fresh_venv_lists_enables_and_passes_its_tests(
        tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python, ccas = str(bin_dir / "python"), str(bin_dir / "ccas")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CCAS_", "PYTHON", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    if os.environ.get("CCAS_TEST_POSTGRES_URL"):
        env["CCAS_TEST_POSTGRES_URL"] = os.environ["CCAS_TEST_POSTGRES_URL"]
    pip = [python, "-m", "pip", "install", "-q"]
    _run([*pip, "-e", str(ROOT), "pytest>=8", "setuptools>=68", "wheel"], tmp_path, env)

    _run([ccas, "plugin", "new", "demo_partner", "--output", str(tmp_path)], tmp_path, env)
    project = tmp_path / "ccas-plugin-demo-partner"
    _run([*pip, "--no-build-isolation", "--no-deps", "-e", str(project)], tmp_path, env)

    env["CCAS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'ccas.sqlite3'}"
    listed = _run([ccas, "plugins", "list"], tmp_path, env)
    assert "demo_partner\t0.1.0\tDEMO PARTNER" in listed
    _run([ccas, "db", "upgrade"], tmp_path, env)
    _run([ccas, "tenant", "create", "lyon", "--name", "CCAS de Lyon"], tmp_path, env)
    _run([ccas, "plugins", "enable", "--tenant", "lyon", "demo_partner"], tmp_path, env)
    listed = _run([ccas, "plugins", "list", "--tenant", "lyon"], tmp_path, env)
    assert "demo_partner\t0.1.0\tDEMO PARTNER\tactivée" in listed

    del env["CCAS_DATABASE_URL"]
    output = _run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, env)
    assert "5 passed" in output
