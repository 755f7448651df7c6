#!/usr/bin/env python3
"""A TCP proxy that delays every byte by a fixed one-way latency in each direction: the network
and client-side time a distant client sees, which occupies no worker of the service behind it.

Each chunk read is written on `DELAY_MS` (plus a uniform jitter up to `JITTER_MS`) after it was
read, in order, so a keep-alive request/response pays about twice the one-way delay. Python
stdlib (asyncio) only.

    python3 delay_proxy.py --listen 8090 --target 8089 --delay-ms 25 --jitter-ms 5
"""

import argparse
import asyncio
import random


async def pipe(reader, writer, delay, jitter, rng):
    """Copies reader to writer, each chunk `delay` (+ jitter) seconds after it was read."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            # Keep order: a chunk is never due before the one ahead of it.
            await queue.put((loop.time() + delay + rng.uniform(0.0, jitter), data))
    except (ConnectionResetError, BrokenPipeError):
        pass
    await queue.put((0.0, None))
    try:
        await sender
    except (ConnectionResetError, BrokenPipeError):
        pass
    try:
        writer.close()
    except Exception:  # noqa: BLE001 - the peer may be gone already
        pass


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", type=int, default=8090)
    p.add_argument("--target", type=int, default=8089)
    p.add_argument("--delay-ms", type=float, default=25.0)
    p.add_argument("--jitter-ms", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    rng = random.Random(a.seed)
    delay, jitter = a.delay_ms / 1000.0, a.jitter_ms / 1000.0

    async def handle(client_r, client_w):
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", a.target)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(
            pipe(client_r, server_w, delay, jitter, rng),
            pipe(server_r, client_w, delay, jitter, rng),
        )

    async def serve():
        server = await asyncio.start_server(handle, "127.0.0.1", a.listen, backlog=1024)
        print(f"delaying 127.0.0.1:{a.listen} -> {a.target} by {a.delay_ms} ms "
              f"(+ up to {a.jitter_ms} ms) each way", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
