"""Plugin manager: discovery by entry point, compatibility, per-tenant enablement.

One entry-point group, ``ccas_network.plugins``, for built-in and third-party plugins
alike. Per-tenant enablement lives here only: :func:`hooks` returns a caller that asks
only the plugins enabled for the current tenant, and the same check guards each plugin's
routes (``core.app``) and CLI commands (``core.plugin_api.tenant_command``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy
from flask import g, has_app_context
from marshmallow import Schema, ValidationError
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version
from sqlalchemy import select

from .. import __version__, hookspecs, tenancy
from .types import PluginInfo

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ccas_network.plugins"

#: Core modules implementing hooks for core features (always on, never listed).
INTERNAL_HOOK_MODULES: list[str] = ["core.features.accompaniment"]


class PluginError(Exception):
    """A user-facing plugin problem (unknown plugin, invalid settings…)."""

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


@dataclass
class LoadedPlugin:
    name: str
    module: Any
    info: PluginInfo | None
    refused: str | None = None  # why the plugin is installed but not usable

    @property
    def usable(self) -> bool:
        return self.refused is None


class PluginRegistry:
    """The installed plugins of this process (all tenants)."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("ccas")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, LoadedPlugin] = {}
        self._subset_cache: dict[frozenset[str], _TenantHooks] = {}

    # -- discovery ---------------------------------------------------------------------

    def load_internal(self) -> None:
        """Register every core module listed in ``INTERNAL_HOOK_MODULES``."""
        import importlib

        for module_name in INTERNAL_HOOK_MODULES:
            self.register_internal(importlib.import_module(module_name), module_name)

    def load_entry_points(self) -> None:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self.plugins:
                continue
            try:
                module = ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the core
                log.exception("plugin %s failed to import", ep.name)
                self.plugins[ep.name] = LoadedPlugin(ep.name, None, None, f"import error: {exc}")
                continue
            self.register(module, ep.name)

    def register(self, module: ModuleType | object, name: str | None = None) -> LoadedPlugin:
        """Register a plugin object (module or instance) after checking it."""
        info = self._info_of(module)
        name = name or (info.name if info else getattr(module, "__name__", "plugin"))
        refused = self._refusal(name, info)
        loaded = LoadedPlugin(name, module, info, refused)
        self.plugins[name] = loaded
        if refused:
            log.error("plugin %s refused: %s", name, refused)
            return loaded
        self.pm.register(module, name=name)
        # A typo in a hook name must fail loudly, not be silently ignored.
        self.pm.check_pending()
        self._subset_cache.clear()
        return loaded

    def register_internal(self, obj, name: str) -> None:
        """Register a core feature's hook implementations (e.g. accompaniment reacting to
        ``ccas_loan_event``). Internal implementations are always called, whatever the
        tenant enabled, and are not listed as plugins."""
        if self.pm.get_plugin(name) is None:
            self.pm.register(obj, name=name)
            self.pm.check_pending()
            self._subset_cache.clear()

    def unregister(self, name: str) -> None:
        loaded = self.plugins.pop(name, None)
        if loaded and loaded.usable:
            self.pm.unregister(name=name)
        self._subset_cache.clear()

    @staticmethod
    def _info_of(module) -> PluginInfo | None:
        fn = getattr(module, "ccas_plugin_info", None)
        if fn is None:
            return None
        try:
            return fn()
        except Exception:  # noqa: BLE001
            log.exception("plugin %r: ccas_plugin_info raised", module)
            return None

    @staticmethod
    def _refusal(name: str, info: PluginInfo | None) -> str | None:
        if info is None:
            return "no ccas_plugin_info() hook: metadata missing"
        if info.name != name:
            return f"entry point name {name!r} differs from plugin name {info.name!r}"
        try:
            spec = SpecifierSet(info.core_requires)
        except InvalidSpecifier:
            return f"invalid core_requires {info.core_requires!r}"
        if Version(__version__) not in spec:
            return (
                f"requires ccas-network {info.core_requires}, this core is {__version__}"
            )
        schema = info.settings_schema
        if schema is not None:
            try:
                schema().load({})
            except ValidationError as exc:
                return f"settings schema has fields without defaults: {exc.messages}"
        return None

    # -- queries -----------------------------------------------------------------------

    def usable(self) -> dict[str, LoadedPlugin]:
        return {n: p for n, p in self.plugins.items() if p.usable}

    def get(self, name: str) -> LoadedPlugin:
        plugin = self.plugins.get(name)
        if plugin is None:
            known = ", ".join(sorted(self.plugins)) or "aucun"
            raise PluginError(f"Extension inconnue : {name!r} (installées : {known}).")
        if not plugin.usable:
            raise PluginError(f"Extension {name!r} inutilisable : {plugin.refused}.")
        return plugin

    def hook_results_by_plugin(self, hook_name: str, **kwargs) -> dict[str, Any]:
        """Call a plugin-level hook on every usable plugin, keyed by plugin name."""
        out: dict[str, Any] = {}
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            args = {k: v for k, v in kwargs.items() if k in impl.argnames}
            out[impl.plugin_name] = impl.function(**args)
        return out

    def hooks_for(self, enabled: frozenset[str]) -> _TenantHooks:
        """A hook caller restricted to ``enabled`` plugins."""
        cached = self._subset_cache.get(enabled)
        if cached is None:
            cached = _TenantHooks(self, enabled)
            self._subset_cache[enabled] = cached
        return cached

    # -- settings ----------------------------------------------------------------------

    def validate_settings(self, name: str, raw: dict) -> dict:
        """Validate ``raw`` with the plugin's schema; return the JSON-ready stored form."""
        schema_cls = self.get(name).info.settings_schema
        if schema_cls is None:
            if raw:
                raise PluginError(f"L'extension {name!r} n'a pas de réglages.")
            return {}
        schema: Schema = schema_cls()
        try:
            loaded = schema.load(raw)
        except ValidationError as exc:
            raise PluginError(
                "Réglages invalides : " + _format_errors(exc.messages), exc.messages
            ) from exc
        return schema.dump(loaded)

    def load_settings(self, name: str, stored: dict) -> dict:
        """Typed settings (Decimal, dates…) from the stored form, defaults filled in."""
        schema_cls = self.get(name).info.settings_schema
        if schema_cls is None:
            return {}
        schema = schema_cls()
        known = {k: v for k, v in (stored or {}).items() if k in schema.fields}
        return schema.load(known)


