"""Instructions per proxied request: edge under callgrind, instrumentation on only around a fixed load.

    .venv/bin/python -m tests.bench.instructions [--requests 2000] [--connections 10] [--site-extra 'compress = true']
                                                 [--ratelimit memory://|redis://127.0.0.1:6379/0]

Wall-clock ratios on a shared 2-core machine move by 20%; instruction counts do not (callgrind counts the same
for the same binary, inputs and environment whatever else runs). The gateway runs under
`valgrind --tool=callgrind` twice: start, warm-up (500 requests) and stop; then the same with
`h2load --h1 -n N -c C` more requests over keep-alive HTTPS to a 1 KiB origin response. The difference of
the two totals (every process: the master and the worker) divided by N is the figure; startup and stop
cancel out. (`callgrind_control` cannot reach a worker: valgrind's gdbserver does not follow a fork.) The origin (`python -m edge.demo`) runs outside valgrind.
`--ratelimit STORAGE` adds the `ratelimit` scenario's rule (every request counted, key ip.src, a limit
nothing reaches) with its counters in STORAGE (a Redis you started): the request's whole rate-limit cost.
Needs valgrind and h2load (Debian: valgrind, nghttp2-client).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.hotpath import RATELIMIT_RULE
from tests.bench.stack import free_port

BIN = Path(sys.executable).parent


def wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise RuntimeError("timed out")


def run_once(tmp: Path, config: Path, https: int, connections: int, path: str, requests: int) -> int:
    """Start edge under callgrind, warm it up, send `requests` more, stop it: the instructions of every process."""
    for old in tmp.glob("callgrind.out.*"):
        old.unlink()
    edge = subprocess.Popen(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={tmp / 'callgrind.out.%p'}",
            str(BIN / "python"),
            "-m",
            "edge",
            "run",
            "-c",
            str(config),
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "edge.err").open("wb"),
    )
    try:
        url = f"https://localhost:{https}{path}"  # h2load's own Host (a second one would be a 400)
        load = ["h2load", "--h1", "-c", str(connections), url]

        def answers() -> bool:
            done = subprocess.run([*load, "-n", str(connections)], capture_output=True, text=True)
            return f"{connections} succeeded" in done.stdout

        wait_for(answers, 1200)  # Python's imports under callgrind take minutes
        subprocess.run([*load, "-n", "500"], capture_output=True, check=True)  # warm-up
        if requests:
            run = subprocess.run([*load, "-n", str(requests)], capture_output=True, text=True, check=True)
            if f"{requests} succeeded" not in run.stdout:
                raise RuntimeError(f"not every request succeeded:\n{run.stdout[-800:]}")
    finally:
        edge.terminate()
        edge.wait(300)
    total = 0
    for dump in tmp.glob("callgrind.out.*"):  # the master's and the worker's
        match = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(errors="replace"), re.M)
        if match:
            total += int(match.group(1))
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--path", default="/1k")
    parser.add_argument("--site-extra", default="", help="lines appended to the [[site]] table")
    parser.add_argument("--ratelimit", metavar="STORAGE", help="count every request with one [[ratelimit]] rule")
    args = parser.parse_args()
    for tool in ("valgrind", "h2load"):
        if shutil.which(tool) is None:
            print(f"instructions: {tool} is missing (apt-get install valgrind nghttp2-client)")
            return 0
    with tempfile.TemporaryDirectory(prefix="edge-instr-") as name:
        tmp = Path(name)
        https, origin = free_port(), free_port()
        config = tmp / "edge.toml"
        limits = ""
        if args.ratelimit:
            (tmp / "rules").mkdir()
            (tmp / "rules" / "50-bench.toml").write_text(RATELIMIT_RULE)
            limits = f'[waf]\nrules = "rules"\n\n[ratelimit]\nstorage = "{args.ratelimit}"\n'
        config.write_text(
            f"""[server]
https = "127.0.0.1:{https}"
workers = 1
grace = "1s"

[log]
access = "off"

[tls]
certs = "certs"
default = "localhost"

{limits}
[[site]]
hosts = ["localhost"]
origins = ["http://127.0.0.1:{origin}"]
{args.site_extra}
"""
        )
        subprocess.run(
            [str(BIN / "edge"), "certs", "dev", "localhost", "-c", str(config)], check=True, capture_output=True
        )
        demo = subprocess.Popen(
            [sys.executable, "-m", "edge.demo", "--port", str(origin)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = run_once(tmp, config, https, args.connections, args.path, 0)
            loaded = run_once(tmp, config, https, args.connections, args.path, args.requests)
        finally:
            with contextlib.suppress(ProcessLookupError):
                demo.terminate()
            demo.wait(20)
    per = (loaded - base) / args.requests
    print(f"{per:,.0f} instructions per request ({args.requests} requests; {loaded:,} - {base:,} instructions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
