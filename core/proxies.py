"""Reverse proxies: whose ``X-Forwarded-For`` / ``X-Forwarded-Proto`` headers are believed.

Behind nginx or a load balancer every request comes from the proxy's address, and the
client's own address is in ``X-Forwarded-For``. Anyone can send that header, so it is
honoured only when the request comes from an address listed in ``CCAS_TRUSTED_PROXIES``
(comma-separated addresses or networks, e.g. ``127.0.0.1, 10.0.0.0/8``; empty by default:
no header is believed). :class:`TrustedProxies` (WSGI middleware installed by
``create_app``) then rewrites ``REMOTE_ADDR`` to the client's address and
``wsgi.url_scheme`` to the forwarded scheme, so that ``request.remote_addr`` (what the
audit trail and the sign-in throttling see, through ``core.web.client.client_address``)
and the generated URLs are right.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str | Iterable[str] | None) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` → networks; raises ``ValueError`` naming a bad entry."""
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    networks = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ValueError(f"CCAS_TRUSTED_PROXIES : adresse ou réseau invalide {item!r}") from exc
    return tuple(networks)


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def is_trusted(address: str | None, networks: tuple[Network, ...]) -> bool:
    parsed = _address(address or "")
    return parsed is not None and any(parsed in network for network in networks)


def forwarded_client(remote_addr: str, forwarded_for: str,
                     networks: tuple[Network, ...]) -> str:
    """The client's address (PURE): ``remote_addr`` unless it is a trusted proxy; then the
    right-most address of ``X-Forwarded-For`` that is not itself a trusted proxy (the
    addresses left of it were written by the client and prove nothing). A malformed
    entry stops the walk at the last trusted hop."""
    if not is_trusted(remote_addr, networks) or not forwarded_for:
        return remote_addr
    client = remote_addr
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if _address(hop) is None:
            break
        client = hop.strip("[]")
        if not is_trusted(hop, networks):
            break
    return client


class TrustedProxies:
    """WSGI middleware applying :func:`forwarded_client` and ``X-Forwarded-Proto`` for
    requests coming from a trusted proxy; the original values stay in
    ``environ["ccas.proxy.remote_addr"]``."""

    def __init__(self, wsgi_app, networks: tuple[Network, ...]):
        self.wsgi_app = wsgi_app
        self.networks = networks

    def __call__(self, environ, start_response):
        remote = environ.get("REMOTE_ADDR", "")
        if self.networks and is_trusted(remote, self.networks):
            environ["ccas.proxy.remote_addr"] = remote
            environ["REMOTE_ADDR"] = forwarded_client(
                remote, environ.get("HTTP_X_FORWARDED_FOR", ""), self.networks)
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        return self.wsgi_app(environ, start_response)

