"""Who is asking: the client address behind trusted proxies, and a request id for the logs and the client.

The address is the TCP peer unless the peer is a trusted proxy; then it is the right-most address of
X-Forwarded-For that is not itself trusted (RFC 7239 section 5.2 reasoning: everything left of the first
untrusted hop may be forged). A client can therefore never choose its own address by sending headers.
"""

from __future__ import annotations

import ipaddress
import random
from functools import lru_cache

from edge.config import IPNetwork


class ClientResolver:
    def __init__(self, trusted: tuple[IPNetwork, ...]) -> None:
        self.trusted = trusted

    @lru_cache(maxsize=4096)  # noqa: B019 - one resolver per config snapshot; the cache dies with it
    def is_trusted(self, address: str) -> bool:
        if not self.trusted:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    def client_ip(self, peer: str, forwarded_for: bytes | None) -> str:
        """The client's address: `peer` itself unless a trusted peer relayed one in X-Forwarded-For."""
        if forwarded_for is None or not self.is_trusted(peer):
            return peer
        for hop in reversed(forwarded_for.decode("latin-1").split(",")):
            candidate = hop.strip()
            try:
                ipaddress.ip_address(candidate)
            except ValueError:
                return peer  # a malformed hop: trust nothing further left
            if not self.is_trusted(candidate):
                return candidate
        return peer


_bits = random.getrandbits


def new_request_id() -> str:
    """64 random bits, hex: unique across workers and gateways without coordination.

    From `random` (seeded from the OS, and re-seeded in every forked worker by the module itself), not
    `os.urandom`: a system call per request costs more than the id is worth; nothing secret rides on it.
    """
    return f"{_bits(64):016x}"
