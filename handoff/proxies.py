"""Who the client is behind a reverse proxy: ``X-Forwarded-*`` believed from trusted peers only.

``HANDOFF_TRUSTED_PROXIES`` lists the proxies (addresses or networks, comma-separated).
A request whose peer is one of them is read with aiohttp-remotes' ``XForwardedFiltered``:
``request.remote`` becomes the right-most ``X-Forwarded-For`` entry that is not itself a
trusted proxy, and ``request.scheme`` (and ``request.host``) follow the proxy's
``X-Forwarded-Proto`` (and ``X-Forwarded-Host``). A request from any other peer keeps
what the socket says: its forwarded headers are ignored, so a client that talks to the
service directly cannot pick its own rate-limit key or pass for a page on another origin.

The middleware goes after the error envelope (innermost), so a trusted proxy's unreadable
header is answered with ``{"error": ...}`` like every other failure.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import NoReturn

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_remotes import XForwardedFiltered

from handoff.errors import BadRequest, Handler

Network = IPv4Network | IPv6Network


def parse_proxies(setting: str) -> list[Network]:
    """``"127.0.0.1, 10.0.0.0/8"`` as networks (a lone address is a /32 or /128)."""
    networks = []
    for item in (part.strip() for part in setting.split(",")):
        if not item:
            continue
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise ValueError(
                f"HANDOFF_TRUSTED_PROXIES: {item!r} is not an IP address or network"
            ) from None
    return networks


class ForwardedFromProxies(XForwardedFiltered):
    """aiohttp-remotes' filtered reading, refused in the service's own error envelope."""

    async def raise_error(self, request: web.Request) -> NoReturn:
        raise BadRequest("invalid_forwarded_header", "The proxy's forwarding headers are invalid.")


def trusted_peer(request: web.Request, proxies: list[Network]) -> bool:
    """Whether the socket's other end is one of the trusted proxies."""
    peer = request.remote  # nothing has rewritten it yet: this is the socket's peer
    if not peer or not proxies:
        return False
    try:
        address: IPv4Address | IPv6Address = ip_address(peer)
    except ValueError:
        return False  # a Unix socket has no address to trust
    if isinstance(address, IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # an IPv4 peer of a dual-stack listener
    return any(address in network for network in proxies)


def forwarded_middleware(setting: str) -> Middleware:
    """The middleware for ``HANDOFF_TRUSTED_PROXIES`` (empty: trust nobody)."""
    proxies = parse_proxies(setting)
    reader = ForwardedFromProxies(proxies) if proxies else None

    @web.middleware
    async def forwarded(request: web.Request, handler: Handler) -> web.StreamResponse:
        if reader is None or not trusted_peer(request, proxies):
            return await handler(request)
        return await reader.middleware(request, handler)

    return forwarded
