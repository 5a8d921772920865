"""Server-side SSLContexts for the entries `CertStore.choose` picked.

One context holds every chosen entry (at most one per key family); OpenSSL then presents the ECDSA, RSA
or Ed25519 certificate according to the client's signature algorithms. Contexts are cached per distinct
set of entries, so thousands of names under one wildcard share one context. `ContextCache.warm` builds
them all in a thread after each load (about 2 ms each: 20 s of one core for 10,000), so that the first
handshake of a name costs what the hundredth does; a name whose context is not built yet when its first
handshake comes builds it then, on the event loop.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edge.tls.certstore import CertStore
from edge.tls.entries import CertEntry

# Mozilla "intermediate" for TLS 1.2: forward secrecy and AEAD only. TLS 1.3 suites are all fine as they are.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"
ALPN = ("http/1.1",)
_SHM = Path("/dev/shm")


@dataclass(frozen=True, slots=True)
class TlsSettings:
    min_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2
    # mTLS: every site's client CA. The SNI callback switches a handshake to the chosen certificate's context,
    # and OpenSSL verifies the client's certificate against THAT context's trust store, so every context
    # carries all of them; a certificate is optional here, each site demands its own after the handshake.
    client_cas: tuple[Path, ...] = ()


def build_context(entries: Sequence[CertEntry], settings: TlsSettings) -> ssl.SSLContext:
    """A server context presenting `entries` (leaf + chain + key each).

    Raises ValueError for no entries, ssl.SSLError / OSError when OpenSSL refuses a chain, key or the
    client CA (the store has already matched keys to certificates, so this means a broken CA file).
    The private keys touch disk only inside a private 0700 directory (tmpfs when available) and are
    deleted before this function returns, whatever happens.
    """
    if not entries:
        raise ValueError("build_context needs at least one certificate entry")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = settings.min_version
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE  # clients choose (Mozilla intermediate)
    context.set_alpn_protocols(list(ALPN))
    _load_entries(context, entries)
    if settings.client_cas:
        context.verify_mode = ssl.CERT_OPTIONAL
        for ca in settings.client_cas:
            context.load_verify_locations(cafile=ca)
    return context


def _load_entries(context: ssl.SSLContext, entries: Sequence[CertEntry]) -> None:
    private_dir = tempfile.mkdtemp(prefix="edge-tls-", dir=_SHM if _SHM.is_dir() and os.access(_SHM, os.W_OK) else None)
    try:
        for number, entry in enumerate(entries):
            path = os.path.join(private_dir, f"{number}.pem")
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(descriptor, "wb") as file:
                    file.write(entry.chain_pem + entry.key_pem)
                context.load_cert_chain(path)
            finally:
                os.unlink(path)
    finally:
        shutil.rmtree(private_dir, ignore_errors=True)


class ContextCache:
    """Builds a context on first use per distinct tuple of entry ids and keeps it; one per store snapshot.

    Not locked: two threads racing on the same new name (a handshake and `warm`) may both build a context,
    and one wins; both are correct. Replace the whole cache when the store or the settings change.
    """

    def __init__(self, store: CertStore, settings: TlsSettings, previous: ContextCache | None = None) -> None:
        self.store = store
        self.settings = settings
        self._contexts: dict[tuple[str, ...], ssl.SSLContext] = {}
        self._retired = threading.Event()
        if previous is not None and previous.settings == settings:
            # Keep the contexts whose entries did not change: after a rotation only the changed names pay
            # for a new context (about 5 ms each), not every name the gateway serves.
            current = {entry.id: entry for entry in store.entries}
            old = {entry.id: entry for entry in previous.store.entries}
            for ids, context in previous._contexts.items():
                if all(i in current and current[i] == old.get(i) for i in ids):
                    self._contexts[ids] = context

    def warm(self) -> int:
        """Build the context of every choice of the store that has none yet; blocking (run it in a thread).

        Stops early once `retire()` was called (a newer snapshot took over). Returns how many it built.
        A context that cannot be built is left for the handshake to fail on, as before.
        """
        built = 0
        for choice in (*self.store.exact.values(), *self.store.wildcard.values()):
            if self._retired.is_set():
                break
            ids = tuple(entry.id for entry in choice)
            if not choice or ids in self._contexts:
                continue
            try:
                self._contexts.setdefault(ids, build_context(choice, self.settings))
            except (ssl.SSLError, OSError, ValueError):
                continue
            built += 1
        return built

    def retire(self) -> None:
        """A newer cache serves now: stop warming this one."""
        self._retired.set()

    def for_name(self, server_name: str | None, default_name: str | None) -> ssl.SSLContext | None:
        """The context for `server_name`, else for `default_name` (no SNI, or a name nothing covers).

        None when neither is covered: the caller fails the handshake with unrecognized_name.
        """
        entries = self.store.choose(server_name) or self.store.choose(default_name)
        if not entries:
            return None
        ids = tuple(entry.id for entry in entries)
        context = self._contexts.get(ids)
        if context is None:
            context = self._contexts.setdefault(ids, build_context(entries, self.settings))
        return context

    def __len__(self) -> int:
        return len(self._contexts)
