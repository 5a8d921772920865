"""edge: a TLS-terminating edge gateway.

The map, in the order a request meets it:

  cli.py          edge run | check | certs | rules
  config.py       edge.toml -> frozen Config (tomlpos.py finds key lines, units.py sizes and durations)
  server.py       uvicorn listeners (https, http redirect, admin), the protocol that adds TLS facts to the
                  scope and bounds request heads, workers, signals and draining
  tls/            certstore.py (scan, pair, index, choose; pemfile.py, pairing.py, choice.py, entries.py),
                  contexts.py (SSLContexts, cached per choice), sni.py (the SNI callback), devcerts.py
  gateway.py      the ASGI app: site, client, limits, ratelimit, waf head/body, forward, response, log
  exchange.py     per-request state; inspection.py the WAF's view of a request and the body prefix it reads
  sites.py        Host -> Site, mTLS per site; clients.py client address and request id
  ratelimit.py    [[ratelimit]] enforcement with `limits`; counters.py local counters for memory://
  waf/            the rule language and engine (its own map in waf/__init__.py); rules.py loads a folder
                  and runs its tests; waf_audit.py the audit log and the ring of recent matched requests,
                  waf_recent.py its client for `edge rules explain --id`
  proxy/          upstream.py (pooled httptools client), balancer.py (weighted round-robin, least-conn,
                  rendezvous ip-hash), health.py (passive and active origin health, pure), forward.py
                  (header rules), signing.py (Edge-Origin-Auth)
  origin_guard.py what origins run to check Edge-Origin-Auth; standard library only, imports nothing from edge
  cache/          the HTTP cache's pure core (RFC 9111 policy, validation, Vary, ranges, Cache-Status) and
                  store.py (byte-bounded LRU); its own map in cache/__init__.py, not yet in the request path
  redirect.py     the plain-HTTP listener; pages.py the gateway's error pages; admin.py the admin API
  observe.py      access log and metrics; runtime.py the live snapshots; reload.py + watch.py take changes
                  to edge.toml, certs/ and rules/ live
  demo.py         a small origin for `make run`, the tests and the benchmark
"""

__version__ = "0.1.0"
