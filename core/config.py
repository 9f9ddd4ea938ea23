"""Configuration from environment variables.

Every variable is documented in README.md ("Environment variables"). ``create_app``
accepts a mapping that overrides them (tests use it).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from . import proxies
from .worker.schedule import parse_overrides

DEV_SECRET = "dev-only-not-secret"  # noqa: S105 - refused outside development


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run the application safely."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load(instance_path: str, overrides: dict | None = None) -> dict:
    """Return the Flask config mapping built from ``CCAS_*`` variables and overrides."""
    env = os.environ
    overrides = dict(overrides or {})
    environment = overrides.get("CCAS_ENV", env.get("CCAS_ENV", "development"))
    default_db = "sqlite:///" + str(Path(instance_path) / "ccas.sqlite3")
    cfg = {
        "CCAS_ENV": environment,
        "CCAS_DATABASE_URL": env.get("CCAS_DATABASE_URL", default_db),
        # Owner role used by migrations (PostgreSQL); defaults to the app URL.
        "CCAS_DATABASE_OWNER_URL": env.get("CCAS_DATABASE_OWNER_URL"),
        "SECRET_KEY": env.get("CCAS_SECRET_KEY"),
        "CCAS_BASE_URL": env.get("CCAS_BASE_URL", "http://127.0.0.1:5000"),
        "CCAS_SMTP_HOST": env.get("CCAS_SMTP_HOST", "127.0.0.1"),
        "CCAS_SMTP_PORT": int(env.get("CCAS_SMTP_PORT", "25")),
        "CCAS_SMTP_TLS": env.get("CCAS_SMTP_TLS", "none"),  # none | starttls | ssl
        "CCAS_SMTP_USER": env.get("CCAS_SMTP_USER"),
        "CCAS_SMTP_PASSWORD": env.get("CCAS_SMTP_PASSWORD"),
        "CCAS_MAIL_FROM": env.get("CCAS_MAIL_FROM", "ne-pas-repondre@ccas-network.local"),
        "CCAS_RATELIMIT_STORAGE_URL": env.get("CCAS_RATELIMIT_STORAGE_URL", "memory://"),
        "CCAS_SESSION_IDLE_MINUTES": int(env.get("CCAS_SESSION_IDLE_MINUTES", "30")),
        "CCAS_SESSION_MAX_HOURS": int(env.get("CCAS_SESSION_MAX_HOURS", "10")),
        # Server-side sessions: the database by default, Redis when a URL is given.
        "CCAS_SESSION_STORAGE_URL": env.get("CCAS_SESSION_STORAGE_URL", ""),
        # Redis keys start with it: two deployments may share one Redis.
        "CCAS_SESSION_STORAGE_PREFIX": env.get("CCAS_SESSION_STORAGE_PREFIX",
                                               "ccas:session:"),
        # Signs the tenant setting the database policies trust (docs/security.md).
        "CCAS_TENANT_WALL_KEY": env.get("CCAS_TENANT_WALL_KEY", ""),
        "CCAS_LOG_LEVEL": env.get("CCAS_LOG_LEVEL", "INFO"),
        "CCAS_MAX_UPLOAD_MB": int(env.get("CCAS_MAX_UPLOAD_MB", "10")),
        # Uploaded spreadsheets wait here for the manager's confirmation (personal data:
        # removed once confirmed, or after CCAS_IMPORT_TTL_HOURS).
        "CCAS_IMPORT_DIR": env.get("CCAS_IMPORT_DIR"),
        "CCAS_IMPORT_TTL_HOURS": float(env.get("CCAS_IMPORT_TTL_HOURS", "24")),
        # The documents attached to cases (outside the web root; default <instance>/files)
        # and the largest file accepted.
        "CCAS_FILES_DIR": env.get("CCAS_FILES_DIR"),
        "CCAS_DOCUMENT_MAX_MB": int(env.get("CCAS_DOCUMENT_MAX_MB", "8")),
        # Every platform operator must have a TOTP second factor (enrolled at sign-in).
        "CCAS_OPERATOR_TOTP_REQUIRED": _bool(env.get("CCAS_OPERATOR_TOTP_REQUIRED")),
        # Reverse proxies whose X-Forwarded-For/-Proto are believed (core.proxies).
        "CCAS_TRUSTED_PROXIES": env.get("CCAS_TRUSTED_PROXIES", ""),
        # Production on SQLite only when forced (a single-machine trial).
        "CCAS_ALLOW_SQLITE": _bool(env.get("CCAS_ALLOW_SQLITE")),
        # The worker's schedules changed or switched off (core.worker.schedule).
        "CCAS_WORKER_SCHEDULE": env.get("CCAS_WORKER_SCHEDULE", ""),
        # Key that seals identity providers' client secrets (core.accounts.sealing);
        # CCAS_SECRET_KEY when unset.
        "CCAS_SEALING_KEY": env.get("CCAS_SEALING_KEY"),
    }
    cfg.update(overrides)
    development = cfg["CCAS_ENV"] in {"development", "test"}
    if not cfg.get("SECRET_KEY"):
        if not development:
            raise ConfigError(
                "CCAS_SECRET_KEY est obligatoire hors développement (CCAS_ENV=%s) : une "
                "valeur longue et aléatoire, par ex. python3 -c 'import secrets; "
                "print(secrets.token_hex(32))'." % cfg["CCAS_ENV"]
            )
        cfg["SECRET_KEY"] = DEV_SECRET
    if (cfg["CCAS_ENV"] == "production" and str(cfg["CCAS_DATABASE_URL"]).startswith("sqlite")
            and not _bool(str(cfg.get("CCAS_ALLOW_SQLITE") or ""))):
        raise ConfigError(
            "CCAS_ENV=production refuse SQLite (un seul processus d'écriture, pas de "
            "cloisonnement par la base) : indiquez une base PostgreSQL dans CCAS_DATABASE_URL "
            "(docs/deployment.md), ou forcez avec CCAS_ALLOW_SQLITE=1 pour un essai."
        )
    try:
        parse_overrides(cfg["CCAS_WORKER_SCHEDULE"])
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    try:
        cfg["CCAS_TRUSTED_PROXY_NETWORKS"] = proxies.parse_networks(cfg["CCAS_TRUSTED_PROXIES"])
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    cfg.setdefault("CCAS_DATABASE_OWNER_URL", None)
    if not cfg["CCAS_DATABASE_OWNER_URL"]:
        cfg["CCAS_DATABASE_OWNER_URL"] = cfg["CCAS_DATABASE_URL"]
    cfg["MAX_CONTENT_LENGTH"] = cfg["CCAS_MAX_UPLOAD_MB"] * 1024 * 1024
    cfg["SESSION_COOKIE_HTTPONLY"] = True
    cfg["SESSION_COOKIE_SAMESITE"] = "Lax"
    cfg["SESSION_COOKIE_SECURE"] = not development
    cfg["REMEMBER_COOKIE_HTTPONLY"] = True
    cfg["REMEMBER_COOKIE_SECURE"] = not development
    cfg["WTF_CSRF_TIME_LIMIT"] = None  # the token lives as long as the session
    cfg.setdefault("WTF_CSRF_ENABLED", True)
    cfg["BABEL_DEFAULT_LOCALE"] = "fr"
    cfg["BABEL_DEFAULT_TIMEZONE"] = "Europe/Paris"
    cfg["JSON_SORT_KEYS"] = False
    cfg["DEVELOPMENT"] = development
    return cfg


def wall_key(cfg: dict) -> bytes:
    """The key signing each transaction's tenant for the database's policies:
    ``CCAS_TENANT_WALL_KEY``, or one derived from ``SECRET_KEY``. ``ccas db upgrade``
    gives it to the database (owner side); change it, then run ``ccas db upgrade``."""
    explicit = cfg.get("CCAS_TENANT_WALL_KEY")
    if explicit:
        return hashlib.sha256(str(explicit).encode("utf-8")).digest()
    return hmac.new(str(cfg["SECRET_KEY"]).encode("utf-8"), b"ccas tenant wall",
                    hashlib.sha256).digest()
