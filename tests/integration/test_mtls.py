"""Per-site mTLS (`client_ca`): one listener asks every client for a certificate, each site accepts only
certificates issued by its own client CA, and the origin learns the verified subject from
`X-Client-Cert-Subject`, a header no client can set itself.

One gateway for the module: site `m.test` (client_ca `clients-ca.pem`), site `n.test` (client_ca
`other-ca.pem`) and site `p.test` without client_ca, all in front of the demo origin, whose `/echo`
reports the headers it received.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest

from tests.unit.tls.certfactory import Issued, key_bytes, make_ca, make_leaf, new_key

from .harness import LOOPBACK, DemoOrigin, EdgeConnection, Gateway, GatewayFactory, Pki, PortTaken, Response, send

SITES = ("m.test", "n.test", "p.test")


class Clients:
    """The client CAs and client certificates (PEM files holding certificate + key) of the module."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.m_ca = make_ca("M Clients CA")
        self.n_ca = make_ca("N Clients CA")
        self.stranger_ca = make_ca("Stranger CA")  # no site trusts it
        self.alice = self._client(self.m_ca, "alice")  # a client of site m
        self.bob = self._client(self.n_ca, "bob")  # a client of site n
        self.mallory = self._client(self.stranger_ca, "mallory")

    def _client(self, ca: Issued, name: str) -> Path:
        leaf = make_leaf(ca, [f"{name}.clients.test"], cn=name, key=new_key("p256"), client=True)
        path = self.folder / f"{name}.pem"
        path.write_bytes(leaf.pem + key_bytes(leaf.key))
        return path


# Rules on the TLS facts of the connection, which only the gateway's own protocol puts in the request.
TLS_RULES = """
[[rule]]
id = "deny-alice-here"
expr = 'http.request.uri.path eq "/deny-alice" and tls.client.subject contains "CN=alice"'
action = "block"
status = 451

[[rule]]
id = "tls-facts"
expr = 'http.request.uri.path eq "/tls-facts" and ssl and tls.sni eq "p.test" and tls.version eq "TLSv1.3"'
action = "block"
status = 418
"""


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Clients:
    return Clients(tmp_path_factory.mktemp("mtls-clients"))


@pytest.fixture(scope="module")
def mtls_gateway(module_factory: GatewayFactory, origin_a: DemoOrigin, clients: Clients) -> Gateway:
    sites = [
        {"hosts": ["m.test"], "origins": [origin_a.url], "client_ca": "clients-ca.pem"},
        {"hosts": ["n.test"], "origins": [origin_a.url], "client_ca": "other-ca.pem"},
        {"hosts": ["p.test", "localhost"], "origins": [origin_a.url]},
    ]
    for attempt in range(3):
        gateway = module_factory.prepare(
            sites,
            cert_files={f"{name}.pem": (name,) for name in (*SITES, "localhost")},
            rules={"10-tls.toml": TLS_RULES},
        )
        (gateway.folder / "clients-ca.pem").write_bytes(clients.m_ca.pem)
        (gateway.folder / "other-ca.pem").write_bytes(clients.n_ca.pem)
        try:
            return gateway.start()
        except PortTaken:
            module_factory.gateways.remove(gateway)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def context_for(pki: Pki, client_pem: Path | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(pki.ca_path))
    if client_pem is not None:
        context.load_cert_chain(str(client_pem))
    return context


def echo(
    gateway: Gateway, pki: Pki, host: str, client_pem: Path | None, headers: dict[str, str] | None = None
) -> Response:
    """GET /echo on a fresh connection (SNI = host), presenting `client_pem` when given."""
    conn = EdgeConnection(gateway.https_port, context_for(pki, client_pem), host, 10)
    try:
        return send(conn, "GET", "/echo", host=host, headers=headers)
    finally:
        conn.close()


def subjects(response: Response) -> list[str]:
    return [value for name, value in response.json()["headers"] if name.lower() == "x-client-cert-subject"]


def test_no_client_certificate_is_refused_with_403(mtls_gateway: Gateway, pki: Pki, origin_a: DemoOrigin) -> None:
    before = origin_a.count()
    for host in ("m.test", "n.test"):
        response = echo(mtls_gateway, pki, host, None)
        assert response.status == 403, response.text()
        assert response.request_id
        line = mtls_gateway.log_for(response.request_id)
        assert line["status"] == 403
    assert origin_a.count() == before  # the origin never saw them


def test_forged_subject_header_without_a_certificate_is_refused_or_dropped(mtls_gateway: Gateway, pki: Pki) -> None:
    forged = {"X-Client-Cert-Subject": "CN=admin"}
    assert echo(mtls_gateway, pki, "m.test", None, forged).status == 403  # still no certificate: refused
    response = echo(mtls_gateway, pki, "p.test", None, forged)  # a site without client_ca: header dropped
    assert response.status == 200
    assert subjects(response) == []
    response = echo(mtls_gateway, pki, "p.test", None, {"x-client-cert-subject": "CN=root"})
    assert subjects(response) == []


def test_site_without_client_ca_works_without_a_certificate(mtls_gateway: Gateway, pki: Pki) -> None:
    response = echo(mtls_gateway, pki, "p.test", None)
    assert response.status == 200, response.text()
    assert subjects(response) == []


