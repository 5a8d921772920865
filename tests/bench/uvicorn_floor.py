"""The floor of edge's stack for the handshakes scenario: uvicorn (uvloop, httptools, TLS) and a raw ASGI app
that answers every request with the 1 KiB body itself, no gateway and no origin.

    python tests/bench/uvicorn_floor.py --port N --cert PEM   (certificate and key in one PEM, as edge's)

What a new TLS connection costs on uvicorn before edge does anything: the share of the handshake gap to
nginx that no change inside edge can remove while edge is served by uvicorn.
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn

BODY = b"x" * 1024
HEADERS = [(b"content-type", b"application/octet-stream"), (b"content-length", b"1024")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    args = parser.parse_args()
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        ssl_certfile=args.cert,
        ssl_keyfile=args.cert,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        server_header=False,
        date_header=False,
    )


if __name__ == "__main__":
    main()
