"""edge: a TLS-terminating edge gateway.

The map, in the order a request meets it:

  cli.py          edge run | init | check | certs | rules; scaffold.py what `edge init` writes;
                  adminclient.py asks a running gateway (edge certs)
  config.py       edge.toml -> frozen Config (tomlpos.py finds key lines, units.py sizes and durations)
  master.py       the master process: binds, forks and supervises the workers, turns signals into acts
  server.py       one worker: uvicorn listeners (https, http redirect, admin), its signals and draining;
                  protocol.py adds TLS facts to the scope, request ids, the head bound (431), the client
                  timeouts (408) and the connection bound, and corks each loop turn's writes into one;
                  cycle.py the request cycle whose `send` checks a response head in one pass
  control.py      the control channel: a command reaches every worker (POST /reload, cache purges)
  tls/            certstore.py (scan, pair, index, choose; pemfile.py, pairing.py, choice.py, entries.py),
                  contexts.py (SSLContexts per choice, built in a thread after each load), sni.py (the SNI
                  callback), devcerts.py
  gateway.py      the ASGI app: head, site, client, limits, ratelimit, waf head/body, static, cache, forward,
                  tunnel, response, store, log
  framing.py      Host, Content-Length and Transfer-Encoding read strictly (400/501); urlnorm.py the path
                  normalised once for rules, rate limits and origins
  exchange.py     per-request state; inspection.py the WAF's view of a request and the body prefix it reads
  sites.py        Host -> Site, mTLS per site; clients.py client address and request id
  static.py       [site.static] folders served by the gateway itself (staticpath.py: URL path -> file inside the
                  folder; codings.py: Accept-Encoding for .br/.gz siblings; preconditions.py: 304/412/206;
                  mediatypes.py: Content-Type)
  ratelimit.py    [[ratelimit]] enforcement with `limits`; ratepolicy.py a rule's windows worked out at load;
                  counters.py local counters for memory://; shared_counters.py one Lua script call for
                  the requests waiting together, on Redis
  waf/            the rule language and engine (its own map in waf/__init__.py); rules.py loads a folder
                  and runs its tests; waf_audit.py the audit log and the ring of recent matched requests,
                  waf_recent.py its client for `edge rules explain --id`
  proxy/          upstream.py (pooled httptools client), balancer.py (weighted round-robin, least-conn,
                  rendezvous ip-hash), health.py (passive and active origin health, pure), forward.py
                  (header rules), signing.py (Edge-Origin-Auth), transfer.py (one exchange, fail-over),
                  tunnel.py (WebSocket: after the origin's 101, bytes both ways), checks.py (active health
                  checks), compress.py (gzip/brotli of text responses per site, streaming)
  origin_guard.py what origins run to check Edge-Origin-Auth; standard library only, imports nothing from edge
  cache/          the HTTP cache's pure core (RFC 9111 policy, validation, Vary, ranges, Cache-Status) and
                  store.py (byte-bounded LRU), cache.py (collapsing, tickets); its own map in cache/__init__.py;
                  cachephase.py the gateway's cache phases (lookup, the origin's answer, store)
  redirect.py     the plain-HTTP listener; pages.py the gateway's error pages; admin.py the admin API
  observe.py      the access log; logs.py one log format for everything (JSON or text), sinks, reopening;
                  metrics.py the Prometheus families
                  (multiprocess mode, a per-worker tally); runtime.py the live snapshots; reload.py + watch.py
                  take changes to edge.toml, certs/ (inotify, stat poll as safety net) and
                  rules/ live
  demo.py         a small origin for `make run`, the tests and the benchmark
"""

__version__ = "0.1.0"
