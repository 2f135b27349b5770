#!/usr/bin/env python3
"""What `progress=True` costs on the hot path: 100,000 no-op tasks with and without the bar.

Workloads: `parallel.map(noop, range(100_000))` on the thread executor and
`parallel.process.map(noop, range(100_000))` on the process executor (default options, `noop`
a module-level function returning its argument), each without `progress=` and with
`progress=True`.

Method (default): one fresh interpreter per workload runs `--pairs` pairs of calls, with and
without the bar in turn (the order alternating), after one warm-up call of each, each call
timed with `time.perf_counter()` around it alone; each pair gives one ratio with / without.
Both sides then share one interpreter — tqdm imported — so the ratio is the bar's own cost:
across fresh interpreters a call of ~8 ms varies by more than the 5% to measure (merely
importing a few unrelated stdlib modules moves it by 10–15%). With `--fresh`, each
measurement is a fresh interpreter instead (`REPEAT` calls, their median), the two sides
alternating A B A B … The bar's stderr is /dev/null: tqdm then draws as to any file that is
not a terminal. The table gives the median times and the median of the paired ratios
(interquartile range in brackets) against the target: ≤ 1.05×.

Usage:
    python benches/python/progress_cost.py [--pairs 9] [--size 100000] [--fresh]

Like bench.py, this module imports only the standard library (and `stats.py` beside it, which
does too) at module level: the process executor's workers import it by name
(`progress_cost`) to find `noop`.
"""

import argparse
import ast
import gc
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

from stats import fmt_time, quartiles  # the benchmarks' one way of stating a measurement

HERE = os.path.dirname(os.path.abspath(__file__))
RESULT_TAG = "PROGRESS-COST "
TARGET = 1.05
TIMEOUT = 600.0  # seconds one measurement may take before it is killed
WORKLOADS = [
    ("thread", "`parallel.map(noop, range(N))` (thread executor)"),
    ("process", "`parallel.process.map(noop, range(N))` (process executor)"),
]
WARM = 1_000
REPEAT = 5  # calls timed per interpreter; it reports their median


def noop(x):
    return x


# ---------------------------------------------------------------------------------------------
# One measurement, in a fresh interpreter.


def measure(executor, with_progress, size):
    sys.path.insert(0, HERE)
    import progress_cost as tasks  # `noop` by reference, as the workers import it

    import parallel

    call = parallel.map if executor == "thread" else parallel.process.map
    progress = True if with_progress else None
    warm = list(range(WARM))
    if call(tasks.noop, warm, progress=progress) != warm:
        raise SystemExit("wrong results (warm-up)")
    xs = list(range(size))
    times = []
    for _ in range(REPEAT):
        gc.collect()
        t0 = time.perf_counter()
        out = call(tasks.noop, xs, progress=progress)
        times.append(time.perf_counter() - t0)
        if out != xs:
            raise SystemExit("wrong results")
    # One call of 100,000 no-ops takes ~10 ms: the median of a few is steadier than one.
    print(RESULT_TAG + repr(statistics.median(times)), flush=True)


def measure_alternating(executor, size, pairs):
    """One interpreter, both sides: `pairs` pairs of calls, with and without the bar in turn
    (the order alternating), after one warm-up call of each. Prints each pair's seconds."""
    sys.path.insert(0, HERE)
    import progress_cost as tasks

    import parallel

    call = parallel.map if executor == "thread" else parallel.process.map
    xs = list(range(size))
    for progress in (None, True):
        if call(tasks.noop, xs, progress=progress) != xs:
            raise SystemExit("wrong results (warm-up)")
    got = []
    for i in range(pairs):
        times = {}
        for progress in ((None, True) if i % 2 == 0 else (True, None)):
            gc.collect()
            t0 = time.perf_counter()
            out = call(tasks.noop, xs, progress=progress)
            times[progress] = time.perf_counter() - t0
            if out != xs:
                raise SystemExit("wrong results")
        got.append((times[None], times[True]))
    print(RESULT_TAG + repr(got), flush=True)


class MeasureError(Exception):
    pass


