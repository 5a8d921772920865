"""edge: a TLS-terminating edge gateway.

The map: `cli` parses the command line; `config` turns edge.toml into a frozen `Config`; `server` starts
uvicorn listeners with the SNI context of `tls/`; `gateway` is the ASGI app through which every request
takes the same phases (site, client, limits, forward, response, log); `proxy/` holds the pooled upstream
client, the balancers and the header rules; `runtime` holds the live snapshots that reloads swap;
`observe` writes the access log and metrics; `admin` serves the admin API; `demo` is a small origin for
`make run` and the tests.
"""

__version__ = "0.1.0"
