"""Where a webhook may go: https only, and (unless WEBHOOK_ALLOW_PRIVATE) only to public
addresses, checked for the address actually connected to at every delivery, not only at
registration: a name that resolved to a public address yesterday may resolve to 127.0.0.1 today."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

#: Shared address space for carrier-grade NAT (RFC 6598): not private in Python's tables, not public.
CGNAT = ipaddress.ip_network("100.64.0.0/10")


class AddressRefused(ValueError):
    """The URL or the address it leads to may not be used; the message says why."""


@dataclass(frozen=True)
class Target:
    host: str  #: the name in the URL (Host header, TLS server name)
    port: int
    path: str  #: with its query
    address: str  #: the checked IP address connected to


def checked_url(url: str) -> tuple[str, int, str]:
    """(host, port, path and query) of an https URL without credentials, or AddressRefused."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or 443
    except ValueError:
        raise AddressRefused("Enter a web address like https://crm.example.org/hooks/bookings") from None
    if parts.scheme != "https":
        raise AddressRefused("The address must start with https:// (webhooks are never sent over plain http)")
    if not parts.hostname or parts.username or parts.password:
        raise AddressRefused("Enter a web address like https://crm.example.org/hooks/bookings, with no user name or password")
    if len(url) > 2000:
        raise AddressRefused("The address must be 2,000 characters or fewer")
    return parts.hostname, port, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def refusal(address: str) -> str | None:
    """Why an IP address may not be sent to (None: it is public)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is not None:  # ::ffff:127.0.0.1 and the like are the IPv4 address they carry
            return refusal(str(inner))
    for test, words in ((ip.is_loopback, "loopback"), (ip.is_link_local, "link-local"),
                        (ip.is_multicast, "multicast"), (ip.is_unspecified, "unspecified"),
                        (ip.version == 4 and ip in CGNAT, "carrier-grade NAT"),
                        (ip.is_private, "private"), (ip.is_reserved, "reserved"), (not ip.is_global, "not public")):
        if test:
            return f"{address} is a {words} address"
    return None


async def resolve(url: str, *, allow_private: bool) -> Target:
    """The URL's host resolved now, every address it gives checked; the first is the one to
    connect to (AddressRefused if any may not be used, or the name does not resolve)."""
    host, port, path = checked_url(url)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"{host} could not be found ({exc})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not allow_private:
        for address in addresses:
            why = refusal(address)
            if why:
                raise AddressRefused(f"{host} leads to {why}: webhooks go only to public addresses")
    if not addresses:
        raise AddressRefused(f"{host} could not be found")
    return Target(host, port, path, addresses[0])
