"""The ``ccas`` command. French for everything a person reads (help, messages, errors,
click's own words: ``core.click_french``); exit code 1 on user error; no tracebacks.

The command group loads what it runs, as Flask's ``FlaskGroup`` does: each core command
lives in a module of this package named in :data:`COMMANDS` and is imported only when
it is listed (``ccas --help``) or run; the plugins' commands (hook
``ccas_cli_commands``) are loaded the same way, a broken plugin only losing its own
commands. Adding a core command is one line in :data:`COMMANDS`.

A plugin extends a core group by returning a ``click.Group`` of the same name: its
subcommands join the core's (``ccas import loans`` from the lender plugin beside the
core's ``ccas import cases``); a core subcommand keeps its name.
"""

from __future__ import annotations

import importlib
import logging

import click

from .. import click_french
from ..plugins import PluginRegistry

click_french.install()

log = logging.getLogger(__name__)

#: ``{command name: "module:attribute"}`` of the core's commands.
COMMANDS: dict[str, str] = {
    "db": "core.cli.admin:db",
    "tenant": "core.cli.admin:tenant",
    "org": "core.cli.admin:org",
    "user": "core.cli.admin:user",
    "idp": "core.cli.identity:idp_group",
    "operator": "core.cli.admin:operator",
    "token": "core.cli.admin:token",
    "plugins": "core.cli.plugin_admin:plugins_group",
    "plugin": "core.cli.plugin_admin:plugin_group",
    "serve": "core.cli.serve:serve",
    "demo": "core.cli.serve:demo",
    "appointments": "core.cli.appointments:appointments_cli",
    "report": "core.cli.reports:report",
    "import": "core.cli.reports:import_group",
    "loan": "core.cli.loans:loan",
    "outbox": "core.cli.outbox:outbox_group",
    "referrals": "core.cli.outbox:referrals_group",
    "backup": "core.cli.backup:backup_group",
    "purge": "core.cli.privacy:purge_command",
    "worker": "core.cli.worker:worker",
}


class CcasGroup(click.Group):
    """Resolves the core's commands and the plugins' commands when they are needed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._plugin_commands: dict[str, click.Command] | None = None
        self._plugin_subcommands: dict[str, list[click.Command]] = {}

    def list_commands(self, ctx) -> list[str]:
        return sorted({*self.commands, *COMMANDS, *self.plugin_commands()})

    def get_command(self, ctx, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        if name in COMMANDS:
            module, _, attribute = COMMANDS[name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            if isinstance(command, click.Group):
                self.plugin_commands()
                for extra in self._plugin_subcommands.get(name, []):
                    if extra.name not in command.commands:
                        command.add_command(extra)
            return command
        return self.plugin_commands().get(name)

    def plugin_commands(self) -> dict[str, click.Command]:
        """The installed plugins' commands (``ccas_cli_commands``), loaded once."""
        if self._plugin_commands is None:
            registry = PluginRegistry()
            registry.load_entry_points()
            found = registry.hook("ccas_cli_commands").answers()
            for name in found.failed:
                log.error("the commands of plugin %s are unavailable", name)
            self._plugin_commands = {}
            for command in found.flat():
                if command.name not in COMMANDS:
                    self._plugin_commands[command.name] = command
                elif isinstance(command, click.Group):  # extends a core group
                    self._plugin_subcommands.setdefault(command.name, []).extend(
                        command.commands.values())
        return self._plugin_commands


@click.group(cls=CcasGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ccas-network")
def main():
    """ccas-network : micro-crédit personnel accompagné, pour les CCAS et leurs partenaires.

    Aide d'une commande : ccas COMMANDE --help. Sans terminal, les mots de passe se
    donnent sur l'entrée standard (--password-stdin)."""
