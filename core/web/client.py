"""The client's address, read in one place.

Behind a reverse proxy the address a request comes from is the proxy's; the deployment
names its trusted proxies (``CCAS_TRUSTED_PROXIES``) and ``core.proxies.TrustedProxies``
(installed by ``create_app``) rewrites ``request.remote_addr`` to the client's own, from
``X-Forwarded-For`` sent by those proxies only (``docs/deployment.md``). Everything
that keys on an address (sign-in throttling, the audit trail) reads it here.
"""

from __future__ import annotations

from flask import Request


def client_address(request: Request) -> str:
    """The address of the client behind ``request`` (``"unknown"`` when there is none)."""
    return request.remote_addr or "unknown"
