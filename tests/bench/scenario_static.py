"""`static`: files served by the gateway itself, edge's `[site.static]` against nginx's `root`.

    .venv/bin/python -m tests.bench.run --only static [--quick]

Two files of random bytes, FILES (1 KiB and 1 MiB), in <tmp>/static-root/assets/. edge serves the folder
with `[site.static] "/assets/" = "static-root/assets"`; nginx with `location /assets/ { root ...; }` and the
headers edge adds to a static answer (Cache-Control, HSTS, a request id). Same certificate, protocols and
ciphers, one worker each, the `proxy` scenario's keep-alive settings; nginx's defaults otherwise (no
sendfile under TLS, no open_file_cache). wrk loads both alternately: the 1 KiB file with the usual
connections (50), the 1 MiB file with BIG_CONNECTIONS. Before measuring, one GET of each file through each
gateway must return the file's exact bytes. Figures: requests/s (and MB/s of body for 1 MiB), p99, gateway
CPU per request, ratios edge/nginx.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from tests.bench.load import https_request
from tests.bench.measure import print_table, wrk_example, wrk_rounds, wrk_settings
from tests.bench.registry import Options, scenario
from tests.bench.stack import HOST, BenchError, Stack, Target

PREFIX = "/assets/"
FILES = {"1k": 1024, "1m": 1024 * 1024}  # name -> size; the file is <name>.bin
BIG_CONNECTIONS = 8  # for the 1 MiB file: 8 x 1 MiB in flight keep both the gateway and wrk busy
FOLDER = "static-root"


def make_files(stack: Stack) -> dict[str, bytes]:
    """The files under <tmp>/static-root/assets/ (written once); their contents by name."""
    folder = stack.dir / FOLDER / PREFIX.strip("/")
    folder.mkdir(parents=True, exist_ok=True)
    contents = {}
    for name, size in FILES.items():
        path = folder / f"{name}.bin"
        if not path.is_file():
            path.write_bytes(os.urandom(size))
        contents[name] = path.read_bytes()
    return contents


def nginx_static(stack: Stack) -> Target:
    root = stack.dir / FOLDER
    server_extra = f"""\
        location {PREFIX} {{
            root {root};
            add_header Cache-Control "public, max-age=3600";
            add_header Strict-Transport-Security "max-age=31536000" always;
            add_header Edge-Request-Id $request_id always;
        }}"""
    return stack.nginx("nginx-static", server_extra=server_extra)


def check(stack: Stack, targets: list[Target], contents: dict[str, bytes]) -> dict[str, dict[str, str]]:
    """Each file through each gateway: 200 and its exact bytes. The response heads of the 1 KiB file."""
    assert stack.ca is not None
    heads = {}
    for target in targets:
        for name, data in contents.items():
            answer = https_request(target, stack.ca, f"{PREFIX}{name}.bin")
            if answer.status != 200 or answer.body != data:
                raise BenchError(f"{target.name}: GET {PREFIX}{name}.bin: {answer.status}, {len(answer.body)} bytes")
            if name == "1k":
                heads[target.name] = answer.headers
    return heads


@scenario("static")
def static(stack: Stack, opts: Options) -> dict[str, Any]:
    """A 1 KiB and a 1 MiB file: edge's [site.static] vs nginx root, keep-alive HTTPS, with wrk."""
    contents = make_files(stack)
    site_extra = f'\n[site.static]\n"{PREFIX}" = "{FOLDER}/{PREFIX.strip("/")}"\n'
    targets = [stack.edge("edge-static", site_extra=site_extra), nginx_static(stack)]
    heads = check(stack, targets, contents)
    for name, head in heads.items():
        print(f"\n[static] {name} answers {PREFIX}1k.bin with: {', '.join(sorted(head))}", flush=True)
    out: dict[str, Any] = {"files": {f"{PREFIX}{name}.bin": size for name, size in FILES.items()}, "heads": heads}
    for name, size in FILES.items():
        run_opts = opts if size < 1024 * 1024 else dataclasses.replace(opts, connections=BIG_CONNECTIONS)
        path = f"{PREFIX}{name}.bin"
        example = wrk_example(stack, run_opts, f"https://{HOST}:PORT{path}")
        print(f"\n[static] {example}  ({opts.warmup:g}s warm-up each, then {opts.rounds} alternating rounds)")
        rows = wrk_rounds(stack, run_opts, targets, path)
        ratio = print_table(
            f"static: {path} ({size:,} bytes) over keep-alive HTTPS, {run_opts.connections} connections, "
            f"median of {opts.rounds}",
            "requests/s",
            rows,
            first="edge-static",
            second="nginx-static",
        )
        for row in rows.values():
            row["body_mb_per_s"] = row["rate"] * size / 1e6
        if size >= 1024 * 1024:
            print("  body MB/s: " + ", ".join(f"{k} {row['body_mb_per_s']:.0f}" for k, row in rows.items()))
        out[name] = {**wrk_settings(example, run_opts), "size": size, "results": rows, "ratio_edge_nginx": ratio}
    return out
