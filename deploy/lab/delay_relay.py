#!/usr/bin/python3
"""A TCP relay that adds round-trip delay, for the tlsweep lab (deploy/lab/up).

The lab's kernel has no netem qdisc, so "distance" is simulated here: an nftables rule in a
region namespace redirects outgoing TCP (to the lab listeners' port 25) to this relay's local
port; the relay reads the original destination with SO_ORIGINAL_DST, connects to it and passes
bytes on in both directions, holding every chunk for the one-way delay before writing it.

Timing model (what a client sees compared with a direct connection):
  - connect() completes at once (the kernel accepts locally; a userspace relay cannot delay the
    SYN-ACK without NFQUEUE);
  - the upstream connection is opened one one-way delay after the accept (the client's ACK
    "travelling"), and the server's banner then takes another one-way delay to come back, so
    the 220 banner arrives one RTT after connect, as it does on a real path;
  - every later chunk in either direction is held for the one-way delay, so each
    command/reply round trip (EHLO, STARTTLS, each TLS flight) costs one extra RTT.
The relay's own upstream sockets carry SO_MARK (--mark) so the nftables rule can exempt them
(otherwise they would be redirected back to the relay).

Usage: delay_relay.py --listen 127.0.0.1:10025 [--listen [::1]:10025] --delay-ms 80 --mark 0x2a
"""

import argparse
import asyncio
import ipaddress
import signal
import socket
import struct
import sys
import time

SO_ORIGINAL_DST = 80  # linux/netfilter_ipv4.h; IP6T_SO_ORIGINAL_DST has the same number.
CHUNK = 65536


def original_destination(sock: socket.socket):
    """(host, port) the client meant to reach before the nftables redirect."""
    if sock.family == socket.AF_INET:
        raw = sock.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
        port, packed = struct.unpack_from("!2xH4s", raw)
        return socket.inet_ntop(socket.AF_INET, packed), port
    raw = sock.getsockopt(socket.IPPROTO_IPV6, SO_ORIGINAL_DST, 28)
    port, packed = struct.unpack_from("!2xH4x16s", raw)
    return socket.inet_ntop(socket.AF_INET6, packed), port


async def pump(reader, writer, delay, closed):
    """Reads chunks and writes each one `delay` seconds after it was read, in order."""
    queue = asyncio.Queue()

    async def read_side():
        try:
            while True:
                data = await reader.read(CHUNK)
                queue.put_nowait((time.monotonic() + delay, data))
                if not data:
                    return
        except (ConnectionError, OSError):
            queue.put_nowait((time.monotonic() + delay, b""))

    async def write_side():
        try:
            while True:
                due, data = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            return

    reading = asyncio.ensure_future(read_side())
    try:
        await write_side()
    finally:
        reading.cancel()
        closed.append(True)


async def handle(client_reader, client_writer, delay, mark, connect_timeout):
    sock = client_writer.get_extra_info("socket")
    upstream_writer = None
    try:
        host, port = original_destination(sock)
        local = sock.getsockname()
        if (host, port) == (local[0], local[1]):
            return  # Not redirected: someone connected to the relay directly.
        await asyncio.sleep(delay)
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
        upstream = socket.socket(family, socket.SOCK_STREAM)
        upstream.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, mark)
        upstream.setblocking(False)
        try:
            await asyncio.wait_for(
                asyncio.get_running_loop().sock_connect(upstream, (host, port)), connect_timeout)
        except (OSError, asyncio.TimeoutError):
            upstream.close()
            return  # The client sees the connection closed (no RST possible after accept).
        upstream_reader, upstream_writer = await asyncio.open_connection(sock=upstream)
        closed = []
        await asyncio.gather(
            pump(client_reader, upstream_writer, delay, closed),
            pump(upstream_reader, client_writer, delay, closed))
    except (ConnectionError, OSError):
        pass
    finally:
        for writer in (client_writer, upstream_writer):
            if writer is not None:
                writer.close()


def parse_endpoint(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", action="append", required=True, help="ADDRESS:PORT")
    parser.add_argument("--delay-ms", type=float, default=80.0, help="one-way delay")
    parser.add_argument("--mark", type=lambda v: int(v, 0), default=0x2A)
    parser.add_argument("--connect-timeout", type=float, default=10.0)
    args = parser.parse_args()
    delay = args.delay_ms / 1000.0

    servers = []
    for endpoint in args.listen:
        host, port = parse_endpoint(endpoint)
        servers.append(await asyncio.start_server(
            lambda r, w: handle(r, w, delay, args.mark, args.connect_timeout),
            host, port, reuse_address=True, backlog=1024))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"delay_relay: listening on {', '.join(args.listen)}, one-way delay {args.delay_ms} ms",
          flush=True)
    await stop.wait()
    for server in servers:
        server.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
