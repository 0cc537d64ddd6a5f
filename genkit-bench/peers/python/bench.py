"""Genkit Python side of the genkit-rs benchmarks.

The same workloads as the Rust runner, against the same local Gemini-compatible
server; prints one JSON line of results.

    python bench.py --base-url URL --workload overhead|loop|stream
                    [--concurrency N] [--calls N] [--warmup N] [--duration-s S]

Run by `cargo run --release -p genkit-bench`, which installs genkit==0.12.0 and
genkit-google-genai==0.12.0 into ${GENKIT_RS_CACHE:-/var/tmp/genkit-rs-cache}/bench-py.
"""

import argparse
import asyncio
import json
import os
import re
import sys
import time

from pydantic import BaseModel

from genkit import Genkit
from genkit_google_genai import GoogleAI


class Query(BaseModel):
    query: str


def peak_rss_kb() -> int:
    with open('/proc/self/status') as f:
        m = re.search(r'VmHWM:\s+(\d+)', f.read())
    return int(m.group(1)) if m else 0


def pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


LONG = ' '.join(f'word{i}' for i in range(500))


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument('--base-url', required=True)
    p.add_argument('--workload', required=True)
    p.add_argument('--concurrency', type=int, default=1)
    p.add_argument('--calls', type=int, default=100)
    p.add_argument('--warmup', type=int, default=20)
    p.add_argument('--duration-s', type=float, default=3.0)
    o = p.parse_args()

    ai = Genkit(
        plugins=[GoogleAI(api_key='local', base_url=o.base_url)],
        model='googleai/gemini-2.0-flash',
    )

    # No return annotation: with one, Genkit Python declares the function's `response`
    # schema, a field the local server does not accept (the real API does).
    @ai.tool(name='lookup', description='Look up a topic.')
    async def lookup(input: Query):  # noqa: ANN202
        return f'Results for: {input.query}'

    @ai.tool(name='search', description='Search the web for a topic.')
    async def search(input: Query):  # noqa: ANN202
        return f'Found: {input.query}'

    async def overhead_once() -> None:
        r = await ai.generate(prompt='Look up: rust', tools=['lookup'])
        if 'Results for: rust' not in r.text:
            raise RuntimeError(f'unexpected answer: {r.text}')

    async def loop_once() -> None:
        r = await ai.generate(prompt='Research: rust', tools=['search', 'lookup'], max_turns=5)
        if not r.text.startswith('done after 3 tool turns'):
            raise RuntimeError(f'unexpected answer: {r.text}')

    async def stream_once() -> tuple[float, int, float]:
        t0 = time.perf_counter()
        s = ai.generate_stream(prompt=LONG)
        first = 0.0
        chunks = 0
        async for c in s.stream:
            if not first and c.text:
                first = time.perf_counter()
            chunks += 1
        await s.response
        return (first - t0) * 1000, chunks, (time.perf_counter() - t0) * 1000

    result: dict = {'impl': 'genkit-python', 'workload': o.workload, 'concurrency': o.concurrency}
    if o.workload == 'overhead':
        for _ in range(o.warmup):
            await overhead_once()
        lat = []
        c0 = time.process_time()
        w0 = time.perf_counter()
        for _ in range(o.calls):
            t = time.perf_counter()
            await overhead_once()
            lat.append((time.perf_counter() - t) * 1000)
        result['wall_s'] = time.perf_counter() - w0
        result['cpu_s'] = time.process_time() - c0
        lat.sort()
        result.update(n=len(lat), p50_ms=pct(lat, 50), p99_ms=pct(lat, 99))
    elif o.workload == 'loop':
        for _ in range(min(o.warmup, 5)):
            await loop_once()
        lat: list[float] = []
        # Steady state: a warm-up period first (a quarter of the window, 0.2 to 2 s);
        # the window counts the generates that complete inside it.
        warm = min(2.0, max(0.2, o.duration_s / 4))
        window_start = time.perf_counter() + warm
        deadline = window_start + o.duration_s

        async def worker() -> None:
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                await loop_once()
                done = time.perf_counter()
                if window_start <= done <= deadline:
                    lat.append((done - t) * 1000)

        tasks = [asyncio.create_task(worker()) for _ in range(o.concurrency)]
        await asyncio.sleep(warm)
        c0 = time.process_time()
        w0 = time.perf_counter()
        await asyncio.sleep(o.duration_s)
        result['wall_s'] = time.perf_counter() - w0
        result['cpu_s'] = time.process_time() - c0
        lat.sort()
        result.update(n=len(lat), p50_ms=pct(lat, 50), p99_ms=pct(lat, 99))
        del tasks
    elif o.workload == 'stream':
        await stream_once()
        ttfc = []
        chunks = 0
        total = 0.0
        c0 = time.process_time()
        for _ in range(o.calls):
            a, n, t = await stream_once()
            ttfc.append(a)
            chunks += n
            total += t
        result['cpu_s'] = time.process_time() - c0
        ttfc.sort()
        result.update(n=o.calls, ttfc_ms=pct(ttfc, 50), chunks_per_s=chunks / (total / 1000), chunks=chunks)
    else:
        raise SystemExit(f'unknown workload {o.workload}')
    result['rss_kb'] = peak_rss_kb()
    sys.stdout.write(json.dumps(result) + '\n')
    sys.stdout.flush()
    os._exit(0)


if __name__ == '__main__':
    asyncio.run(main())
