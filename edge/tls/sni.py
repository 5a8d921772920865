"""Certificate choice per handshake: the SNI callback and the live certificate snapshot it reads.

The listener's base context carries the protocol settings (versions, ciphers, client-certificate
request); the callback switches each handshake to the context of the certificate chosen for its server
name. Switching `ssl_object.context` costs nothing measurable. The certificates, keys and the trust store
for client certificates come from the switched-to context (so every context carries all client CAs), the
protocol versions and the verify mode from the base context (so both must say the same).
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from edge.config import Config
from edge.tls.certstore import CertStore, keep_last_good, load_store
from edge.tls.contexts import ContextCache, TlsSettings

log = logging.getLogger("edge.tls")

_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
_CIPHERS_TLS12 = "ECDHE+AESGCM:ECDHE+CHACHA20"


@dataclass(frozen=True, slots=True)
class CertState:
    """One loaded certificate folder and the contexts built from it (lazily, per distinct choice)."""

    store: CertStore
    contexts: ContextCache
    default: str | None


def tls_settings(config: Config) -> TlsSettings:
    return TlsSettings(min_version=_VERSIONS[config.tls.min_version], client_cas=tuple(client_ca_files(config)))


def key_password(config: Config) -> bytes | None:
    env = config.tls.key_password_env
    value = os.environ.get(env) if env else None
    return value.encode() if value else None


def load_cert_state(config: Config, previous: CertState | None = None) -> CertState:
    """Scan the certificate folder now; never raises for bad files (they are rows of the store).

    With `previous`, certificates whose files broke since then stay served (`keep_last_good`).
    """
    store = load_store(config.tls.certs, key_password=key_password(config))
    if previous is not None:
        store = keep_last_good(previous.store, store)
    contexts = ContextCache(store, tls_settings(config), previous.contexts if previous is not None else None)
    return CertState(store=store, contexts=contexts, default=config.tls.default)


def client_ca_files(config: Config) -> list[Path]:
    return [site.client_ca for site in config.sites if site.client_ca is not None]


def base_context(config: Config, current: CertStateRef) -> ssl.SSLContext:
    """The listener's context: protocol settings plus the callback that picks each handshake's certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = _VERSIONS[config.tls.min_version]
    context.set_ciphers(_CIPHERS_TLS12)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    context.set_alpn_protocols(["http/1.1"])
    cas = client_ca_files(config)
    if cas:
        # Per-site mTLS: ask every client for a certificate; the gateway enforces it per site after the handshake.
        context.verify_mode = ssl.CERT_OPTIONAL
        for ca in cas:
            context.load_verify_locations(cafile=str(ca))

    def choose(ssl_object: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> int | None:
        state = current.state
        name = server_name.lower().rstrip(".") if server_name else None
        chosen = state.contexts.for_name(name, state.default) if state is not None else None
        if chosen is None:
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        ssl_object.context = chosen
        ssl_object.edge_sni = name  # type: ignore[attr-defined]  # read by the HTTP protocol for the 421 check
        return None

    context.sni_callback = choose
    return context


class CertStateRef:
    """The one reference the SNI callback reads; a reload assigns `state` and nothing else.

    With `warm` (the default), each swapped-in state's contexts are built in a thread of low priority
    (nice 10: handshakes on the same core come first), the ones the previous state already had excepted.
    """

    WARM_NICE = 10

    def __init__(self, *, warm: bool = True) -> None:
        self.state: CertState | None = None
        self.loaded_at = 0.0
        self.warm = warm
        self.warming: threading.Thread | None = None
        self.warmed: CertState | None = None  # the state whose warm-up was started last

    def swap(self, state: CertState) -> None:
        """Publish `state`; warm its contexts unless it is the first one (see `start_warming`)."""
        old = self.state
        self.state = state
        self.loaded_at = time.time()
        if old is not None:
            if old.contexts is not state.contexts:
                old.contexts.retire()
            self.start_warming()

    def start_warming(self) -> None:
        """Build the current state's contexts in a thread. The server calls this for the first state once
        it listens (`Reloader.start`): a warm-up holding the GIL beside the start would delay it."""
        if self.warm and self.state is not None and self.warmed is not self.state:
            self.warmed = self.state
            self.warming = threading.Thread(target=_warm, args=(self.state,), name="edge-tls-warm", daemon=True)
            self.warming.start()


def _warm(state: CertState) -> None:
    with contextlib.suppress(OSError, AttributeError):  # lower this thread's priority only (Linux: per thread)
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), CertStateRef.WARM_NICE)
    started = time.monotonic()
    built = state.contexts.warm()
    if built:
        log.info(
            "certificates: %d TLS context(s) built in %.1fs off the event loop (%d in all)",
            built,
            time.monotonic() - started,
            len(state.contexts),
        )