def run_one(executor, with_progress, size, alternating=None):
    """One fresh interpreter measuring one call: its seconds (`alternating`: that many pairs
    in the one interpreter, `measure_alternating`'s list)."""
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([HERE] + paths)
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "measure", executor, str(int(with_progress)), str(size)]
        + ([str(alternating)] if alternating else []),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the bar: tqdm draws there as to any file
        cwd=HERE,
        env=env,
        text=True,
        start_new_session=True,  # its workers too are killed on a hang
    )
    try:
        out, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise MeasureError(f"{executor}: no result within {TIMEOUT:.0f} s (killed)") from None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # workers left behind, if any
        except (ProcessLookupError, PermissionError):
            pass
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_TAG):
            return ast.literal_eval(line[len(RESULT_TAG):])
    raise MeasureError(
        f"{executor} progress={bool(with_progress)}: no result (exit code {proc.returncode}); "
        f"rerun `{sys.executable} {__file__} measure {executor} {int(with_progress)} {size}` to see why"
    )


# ---------------------------------------------------------------------------------------------
# The parent: pairs and the table.


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def main(argv):
    if argv[:1] == ["measure"]:
        if len(argv) > 4:
            measure_alternating(argv[1], int(argv[3]), int(argv[4]))
        else:
            measure(argv[1], argv[2] == "1", int(argv[3]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=9, help="pairs per workload (default 9)")
    parser.add_argument("--size", type=int, default=100_000, help="no-op tasks per call (default 100,000)")
    parser.add_argument("--fresh", action="store_true",
                        help="each measurement a fresh interpreter (default: both sides alternated in one)")
    parser.add_argument("--only", choices=[w for w, _ in WORKLOADS], action="append",
                        help="one workload only (repeatable)")
    args = parser.parse_args(argv)
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    started = time.monotonic()
    rows = []
    for key, title in WORKLOADS:
        if args.only and key not in args.only:
            continue
        without, with_, ratios = [], [], []
        if not args.fresh:
            log(f"{key}: {args.size:,} no-op tasks, {args.pairs} pairs alternated in one interpreter")
            for off, on in run_one(key, False, args.size, alternating=args.pairs):
                without.append(off)
                with_.append(on)
                ratios.append(on / off)
            rows.append((title, without, with_, ratios))
            continue
        log(f"{key}: {args.size:,} no-op tasks, {args.pairs} pairs, each run a fresh interpreter")
        for i in range(args.pairs):
            order = (False, True) if i % 2 == 0 else (True, False)
            got = {flag: run_one(key, flag, args.size) for flag in order}
            without.append(got[False])
            with_.append(got[True])
            ratios.append(got[True] / got[False])
            log(f"  pair {i + 1}/{args.pairs}: without {fmt_time(got[False])}, "
                f"with {fmt_time(got[True])}, ratio {ratios[-1]:.3f}")
        rows.append((title, without, with_, ratios))

    cores = os.cpu_count()
    import parallel  # only for its version and path in the report (after the children ran)

    version = getattr(parallel, "__version__", "?")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "## The cost of `progress=True`",
        "",
        f"- machine: {cores} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; 1-minute load average at the end {load:.1f}",
        f"- `parallel` {version} ({parallel.__file__})",
        f"- N = {args.size:,} no-op tasks per call, default options; {args.pairs} pairs per "
        + ("workload, each run a fresh interpreter warmed by one call of "
           f"{WARM:,} tasks" if args.fresh else "workload, alternated in one interpreter warmed by a call of each")
        + f", the bar's stderr /dev/null; without first in even pairs, with first "
        f"in odd ones; run took {time.monotonic() - started:.0f} s",
        "",
        "| workload | without (median s) | with progress=True (median s) | "
        "median of paired ratios with/without [IQR] | target ≤ 1.05× | met? |",
        "|---|---|---|---|---|---|",
    ]
    for title, without, with_, ratios in rows:
        q1, med, q3 = quartiles(ratios)
        lines.append(
            f"| {title} | {statistics.median(without):.4f} | {statistics.median(with_):.4f} | "
            f"{med:.3f} [{q1:.3f}, {q3:.3f}] | ≤ {TARGET:.2f}× | {'yes' if med <= TARGET else '**no**'} |"
        )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
