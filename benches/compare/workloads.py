"""One workload of `benches/compare.py` for the Python package, timed inside the interpreter
(after import and a warm-up call): `python workloads.py <workload>` prints its seconds."""

import sys
import time

import parallel


def noop(x):
    return x


def spin(seconds):
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


def fails(x):
    if x % 10 == 0:
        raise ValueError(x)
    return x


def run(name):
    if name == "py-thread-noop":
        assert len(parallel.map(noop, range(100_000))) == 100_000
    elif name == "py-thread-silent":
        out = parallel.map(fails, range(200_000), silent=True)
        assert len(out) == 200_000
    elif name == "py-thread-par":
        tasks = {str(i): parallel.future(noop, i) for i in range(50_000)}
        assert len(parallel.par(tasks)) == 50_000
    elif name == "py-process-noop":
        assert len(parallel.process.map(noop, range(100_000))) == 100_000
    elif name == "py-process-cpu":
        assert len(parallel.process.map(spin, [0.01] * 100)) == 100
    elif name in ("py-thread-stream", "py-process-stream"):
        # A generator streamed through `as_completed()` by a loop that keeps up.
        executor = parallel.PROCESS_EXECUTOR if name == "py-process-stream" else parallel.THREAD_EXECUTOR
        call = parallel.async_map(noop, (i for i in range(200_000)), executor=executor)
        assert sum(value for _, value in call.as_completed()) == 200_000 * 199_999 // 2
    else:
        raise SystemExit(f"no workload {name!r}")


if __name__ == "__main__":
    workload = sys.argv[1]
    if workload.startswith("py-process"):
        parallel.process.map(noop, range(4))  # workers started before the clock
    # `<workload>-best`: the quickest of 15 calls in one process — a call of 10 ms moves by
    # more than the costs measured from one process start to the next.
    best = workload.endswith("-best")
    times = []
    for _ in range(15 if best else 1):
        start = time.perf_counter()
        run(workload.removesuffix("-best"))
        times.append(time.perf_counter() - start)
    print(f"{min(times):.6f}")
