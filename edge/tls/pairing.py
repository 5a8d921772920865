"""Pair private keys with leaf certificates and build their chains, within one folder.

Pairing is by public key, never by file name: certbot's `privkey.pem` + `fullchain.pem`, a combined
`site.pem`, or `a.crt` + `b.key` all work. The folder is the pairing scope, so two sites' files in two
subfolders never mix.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from edge.tls.entries import CertEntry, InventoryRow
from edge.tls.pemfile import FileContents, ParsedCert, ParsedKey, is_supported_key_type

_MAX_CHAIN = 8
_SUPPORTED = "use RSA 2048-4096, ECDSA P-256/P-384 or Ed25519"


@dataclass(frozen=True, slots=True)
class Servable:
    """A leaf with its key, before the folder-wide choice decides its state."""

    entry: CertEntry
    files: tuple[str, ...]
    issuer: str  # short form for the table
    note: str


@dataclass(frozen=True, slots=True)
class FolderResult:
    servable: tuple[Servable, ...]
    rows: tuple[InventoryRow, ...]  # key-mismatch and unsupported-key rows; final, no further state


# What makes one Servable: root, home file, key file, the fingerprints of the leaf and its chain, and of the
# certificates of the home file in their order (for the reordering note).
ServableKey = tuple[str, str, str, tuple[str, ...], tuple[str, ...]]


class ServableCache:
    """The Servables of the last load, reused when nothing they are made of changed: building one (names,
    PEM chain, issuer strings) costs about 50 µs, half a second for a folder of 10,000 certificates."""

    def __init__(self, previous: dict[ServableKey, Servable] | None = None) -> None:
        self.previous = previous or {}
        self.fresh: dict[ServableKey, Servable] = {}


def pair_folder(
    root: Path, files: Sequence[tuple[str, FileContents]], cache: ServableCache | None = None
) -> FolderResult:
    """Pair the parsed `files` (relative path, contents) of one folder; `root` makes the entries' paths."""
    return _Folder(root, files, cache or ServableCache()).pair()


