"""The loaded shapes of the certificate folder: servable entries and inventory rows.

Both are frozen values: a store snapshot is shared by every handshake without locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

# Key algorithm families served side by side: OpenSSL keeps one certificate per family in a context and
# picks by the client's signature algorithms. The order is the order of the tuple `CertStore.choose` returns.
FAMILIES = ("ECDSA", "RSA", "Ed25519")


def key_family(key_type: str) -> str:
    """ "RSA-2048" -> "RSA", "ECDSA-P256" -> "ECDSA", "Ed25519" -> "Ed25519"."""
    return key_type.split("-", 1)[0]


@dataclass(frozen=True, slots=True)
class CertEntry:
    """One servable leaf certificate with its private key and the chain to send.

    The key is held unencrypted in memory only; it is written to disk solely for the instant
    `ssl.SSLContext.load_cert_chain` needs a file (see `edge.tls.contexts`).
    """

    id: str  # SHA-256 fingerprint (hex) of the leaf
    cert_file: Path
    key_file: Path
    names: tuple[str, ...]
    key_type: str  # "RSA-2048", "ECDSA-P256", "ECDSA-P384", "Ed25519"
    subject: str
    issuer: str
    serial: int
    not_before: datetime  # aware, UTC
    not_after: datetime  # aware, UTC
    chain_pem: bytes  # leaf first, then intermediates
    key_pem: bytes  # unencrypted PKCS#8 PEM

    @property
    def key_family(self) -> str:
        return key_family(self.key_type)

    def is_valid(self, now: datetime) -> bool:
        """True when `now` lies within [not_before, not_after] (both inclusive, as in RFC 5280)."""
        return self.not_before <= now <= self.not_after

    def __repr__(self) -> str:  # never print key material into logs or tracebacks
        return (
            f"CertEntry(id={self.id[:16]}..., names={self.names!r}, key_type={self.key_type!r}, file={self.cert_file})"
        )


@dataclass(frozen=True, slots=True)
class InventoryRow:
    """One line of `edge certs` and of admin `GET /certs`.

    `state` is one of `served`, `shadowed`, `expired`, `not-yet-valid`, `key-mismatch`, `unreadable: <why>`;
    `note` says more (which side of a key-mismatch is missing, what shadows an entry, a reordered chain).
    `files` are relative to the certificate folder.
    """

    files: tuple[str, ...]
    names: tuple[str, ...]
    key_type: str
    issuer: str
    not_after: datetime | None
    state: str
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: lists for tuples, ISO 8601 for the date."""
        return {
            "files": list(self.files),
            "names": list(self.names),
            "key_type": self.key_type,
            "issuer": self.issuer,
            "not_after": self.not_after.isoformat() if self.not_after else None,
            "state": self.state,
            "note": self.note,
        }

    @property
    def is_problem(self) -> bool:
        """Not servable at all: the rows `edge check` reports."""
        return self.state == "key-mismatch" or self.state.startswith("unreadable")
