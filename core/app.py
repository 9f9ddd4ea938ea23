"""Application factory: extensions, tenant resolution, blueprints, plugin guards."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, abort, current_app, g, request
from flask_babel import Babel

from . import config as config_module
from . import errors, logsafety, plugins, proxies
from .accounts import throttle
from .api import bp as api_bp
from .api.auth import authenticate
from .db import db
from .schemas.plain import JSONProvider
from .web import (
    accompaniment,
    account,
    administration,
    appointments,
    audit,
    auth,
    cases,
    context,
    dashboards,
    documents,
    filters,
    health,
    household,
    identity,
    imports,
    notice,
    operator,
    panels,
    persons,
    privacy,
    public,
    referrals,
    reports,
    sessions,
    staff_time,
    suggestions,
    synthesis,
    translations,
    views,
    workshops,
)
from .web import csrf as csrf_pages

babel = Babel()

#: The core's blueprints: pages, operator pages, health, the JSON API.
CORE_BLUEPRINTS = (
    public.bp, health.bp, views.bp, operator.bp, api_bp, suggestions.bp, documents.bp,
    appointments.bp, cases.bp, dashboards.bp, account.bp, audit.bp, referrals.bp,
    reports.bp, imports.bp, accompaniment.bp, workshops.bp, staff_time.bp, privacy.bp,
    administration.bp,
    household.bp, persons.bp, synthesis.bp, notice.bp,
    identity.bp,
)

PLUGIN_URL_PREFIX = "/t/<tenant>/p/{name}"
PLUGIN_API_PREFIX = "/api/v1/p/{name}"


def _timezone() -> str:
    tenant = g.get("tenant")
    return tenant.timezone if tenant is not None else "Europe/Paris"


class CcasFlask(Flask):
    """Flask, with what ``ensure_sync`` found kept per function."""

    #: At most this many functions kept (the application's hooks, views and error
    #: handlers are a few hundred).
    SYNC_FUNCTIONS_MAX = 4096

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sync_functions: set = set()

    def ensure_sync(self, func):
        """Flask asks, before each call of a request hook, a view or an error handler,
        whether the function is a coroutine function (``inspect.iscoroutinefunction``:
        about six calls each time, a dozen times a request); a function's answer never
        changes, so a plain function is remembered and returned as it is (Flask 3.x's
        documented override point)."""
        known = self._sync_functions
        try:
            if func in known:
                return func
        except TypeError:  # not hashable: asked each time
            return super().ensure_sync(func)
        synced = super().ensure_sync(func)
        if synced is func and len(known) < self.SYNC_FUNCTIONS_MAX:
            known.add(func)
        return synced


def create_app(config: dict | None = None, registry: plugins.PluginRegistry | None = None) -> Flask:
    """Build the application.

    :param config: overrides of the environment configuration (``core.config``).
    :param registry: a prepared plugin registry (tests); by default every plugin
        installed under the ``ccas_network.plugins`` entry point is loaded.
    """
    app = CcasFlask(
        __name__,
        instance_relative_config=True,
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.json = JSONProvider(app)  # dates ISO 8601, decimals as written (core.schemas.plain)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(config_module.load(app.instance_path, config))
    logging.basicConfig(level=app.config["CCAS_LOG_LEVEL"])

    db.init_app(app)
    app.extensions["ccas_wall_key"] = config_module.wall_key(app.config)
    sessions.init_app(app, db.new_session)
    csrf_pages.init_app(app)  # Flask-WTF, and the templates' token once per page
    babel.init_app(app, locale_selector=lambda: "fr", timezone_selector=_timezone)
    translations.init_app(app)  # the templates' gettext: the translations once per page

    if registry is None:
        registry = plugins.PluginRegistry()
        registry.load_entry_points()
    registry.load_internal()
    app.extensions["ccas_plugins"] = registry

    context.init_app(app)
    auth.init_app(app)
    filters.init_app(app)
    panels.init_app(app)  # a plugin's block rendered with the page's context
    errors.register(app)
    logsafety.init_app(app)
    for blueprint in CORE_BLUEPRINTS:
        app.register_blueprint(blueprint)
    _register_plugin_blueprints(app, registry)
    throttle.init_app(app)  # after every blueprint: it limits their views
    app.after_request(_security_headers)
    if app.config["CCAS_TRUSTED_PROXY_NETWORKS"]:
        app.wsgi_app = proxies.TrustedProxies(app.wsgi_app,
                                              app.config["CCAS_TRUSTED_PROXY_NETWORKS"])
    return app


def _register_plugin_blueprints(app: Flask, registry: plugins.PluginRegistry) -> None:
    """Mount each plugin's blueprints under ``/t/<tenant>/p/<plugin>/`` and its API
    blueprints under ``/api/v1/p/<plugin>/``; a request for a tenant that has not enabled
    the plugin answers 404 (checked in one place). A plugin whose blueprints fail to
    register is refused (logged, listed with the reason) and the platform starts without
    it."""
    owners: dict[str, str] = {}
    api_owners: dict[str, str] = {}
    for name in list(registry.usable()):
        try:
            pages = _plugin_answer(registry, name, "ccas_blueprints")
            apis = _plugin_answer(registry, name, "ccas_api_blueprints")
            for blueprint in pages:
                app.register_blueprint(blueprint, url_prefix=PLUGIN_URL_PREFIX.format(name=name))
                owners[blueprint.name] = name
            for blueprint in apis:
                app.register_blueprint(blueprint, url_prefix=PLUGIN_API_PREFIX.format(name=name))
                api_owners[blueprint.name] = name
        except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the platform
            registry.refuse(name, f"blueprints not registered: {exc!r}")
            for table in (owners, api_owners):
                for bp_name in [b for b, owner in table.items() if owner == name]:
                    del table[bp_name]
    app.extensions["ccas_plugin_blueprints"] = {**owners, **api_owners}

    @app.before_request
    def _guard_plugin_routes():
        blueprint = (request.blueprint or "").split(".")[0]
        owner = owners.get(blueprint)
        if owner is None and blueprint in api_owners:
            owner = api_owners[blueprint]
            authenticate()  # the tenant comes from the token
        if owner is not None and (not registry.plugins[owner].usable
                                  or not plugins.is_enabled(owner)):
            abort(404)


def _plugin_answer(registry: plugins.PluginRegistry, name: str, hook: str) -> list:
    fn = getattr(registry.plugins[name].module, hook, None)
    return list(fn() or []) if fn is not None else []


#: Browser features no page of the platform uses: refused to every frame and script.
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in (
    "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope",
    "magnetometer", "microphone", "midi", "payment", "usb", "interest-cohort"))


#: The security headers every response carries unless its view set its own.
_SECURITY_HEADERS = (
    ("Content-Security-Policy",
     "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
_HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


def _security_headers(response):
    """Each of :data:`_SECURITY_HEADERS` (and HSTS outside development, ``no-store`` on
    the tenants' and the operator's pages) the response does not have yet: the names it
    has are read once (``Headers.setdefault`` looked each one up, raising and catching a
    ``KeyError`` for each absent one, on every response)."""
    headers = response.headers
    present = {name.lower() for name, _value in headers.items()}
    wanted = [*_SECURITY_HEADERS]
    if not current_app.config["DEVELOPMENT"]:
        wanted.append(_HSTS)
    path = request.path
    if path.startswith("/t/") or path.startswith("/operator"):
        wanted.append(("Cache-Control", "no-store"))
    for name, value in wanted:
        if name.lower() not in present:
            headers.add(name, value)
    return response