class _Folder:
    def __init__(self, root: Path, files: Sequence[tuple[str, FileContents]], cache: ServableCache) -> None:
        self.root = root
        self.cache = cache
        self.file_certs = {name: contents.certs for name, contents in files if contents.certs}
        self.certs: dict[str, ParsedCert] = {}  # fingerprint -> first occurrence
        self.homes: dict[str, list[str]] = defaultdict(list)  # fingerprint -> files holding it
        self.by_subject: dict[bytes, list[ParsedCert]] = defaultdict(list)
        self.keys: dict[bytes, tuple[str, ParsedKey]] = {}  # spki -> first occurrence
        self.key_files: dict[bytes, list[str]] = defaultdict(list)
        for name, contents in files:
            for cert in contents.certs:
                if cert.fingerprint not in self.certs:
                    self.certs[cert.fingerprint] = cert
                    self.by_subject[cert.subject_der].append(cert)
                self.homes[cert.fingerprint].append(name)
            for key in contents.keys:
                self.keys.setdefault(key.spki, (name, key))
                self.key_files[key.spki].append(name)

    def pair(self) -> FolderResult:
        servable: list[Servable] = []
        rows: list[InventoryRow] = []
        used: set[bytes] = set()
        for cert in self.certs.values():
            if cert.is_ca and not self._self_signed_leaf(cert):
                continue  # chain material, never a leaf
            found = self.keys.get(cert.spki)
            home = self._home(cert)
            if found is None:
                rows.append(_cert_row(cert, (home,), "key-mismatch", "certificate has no private key in its folder"))
                continue
            used.add(cert.spki)
            key_file, key = found
            if not is_supported_key_type(cert.key_type):
                why = f"unsupported key {cert.key_type} ({_SUPPORTED})"
                rows.append(_cert_row(cert, (home, key_file), f"unreadable: {why}"))
                continue
            servable.append(self._servable(cert, home, key_file, key))
        for spki, (key_file, key) in self.keys.items():
            if spki not in used:
                rows.append(self._orphan_key_row(spki, key_file, key))
        return FolderResult(tuple(servable), tuple(rows))

    def _self_signed_leaf(self, cert: ParsedCert) -> bool:
        """A self-signed certificate marked CA that is used as a site's own certificate: served like a leaf.

        `openssl req -x509` (OpenSSL 3's default extensions) marks every certificate it makes `CA:TRUE`, and
        nginx serves such a certificate as it is. It counts as a leaf when it names a host, its private key
        is in the folder, and it issued no other certificate here (a real CA with its key next to the
        certificates it signed stays chain material, never served). A CA's usual name ("Root", "R3") is no
        host name: only a name with a dot, `localhost` or an address qualifies.
        """
        hosts = [name for name in cert.names if "." in name or ":" in name or name == "localhost"]
        if not cert.is_self_issued or not hosts or cert.spki not in self.keys:
            return False
        return not any(
            other is not cert and other.issuer_der == cert.subject_der and _issued(other, cert)
            for other in self.certs.values()
        )

    def _home(self, cert: ParsedCert) -> str:
        """The file that holds the leaf with the most certificates next to it (fullchain.pem over cert.pem)."""
        return min(self.homes[cert.fingerprint], key=lambda name: (-len(self.file_certs[name]), name))

    def _servable(self, leaf: ParsedCert, home: str, key_file: str, key: ParsedKey) -> Servable:
        chain = self._chain(leaf, home)
        made_of = (
            str(self.root),
            home,
            key_file,
            (leaf.fingerprint, *(c.fingerprint for c in chain)),
            tuple(c.fingerprint for c in self.file_certs[home]),
        )
        known = self.cache.previous.get(made_of) or self.cache.fresh.get(made_of)
        if known is None or known.entry.key_pem != key.pkcs8_pem:
            known = self._build_servable(leaf, chain, home, key_file, key)
        self.cache.fresh[made_of] = known
        return known

    def _build_servable(
        self, leaf: ParsedCert, chain: tuple[ParsedCert, ...], home: str, key_file: str, key: ParsedKey
    ) -> Servable:
        chain_files = [home if home in self.homes[c.fingerprint] else self.homes[c.fingerprint][0] for c in chain]
        files = tuple(dict.fromkeys([home, key_file, *chain_files]))
        pem = serialization.Encoding.PEM
        entry = CertEntry(
            id=leaf.fingerprint,
            cert_file=self.root / home,
            key_file=self.root / key_file,
            names=leaf.names,
            key_type=leaf.key_type,
            subject=leaf.cert.subject.rfc4514_string(),
            issuer=leaf.cert.issuer.rfc4514_string(),
            serial=leaf.cert.serial_number,
            not_before=leaf.not_before,
            not_after=leaf.not_after,
            chain_pem=b"".join(c.cert.public_bytes(pem) for c in (leaf, *chain)),
            key_pem=key.pkcs8_pem,
        )
        return Servable(entry, files, short_name(leaf), self._order_note(home, (leaf, *chain)))

    def _chain(self, leaf: ParsedCert, home: str) -> tuple[ParsedCert, ...]:
        """Intermediates from leaf towards the root, excluding self-issued roots (clients have them).

        Among several candidate issuers: one in the leaf's own file first, then one whose signature
        verifies, then the latest not-after (renewed or cross-signed intermediates).
        """
        chain: list[ParsedCert] = []
        seen = {leaf.fingerprint}
        current = leaf
        while len(chain) < _MAX_CHAIN and not current.is_self_issued:
            candidates = [
                c
                for c in self.by_subject.get(current.issuer_der, ())
                if c.fingerprint not in seen and not c.is_self_issued
            ]
            if not candidates:
                break
            current = self._best_issuer(current, candidates, home)
            chain.append(current)
            seen.add(current.fingerprint)
        return tuple(chain)

    def _best_issuer(self, child: ParsedCert, candidates: list[ParsedCert], home: str) -> ParsedCert:
        if len(candidates) == 1:
            return candidates[0]
        return max(candidates, key=lambda c: (home in self.homes[c.fingerprint], _issued(child, c), c.not_after))

    def _order_note(self, home: str, chain: tuple[ParsedCert, ...]) -> str:
        positions = {c.fingerprint: i for i, c in enumerate(self.file_certs[home])}
        order = [positions[c.fingerprint] for c in chain if c.fingerprint in positions]
        return "" if order == sorted(order) else f"chain in {home} reordered leaf first"

    def _orphan_key_row(self, spki: bytes, key_file: str, key: ParsedKey) -> InventoryRow:
        files = tuple(dict.fromkeys(self.key_files[spki]))
        ca = next((c for c in self.certs.values() if c.spki == spki), None)
        if ca is not None:
            note = f"key belongs to CA certificate {ca.cert.subject.rfc4514_string()}, which is never served"
        else:
            note = "private key matches no certificate in its folder"
        return InventoryRow(files, (), key.key_type, "", None, "key-mismatch", note)


def _cert_row(cert: ParsedCert, files: tuple[str, ...], state: str, note: str = "") -> InventoryRow:
    return InventoryRow(
        tuple(dict.fromkeys(files)), cert.names, cert.key_type, short_name(cert), cert.not_after, state, note
    )


def short_name(cert: ParsedCert) -> str:
    """The issuer as a table cell: its CN, else its O, else the full RFC 4514 string."""
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME):
        values = [a.value for a in cert.cert.issuer.get_attributes_for_oid(oid) if isinstance(a.value, str)]
        if values:
            return values[0]
    return cert.cert.issuer.rfc4514_string()


def _issued(child: ParsedCert, issuer: ParsedCert) -> bool:
    try:
        child.cert.verify_directly_issued_by(issuer.cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
