"""The private-address guard: refusals happen before any connection is attempted.

Every test here runs against a server on 127.0.0.1 that counts hits, and the
socket tripwire (conftest) records every connect, so "refused" means both "the
server saw nothing" and "no socket even tried".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

import pytest

from links.verification.addresses import is_public_address, parse_ip_host
from links.verification.fetch import ErrorKind, FetchConfig, Fetcher
from links.verification.urls import InvalidURL
from tests.support.site import SocketLog, TestSite

from .conftest import only

HTML = "<html><a href='https://ours.example/'>x</a></html>"


def guarded(**overrides: object) -> Fetcher:
    return Fetcher(FetchConfig(timeout=3.0, **overrides))  # type: ignore[arg-type]


def assert_refused_unseen(result: object, site: TestSite, sockets: SocketLog) -> None:
    assert getattr(result, "error_kind", None) == ErrorKind.BLOCKED_ADDRESS, result
    assert site.hit_count == 0
    assert sockets.connects == []


# -- loopback in every spelling, aimed at a live server ------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",  # short form
        "2130706433",  # one decimal number
        "0x7f.1",  # hex first part
        "0x7f000001",  # one hex number
        "017700000001",  # one octal number
        "0177.0.0.1",  # octal first part
        "127.000.000.001",
        "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
        "[::ffff:7f00:1]",
        "0.0.0.0",  # reaches localhost on Linux
        "0",
    ],
)
def test_loopback_spellings_are_refused(site: TestSite, sockets: SocketLog, host: str) -> None:
    site.page("/", HTML)
    result = guarded().fetch(f"http://{host}:{site.port}/")
    assert_refused_unseen(result, site, sockets)


def test_ipv6_loopback_is_refused(site: TestSite, sockets: SocketLog) -> None:
    result = guarded().fetch(f"http://[::1]:{site.port}/")
    assert_refused_unseen(result, site, sockets)


def test_localhost_by_name_is_refused(site: TestSite, sockets: SocketLog) -> None:
    result = guarded(resolver=lambda host, port: ["127.0.0.1"]).fetch(
        f"http://localhost:{site.port}/"
    )
    assert_refused_unseen(result, site, sockets)


# -- private, link-local, reserved... never connected to --------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "169.254.169.254",  # cloud metadata
        "169.254.0.1",
        "10.0.0.1",
        "10.255.255.255",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.1",
        "100.64.0.1",  # carrier-grade NAT
        "100.127.255.254",
        "192.0.0.8",
        "198.18.0.1",  # benchmarking
        "192.0.2.1",  # documentation
        "224.0.0.1",  # multicast
        "239.255.255.250",
        "240.0.0.1",  # reserved
        "255.255.255.255",
        "[fc00::1]",  # unique local
        "[fd12:3456::1]",
        "[fe80::1]",  # link-local
        "[fec0::1]",  # site-local
        "[ff02::1]",  # multicast
        "[::]",
        "[::ffff:10.0.0.1]",
        "[::ffff:169.254.169.254]",
        "[64:ff9b::a9fe:a9fe]",  # NAT64 of 169.254.169.254
        "[2002:a9fe:a9fe::1]",  # 6to4 of 169.254.169.254
        "[2001:db8::1]",  # documentation
        "0xa9.0xfe.0xa9.0xfe",  # 169.254.169.254 in hex
        "2852039166",  # 169.254.169.254 as a number
    ],
)
def test_non_public_addresses_are_refused_before_connecting(
    site: TestSite, sockets: SocketLog, host: str
) -> None:
    result = guarded().fetch(f"http://{host}/latest/meta-data/")
    assert_refused_unseen(result, site, sockets)


def test_name_resolving_to_a_private_address(site: TestSite, sockets: SocketLog) -> None:
    fetcher = guarded(resolver=lambda host, port: ["169.254.169.254"])
    assert_refused_unseen(fetcher.fetch("http://metadata.test/"), site, sockets)


def test_name_with_one_public_and_one_private_address(site: TestSite, sockets: SocketLog) -> None:
    # Refused as a whole: no connection even to the public one.
    fetcher = guarded(resolver=lambda host, port: ["93.184.216.34", "10.0.0.7"])
    assert_refused_unseen(fetcher.fetch("http://mixed.test/"), site, sockets)


def test_bad_port_on_a_public_address(site: TestSite, sockets: SocketLog) -> None:
    assert_refused_unseen(guarded().fetch("http://93.184.216.34:25/"), site, sockets)


def test_policy_cannot_widen_the_guard(site: TestSite, sockets: SocketLog) -> None:
    fetcher = guarded(address_allowed=lambda ip, port: True)
    assert_refused_unseen(fetcher.fetch(f"http://127.0.0.1:{site.port}/"), site, sockets)


def test_unspecified_address_is_refused_even_on_private_networks(
    site: TestSite, sockets: SocketLog
) -> None:
    fetcher = guarded(allow_private_networks=True)
    assert_refused_unseen(fetcher.fetch(f"http://0.0.0.0:{site.port}/"), site, sockets)


def test_private_networks_are_off_by_default() -> None:
    assert FetchConfig().allow_private_networks is False


def test_allow_private_networks_reaches_the_test_server(site: TestSite) -> None:
    site.page("/", HTML)
    assert guarded(allow_private_networks=True).fetch(site.url("/")).ok
    assert site.hit_count == 1


# -- redirects are checked like the first hop ------------------------------------------------


def test_redirect_to_another_loopback_port(
    site: TestSite, other_site: TestSite, sockets: SocketLog
) -> None:
    other_site.page("/", HTML)
    site.redirect("/go", other_site.url("/"))
    fetcher = guarded(allow_private_networks=True, address_allowed=only(site))
    result = fetcher.fetch(site.url("/go"))
    assert result.error_kind == ErrorKind.BLOCKED_ADDRESS
    assert site.hits_for("/go") == 1
    assert other_site.hit_count == 0
    assert not sockets.connected_to("127.0.0.1", other_site.port)


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://2130706433/",
        "http://[::ffff:192.168.0.1]/",
    ],
)
def test_redirect_to_a_private_address(site: TestSite, sockets: SocketLog, location: str) -> None:
    site.redirect("/go", location)
    fetcher = guarded(allow_private_networks=True, address_allowed=only(site))
    result = fetcher.fetch(site.url("/go"))
    assert result.error_kind == ErrorKind.BLOCKED_ADDRESS
    assert [hop.location for hop in result.redirects] == [location]
    assert {address[:2] for address in sockets.connects} == {("127.0.0.1", site.port)}


def test_redirect_to_a_name_that_resolves_privately(site: TestSite, sockets: SocketLog) -> None:
    def resolver(host: str, port: int) -> Sequence[str]:
        return {"public.test": ["127.0.0.1"], "internal.test": ["10.1.2.3"]}[host]

    site.redirect("/go", "http://internal.test/admin")
    fetcher = guarded(allow_private_networks=True, address_allowed=only(site), resolver=resolver)
    result = fetcher.fetch(f"http://public.test:{site.port}/go")
    assert result.error_kind == ErrorKind.BLOCKED_ADDRESS
    assert not sockets.connected_to("10.1.2.3")


# -- one lookup per hop, and the connection goes where the check said ---------------------


def rebinding_resolver(first: str, then: str) -> tuple[Callable[[str, int], list[str]], list[str]]:
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return [first] if len(calls) == 1 else [then]

    return resolve, calls


def test_the_checked_address_is_the_connected_address(site: TestSite, sockets: SocketLog) -> None:
    site.page("/", HTML)
    resolve, calls = rebinding_resolver("127.0.0.1", "10.0.0.1")
    fetcher = guarded(allow_private_networks=True, address_allowed=only(site), resolver=resolve)
    result = fetcher.fetch(f"http://rebind.test:{site.port}/")
    assert result.ok
    assert calls == ["rebind.test"]
    assert result.address == "127.0.0.1"
    assert sockets.connects == [("127.0.0.1", site.port)]
    # The name stays the name: the server sees it in Host.
    assert site.hits[0][1]["Host"] == f"rebind.test:{site.port}"


def test_a_kept_alive_pool_is_not_reused_for_a_new_address(site: TestSite) -> None:
    site.page("/", HTML)
    resolve, _calls = rebinding_resolver("127.0.0.1", "10.0.0.1")
    fetcher = guarded(allow_private_networks=True, address_allowed=only(site), resolver=resolve)
    assert fetcher.fetch(f"http://rebind.test:{site.port}/").ok
    # Second fetch: the name now points elsewhere; the open connection to the old
    # address must not carry the request.
    assert fetcher.fetch(f"http://rebind.test:{site.port}/").error_kind == ErrorKind.BLOCKED_ADDRESS
    assert site.hit_count == 1


def test_a_request_without_a_checked_address_gets_no_connection(
    site: TestSite, fetcher: Fetcher, sockets: SocketLog
) -> None:
    import requests

    session = fetcher._session()
    with pytest.raises(requests.exceptions.InvalidURL):
        session.get(site.url("/"))
    assert site.hit_count == 0
    assert sockets.connects == []


def test_robots_txt_goes_through_the_guard(site: TestSite, sockets: SocketLog) -> None:
    site.redirect("/robots.txt", "http://169.254.169.254/robots.txt")
    fetcher = guarded(allow_private_networks=True, address_allowed=only(site))
    robots = fetcher.robots(site.url("/page"))
    assert robots.allowed
    assert "blocked_address" in (robots.note or "")
    assert not sockets.connected_to("169.254.169.254")


# -- the address parsers themselves -----------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0x7F.0.0.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("192.168.257", "192.168.1.1"),
        ("0", "0.0.0.0"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("example.com", None),
        ("1.example", None),
    ],
)
def test_parse_ip_host(host: str, address: str | None) -> None:
    parsed = parse_ip_host(host)
    assert (str(parsed) if parsed is not None else None) == address


@pytest.mark.parametrize(
    "host", ["1.2.3.4.5", "256.1.1.1", "example.0x10", "09.1.1.1", "1.2.3.4294967296"]
)
def test_parse_ip_host_refuses_numbers_that_are_not_addresses(host: str) -> None:
    with pytest.raises(InvalidURL):
        parse_ip_host(host)


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "1.1.1.1"]
)
def test_public_addresses_are_public(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))
