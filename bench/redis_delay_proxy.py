#!/usr/bin/python3
"""bench/redis_delay_proxy.py -- a loopback TCP proxy that delays every
chunk by DELAY seconds in each direction (default 0.001), keeping order:
a hosted Redis is a network hop away, and loopback hides round trips.

    python3 bench/redis_delay_proxy.py LISTEN_PORT TARGET_PORT [DELAY]
"""
import asyncio
import sys
import time

LISTEN, TARGET = int(sys.argv[1]), int(sys.argv[2])
DELAY = float(sys.argv[3]) if len(sys.argv) > 3 else 0.001


async def pump(reader, writer):
    """Forward reader to writer, each chunk DELAY after it arrived."""
    queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(1 << 16)
            if not data:
                break
            queue.put_nowait((time.monotonic() + DELAY, data))
    except ConnectionError:
        pass
    queue.put_nowait((0, None))
    try:
        await sender
    except ConnectionError:
        pass


async def handle(creader, cwriter):
    sreader, swriter = await asyncio.open_connection('127.0.0.1', TARGET)
    await asyncio.gather(pump(creader, swriter), pump(sreader, cwriter))


async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', LISTEN)
    print('proxy ready', flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
