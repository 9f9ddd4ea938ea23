"""Calling a hook: one way, two policies (pretix's ``send`` / ``send_robust``).

Every hook declares its policy in ``core/hookspecs.py``:

* **deciding** hooks (checks, vetoes, validation, reactions written in the same
  transaction): a plugin that raises stops the action. A ``UserError`` it raises reaches
  the user as it is (its own French message); any other exception becomes
  :class:`PluginFailure` (a ``UserError``, 503) naming the plugin. The caller rolls
  back: nothing is written.
* **decorating** hooks (menu entries, panels, dashboard blocks, report sections,
  suggestions, destinations): a plugin that raises is logged with its name and its
  contribution is left out; the page still answers.

:class:`Hook` applies the policy, passes each implementation only the arguments it takes
(a hook grows by adding arguments), adds ``tenant`` and ``session`` when the hook takes
them and the caller did not give them, and knows which plugin answered what.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import UserError
from ..hookspecs import DECIDING, DECORATING

log = logging.getLogger("core.plugins")

__all__ = ["DECIDING", "DECORATING", "Answers", "Hook", "PluginFailure"]


class PluginFailure(UserError):
    """A plugin raised in a deciding hook: the action is refused and nothing is written."""

    def __init__(self, plugin: str, label: str, hook: str):
        super().__init__(
            f"{label} : erreur de l'extension, l'action est refusée (rien n'a été "
            "enregistré). Réessayez plus tard ou prévenez l'administrateur.",
            status=503,
            message_en=f"Plugin {plugin} failed in {hook}: nothing was written.",
        )
        self.plugin = plugin
        self.hook = hook


@dataclass
class Answers:
    """What the plugins answered: ``results`` pairs each non-``None`` result with the
    plugin's name, in call order; ``failed`` names the plugins that raised in a decorating
    hook (their contribution is left out)."""

    results: list[tuple[str, Any]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def values(self) -> list:
        return [value for _plugin, value in self.results]

    def flat(self) -> list:
        """The results of hooks answering lists, as one list (``None`` answers skipped)."""
        return [item for _plugin, value in self.results for item in (value or [])]


class Hook:
    """One hook as the core calls it: ``hook(**kwargs)`` gives the list of results (the
    first result for a first-result hook); ``hook.answers(**kwargs)`` also names who
    answered. ``caller`` is pluggy's (sub)set caller of the hook; ``label`` gives a
    plugin's French label for messages; ``context`` gives the current ``tenant`` and
    ``session`` (added when the hook takes them and they are not passed)."""

    def __init__(self, name: str, caller, label: Callable[[str], str],
                 context: Callable[[], dict] | None = None):
        spec = caller.spec
        if spec is None:
            raise AttributeError(f"unknown hook {name!r}")
        self.name = name
        self._caller = caller
        self._label = label
        self._context = context
        self.policy = getattr(spec.function, "ccas_policy", None)
        if self.policy not in (DECIDING, DECORATING):
            raise TypeError(f"hook {name} declares no policy (deciding or decorating)")
        self.firstresult = bool(spec.opts.get("firstresult"))
        self.argnames = tuple(spec.argnames)
        self._argset = frozenset(self.argnames)
        self._context_args = frozenset({"tenant", "session"} & self._argset)

    def implementations(self) -> list:
        """pluggy's implementations in call order (``tryfirst`` first)."""
        return list(reversed(self._caller.get_hookimpls()))

    def plugins(self) -> list[str]:
        return [impl.plugin_name for impl in self.implementations()]

    def _arguments(self, kwargs: dict) -> dict:
        unknown = kwargs.keys() - self._argset
        if unknown:
            raise TypeError(f"{self.name}() got unexpected arguments {sorted(unknown)}")
        wanted = self._context_args - kwargs.keys()
        if wanted and self._context is not None:
            context = self._context()
            kwargs = {**{k: context.get(k) for k in wanted}, **kwargs}
        return kwargs

    def answers(self, **kwargs) -> Answers:
        kwargs = self._arguments(kwargs)
        out = Answers()
        for impl in self.implementations():
            args = {k: v for k, v in kwargs.items() if k in impl.argnames}
            try:
                result = impl.function(**args)
            except UserError:
                # A deciding hook may refuse with its own message for the user.
                if self.policy == DECIDING:
                    raise
                log.exception("plugin %s failed in %s", impl.plugin_name, self.name)
                out.failed.append(impl.plugin_name)
                continue
            except Exception as exc:
                log.exception("plugin %s failed in %s", impl.plugin_name, self.name)
                if self.policy == DECIDING:
                    raise PluginFailure(impl.plugin_name, self._label(impl.plugin_name),
                                        self.name) from exc
                out.failed.append(impl.plugin_name)
                continue
            if result is not None:
                out.results.append((impl.plugin_name, result))
                if self.firstresult:
                    break
        return out

    def __call__(self, **kwargs):
        answers = self.answers(**kwargs)
        if self.firstresult:
            return answers.results[0][1] if answers.results else None
        return answers.values()

    def __repr__(self) -> str:
        return f"<Hook {self.name} ({self.policy}) {self.plugins()}>"
