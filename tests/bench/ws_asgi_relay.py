"""The design edge did not take, measured: a WebSocket relay through uvicorn's ASGI WebSocket interface.

    python tests/bench/ws_asgi_relay.py --port PORT --origin-port ORIGIN --cert PEM

uvicorn (httptools, uvloop, TLS, `ws="websockets"` by default, no compression) parses each client frame into an
ASGI message, the app sends it on with a `websockets` client connection to the origin, which frames it anew;
the way back is the same. This is what edge would do with `ws="websockets"` instead of taking the client's
transport over after the 101 (README, "WebSockets"). Plain GETs get 200 and 1 KiB (the readiness check).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import uvicorn
from websockets.asyncio.client import connect

PAGE = b"r" * 1024
ORIGIN_PORT = 0


async def relay(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1024")]})
        await send({"type": "http.response.body", "body": PAGE})
        return
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    async with connect(
        f"ws://127.0.0.1:{ORIGIN_PORT}{scope['path']}", compression=None, max_size=None, ping_interval=None
    ) as upstream:
        await send({"type": "websocket.accept"})

        async def downstream() -> None:
            async for message in upstream:
                key = "bytes" if isinstance(message, bytes) else "text"
                await send({"type": "websocket.send", key: message})

        task = asyncio.get_running_loop().create_task(downstream())
        try:
            while True:
                message = await receive()
                if message["type"] != "websocket.receive":
                    break
                data = message.get("bytes")
                await upstream.send(data if data is not None else message["text"])
        finally:
            task.cancel()


def main() -> None:
    global ORIGIN_PORT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--origin-port", type=int, required=True)
    parser.add_argument("--cert", required=True, help="PEM with the chain and the key")
    parser.add_argument("--ws", default="websockets", choices=["websockets", "websockets-sansio", "wsproto"])
    args = parser.parse_args()
    ORIGIN_PORT = args.origin_port
    uvicorn.run(
        relay,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws=args.ws,
        ws_per_message_deflate=False,
        ws_ping_interval=None,
        ws_max_size=64 * 1024 * 1024,
        lifespan="off",
        access_log=False,
        log_level="warning",
        ssl_certfile=args.cert,
        ssl_keyfile=args.cert,
    )


if __name__ == "__main__":
    main()
