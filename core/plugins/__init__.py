"""The plugin manager: discovery by entry point, the core's internal plugins,
compatibility, per-tenant enablement, and the one way the core calls a hook.

One pluggy manager holds everything that extends the core:

* the partner plugins, found under the entry-point group ``ccas_network.plugins``
  (built-in and third-party alike), each enabled per tenant;
* the core's own features, registered as always-on **internal plugins**
  (:data:`INTERNAL_PLUGINS`, as datasette's default plugins): the accompaniment reacting
  to a loan's events, the documents checklist created on a transition, the menu entries
  and case-page blocks of the core's pages… They implement the same hooks.

Per-tenant enablement lives here only: :func:`hooks` returns a caller that asks only the
internal plugins and the plugins enabled for the current tenant, and the same check
guards each plugin's routes (``core.app``) and CLI commands
(``core.plugin_api.tenant_command``). Each hook is called with its declared policy
(``core.plugins.calling``). A plugin that fails to import, to declare its hooks or its
workflow, or whose blueprints fail to register is refused: the platform starts without
it, ``ccas plugins list`` and ``/readyz`` say why.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy
from flask import current_app, g, has_app_context
from marshmallow import Schema, ValidationError
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect

from .. import __version__, hookspecs, tenancy
from ..db import db
from ..models import Case, PluginState, Tenant
from ..workflow.definitions import CaseWorkflow, Workflow, WorkflowError, merge
from .calling import Hook
from .types import PluginInfo

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "ccas_network.plugins"

#: The core's features that implement hooks, always on, never listed as plugins, in
#: registration order: ``{module: French label}`` (the label names the feature in a
#: failure message).
INTERNAL_PLUGINS: dict[str, str] = {
    "core.features.accompaniment": "Accompagnement",
    "core.features.documents": "Pièces à fournir",
    "core.features.suggestions": "Autres aides d'abord",
    "core.features.evaluation": "Évaluation",
    "core.referrals": "Orientations",
    "core.outbox.notifications": "Notifications",
    "core.web.cases": "Dossiers",
    "core.web.dashboards": "Tableau de bord",
    "core.web.documents": "Pièces à fournir",
    "core.web.household": "Foyer",
    "core.web.synthesis": "Synthèse",
    "core.web.notice": "Information de la personne",
    "core.web.appointments": "Rendez-vous",
    "core.web.suggestions": "Autres aides d'abord",
    "core.web.accompaniment": "Accompagnement",
    "core.web.workshops": "Ateliers budget",
    "core.web.staff_time": "Temps de travail",
    "core.web.referrals": "Orientations",
    "core.web.reports": "Bilans",
    "core.web.imports": "Reprise d'historique",
    "core.web.privacy": "Données personnelles",
    "core.web.audit": "Journal d'audit",
    "core.web.account": "Compte",
    "core.web.identity": "Connexion et identité",
    "core.web.views": "Administration",
    "core.worker.jobs": "Tâches planifiées",
    "core.web.administration": "Administration",
}


class PluginError(Exception):
    """A user-facing plugin problem (unknown plugin, invalid settings, a disabling refused
    while cases sit in the plugin's states…); ``status`` for a web answer."""

    def __init__(self, message: str, errors: dict | None = None, status: int = 422):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.status = status


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
    """The installed plugins of this process (all tenants) and the core's features."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("ccas")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, LoadedPlugin] = {}
        self.internal: dict[str, str] = {}
        self._subset_cache: dict[frozenset[str], _TenantHooks] = {}
        self._workflows: dict[frozenset[str], Workflow] = {}
        self._parts: dict[str, CaseWorkflow] = {}
        #: Values computed from the plugins (the labels…), forgotten when they change.
        self.derived: dict[str, Any] = {}

    # -- discovery ---------------------------------------------------------------------

    def load_internal(self) -> None:
        """Register every module of :data:`INTERNAL_PLUGINS`."""
        for module_name, label in INTERNAL_PLUGINS.items():
            self.register_internal(importlib.import_module(module_name), module_name, label)

    def load_entry_points(self) -> None:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self.plugins:
                continue
            try:
                module = ep.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the core
                log.exception("plugin %s failed to import", ep.name)
                self.plugins[ep.name] = LoadedPlugin(ep.name, None, None,
                                                     f"import error: {exc!r}")
                continue
            self.register(module, ep.name)

    def register(self, module: ModuleType | object, name: str | None = None) -> LoadedPlugin:
        """Register a plugin object (module or instance) after checking it; a plugin that
        does not fit is kept as refused (``LoadedPlugin.refused`` says why)."""
        info = self._info_of(module)
        name = name or (info.name if info else getattr(module, "__name__", "plugin"))
        loaded = LoadedPlugin(name, module, info, self._refusal(name, info))
        self.plugins[name] = loaded
        if loaded.refused:
            log.error("plugin %s refused: %s", name, loaded.refused)
            return loaded
        try:
            for specs in _own_hookspecs(module):
                self.pm.add_hookspecs(specs)
            self.pm.register(module, name=name)
            # A typo in a hook name must fail loudly, not be silently ignored.
            self.pm.check_pending()
            part = _workflow_part(module)
            merge([(name, part)] if part else [])
        except (pluggy.PluginValidationError, WorkflowError, ValueError, TypeError) as exc:
            self.refuse(name, f"{type(exc).__name__}: {exc}")
            return loaded
        if part is not None:
            self._parts[name] = part
        self._forget()
        return loaded

    def register_internal(self, obj, name: str, label: str = "") -> None:
        """Register a core feature's hook implementations: always called, whatever the
        tenant enabled, not listed as plugins."""
        if self.pm.get_plugin(name) is None:
            self.pm.register(obj, name=name)
            self.pm.check_pending()
            self.internal[name] = label or name
            self._forget()

    def refuse(self, name: str, reason: str) -> None:
        """Take plugin ``name`` out (it stays listed, with the reason)."""
        log.error("plugin %s refused: %s", name, reason)
        loaded = self.plugins.get(name)
        if loaded is not None:
            loaded.refused = reason
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        self._parts.pop(name, None)
        self._forget()

    def unregister(self, name: str) -> None:
        loaded = self.plugins.pop(name, None)
        if loaded and loaded.usable and self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        self._parts.pop(name, None)
        self._forget()

    def _forget(self) -> None:
        self.derived.clear()
        self._subset_cache.clear()
        self._workflows.clear()

    @staticmethod
    def _info_of(module) -> PluginInfo | None:
        fn = getattr(module, "ccas_plugin_info", None)
        if fn is None:
            return None
        try:
            return fn()
        except Exception:  # noqa: BLE001 - reported as a refusal
            log.exception("plugin %r: ccas_plugin_info raised", module)
            return None

    @staticmethod
    def _refusal(name: str, info: PluginInfo | None) -> str | None:
        if info is None:
            return "no ccas_plugin_info() hook (or it raised): metadata missing"
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

    def refused(self) -> dict[str, str]:
        """``{plugin name: why it is not loaded}``."""
        return {n: p.refused for n, p in self.plugins.items() if p.refused}

    def get(self, name: str) -> LoadedPlugin:
        plugin = self.plugins.get(name)
        if plugin is None:
            known = ", ".join(sorted(self.plugins)) or "aucun"
            raise PluginError(f"Extension inconnue : {name!r} (installées : {known}).",
                              status=404)
        if not plugin.usable:
            raise PluginError(f"Extension {name!r} inutilisable : {plugin.refused}.",
                              status=404)
        return plugin

    def is_internal(self, name: str) -> bool:
        return name in self.internal

    def label(self, name: str) -> str:
        """The French label of a plugin or a core feature, for messages."""
        if name in self.internal:
            return self.internal[name]
        plugin = self.plugins.get(name)
        return plugin.info.label if plugin and plugin.info else name

    def hook(self, hook_name: str) -> Hook:
        """A hook over every usable plugin and core feature, whatever the tenant: for the
        plugin-level hooks (blueprints, commands, personal data…)."""
        return Hook(hook_name, getattr(self.pm.hook, hook_name), self.label)

    def hooks_for(self, enabled: frozenset[str]) -> _TenantHooks:
        """A hook caller restricted to the core's features and the ``enabled`` plugins."""
        cached = self._subset_cache.get(enabled)
        if cached is None:
            cached = _TenantHooks(self, enabled)
            self._subset_cache[enabled] = cached
        return cached

    def workflow_for(self, enabled: frozenset[str]) -> Workflow:
        """The case workflow of a tenant that enabled ``enabled``."""
        cached = self._workflows.get(enabled)
        if cached is None:
            cached = merge([(n, p) for n, p in sorted(self._parts.items()) if n in enabled])
            self._workflows[enabled] = cached
        return cached

    def states_of(self, name: str) -> list[str]:
        """The codes of the states plugin ``name`` declares."""
        part = self._parts.get(name)
        return [s.code for s in part.states] if part else []

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
        return _copied(_loaded_settings(schema_cls, _settings_key(stored)))


@functools.cache
def _settings_schema(schema_cls):
    """One instance per settings schema (built once, reused by every load)."""
    return schema_cls()


#: Scalars shared as they are by :func:`_copied`, by exact type (no call for each).
_SHARED = frozenset({str, int, float, bool, Decimal, date, datetime, type(None)})


def _copied(value):
    """A copy of loaded settings deep enough that a caller's change never reaches the
    cache: containers copied, scalars (str, Decimal, dates…) immutable and shared. Read
    at each request that asks for a plugin's settings: the common shapes (a dict, a
    list of scalars) are copied without a call per scalar."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _SHARED else _copied(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _SHARED else _copied(v) for v in value]
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return type(value)(_copied(v) for v in value)
    return value if isinstance(value, str | int | float | bool | Decimal | date | None) \
        else copy.deepcopy(value)


def _settings_key(stored) -> str:
    """The stored settings (JSON from the database) as a key of :func:`_loaded_settings`."""
    return json.dumps(stored or {}, sort_keys=True, default=str)


@functools.lru_cache(maxsize=1024)
def _loaded_settings(schema_cls, key: str) -> dict:
    """Typed settings from their stored form, loaded once per distinct stored form: the
    load is a pure function of the schema and the JSON, and every request of every
    tenant read them (the enabled plugins' settings come with the enabled set). Callers
    get a deep copy (:meth:`PluginRegistry.load_settings`), never this dict."""
    schema = _settings_schema(schema_cls)
    stored = json.loads(key)
    known = {k: v for k, v in stored.items() if k in schema.fields}
    return schema.load(known)


def _own_hookspecs(module) -> list:
    fn = getattr(module, "ccas_hookspecs", None)
    return list(fn() or []) if fn is not None else []


def _workflow_part(module) -> CaseWorkflow | None:
    fn = getattr(module, "ccas_case_workflow", None)
    part = fn() if fn is not None else None
    if part is not None and not isinstance(part, CaseWorkflow):
        raise TypeError("ccas_case_workflow() must return a CaseWorkflow")
    return part


def _format_errors(messages) -> str:
    if isinstance(messages, dict):
        parts = []
        for field, msgs in messages.items():
            text = "; ".join(msgs) if isinstance(msgs, list) else _format_errors(msgs)
            parts.append(f"{field} : {text}")
        return " ; ".join(parts)
    return "; ".join(messages) if isinstance(messages, list) else str(messages)


def _request_context() -> dict:
    """What a tenant-level hook receives when the caller does not say: the request's (or
    the tenant command's) tenant and session."""
    ctx_g = _request_g()
    if ctx_g is None:
        return {}
    return {"tenant": ctx_g.get("tenant"), "session": db.session}


class _TenantHooks:
    """``hooks().ccas_xxx(...)``: the core's features and the enabled plugins answer."""

    def __init__(self, registry: PluginRegistry, enabled: frozenset[str]):
        self._registry = registry
        self._enabled = enabled
        self._hooks: dict[str, Hook] = {}

    @property
    def enabled(self) -> frozenset[str]:
        return self._enabled

    def __getattr__(self, hook_name: str) -> Hook:
        if not hook_name.startswith("ccas_"):
            raise AttributeError(hook_name)
        hook = self._hooks.get(hook_name)
        if hook is None:
            pm = self._registry.pm
            disabled = [
                pm.get_plugin(n)
                for n, p in self._registry.plugins.items()
                if p.usable and n not in self._enabled
            ]
            caller = pm.subset_hook_caller(hook_name, remove_plugins=[p for p in disabled if p])
            hook = Hook(hook_name, caller, self._registry.label, _request_context)
            self._hooks[hook_name] = hook
        return hook


# ------------------------------------------------------------------------------------
# Per-tenant state (database)
# ------------------------------------------------------------------------------------


def registry() -> PluginRegistry:
    return current_app.extensions["ccas_plugins"]


def _request_g():
    """Flask's ``g`` of the current app context (``None`` outside one), fetched once: each
    access through the ``g`` proxy costs a context lookup, and hooks run often."""
    return g._get_current_object() if has_app_context() else None


#: The current tenant's enabled plugins and their settings (tenant criteria added per
#: request by ``core.tenancy``), built once.
_ENABLED_QUERY = select(PluginState.plugin_name, PluginState.settings).where(
    PluginState.enabled.is_(True))


#: The enabled plugins of each tenant this process has served, under the tenant's
#: ``plugins_stamp`` (read with the tenant row every request reads anyway): ``{(tenant
#: id, stamp): ((name, stored settings), …)}``. Every change of a tenant's plugins sets
#: a new stamp, so a process never serves an old set: the next request reads the new
#: stamp and misses. Bounded; the oldest entries go first.
_ENABLED_BY_STAMP: dict[tuple[int, str], tuple[tuple[str, Any], ...]] = {}
_ENABLED_BY_STAMP_MAX = 4096


def _stamp_of(ctx_g, tenant_id: int) -> str | None:
    """The request's tenant's ``plugins_stamp``, when the request has read the tenant row
    of ``tenant_id`` (and not expired it): ``None`` otherwise (no cache then)."""
    tenant = ctx_g.get("tenant") if ctx_g is not None else None
    if tenant is None:
        return None
    loaded = sa_inspect(tenant).dict  # never a load: an expired value is absent
    if loaded.get("id") != tenant_id:
        return None
    return loaded.get("plugins_stamp")


def _enabled_rows(session, ctx_g, tenant_id: int) -> tuple[tuple[str, Any], ...]:
    """``(name, stored settings)`` of the plugins enabled for the tenant: from this
    process's cache when the tenant's stamp is known, from the database otherwise."""
    stamp = _stamp_of(ctx_g, tenant_id)
    key = (tenant_id, stamp)
    if stamp is not None:
        cached = _ENABLED_BY_STAMP.get(key)
        if cached is not None:
            return cached
    rows = tuple((name, stored) for name, stored in session.execute(_ENABLED_QUERY).all())
    if stamp is not None:
        if len(_ENABLED_BY_STAMP) >= _ENABLED_BY_STAMP_MAX:
            # the oldest entry; another thread of the worker may take it first
            with contextlib.suppress(RuntimeError, StopIteration):
                _ENABLED_BY_STAMP.pop(next(iter(_ENABLED_BY_STAMP)), None)
        _ENABLED_BY_STAMP[key] = rows
    return rows


def enabled_plugins(session=None) -> frozenset[str]:
    """Names of the usable plugins enabled for the current tenant (cached per request,
    and per process under the tenant's ``plugins_stamp``)."""
    tenant_id = tenancy.current_tenant_id()
    if tenant_id is None:
        return frozenset()
    cache_key = f"ccas_enabled_{tenant_id}"
    ctx_g = _request_g()
    if ctx_g is not None:
        cached = ctx_g.get(cache_key)
        if cached is not None:
            return cached
    # the stored settings come with the set: the hooks of a request usually read them next
    rows = _enabled_rows(session or db.session, ctx_g, tenant_id)
    usable = registry().usable()
    result = frozenset(n for n, _stored in rows if n in usable)
    if ctx_g is not None:
        ctx_g.setdefault(cache_key, result)
        stored = ctx_g.setdefault(f"ccas_stored_{tenant_id}", {})
        for name, settings in rows:
            stored.setdefault(name, settings)
    return result


def new_plugins_stamp(session) -> None:
    """Give the current tenant a new ``plugins_stamp`` (after a change of its plugins, in
    the same transaction): every process misses its cached set from the next request."""
    tenant = session.get(Tenant, tenancy.require_tenant_id())
    if tenant is not None:
        tenant.plugins_stamp = uuid.uuid4().hex


def forget_enabled_cache() -> None:
    """Forget the current tenant's enabled plugins, their settings and what was derived
    from them (:func:`per_request`) so far in this request (after a change)."""
    tenant_id = tenancy.current_tenant_id()
    if has_app_context():
        g.pop(f"ccas_enabled_{tenant_id}", None)
        g.pop(f"ccas_settings_{tenant_id}", None)
        g.pop(f"ccas_stored_{tenant_id}", None)
        g.pop(f"ccas_derived_{tenant_id}", None)


def per_request(key: str, compute):
    """``compute()`` once per request and tenant (what the enabled plugins answer to a hook
    that depends only on their settings, e.g. the lending bounds for a list of cases);
    forgotten with the enabled set when a plugin is enabled or its settings change."""
    ctx_g = _request_g()
    if ctx_g is None:
        return compute()
    cache = ctx_g.setdefault(f"ccas_derived_{tenancy.current_tenant_id()}", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def hooks() -> _TenantHooks:
    """THE hook caller of the core: the core's features and the current tenant's enabled
    plugins answer, each hook with its declared policy."""
    return registry().hooks_for(enabled_plugins())


def is_enabled(name: str) -> bool:
    return name in enabled_plugins()


def plugin_settings(name: str) -> dict:
    """Typed settings of plugin ``name`` for the current tenant (defaults filled in); read
    once per request (a list of cases asks for the lender's bounds once, not per case),
    from the stored form the enabled set brought when the plugin is enabled."""
    tenant_id = tenancy.current_tenant_id()
    cache = None
    ctx_g = _request_g()
    if ctx_g is not None:
        cache = ctx_g.setdefault(f"ccas_settings_{tenant_id}", {})
        if name in cache:
            return dict(cache[name])
        enabled_plugins()
        stored = ctx_g.get(f"ccas_stored_{tenant_id}", {})
        if name in stored:
            settings = registry().load_settings(name, stored[name] or {})
            cache[name] = settings
            return dict(settings)
    state = db.session.scalar(select(PluginState).where(PluginState.plugin_name == name))
    settings = registry().load_settings(name, state.settings if state else {})
    if cache is not None:
        cache[name] = settings
    return dict(settings)


def cases_in_states_of(session, name: str) -> int:
    """How many of the current tenant's cases sit in a state plugin ``name`` declares."""
    codes = registry().states_of(name)
    if not codes:
        return 0
    return session.scalar(select(func.count()).select_from(Case)
                          .where(Case.state.in_(codes))) or 0


def set_enabled(session, name: str, enabled: bool) -> Any:
    """Enable or disable plugin ``name`` for the current tenant. Disabling is refused
    while cases sit in the plugin's own states (they could move nowhere)."""
    registry().get(name)  # unknown or refused plugins raise PluginError
    state = session.scalar(select(PluginState).where(PluginState.plugin_name == name))
    if not enabled and state is not None and state.enabled:
        waiting = cases_in_states_of(session, name)
        if waiting:
            label = registry().label(name)
            raise PluginError(
                f"Impossible de désactiver « {label} » : {waiting} dossier"
                f"{'s' if waiting > 1 else ''} "
                f"{'sont' if waiting > 1 else 'est'} dans un état qui lui est propre. "
                "Faites-les avancer ou clôturez-les d'abord.", status=409,
            )
    if state is None:
        state = PluginState(plugin_name=name, enabled=enabled, settings={})
        session.add(state)
    state.enabled = enabled
    new_plugins_stamp(session)
    forget_enabled_cache()
    return state


def update_settings(session, name: str, changes: dict) -> dict:
    """Merge ``changes`` into the stored settings, validate all, store. Raises PluginError."""
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
    new_plugins_stamp(session)
    forget_enabled_cache()
    return stored