def test_mtls_site_is_not_reachable_over_a_connection_made_for_another_site(mtls_gateway: Gateway, pki: Pki) -> None:
    """A certificate-less connection opened with SNI p.test must not reach m.test by its Host header."""
    conn = EdgeConnection(mtls_gateway.https_port, context_for(pki, None), "p.test", 10)
    try:
        assert send(conn, "GET", "/echo", host="p.test").status == 200
        assert send(conn, "GET", "/echo", host="m.test").status in (403, 421)
    finally:
        conn.close()


def test_certificate_from_a_ca_no_site_trusts_is_refused(mtls_gateway: Gateway, pki: Pki, clients: Clients) -> None:
    """The handshake verifies against the union of the sites' CAs: a stranger's certificate fails there
    (or, at the latest, gets a 403); it never reaches an mTLS site's origin."""
    try:
        response = echo(mtls_gateway, pki, "m.test", clients.mallory)
    except (ssl.SSLError, ConnectionError):
        return
    assert response.status == 403, response.text()


@pytest.mark.parametrize("version", ["TLSv1.2", "TLSv1.3"])
def test_certificate_from_the_site_ca_passes_and_the_origin_sees_its_subject(
    mtls_gateway: Gateway, pki: Pki, clients: Clients, version: str
) -> None:
    def pinned(client_pem: Path, host: str) -> Response:
        context = context_for(pki, client_pem)
        context.minimum_version = context.maximum_version = ssl.TLSVersion[version.replace(".", "_")]
        conn = EdgeConnection(mtls_gateway.https_port, context, host, 10)
        try:
            return send(conn, "GET", "/echo", host=host)
        finally:
            conn.close()

    response = pinned(clients.alice, "m.test")
    assert response.status == 200, response.text()
    assert subjects(response) == ["CN=alice"]
    response = pinned(clients.bob, "n.test")
    assert response.status == 200, response.text()
    assert subjects(response) == ["CN=bob"]


def test_client_with_a_certificate_cannot_forge_the_subject_header(
    mtls_gateway: Gateway, pki: Pki, clients: Clients
) -> None:
    response = echo(mtls_gateway, pki, "m.test", clients.alice, {"X-Client-Cert-Subject": "CN=admin"})
    assert response.status == 200
    assert subjects(response) == ["CN=alice"]  # the verified subject only, once


def test_certificate_of_another_sites_ca_is_refused_here_and_accepted_there(
    mtls_gateway: Gateway, pki: Pki, clients: Clients
) -> None:
    assert echo(mtls_gateway, pki, "n.test", clients.bob).status == 200  # bob is a client of n.test
    response = echo(mtls_gateway, pki, "m.test", clients.bob)
    assert response.status == 403, response.text()
    assert echo(mtls_gateway, pki, "m.test", clients.alice).status == 200
    response = echo(mtls_gateway, pki, "n.test", clients.alice)
    assert response.status == 403, response.text()
    # bob's connection to n.test does not open m.test by its Host header either.
    conn = EdgeConnection(mtls_gateway.https_port, context_for(pki, clients.bob), "n.test", 10)
    try:
        assert send(conn, "GET", "/echo", host="n.test").status == 200
        assert send(conn, "GET", "/echo", host="m.test").status in (403, 421)
    finally:
        conn.close()


def test_site_without_client_ca_accepts_a_client_that_presents_a_certificate(
    mtls_gateway: Gateway, pki: Pki, clients: Clients
) -> None:
    response = echo(mtls_gateway, pki, "p.test", clients.alice)
    assert response.status == 200, response.text()
    assert subjects(response) == ["CN=alice"]


def test_handshake_asks_for_a_client_certificate_but_does_not_require_it(mtls_gateway: Gateway, pki: Pki) -> None:
    """CERT_OPTIONAL on the listener: a certificate-less TLS handshake to an mTLS site still completes (the
    403 comes from the HTTP layer, with a page, instead of an opaque TLS alert)."""
    context = context_for(pki, None)
    with (
        socket.create_connection((LOOPBACK, mtls_gateway.https_port), 5) as raw,
        context.wrap_socket(raw, server_hostname="m.test") as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")


def get(gateway: Gateway, pki: Pki, host: str, path: str, client_pem: Path | None) -> Response:
    conn = EdgeConnection(gateway.https_port, context_for(pki, client_pem), host, 10)
    try:
        return send(conn, "GET", path, host=host)
    finally:
        conn.close()


def test_rules_see_the_verified_client_subject(mtls_gateway: Gateway, pki: Pki, clients: Clients) -> None:
    assert get(mtls_gateway, pki, "m.test", "/deny-alice", clients.alice).status == 451
    assert get(mtls_gateway, pki, "n.test", "/deny-alice", clients.bob).status == 200  # another subject
    assert get(mtls_gateway, pki, "p.test", "/deny-alice", None).status == 200  # no certificate: empty subject


def test_rules_see_the_server_name_and_tls_version(mtls_gateway: Gateway, pki: Pki) -> None:
    assert get(mtls_gateway, pki, "p.test", "/tls-facts", None).status == 418
    assert get(mtls_gateway, pki, "localhost", "/tls-facts", None).status == 200  # another SNI, same site
