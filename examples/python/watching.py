"""Watching a call: a progress bar, results in the order they complete, and `await`."""

import asyncio
import time

import parallel


def work(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


async def concurrently() -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.ensure_future(ticker())
    results = await parallel.process.async_map(work, [0.2, 0.2], max_workers=2)
    beat.cancel()
    print(f"await: {list(results)} while the event loop ticked {ticks} times")
    order = [key async for key, _ in parallel.async_map(work, {"slow": 0.3, "fast": 0.1})]
    print(f"async for: {order}")


def main() -> None:
    print("a bar on stderr while 40 tasks run on worker processes:")
    parallel.process.map(work, [0.02] * 40, max_workers=2, progress=True)
    call = parallel.async_map(work, [0.3, 0.1, 0.2])
    print(f"as_completed: {[key for key, _ in call.as_completed()]} (task 1 was quickest)")
    seen: list[tuple[int, int | None]] = []
    parallel.map(work, [0.05] * 6, max_workers=2, progress=lambda done, total: seen.append((done, total)))
    print(f"a callback saw {seen}")
    asyncio.run(concurrently())


if __name__ == "__main__":
    main()
