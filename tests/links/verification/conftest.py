"""Fixtures of the verifier's tests: fetch configs, an address policy that allows
one test server, and TLS certificates. The test server itself and the socket
tripwire are in tests/support/site.py and tests/conftest.py."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from links.verification.fetch import FetchConfig, Fetcher
from tests.support.site import TestSite


def only(site: TestSite) -> Callable[[Any, int], bool]:
    """An address policy that allows exactly this one server."""

    def allowed(ip: Any, port: int) -> bool:
        return str(ip) == "127.0.0.1" and port == site.port

    return allowed


@pytest.fixture
def config() -> FetchConfig:
    return FetchConfig(
        timeout=5.0, allow_private_networks=True, user_agent="AnchorageBot/test (+http://x.test/)"
    )


@pytest.fixture
def fetcher(config: FetchConfig) -> Iterator[Fetcher]:
    instance = Fetcher(config)
    yield instance
    instance.close()


# -- TLS ---------------------------------------------------------------------------------


@dataclass
class Certificates:
    ca_file: str
    cert_file: str
    key_file: str
    wrong_cert_file: str
    wrong_key_file: str


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make test certificates")
    folder = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=Anchorage test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    for name in ("site", "wrong"):
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}.test", cwd=folder)  # fmt: skip
        (folder / f"{name}.ext").write_text(
            f"subjectAltName=DNS:{name}.test\nbasicConstraints=CA:FALSE\n"
            "extendedKeyUsage=serverAuth\n"
        )
        _openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2",
            "-extfile", f"{name}.ext",
            cwd=folder,
        )  # fmt: skip
    return Certificates(
        ca_file=str(folder / "ca.pem"),
        cert_file=str(folder / "site.pem"),
        key_file=str(folder / "site.key"),
        wrong_cert_file=str(folder / "wrong.pem"),
        wrong_key_file=str(folder / "wrong.key"),
    )


def tls_site(cert_file: str, key_file: str) -> TestSite:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return TestSite(tls=context, host_name="site.test")
