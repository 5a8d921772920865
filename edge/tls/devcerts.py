"""`edge certs dev NAME...`: a local development CA and a leaf certificate signed by it.

The CA lives in `<certs>/dev-ca/`, which `load_store` skips, so the CA itself is never served; trust
`dev-ca/ca.pem` in a browser or pass it to `curl --cacert`. The CA is made once and reused; the leaf is
replaced on every run. Files appear atomically (temp file + rename), so the certificate watcher never
sees half a file; the temp files are hidden names, which the store ignores.
"""

from __future__ import annotations

import ipaddress
import os
import platform
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from edge.tls.certstore import DEV_CA_FOLDER
from edge.tls.pemfile import normalize_name

CA_DAYS = 3650
LEAF_DAYS = 90
_BACKDATE = timedelta(hours=1)  # tolerate clock skew between this machine and test clients


def write_dev_certs(folder: Path, names: Sequence[str]) -> tuple[Path, Path]:
    """Write (or reuse) `folder/dev-ca/ca.pem` + `ca.key`, and write `folder/<first name>.pem` holding the
    leaf certificate and its key. Returns (CA certificate path, leaf file path).

    Raises ValueError for no names or a name that is neither a host name, a `*.` wildcard nor an IP
    address, or when an existing dev CA cannot be read (remove `dev-ca/` to start over).
    """
    normalized = [_normalize(name) for name in names]
    if not normalized:
        raise ValueError("give at least one name, e.g. `edge certs dev localhost 127.0.0.1`")
    ca_dir = folder / DEV_CA_FOLDER
    ca_dir.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _load_or_create_ca(ca_dir)
    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, normalized[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + timedelta(days=LEAF_DAYS))
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in normalized]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_path = folder / f"{normalized[0].replace('*', 'wildcard')}.pem"
    _write_atomically(leaf_path, leaf.public_bytes(serialization.Encoding.PEM) + _pkcs8(key), 0o600)
    return ca_dir / "ca.pem", leaf_path


def _load_or_create_ca(ca_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert_path, key_path = ca_dir / "ca.pem", ca_dir / "ca.key"
    if cert_path.exists() and key_path.exists():
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), None)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"{ca_dir}: cannot read the development CA ({exc}); remove the folder to start over"
            ) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
            raise ValueError(f"{ca_dir}: ca.key does not match ca.pem; remove the folder to start over")
        return cert, key
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "edge development CA"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"edge development CA {platform.node()}"[:64]),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    # Key first: a CA certificate without its key on disk would be useless on the next run.
    _write_atomically(key_path, _pkcs8(key), 0o600)
    _write_atomically(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert, key


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _normalize(name: str) -> str:
    ascii_name = name.strip().encode("idna").decode("ascii") if not name.isascii() else name
    normalized = normalize_name(ascii_name)
    if not normalized:
        raise ValueError(f"{name!r} is not a host name, a *.wildcard or an IP address")
    return normalized


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _pkcs8(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    descriptor, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
