#!/usr/bin/env python3
"""python-parallel 0.9.1 as a peer of bench.py, run with the python of its own venv.

python-parallel also imports as `parallel`, so it can't share a process with ours. bench.py starts
this script once and keeps it alive; the two speak one line at a time:

    <- ready <python-parallel version> <python version>
    -> config {"size_a": 100000, "size_b": 1000, "workers_b": 100, "size_c": 200, "iters": N}
    <- ok
    -> run a-thread | a-process | b-thread | c-process
    <- ok <seconds of that one run>     (or: error <message>)
    -> quit

Each run is timed here, around the one `parallel.*.map` call, after `gc.collect()`; its results
are checked after the clock stops. The tasks and inputs are bench.py's (module `bench`, beside
this file, which imports only the standard library at module level).
"""

import gc
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench as tasks  # noqa: E402


def main():
    # The protocol owns the original stdout; anything else printed (by the library, by the
    # workers) goes to stderr.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def answer(line):
        proto.write(line + "\n")
        proto.flush()

    try:
        import parallel
    except Exception as exc:
        answer(f"error cannot import python-parallel: {exc!r}")
        return 1
    answer(f"ready {getattr(parallel, '__version__', '?')} {platform.python_version()}")

    workloads = {}
    for line in sys.stdin:
        command, _, rest = line.strip().partition(" ")
        try:
            if command == "quit" or not command:
                break
            if command == "config":
                cfg = json.loads(rest)
                a = tasks.inputs("a", cfg["size_a"])
                b = tasks.inputs("b", cfg["size_b"])
                c = tasks.inputs("c", cfg["size_c"], cfg["iters"])
                workloads = {
                    "a-thread": (parallel.thread, tasks.noop, a, {}),
                    "a-process": (parallel.process, tasks.noop, a, {}),
                    "b-thread": (parallel.thread, tasks.sleep_10ms, b, {"max_workers": cfg["workers_b"]}),
                    "c-process": (parallel.process, tasks.cpu_task, c, {}),
                }
                answer("ok")
            elif command == "run":
                executor, fn, (xs, expected), kwargs = workloads[rest]
                gc.collect()
                t0 = time.perf_counter()
                result = executor.map(fn, xs, **kwargs)
                elapsed = time.perf_counter() - t0
                if list(result) != expected:
                    raise RuntimeError(f"{rest}: wrong results")
                del result
                answer(f"ok {elapsed!r}")
            else:
                raise ValueError(f"unknown command {command!r}")
        except Exception as exc:
            answer("error " + " ".join(f"{type(exc).__name__}: {exc}".split()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
