"""Which addresses an outbound connection may reach: the private-address guard.

Every connection Anchorage opens (pages, robots.txt, mail servers, webhooks)
asks these two functions, so they live apart from the HTTP fetcher, pure and
importable by any app (the import contracts in pyproject.toml allow it).
"""

from __future__ import annotations

import ipaddress
import re

from links.verification.urls import InvalidURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in ("192.0.0.0/24", "198.18.0.0/15", "100.64.0.0/10", "fec0::/10", "64:ff9b:1::/48")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(ip: IPAddress) -> bool:
    """Is this an address on the public internet, in every disguise it may wear?"""
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 form that carries an IPv4 address is judged by that address.
        if ip.ipv4_mapped is not None:
            return is_public_address(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            return is_public_address(ip.sixtofour)
        if ip in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.teredo is not None:
            return False
    if (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    ):
        return False
    return not any(ip in net for net in _EXTRA_BLOCKED if net.version == ip.version)


def _parse_ipv4_number(part: str) -> int | None:
    if part.startswith(("0x", "0X")):
        digits = part[2:]
        return int(digits, 16) if digits == "" or re.fullmatch(r"[0-9a-fA-F]+", digits) else None
    if len(part) > 1 and part.startswith("0"):
        return int(part[1:], 8) if re.fullmatch(r"[0-7]+", part[1:]) else None
    return int(part) if part.isdigit() and part.isascii() else None


def parse_ip_host(host: str) -> IPAddress | None:
    """The address a host names literally, in any form a browser or libc accepts.

    ``127.1``, ``0x7f.1``, ``2130706433`` and ``017700000001`` are all 127.0.0.1
    (WHATWG URL standard, IPv4 parser). A host whose last label is a number but
    that is not a valid address is refused rather than sent to DNS.
    """
    host = host.strip("[]").rstrip(".")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError as exc:
            raise InvalidURL(f"{host!r} is not a valid IPv6 address") from exc
    parts = host.split(".")
    last = parts[-1]
    if not (last.isdigit() or re.fullmatch(r"0[xX][0-9a-fA-F]*", last)):
        return None
    numbers = [_parse_ipv4_number(part) for part in parts]
    if len(parts) > 4 or any(n is None for n in numbers):
        raise InvalidURL(f"{host!r} ends in a number but is not an IPv4 address")
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise InvalidURL(f"{host!r} is out of the IPv4 range")
    address = values[-1]
    for index, value in enumerate(values[:-1]):
        address += value * 256 ** (3 - index)
    return ipaddress.IPv4Address(address)
