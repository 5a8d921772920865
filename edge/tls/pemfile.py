"""Read one certificate-folder file into parsed certificates and private keys.

This is the only module that touches file bytes. A file is all-or-nothing: if any block in it fails to
parse, the whole file is reported as unreadable (a half-written ``fullchain.pem`` must not be served with
half a chain); the watcher retries on the next change.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

_KeyLoader = Callable[[bytes, bytes | None], PrivateKeyTypes]

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----", re.DOTALL)
_PEM_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_CERT_LABELS = frozenset({b"CERTIFICATE", b"X509 CERTIFICATE"})
_KEY_LABELS = frozenset({b"PRIVATE KEY", b"ENCRYPTED PRIVATE KEY", b"RSA PRIVATE KEY", b"EC PRIVATE KEY"})
# Blocks that commonly sit next to certificates and carry nothing we serve.
_IGNORED_LABELS = frozenset(
    {b"EC PARAMETERS", b"DH PARAMETERS", b"PUBLIC KEY", b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST", b"X509 CRL"}
)
_RSA_BITS = (2048, 4096)
_EC_CURVES = {"secp256r1": "ECDSA-P256", "secp384r1": "ECDSA-P384"}
_HOSTNAME = re.compile(r"^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")


class UnreadableFile(Exception):
    """The file cannot be used at all; ``str(exc)`` is the operator-facing reason."""


@dataclass(frozen=True, slots=True)
class ParsedCert:
    """One certificate, with every attribute the store needs extracted eagerly (parse errors surface here)."""

    cert: x509.Certificate
    index: int  # position among the certificates of its file
    fingerprint: str
    spki: bytes  # DER SubjectPublicKeyInfo: the pairing key
    subject_der: bytes
    issuer_der: bytes
    is_ca: bool
    names: tuple[str, ...]
    key_type: str
    not_before: datetime
    not_after: datetime

    @property
    def is_self_issued(self) -> bool:
        return self.subject_der == self.issuer_der


@dataclass(frozen=True, slots=True)
class ParsedKey:
    spki: bytes
    key_type: str
    pkcs8_pem: bytes  # unencrypted, normalised


@dataclass(frozen=True, slots=True)
class FileContents:
    certs: tuple[ParsedCert, ...]
    keys: tuple[ParsedKey, ...]


def parse_bytes(data: bytes, key_password: bytes | None) -> FileContents:
    """Parse PEM (any mix of certificates and keys) or a single DER certificate or key.

    Raises UnreadableFile with a short reason; never anything else for bad content.
    """
    if not data.strip():
        raise UnreadableFile("empty file")
    if b"-----BEGIN " not in data:
        return _read_der(data, key_password)
    blocks = [(m.group(1), m.group(0)) for m in _PEM_BLOCK.finditer(data)]
    begins = _PEM_BEGIN.findall(data)
    if len(begins) != len(blocks):
        raise UnreadableFile("truncated PEM block (BEGIN without matching END)")
    certs: list[ParsedCert] = []
    keys: list[ParsedKey] = []
    for label, block in blocks:
        if label in _CERT_LABELS:
            certs.append(_parse_cert(_load_pem_cert(block), len(certs)))
        elif label in _KEY_LABELS:
            keys.append(_parse_key(_load_pem_key(block, key_password)))
        elif label not in _IGNORED_LABELS:
            raise UnreadableFile(f"unsupported PEM block {label.decode()!r}")
    return FileContents(tuple(certs), tuple(keys))


def _load_pem_cert(block: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(block)
    except ValueError as exc:
        raise UnreadableFile(f"bad certificate: {_first_line(exc)}") from None


def _load_pem_key(block: bytes, key_password: bytes | None) -> PrivateKeyTypes:
    return _load_key(serialization.load_pem_private_key, block, key_password)


def _load_key(load: _KeyLoader, data: bytes, key_password: bytes | None) -> PrivateKeyTypes:
    """Try unencrypted first, so that a configured password never breaks plain keys."""
    try:
        return load(data, None)
    except TypeError:  # "Password was not given but private key is encrypted"
        if key_password is None:
            raise UnreadableFile("encrypted private key but no key password is set (tls.key_password_env)") from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise UnreadableFile(f"bad private key: {_first_line(exc)}") from None
    try:
        return load(data, key_password)
    except (ValueError, TypeError):
        raise UnreadableFile("wrong key password (or damaged encrypted key)") from None


def _read_der(data: bytes, key_password: bytes | None) -> FileContents:
    try:
        cert = x509.load_der_x509_certificate(data)
    except ValueError:
        pass
    else:
        return FileContents((_parse_cert(cert, 0),), ())
    try:
        key = _load_key(serialization.load_der_private_key, data, key_password)
    except UnreadableFile as exc:
        if "password" in str(exc):
            raise
        raise UnreadableFile("neither PEM nor a DER certificate or key") from None
    return FileContents((), (_parse_key(key),))


def _parse_cert(cert: x509.Certificate, index: int) -> ParsedCert:
    try:
        public_key = cert.public_key()
        return ParsedCert(
            cert=cert,
            index=index,
            fingerprint=cert.fingerprint(hashes.SHA256()).hex(),
            spki=_spki(public_key),
            subject_der=cert.subject.public_bytes(),
            issuer_der=cert.issuer.public_bytes(),
            is_ca=_is_ca(cert),
            names=_names(cert),
            key_type=key_type_of(public_key),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
        )
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise UnreadableFile(f"bad certificate: {_first_line(exc)}") from None


def _parse_key(key: PrivateKeyTypes) -> ParsedKey:
    public_key = key.public_key()
    return ParsedKey(
        spki=_spki(public_key),
        key_type=key_type_of(public_key),
        pkcs8_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )


def key_type_of(public_key: PublicKeyTypes) -> str:
    """Name the key as the inventory shows it; unsupported algorithms and sizes get a descriptive name."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA-{public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return _EC_CURVES.get(public_key.curve.name, f"ECDSA-{public_key.curve.name}")
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    return type(public_key).__name__.removesuffix("PublicKey").lstrip("_") or "unknown"


def is_supported_key_type(key_type: str) -> bool:
    """RSA 2048-4096, ECDSA P-256/P-384, Ed25519: what every current client accepts and OpenSSL serves well."""
    if key_type.startswith("RSA-"):
        bits = int(key_type.removeprefix("RSA-"))
        return _RSA_BITS[0] <= bits <= _RSA_BITS[1]
    return key_type in ("ECDSA-P256", "ECDSA-P384", "Ed25519")


def _spki(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _names(cert: x509.Certificate) -> tuple[str, ...]:
    """SAN DNS names (and IP addresses), lower-cased; the CN only when there is no SAN extension at all."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        common_names = [a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)]
        raw = [cn for cn in common_names if isinstance(cn, str)]
    else:
        raw = list(san.get_values_for_type(x509.DNSName))
        ips = san.get_values_for_type(x509.IPAddress)
        raw += [str(ip) for ip in ips if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address)]
    names = (normalize_name(n) for n in raw)
    return tuple(dict.fromkeys(n for n in names if n))


def normalize_name(name: str) -> str:
    """Lower-case, drop one trailing dot; return "" for anything that is not a host name, wildcard or IP."""
    name = name.strip().lower().removesuffix(".")
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    return name if _HOSTNAME.match(name) else ""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