def _format_errors(messages) -> str:
    if isinstance(messages, dict):
        parts = []
        for field, msgs in messages.items():
            text = "; ".join(msgs) if isinstance(msgs, list) else _format_errors(msgs)
            parts.append(f"{field} : {text}")
        return " ; ".join(parts)
    return "; ".join(messages) if isinstance(messages, list) else str(messages)


class _TenantHooks:
    """``hooks().ccas_xxx(...)`` asks only the enabled plugins."""

    def __init__(self, registry: PluginRegistry, enabled: frozenset[str]):
        self._registry = registry
        self._enabled = enabled
        self._callers: dict[str, Any] = {}

    @property
    def enabled(self) -> frozenset[str]:
        return self._enabled

    def __getattr__(self, hook_name: str):
        if not hook_name.startswith("ccas_"):
            raise AttributeError(hook_name)
        caller = self._callers.get(hook_name)
        if caller is None:
            pm = self._registry.pm
            disabled = [
                pm.get_plugin(n)
                for n, p in self._registry.plugins.items()
                if p.usable and n not in self._enabled
            ]
            caller = pm.subset_hook_caller(hook_name, remove_plugins=[p for p in disabled if p])
            self._callers[hook_name] = caller
        return caller


# ------------------------------------------------------------------------------------
# Per-tenant state (database)
# ------------------------------------------------------------------------------------


def registry() -> PluginRegistry:
    from flask import current_app

    return current_app.extensions["ccas_plugins"]


def enabled_plugins(session=None) -> frozenset[str]:
    """Names of the usable plugins enabled for the current tenant (cached per request)."""
    from ..db import db
    from ..models import PluginState

    tenant_id = tenancy.current_tenant_id()
    if tenant_id is None:
        return frozenset()
    cache_key = f"ccas_enabled_{tenant_id}"
    if has_app_context() and cache_key in g:
        return g.get(cache_key)
    session = session or db.session
    names = session.scalars(
        select(PluginState.plugin_name).where(PluginState.enabled.is_(True))
    ).all()
    usable = registry().usable()
    result = frozenset(n for n in names if n in usable)
    if has_app_context():
        g.setdefault(cache_key, result)
    return result


def forget_enabled_cache() -> None:
    tenant_id = tenancy.current_tenant_id()
    if has_app_context():
        g.pop(f"ccas_enabled_{tenant_id}", None)


def hooks():
    """THE hook caller of the core: only the current tenant's enabled plugins answer."""
    return registry().hooks_for(enabled_plugins())


def is_enabled(name: str) -> bool:
    return name in enabled_plugins()


def plugin_settings(name: str) -> dict:
    """Typed settings of plugin ``name`` for the current tenant (defaults filled in)."""
    from ..db import db
    from ..models import PluginState

    state = db.session.scalar(select(PluginState).where(PluginState.plugin_name == name))
    return registry().load_settings(name, state.settings if state else {})


def set_enabled(session, name: str, enabled: bool) -> Any:
    from ..models import PluginState

    registry().get(name)  # unknown or refused plugins raise PluginError
    state = session.scalar(select(PluginState).where(PluginState.plugin_name == name))
    if state is None:
        state = PluginState(plugin_name=name, enabled=enabled, settings={})
        session.add(state)
    state.enabled = enabled
    forget_enabled_cache()
    return state


def update_settings(session, name: str, changes: dict) -> dict:
    """Merge ``changes`` into the stored settings, validate all, store. Raises PluginError."""
    from ..models import PluginState

    reg = registry()
    reg.get(name)
    state = session.scalar(select(PluginState).where(PluginState.plugin_name == name))
    current = reg.validate_settings(name, state.settings if state else {})
    merged = {**current, **changes}
    stored = reg.validate_settings(name, merged)
    if state is None:
        state = PluginState(plugin_name=name, enabled=False, settings=stored)
        session.add(state)
    state.settings = stored
    return stored
