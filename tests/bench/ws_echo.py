"""A WebSocket echo origin for the `websocket` bench, light enough that the gateways, not it, are measured.

    python -m tests.bench.ws_echo --port PORT

Plain HTTP on 127.0.0.1. A request with `Sec-WebSocket-Key` gets its 101 (RFC 6455 section 4.2.2), then
every frame is sent back unmasked with the same opcode and payload (a close frame too, after which the
connection closes). Any other request gets 200 and 1 KiB (the stack's readiness check). Frames are parsed
with a few slices per frame, so a window of small messages costs the origin microseconds, where a full
WebSocket library would cost it tens (the load core would then bound both gateways alike).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PAGE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\nConnection: close\r\n\r\n" + b"e" * 1024


def unmask(payload: bytes, mask: bytes) -> bytes:
    if mask == b"\0\0\0\0":
        return payload
    length = len(payload)
    key = int.from_bytes((mask * (length // 4 + 1))[:length], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(length, "big")


def echo_frames(buffer: bytearray) -> tuple[bytes, bool]:
    """The echo of every complete frame at the start of `buffer` (consumed), and whether a close frame was seen."""
    out: list[bytes] = []
    closed = False
    while len(buffer) >= 2:
        first, second = buffer[0], buffer[1]
        length = second & 0x7F
        offset = 2
        if length == 126:
            if len(buffer) < 4:
                break
            length = int.from_bytes(buffer[2:4], "big")
            offset = 4
        elif length == 127:
            if len(buffer) < 10:
                break
            length = int.from_bytes(buffer[2:10], "big")
            offset = 10
        masked = second & 0x80
        end = offset + (4 if masked else 0) + length
        if len(buffer) < end:
            break
        mask = bytes(buffer[offset : offset + 4]) if masked else b"\0\0\0\0"
        payload = unmask(bytes(buffer[end - length : end]), mask)
        del buffer[:end]
        if length < 126:
            head = bytes([first, length])
        elif length < 65536:
            head = bytes([first, 126]) + length.to_bytes(2, "big")
        else:
            head = bytes([first, 127]) + length.to_bytes(8, "big")
        out.append(head + payload)
        if first & 0x0F == 0x8:
            closed = True
            break
    return b"".join(out), closed


async def serve_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        key = next(
            (
                line.split(b":", 1)[1].strip()
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            ),
            None,
        )
        if key is None:
            writer.write(PAGE)
            await writer.drain()
            return
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: %s\r\n\r\n" % accept
        )
        buffer = bytearray()
        while True:
            data = await reader.read(262144)
            if not data:
                return
            buffer += data
            echoed, closed = echo_frames(buffer)
            if echoed:
                writer.write(echoed)
                await writer.drain()
            if closed:
                return
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(serve_client, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(parser.parse_args().port))
