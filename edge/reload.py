"""Taking changes live from files: each watched kind is loaded off to the side, then swapped in or refused.

Certificates: a new store is always swapped in, because bad files are rows of the store that are never
served (a good certificate is never displaced by a bad file: see `certstore`). Everything that is
wrong is reported in the log, in `/status` and in the metrics.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from edge.config import Config, ConfigError, load_config
from edge.rules import load_rules
from edge.runtime import Runtime
from edge.tls.certstore import CertStore
from edge.tls.sni import CertStateRef, load_cert_state
from edge.watch import Watch, files_in

log = logging.getLogger("edge.reload")

CERT_SUFFIXES = (".pem", ".crt", ".cer", ".key")
EXPIRY_WARNING = timedelta(days=14)
VANISH_RECHECK = 0.25  # seconds


def _vanished(before: CertStore, after: CertStore) -> bool:
    """True when a file that served a certificate before is gone now."""
    files = {f for row in after.rows for f in row.files}
    return any(entry.cert_file.relative_to(before.folder).as_posix() not in files for entry in before.entries)


def restart_only_changes(old: Config, new: Config) -> list[str]:
    """The settings a running process cannot take over: bound sockets, worker count, TLS protocol settings."""
    fixed = []
    for name in ("https", "http", "admin", "workers", "admin_token_env", "grace", "proxy_protocol"):
        if getattr(old.server, name) != getattr(new.server, name):
            fixed.append(f"server.{name}")
    if old.tls.min_version != new.tls.min_version:
        fixed.append("tls.min_version")
    if old.log != new.log:
        fixed.append("log")
    if [s.client_ca for s in old.sites] != [s.client_ca for s in new.sites]:
        fixed.append("site.client_ca")
    return fixed


class Reloader:
    def __init__(self, runtime: Runtime, certs: CertStateRef) -> None:
        self.runtime = runtime
        self.certs = certs
        self.watches = [
            Watch("config", lambda: [self.config.path], self.reload_config),
            Watch(
                "certs",
                lambda: files_in(self.config.tls.certs, CERT_SUFFIXES, depth=1),
                self.reload_certs,
                folder=lambda: self.config.tls.certs,
            ),
            Watch("rules", lambda: files_in(self.config.waf.rules, (".toml",)), self.reload_rules),
        ]

    @property
    def config(self) -> Config:
        return self.runtime.state.config

    async def reload_all(self) -> dict[str, dict[str, object]]:
        """SIGHUP and admin `POST /reload`: edge.toml, then the certificates, then the rules, each validated
        before it replaces anything; what each load said (`ok`, `errors`)."""
        await self.reload_config(follow=False)
        await self.reload_certs()
        await self.reload_rules()
        reloads = self.runtime.reloads
        return {kind: reloads[kind].as_dict() for kind in ("config", "certs", "rules")}

    async def reload_config(self, *, follow: bool = True) -> None:
        """Swap in a changed edge.toml when it is valid; listeners and TLS protocol settings need a restart.

        With `follow`, certificates and rules are reloaded too when their settings changed.
        """
        try:
            config = await asyncio.to_thread(load_config, self.config.path)
        except ConfigError as exc:
            problems = [str(problem) for problem in exc.problems]
            for problem in problems:
                log.error("config not reloaded, the last good one stays: %s", problem)
            self.runtime.record_reload("config", ok=False, errors=problems)
            return
        old = self.config
        if config == old:
            self.runtime.record_reload("config", ok=True, errors=[])
            return
        fixed = restart_only_changes(old, config)
        for change in fixed:
            log.warning("config: %s changed; it takes effect at the next restart", change)
        self.runtime.swap_config(config)
        self.runtime.record_reload("config", ok=True, errors=[], restart_needed=fixed)
        log.info("config reloaded: %d site(s)", len(config.sites))
        if not follow:
            return
        if (old.tls.certs, old.tls.default, old.tls.key_password_env) != (
            config.tls.certs,
            config.tls.default,
            config.tls.key_password_env,
        ):
            await self.reload_certs()
        if (old.waf.rules, old.waf.paranoia) != (config.waf.rules, config.waf.paranoia):
            await self.reload_rules()

    WARM_DELAY = 1.0  # seconds after start before the first certificate contexts are built: listen first

    def start(self) -> None:
        for watch in self.watches:
            watch.prime()
            watch.start()
        asyncio.get_running_loop().call_later(self.WARM_DELAY, self.certs.start_warming)
        self._clock = asyncio.get_running_loop().create_task(self._certificate_clock())

    async def stop(self) -> None:
        self._clock.cancel()
        await asyncio.gather(*(watch.stop() for watch in self.watches))

    async def _certificate_clock(self) -> None:
        """Reload when a certificate becomes valid or expires (the choice changes) and re-warn every 6 hours."""
        while True:
            state = self.certs.state
            wait = 6 * 3600.0
            if state is not None and state.store.next_change is not None:
                wait = min(wait, max(1.0, (state.store.next_change - datetime.now(UTC)).total_seconds() + 1))
            await asyncio.sleep(wait)
            await self.reload_certs()

    async def reload_rules(self) -> None:
        """Swap in the rules folder only when every file loads and every embedded test passes."""
        waf = self.runtime.state.config.waf
        state, problems = await asyncio.to_thread(load_rules, waf.rules, waf.paranoia)
        if state is None:
            for problem in problems:
                log.error("rules not reloaded, the last good set stays: %s", problem)
            self.runtime.record_reload("rules", ok=False, errors=problems)
            return
        self.runtime.rules = state
        self.report_rules()

    def report_rules(self, *, quiet: bool = False) -> None:
        """Record the rule set now served (for /status and reload answers); log it unless `quiet`."""
        ruleset = self.runtime.rules.ruleset
        if not quiet:
            log.info(
                "rules loaded: %d rule(s), %d rate limit(s) from %d file(s)",
                len(ruleset.rules),
                len(ruleset.ratelimits),
                len(ruleset.files),
            )
        self.runtime.record_reload(
            "rules",
            ok=True,
            errors=[],
            rules=len(ruleset.rules),
            ratelimits=len(ruleset.ratelimits),
            files=list(ruleset.files),
            fingerprint=ruleset.fingerprint[:16],
        )

    async def reload_certs(self) -> None:
        previous = self.certs.state
        state = await asyncio.to_thread(load_cert_state, self.runtime.state.config, previous)
        if previous is not None and _vanished(previous.store, state.store):
            # certbot swaps `live/NAME/*.pem` by unlink + symlink: a scan between the two would drop the name
            # for a whole poll. A vanished file is looked for once more, a moment later, before it counts.
            await asyncio.sleep(VANISH_RECHECK)
            state = await asyncio.to_thread(load_cert_state, self.runtime.state.config, previous)
        self.certs.swap(state)
        self.report_certs(initial=False)

    def report_certs(self, *, initial: bool) -> None:
        state = self.certs.state
        assert state is not None
        store = state.store
        problems = [f"{path}: {message}" for path, message in store.problems]
        for problem in problems:
            log.warning("certificate problem: %s", problem)
        served = sum(1 for row in store.rows if row.state in ("served", "expired"))
        if not initial or problems:
            log.info(
                "certificates %s: %d served, %d problem(s)", "loaded" if initial else "reloaded", served, len(problems)
            )
        self.runtime.record_reload("certs", ok=not problems, errors=problems, served=served)
        self.warn_expiry()

    def warn_expiry(self) -> None:
        """Warn 14 days ahead for each served certificate, loudly while an expired one is all a name has."""
        state = self.certs.state
        assert state is not None
        now = datetime.now(UTC)
        for name in sorted(state.store.names()):
            chosen = state.store.choose(name if not name.startswith("*.") else "x" + name[1:])
            for entry in chosen:
                left = entry.not_after - now
                if left.total_seconds() < 0:
                    log.error(
                        "SERVING AN EXPIRED CERTIFICATE for %s (%s, expired %s): nothing valid covers the name",
                        name,
                        entry.cert_file,
                        entry.not_after.isoformat(),
                    )
                elif left < EXPIRY_WARNING:
                    log.warning(
                        "certificate for %s (%s) expires in %d day(s), on %s",
                        name,
                        entry.cert_file,
                        left.days,
                        entry.not_after.isoformat(),
                    )


def cert_not_after(runtime: Runtime) -> dict[str, float]:
    """Name -> not-after (Unix seconds) of the certificate a handshake for it gets: `edge_cert_not_after_seconds`.

    The earliest expiry when several key types serve the name.
    """
    state = runtime.certs.state if runtime.certs is not None else None
    out: dict[str, float] = {}
    if state is None:
        return out
    for name in state.store.names():
        chosen = state.store.choose(name if not name.startswith("*.") else "x" + name[1:])
        if chosen:
            out[name] = min(entry.not_after for entry in chosen).timestamp()
    return out
