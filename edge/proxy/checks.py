"""Active health checks: every `interval`, each worker asks each origin of a site with `health = {...}` for
`path` on a fresh connection, and feeds the answer (2xx/3xx is healthy) to the origin's health state.

The I/O half of health (the decisions are `proxy/health.py`'s). Each worker checks for itself, as nginx
plus and Envoy do per worker, so no state has to cross processes; the cost is one small request per origin
per interval per worker. Checks carry `Edge-Origin-Auth` when the site signs, so a guarded origin answers
them like any request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from edge.proxy.upstream import Pool, UpstreamError

if TYPE_CHECKING:
    from edge.sites import Site, SiteTable


class HealthChecks:
    """The check loops of one config snapshot's sites; `stop` before the snapshot is replaced."""

    def __init__(self, sites: SiteTable) -> None:
        self.sites = [site for site in sites.sites if site.config.health is not None]
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._site_loop(site)) for site in self.sites]

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.tasks = []

    async def _site_loop(self, site: Site) -> None:
        health = site.config.health
        assert health is not None
        while True:
            await asyncio.gather(*(self.check(site, pool) for pool in site.pools))
            await asyncio.sleep(health.interval)

    async def check(self, site: Site, pool: Pool) -> None:
        """One check of one origin, recorded in its health state."""
        health = site.config.health
        assert health is not None
        ok, reason = False, ""
        try:
            async with asyncio.timeout(health.timeout):
                conn, _ = await pool.acquire(health.timeout, fresh=True)
                try:
                    conn.start(_check_request(site, pool, health.path), no_body=False)
                    status, _ = await conn.read_head(health.timeout)
                    while await conn.read_chunk(health.timeout) is not None:
                        pass
                finally:
                    conn.close()
                    conn.release()
            ok = 200 <= status < 400
            reason = "" if ok else f"{health.path} answered {status}"
        except TimeoutError:
            reason = f"{health.path} did not answer within {health.timeout}s"
        except UpstreamError as exc:
            reason = str(exc)
        with contextlib.suppress(Exception):
            pool.health.record_probe(time.monotonic(), ok, reason)


def _check_request(site: Site, pool: Pool, path: str) -> bytes:
    host = pool.origin.authority.encode("idna")
    head = b"GET %s HTTP/1.1\r\nhost: %s\r\nuser-agent: edge-health-check\r\nconnection: close\r\n" % (
        path.encode("latin-1"),
        host,
    )
    if site.signer is not None:
        head += b"edge-origin-auth: %s\r\n" % site.signer.header("GET", host, path.encode("latin-1"), int(time.time()))
    return head + b"\r\n"
