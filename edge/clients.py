"""Who is asking: the client address behind trusted proxies, and a request id for the logs and the client.

The address is the TCP peer unless the peer is a trusted proxy; then it is the right-most address of
X-Forwarded-For that is not itself trusted (RFC 7239 section 5.2 reasoning: everything left of the first
untrusted hop may be forged). A client can therefore never choose its own address by sending headers.
"""

from __future__ import annotations

import ipaddress
import os
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


_BATCH = 8 * 512  # bytes of randomness fetched per system call: ids for 512 requests


class _RequestIds:
    """64 bits from the OS random source per id, fetched in batches.

    Not `random`: a Mersenne Twister's output is predictable from a few hundred observed ids, and request
    ids appear in responses. One `os.urandom` call per 512 requests keeps the system call off the hot path;
    the batch is dropped in a forked child so that two workers never hand out the same ids.
    """

    def __init__(self) -> None:
        self.hex = ""
        self.at = 0
        os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self.hex, self.at = "", 0

    def next(self) -> str:
        at = self.at
        if at >= len(self.hex):
            self.hex, at = os.urandom(_BATCH).hex(), 0
        self.at = at + 16
        return self.hex[at : at + 16]


new_request_id = _RequestIds().next
