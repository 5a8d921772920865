"""Host -> site. Exact names first, then `*.parent` wildcards that cover exactly one label."""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from edge.config import SiteConfig
from edge.proxy.balancer import Balancer, balancer_for
from edge.proxy.forward import DROP_FROM_ORIGIN, origin_authorities, response_headers
from edge.proxy.health import HealthPolicy, OriginHealth
from edge.proxy.signing import Signer
from edge.proxy.upstream import Pool
from edge.static import NO_STATIC, StaticFolders


@dataclass(frozen=True, slots=True)
class Site:
    """A configured site with its live origin pools; `index` is its position in edge.toml."""

    index: int
    config: SiteConfig
    pools: tuple[Pool, ...]
    balancer: Balancer
    origin_authorities: frozenset[bytes]
    origin_hosts: frozenset[bytes]  # the origins' host names and addresses, for Set-Cookie Domain
    hsts: bytes
    client_cas: tuple[x509.Certificate, ...] = ()
    signer: Signer | None = None  # origin_auth: signs each forwarded request (Edge-Origin-Auth)
    response_drop: frozenset[bytes] = DROP_FROM_ORIGIN  # plus the site's drop_response_headers
    static: StaticFolders = NO_STATIC  # [site.static]: folders the gateway serves itself (static.py)

    @classmethod
    def build(cls, index: int, config: SiteConfig) -> Site:
        policy = HealthPolicy.for_site(config)
        pools = tuple(
            Pool(origin, ssl_context=_origin_context(config) if origin.tls else None, health=OriginHealth(policy))
            for origin in config.origins
        )
        authorities: frozenset[bytes] = frozenset()
        for origin in config.origins:
            authorities |= origin_authorities(origin.scheme, origin.host, origin.port)
        return cls(
            index=index,
            config=config,
            pools=pools,
            balancer=balancer_for(config.balance, pools),
            origin_authorities=authorities,
            origin_hosts=frozenset(origin.host.lower().encode("idna") for origin in config.origins),
            hsts=config.hsts.encode("latin-1"),
            client_cas=_load_cas(config.client_ca) if config.client_ca else (),
            signer=Signer.from_env(config.origin_auth_secret_env) if config.origin_auth_secret_env else None,
            response_drop=DROP_FROM_ORIGIN | {name.encode("ascii") for name in config.drop_response_headers},
            static=StaticFolders.build(config.static, config.static_cache_control),
        )

    def forward_headers(
        self, method: str, host: bytes, target: bytes, client_subject: str = ""
    ) -> tuple[tuple[bytes, bytes], ...]:
        """The headers only edge sets on a forwarded request: the verified client certificate's subject (mTLS)
        and the origin signature (`origin_auth`: HMAC over time, method, host and target)."""
        out: tuple[tuple[bytes, bytes], ...] = ()
        if client_subject:
            out = ((b"x-client-cert-subject", client_subject.encode()),)
        if self.signer is not None:
            out += ((b"edge-origin-auth", self.signer.header(method, host, target, int(time.time()))),)
        return out

    def client_headers(self, raw: list[tuple[bytes, bytes]], public_host: bytes) -> list[tuple[bytes, bytes]]:
        """An origin's response headers as clients may see them (proxy/forward.py): the one place that applies
        the site's rules, for what is forwarded, stored, merged from a 304 or refreshed in the background."""
        return response_headers(
            raw,
            origin_authorities=self.origin_authorities,
            public_host=public_host,
            extra=[],
            origin_hosts=self.origin_hosts,
            drop=self.response_drop,
        )

    def accepts_client(self, leaf: x509.Certificate | None) -> bool:
        """mTLS: True when the site needs no client certificate, or the verified one was issued by its CA.

        The handshake already verified the chain against the union of all sites' CAs (one listener serves
        them all); this narrows it to this site's own CA.
        """
        if not self.client_cas:
            return True
        if leaf is None:
            return False
        for ca in self.client_cas:
            try:
                leaf.verify_directly_issued_by(ca)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return True
        return False

    def close(self) -> None:
        for pool in self.pools:
            pool.close()


def _load_cas(path: Path) -> tuple[x509.Certificate, ...]:
    return tuple(x509.load_pem_x509_certificates(path.read_bytes()))


def _origin_context(config: SiteConfig) -> ssl.SSLContext:
    """TLS to https:// origins: verified against origin_ca (or the system store), with an optional client cert."""
    context = ssl.create_default_context(cafile=str(config.origin_ca) if config.origin_ca else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if config.origin_client:
        cert, key = config.origin_client
        context.load_cert_chain(str(cert), str(key))
    return context


class SiteTable:
    """Looks a request's host up among the sites; O(1) per request."""

    def __init__(self, sites: tuple[Site, ...]) -> None:
        self.sites = sites
        self.exact: dict[str, Site] = {}
        self.wildcard: dict[str, Site] = {}
        for site in sites:
            for host in site.config.hosts:
                if host.startswith("*."):
                    self.wildcard.setdefault(host[2:], site)
                else:
                    self.exact.setdefault(host, site)

    def match(self, host: str) -> Site | None:
        """The site for a lower-case host name without port, or None."""
        site = self.exact.get(host)
        if site is not None:
            return site
        _, dot, parent = host.partition(".")
        return self.wildcard.get(parent) if dot else None

    def close(self) -> None:
        for site in self.sites:
            site.close()
