"""`edge init [DIR]`: a folder that `edge check` accepts and `edge run` serves, for a new installation.

It writes `edge.toml` (commented, loopback addresses), `rules/` with a copy of the managed rule set that
ships inside the package plus `rules/00-local.toml` for the site's own rules and exceptions, and `certs/`
with a development certificate for localhost. The rule set is copied rather than referenced so that the
folder is the whole truth of what runs (what `edge check` tested is what serves, also after an upgrade of
the package); `edge init --upgrade-rules DIR` replaces the managed files with the installed version's and
leaves every other file alone. Existing files are never overwritten otherwise.
"""

from __future__ import annotations

import shutil
from pathlib import Path

MANAGED = Path(__file__).parent / "managed_rules"

CONFIG = """\
# edge.toml, written by `edge init`. Paths are relative to this file's folder.
# Check it with `edge check -c edge.toml`; serve with `edge run -c edge.toml`.

[server]
https = "127.0.0.1:8443"        # "0.0.0.0:443" in production (systemd grants CAP_NET_BIND_SERVICE)
http = "127.0.0.1:8080"         # plain HTTP: 308 redirect to https
admin = "127.0.0.1:9901"        # /healthz, /status, /metrics, POST /reload; keep it on loopback
# admin_token_env = "EDGE_ADMIN_TOKEN"   # require `Authorization: Bearer $EDGE_ADMIN_TOKEN` (not /healthz)
workers = 1                     # one per core; a master process supervises them
grace = "10s"                   # how long a stop waits for requests in flight

[tls]
certs = "certs"                 # watched: drop PEM files in, no restart needed
default = "localhost"           # answers handshakes without SNI or for an unknown name

[waf]
rules = "rules"                 # the managed rule set (copied here) and rules/00-local.toml
mode = "block"                  # "detect" logs matches without blocking: start there on a live site
paranoia = 1

[ratelimit]
storage = "memory://"           # "redis://host:6379/0" to share counters between workers and nodes

[log]
format = "json"                 # "text" for people
access = "stdout"               # "off" or a file (reopened on SIGUSR1)
error = "stderr"                # or a file

[[site]]
hosts = ["localhost"]
origins = ["http://127.0.0.1:9000"]   # your application; `python -m edge.demo --port 9000` for a try
# hsts = "max-age=31536000"           # opt in once every name of the site serves HTTPS for good
"""

LOCAL_RULES = """\
# Your own rules and exceptions. Files load in name order, so this one runs before the managed set:
# an `allow` or `skip` here applies to every managed rule after it. `edge check` runs the tests.

# [[rule]]
# id = "local-skip-sqli-on-search"
# description = "Our search box takes SQL-looking text; the origin never builds SQL from it"
# expr = 'http.request.uri.path eq "/search"'
# action = "skip"
# skip = ["sqli"]
#   [[rule.test]]
#   request = "GET /search?q=1%20or%201=1"
#   match = true

# [[ratelimit]]
# id = "login"
# expr = 'http.request.method eq "POST" and http.request.uri.path eq "/login"'
# limit = "5/minute"
# key = 'ip.src'
#   [[ratelimit.test]]
#   request = "POST /login"
#   ip = "192.0.2.7"
#   match = true
#   key = "192.0.2.7"
"""


def managed_files() -> list[Path]:
    """The managed rule files shipped with this version of edge (and their README)."""
    return sorted(path for path in MANAGED.iterdir() if path.suffix == ".toml" or path.name == "README.md")


def init_folder(folder: Path, *, upgrade_rules: bool = False, dev_cert: bool = True) -> list[str]:
    """Write the starting files into `folder`; what was done, one line each (never overwrites, except
    managed rule files with `upgrade_rules`)."""
    done: list[str] = []
    folder.mkdir(parents=True, exist_ok=True)
    rules, certs = folder / "rules", folder / "certs"
    rules.mkdir(exist_ok=True)
    certs.mkdir(exist_ok=True)
    _write(folder / "edge.toml", CONFIG, done)
    _write(rules / "00-local.toml", LOCAL_RULES, done)
    for source in managed_files():
        target = rules / source.name
        if target.exists() and not upgrade_rules:
            done.append(f"kept {target} (exists; `edge init --upgrade-rules` replaces the managed files)")
            continue
        verb = "replaced" if target.exists() else "wrote"
        shutil.copyfile(source, target)
        done.append(f"{verb} {target}")
    if dev_cert and not any(certs.glob("*.pem")):
        from edge.tls.devcerts import write_dev_certs

        ca, leaf = write_dev_certs(certs, ["localhost"])
        done.append(f"wrote {leaf} for localhost; trust {ca} to try it (curl --cacert {ca})")
    return done


def _write(path: Path, text: str, done: list[str]) -> None:
    if path.exists():
        done.append(f"kept {path} (exists)")
        return
    path.write_text(text)
    done.append(f"wrote {path}")
