"""Instructions per proxied request: edge under callgrind, instrumentation on only around a fixed load.

    .venv/bin/python -m tests.bench.instructions [--requests 2000] [--connections 10] [--site-extra 'compress = true']

Wall-clock ratios on a shared 2-core machine move by 20%; instruction counts do not (callgrind counts the same
for the same binary, inputs and environment whatever else runs). The gateway runs under
`valgrind --tool=callgrind --instr-atstart=no`; after a warm-up, `callgrind_control -i on`, then
`h2load --h1 -n N -c C` over keep-alive HTTPS to a 1 KiB origin response, then `-i off` and a dump: the
total instruction count (the master's and the worker's; the master is idle) divided by N is the figure. The origin (`python -m edge.demo`) runs outside valgrind.
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

from tests.bench.stack import free_port

BIN = Path(sys.executable).parent


def wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise RuntimeError("timed out")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--path", default="/1k")
    parser.add_argument("--site-extra", default="", help="lines appended to the [[site]] table")
    args = parser.parse_args()
    for tool in ("valgrind", "callgrind_control", "h2load"):
        if shutil.which(tool) is None:
            print(f"instructions: {tool} is missing (apt-get install valgrind nghttp2-client)")
            return 0
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="edge-instr-") as name:
        tmp = Path(name)
        https, origin = free_port(), free_port()
        config = tmp / "edge.toml"
        config.write_text(
            f"""[server]
https = "127.0.0.1:{https}"
workers = 1
grace = "1s"

[tls]
certs = "certs"
default = "localhost"

[[site]]
hosts = ["localhost"]
origins = ["http://127.0.0.1:{origin}"]
{args.site_extra}
"""
        )
        subprocess.run(
            [str(BIN / "edge"), "certs", "dev", "localhost", "-c", str(config)], check=True, capture_output=True
        )
        out = tmp / "callgrind.out"
        try:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "edge.demo", "--port", str(origin)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            edge = subprocess.Popen(
                [
                    "valgrind",
                    "--tool=callgrind",
                    "--instr-atstart=no",
                    f"--callgrind-out-file={out}",
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
            procs.append(edge)
            url = f"https://localhost:{https}{args.path}"  # h2load's own Host (a second one would be a 400)
            load = ["h2load", "--h1", "-c", str(args.connections), url]

            def answers() -> bool:
                done = subprocess.run([*load, "-n", str(args.connections)], capture_output=True, text=True)
                return f"{args.connections} succeeded" in done.stdout

            wait_for(answers, 900)  # Python's imports under valgrind take minutes
            subprocess.run([*load, "-n", "500"], capture_output=True, check=True)  # warm-up
            subprocess.run(["callgrind_control", "-i", "on"], capture_output=True, check=True)
            run = subprocess.run([*load, "-n", str(args.requests)], capture_output=True, text=True, check=True)
            subprocess.run(["callgrind_control", "-i", "off"], capture_output=True, check=True)
            subprocess.run(["callgrind_control", "-d"], capture_output=True, check=True)
            succeeded = re.search(r"(\d+) succeeded", run.stdout)
            time.sleep(1)
            dumps = sorted(tmp.glob("callgrind.out*"))
            total = 0
            for dump in dumps:  # the master's and the worker's (instrumentation is toggled in every process)
                match = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(errors="replace"), re.M)
                if match:
                    total += int(match.group(1))
            count = int(succeeded.group(1)) if succeeded else args.requests
            print(f"{total / count:,.0f} instructions per request ({count} requests, {total:,} instructions)")
        finally:
            for proc in reversed(procs):
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
