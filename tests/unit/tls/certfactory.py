"""Certificates, keys and folder layouts for the TLS tests, made with `cryptography` on the spot.

Keys are cached per kind (`shared_key`) because RSA generation dominates test time; pass `fresh=True`
where a test needs distinct keys.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KeyKind = Literal["rsa1024", "rsa2048", "rsa3072", "rsa4096", "p256", "p384", "p521", "ed25519"]
KeyFormat = Literal["pkcs8", "pkcs1", "sec1", "pkcs8-encrypted", "legacy-encrypted", "der"]
Key = CertificateIssuerPrivateKeyTypes
NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)


def new_key(kind: KeyKind) -> Key:
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    curve = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(), "p521": ec.SECP521R1()}[kind]
    return ec.generate_private_key(curve)


@functools.cache
def shared_key(kind: KeyKind, slot: int = 0) -> Key:
    """A key reused across tests (slot distinguishes several keys of one kind)."""
    return new_key(kind)


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: Key

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def _sign_hash(key: Key) -> hashes.SHA256 | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def make_ca(
    name: str = "Test Root CA",
    *,
    issuer: Issued | None = None,
    key: Key | None = None,
    not_before: datetime = NOW - 365 * DAY,
    not_after: datetime = NOW + 3650 * DAY,
) -> Issued:
    """A root CA, or an intermediate when `issuer` is given."""
    key = key or new_key("p256")
    subject = x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test"), x509.NameAttribute(NameOID.COMMON_NAME, name)]
    )
    signer = issuer.key if issuer else key
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(signer, _sign_hash(signer))
    )
    return Issued(cert, key)


def make_leaf(
    issuer: Issued,
    names: Sequence[str] = ("a.example.test",),
    *,
    key: Key | None = None,
    kind: KeyKind = "p256",
    cn: str | None = None,
    san: bool = True,
    not_before: datetime = NOW - DAY,
    not_after: datetime = NOW + 30 * DAY,
    ca: bool = False,
    client: bool = False,
) -> Issued:
    """A server certificate for `names` (SAN), or with `san=False` a CN-only one (CN = `cn` or names[0]).

    `client=True` makes a client certificate (clientAuth usage) for mTLS.
    """
    usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
    key = key or shared_key(kind)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn or (names[0] if names else "leaf"))])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if san:
        general: list[x509.GeneralName] = []
        for name in names:
            try:
                general.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                general.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(general), critical=False)
    return Issued(builder.sign(issuer.key, _sign_hash(issuer.key)), key)


def key_bytes(key: Key, fmt: KeyFormat = "pkcs8", password: bytes = b"secret") -> bytes:
    """The key in `fmt`: PKCS#8, PKCS#1 (RSA) / SEC1 (EC) "traditional", encrypted either way, or DER."""
    pem = serialization.Encoding.PEM
    none = serialization.NoEncryption()
    match fmt:
        case "pkcs8":
            return key.private_bytes(pem, serialization.PrivateFormat.PKCS8, none)
        case "pkcs1" | "sec1":
            return key.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL, none)
        case "pkcs8-encrypted":
            encryption = serialization.BestAvailableEncryption(password)
            return key.private_bytes(pem, serialization.PrivateFormat.PKCS8, encryption)
        case "legacy-encrypted":
            encryption = serialization.BestAvailableEncryption(password)
            return key.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL, encryption)
        case "der":
            return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, none)


def write(path: Path, *parts: bytes, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(parts))
    path.chmod(mode)
    return path


def write_certbot(
    root: Path, live: Path, name: str, leaf: Issued, chain: Sequence[Issued], generation: int = 1
) -> Path:
    """certbot's layout: `archive/NAME/*N.pem` files and `live/NAME/*.pem` relative symlinks to them."""
    archive = root / "archive" / name
    chain_pem = b"".join(c.pem for c in chain)
    files = {
        "cert": leaf.pem,
        "chain": chain_pem,
        "fullchain": leaf.pem + chain_pem,
        "privkey": key_bytes(leaf.key),
    }
    target = live / name
    target.mkdir(parents=True, exist_ok=True)
    for stem, data in files.items():
        archived = write(archive / f"{stem}{generation}.pem", data)
        link = target / f"{stem}.pem"
        link.unlink(missing_ok=True)
        link.symlink_to(Path("..") / ".." / archived.relative_to(root))
    return target


def truncated(data: bytes) -> bytes:
    """What a reader sees halfway through a write: the END line of the last block is missing."""
    return data[: len(data) * 2 // 3]
