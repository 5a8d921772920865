"""TLS: the certificate folder, its choice rules, and the SSLContexts built from them.

- `pemfile`   one file's bytes -> parsed certificates and keys (PEM in any mix, or DER), or a reason
- `pairing`   one folder: keys paired with leaves by public key, chains built leaf first
- `choice`    the precomputed name -> entries index (valid, then exact, then latest not-after; per key family)
- `certstore` the whole folder -> an immutable `CertStore` snapshot, its inventory rows and `edge certs` table
- `contexts`  chosen entries -> a server `ssl.SSLContext`, cached per distinct choice
- `devcerts`  `edge certs dev`: a development CA and leaf
- `sni`       the handshake callback and the live snapshot reference
"""

from edge.tls.certstore import CertStore, format_table, load_store
from edge.tls.contexts import ContextCache, TlsSettings, build_context
from edge.tls.entries import CertEntry, InventoryRow

__all__ = [
    "CertEntry",
    "CertStore",
    "ContextCache",
    "InventoryRow",
    "TlsSettings",
    "build_context",
    "format_table",
    "load_store",
]
