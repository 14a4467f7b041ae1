"""haruchat's ASGI app under uvicorn, with a probe of the event loop's lag.

Run by bench/embedded_model.py in a process of its own:

    python -m bench.lag_probe_server PORT SAMPLES_FILE

Every millisecond a coroutine asks to be woken 1 ms later and records how
late it woke, with the wall-clock time; the samples are written when the
server is interrupted (SIGINT). Nothing here is part of the product.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import uvicorn

INTERVAL = 0.001


async def probe(samples: list[tuple[float, float]]) -> None:
    while True:
        before = time.perf_counter()
        await asyncio.sleep(INTERVAL)
        samples.append((time.time(), (time.perf_counter() - before - INTERVAL) * 1000))


async def serve(port: int, samples_file: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "backend"))
    from config.asgi import application

    server = uvicorn.Server(uvicorn.Config(application, port=port, log_level="warning", access_log=False))
    samples: list[tuple[float, float]] = []
    prober = asyncio.create_task(probe(samples))
    try:
        await server.serve()
    finally:
        prober.cancel()
        samples_file.write_text(json.dumps(samples))


if __name__ == "__main__":
    try:
        asyncio.run(serve(int(sys.argv[1]), Path(sys.argv[2])))
    except KeyboardInterrupt:
        pass  # how the benchmark stops it
