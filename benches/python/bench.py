#!/usr/bin/env python3
"""The Python face of `parallel` against its Python peers, in one run, as a markdown table.

Contenders (ours is `import parallel` in this process; nothing else here imports a `parallel`):

- ours: `parallel.thread.map` and `parallel.process.map`, default options unless stated;
- `concurrent.futures.ThreadPoolExecutor.map` and `ProcessPoolExecutor.map` (default chunksize);
- `multiprocessing.Pool.map` (automatic chunksize);
- joblib, loky backend: `Parallel(n_jobs=cores)(delayed(f)(x) for x in xs)` (imported lazily);
- python-parallel 0.9.1, which also imports as `parallel`: it runs in its own venv, in a
  long-lived subprocess (`peer_python_parallel.py`) that answers "run <workload>" lines with the
  seconds of one run, so that runs still alternate with ours.

Workloads:

- (a) 100,000 no-op tasks (`noop(x) = x`);
- (b) 1,000 sleeps of 10 ms on 100 workers, ideal 100 ms (thread executors only: one process per
  worker would measure process start-up, not the executor);
- (c) 200 CPU tasks of ~10 ms each (a pure-Python loop calibrated at start-up), also against
  ours with one worker;
- (d)-(h), the data path (datapath.py; 2 workers everywhere, against `multiprocessing.Pool.map`,
  `ProcessPoolExecutor.map`, joblib and mpire): (d) sha256 of 200 blobs of 1 MiB, (e) 100 numpy
  arrays of 10**6 float64 in and `a * 2` out, (f) 200,000 no-ops, (g) 1,000,000 tiny tasks
  against peers chunked by 10,000, (h) 100 CPU tasks of ~10 ms against a plain loop. Each
  measurement is a fresh interpreter that makes and warms its pool, then times one call and
  reports its own peak RSS (VmHWM); results go to docs/benchmarks/datapath.json with one chart
  per workload beside it (`--quick`: target/bench-python-quick/).

Method: the machine's speed drifts (up to 2x from one moment to the next), so medians taken at
different moments cannot be compared. For each (ours, peer) pair, after one untimed warm-up run
of each side, the two alternate — ours first in even pairs, the peer first in odd ones — and each
pair gives one ratio ours/peer measured under the same conditions (< 1: ours is faster). The
table reports the median of those ratios and its interquartile range, plus the median times.
(d)-(h) pair fresh interpreters the same way, for time and for memory.

Usage:
    python benches/python/bench.py [--quick] [--markdown PATH] [--peer-python PATH]

The task functions below live at module level and this module imports only the standard library
at module level: worker processes (ours, the pools, loky) and the python-parallel peer import
them as module `bench`.
"""

import argparse
import gc
import json
import math
import os
import platform
import select
import statistics
import subprocess
import sys
import threading
import time

from stats import fmt_ratio, fmt_time, quartiles
from spin import cpu_task, spin  # noqa: F401 (cpu_task: the workers find it as `bench.cpu_task` too)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_PEER_PYTHON = os.path.join(REPO, ".venv-peer", "bin", "python")
PEER_SCRIPT = os.path.join(HERE, "peer_python_parallel.py")
PEER_ENV_VAR = "PARALLEL_BENCH_PEER_PYTHON"
PEER_MISSING = "not installed (make bench-python creates it)"
DOCS_RESULTS = os.path.join(REPO, "docs", "benchmarks")
# The data-path workloads' sizes (datapath.py): letter, what, full, --quick.
DATA_SIZES = [
    ("d", "blobs of 1 MiB to hash", 200, 10),
    ("e", "numpy arrays of 10**6 float64", 100, 4),
    ("f", "no-op tasks", 200_000, 20_000),
    ("g", "tiny tasks", 1_000_000, 100_000),
    ("h", "CPU tasks of ~10 ms", 100, 20),
]
JOBLIB_MISSING = "not installed (pip install joblib)"


# ---------------------------------------------------------------------------------------------
# The tasks (shared with the workers and with peer_python_parallel.py).


def noop(x):
    return x


def sleep_10ms(x):
    time.sleep(0.010)
    return x


def plain_threads(xs, workers):
    """The CPython floor for (b): `workers` plain threads, each running its share of
    `sleep_10ms` in a loop; no executor at all."""
    out = [None] * len(xs)

    def share(k):
        for i in range(k, len(xs), workers):
            out[i] = sleep_10ms(xs[i])

    threads = [threading.Thread(target=share, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def calibrate(target_s=0.010, reps=7):
    """The iteration count for which `spin` takes ~`target_s` on one thread, and its median
    time."""

    def timed(n):
        t0 = time.perf_counter()
        spin(n)
        return time.perf_counter() - t0

    n = 10_000
    while timed(n) < 0.002:
        n *= 4
    for _ in range(2):
        med = statistics.median(timed(n) for _ in range(reps))
        n = max(1, int(n * target_s / med))
    return n, statistics.median(timed(n) for _ in range(reps))


def inputs(workload, size, iters=None):
    """The items of one workload and the expected results (the peer uses the same)."""
    if workload == "c":
        return [iters] * size, [spin(iters)] * size
    xs = list(range(size))
    return xs, list(xs)


# ---------------------------------------------------------------------------------------------
# Contenders.


class ContenderError(Exception):
    pass


class Local:
    """A contender run in this process: `run()` is one timed run, `check(result)` its check."""

    def __init__(self, name, run, expected):
        self.name = name
        self.run = run
        self.expected = expected

    def time(self, settle):
        gc.collect()
        if settle:
            time.sleep(settle)
        t0 = time.perf_counter()
        result = self.run()
        elapsed = time.perf_counter() - t0
        if list(result) != self.expected:
            raise ContenderError(f"{self.name}: wrong results")
        return elapsed


class Peer:
    """python-parallel in its own venv: a subprocess speaking one line per request."""

    def __init__(self, python, timeout):
        self.timeout = timeout
        self.buf = b""
        env = dict(os.environ)
        # Whatever is on our PYTHONPATH (ours, a stub) must not shadow python-parallel there.
        for var in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"):
            env.pop(var, None)
        self.proc = subprocess.Popen(
            [python, PEER_SCRIPT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            env=env,
            cwd=HERE,
        )
        hello = self._readline(120).split()
        if len(hello) < 2 or hello[0] != "ready":
            self.close()
            raise ContenderError(f"peer said {' '.join(hello)!r}")
        self.version = hello[1]

    def _readline(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ContenderError(f"peer: no answer within {timeout:.0f} s")
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise ContenderError(f"peer exited (code {self.proc.wait()})")
                self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode()

    def request(self, line, timeout=None):
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise ContenderError(f"peer exited (code {self.proc.wait()})") from None
        answer = self._readline(timeout or self.timeout)
        status, _, rest = answer.partition(" ")
        if status != "ok":
            raise ContenderError(f"peer: {rest or answer}")
        return rest

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


class Remote:
    """One workload of the peer: each `time` is one run there, timed there."""

    def __init__(self, name, peer, workload):
        self.name = name
        self.peer = peer
        self.workload = workload

    def time(self, settle):
        if settle:
            time.sleep(settle)
        return float(self.peer.request(f"run {self.workload}"))


# ---------------------------------------------------------------------------------------------
# Rows of the table.


class Row:
    def __init__(self, workload, ours, peer, setup, target=None):
        self.workload = workload
        self.ours = ours  # label
        self.peer = peer  # label
        self.setup = setup  # how the peer runs, for the notes
        self.target = target  # (text, predicate on the median ratio, summary) or None
        self.status = None  # None: measured; else the text shown instead of numbers
        self.ours_times = []
        self.peer_times = []
        self.ours_first = []  # per pair

    @property
    def ratios(self):
        return [o / p for o, p in zip(self.ours_times, self.peer_times)]

    def met(self):
        if self.status is not None or not self.target:
            return None
        return self.target[1](statistics.median(self.ratios))


def run_pairs(row, ours, peer, pairs, settle, log):
    """Warm the peer up once (ours was warmed for its workload), then alternate."""
    try:
        peer.time(settle)
        for i in range(pairs):
            if i % 2 == 0:
                o = ours.time(settle)
                p = peer.time(settle)
            else:
                p = peer.time(settle)
                o = ours.time(settle)
            row.ours_times.append(o)
            row.peer_times.append(p)
            row.ours_first.append(i % 2 == 0)
        log(
            f"  {row.workload} {row.ours} vs {row.peer}: ratio {fmt_ratio(statistics.median(row.ratios))}"
            f" (ours {fmt_time(statistics.median(row.ours_times))},"
            f" peer {fmt_time(statistics.median(row.peer_times))})"
        )
    except Exception as exc:  # a failing peer makes its row an error, not the whole run
        row.status = f"error: {one_line(exc)}"
        log(f"  {row.workload} {row.ours} vs {row.peer}: {row.status}")


def one_line(exc):
    text = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ContenderError) else str(exc)
    text = " ".join(text.split())
    return text if len(text) <= 120 else text[:117] + "..."


# ---------------------------------------------------------------------------------------------
# Formatting.


def table(rows):
    out = [
        "| workload | ours | ours (median) | peer | peer (median) "
        "| ratio ours/peer (median of pairs) | ratio IQR | pairs | target | met? |",
        "|---|---|---:|---|---:|---:|---:|---:|---|:---:|",
    ]
    for r in rows:
        target = r.target[0] if r.target else ""
        if r.status is not None:
            out.append(f"| {r.workload} | {r.ours} | | {r.peer} | | {r.status} | | | {target} | |")
            continue
        q1, med, q3 = quartiles(r.ratios)
        met = {True: "yes", False: "no", None: ""}[r.met()]
        out.append(
            f"| {r.workload} | {r.ours} | {fmt_time(statistics.median(r.ours_times))} | {r.peer}"
            f" | {fmt_time(statistics.median(r.peer_times))} | **{fmt_ratio(med)}**"
            f" | {fmt_ratio(q1)}–{fmt_ratio(q3)} | {len(r.ratios)} | {target} | {met} |"
        )
    return out


def order_check(rows):
    out = []
    for r in rows:
        if r.status is not None or r.ours_first is None:
            continue
        first = [x for x, f in zip(r.ratios, r.ours_first) if f]
        second = [x for x, f in zip(r.ratios, r.ours_first) if not f]
        if first and second:
            out.append(
                f"- {r.workload} {r.ours} vs {r.peer}: ours first {fmt_ratio(statistics.median(first))},"
                f" peer first {fmt_ratio(statistics.median(second))}"
            )
    return out


# ---------------------------------------------------------------------------------------------


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer pairs, smaller sizes (< 90 s)")
    ap.add_argument("--markdown", metavar="PATH", help="also write the report to PATH")
    ap.add_argument(
        "--peer-python",
        default=os.environ.get(PEER_ENV_VAR, DEFAULT_PEER_PYTHON),
        help=f"python of the venv with python-parallel 0.9.1 (env {PEER_ENV_VAR}; "
        f"default {DEFAULT_PEER_PYTHON})",
    )
    ap.add_argument("--pairs-a", type=int, help="pairs for (a) (default 7, quick 3)")
    ap.add_argument("--pairs-b", type=int, help="pairs for (b) (default 9, quick 3)")
    ap.add_argument("--pairs-c", type=int, help="pairs for (c) (default 5, quick 3)")
    ap.add_argument("--size-a", type=int, help="no-op tasks (default 100000, quick 10000)")
    ap.add_argument("--size-b", type=int, help="sleeps of 10 ms (default 1000, quick 1000)")
    ap.add_argument("--workers-b", type=int, default=100, help="workers for (b) (default 100)")
    ap.add_argument("--size-c", type=int, help="CPU tasks (default 200, quick 40)")
    ap.add_argument("--task-ms", type=float, default=10.0, help="one CPU task, ms (default 10)")
    ap.add_argument("--settle", type=float, default=0.05, help="pause before each run, s")
    ap.add_argument("--peer-timeout", type=float, default=900, help="max s for one peer run")
    ap.add_argument("--pairs-data", type=int, help="pairs for each peer of (d)-(h) (default 5, quick 1)")
    for letter, what, full, small in DATA_SIZES:
        ap.add_argument(f"--size-{letter}", type=int, help=f"{what} (default {full}, quick {small})")
    ap.add_argument("--measure-timeout", type=float, default=600,
                    help="max s for one measuring interpreter of (d)-(h) (default 600)")
    ap.add_argument(
        "--results-dir",
        help="where (d)-(h) write datapath.json and the charts (default docs/benchmarks, "
        "quick: target/bench-python-quick)",
    )
    ap.add_argument("--only", default="abcdefgh", help="workloads to run, e.g. 'ac' (default abcdefgh)")
    args = ap.parse_args(argv)
    quick = args.quick
    defaults = {
        "pairs_a": 3 if quick else 7,
        "pairs_b": 3 if quick else 9,
        "pairs_c": 3 if quick else 5,
        "pairs_data": 1 if quick else 5,
        "size_a": 10_000 if quick else 100_000,
        "size_b": 1_000,
        "size_c": 40 if quick else 200,
        "results_dir": os.path.join(REPO, "target", "bench-python-quick") if quick else DOCS_RESULTS,
    }
    for letter, _, full, small in DATA_SIZES:
        defaults[f"size_{letter}"] = small if quick else full
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv=None):
    args = parse_args(argv)
    started = time.monotonic()

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    # The tasks as module `bench`, so that they pickle by reference to something every worker
    # can import (the script itself is `__main__`). Children find it through PYTHONPATH.
    sys.path.insert(0, HERE)
    import bench as tasks

    os.environ["PYTHONPATH"] = os.pathsep.join(
        [HERE] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    cores = os.cpu_count() or 1

    iters, cal = tasks.calibrate(args.task_ms / 1000, reps=5 if args.quick else 9)
    log(f"calibration: one CPU task = {iters} loop iterations ≈ {fmt_time(cal)} on one thread")

    # --- The peers' pools, created once and warmed before ours runs anything (the fork-based
    # pools then fork from a process without our threads).
    import concurrent.futures as cf
    import multiprocessing

    tpe = cf.ThreadPoolExecutor()
    tpe_b = cf.ThreadPoolExecutor(max_workers=args.workers_b)
    ppe = cf.ProcessPoolExecutor()
    pool = multiprocessing.Pool()
    list(ppe.map(tasks.noop, range(4 * cores)))
    pool.map(tasks.noop, range(4 * cores))

    try:
        import joblib
        from joblib import Parallel, delayed

        joblib_version = joblib.__version__
    except ImportError:
        joblib = None
        joblib_version = None

    peer = None
    if os.path.exists(args.peer_python):
        try:
            peer = Peer(args.peer_python, args.peer_timeout)
            peer.request(
                "config "
                + json.dumps(
                    {
                        "size_a": args.size_a,
                        "size_b": args.size_b,
                        "workers_b": args.workers_b,
                        "size_c": args.size_c,
                        "iters": iters,
                    }
                ),
                timeout=120,
            )
        except Exception as exc:
            log(f"python-parallel peer unavailable ({args.peer_python}): {one_line(exc)}")
            if peer is not None:
                peer.close()
            peer = None
    else:
        log(f"python-parallel peer: {args.peer_python} does not exist")
    pp_label = f"python-parallel {peer.version}" if peer else "python-parallel 0.9.1"

    import parallel as ours

    ours_version = getattr(ours, "__version__", "?")
    log(f"ours: parallel {ours_version} from {ours.__file__}")

    rows = []

    def joblib_run(fn, xs):
        return lambda: Parallel(n_jobs=cores)(delayed(fn)(x) for x in xs)

    def workload(key, ours_contenders, specs):
        """`ours_contenders`: label -> Local; `specs`: (ours label, peer label, setup, make, target)
        where `make()` returns the peer's contender or a status string."""
        for label, contender in ours_contenders.items():
            try:
                contender.time(0)  # warm-up
            except Exception as exc:
                ours_contenders[label] = f"error (ours): {one_line(exc)}"
                log(f"  {key} {label}: {ours_contenders[label]}")
        for ours_label, peer_label, setup, make, target in specs:
            row = Row(key, ours_label, peer_label, setup, target)
            rows.append(row)
            ours_c = ours_contenders[ours_label]
            peer_c = make()
            if isinstance(ours_c, str):
                row.status = ours_c
            elif isinstance(peer_c, str):
                row.status = peer_c
                log(f"  {key} {ours_label} vs {peer_label}: {peer_c}")
            else:
                run_pairs(row, ours_c, peer_c, getattr(args, f"pairs_{key[1]}"), args.settle, log)
        return ours_contenders

    def remote(name):
        return lambda: Remote(pp_label, peer, name) if peer else PEER_MISSING

    def via_joblib(fn, xs, expected):
        if joblib is None:
            return lambda: JOBLIB_MISSING
        return lambda: Local("joblib", joblib_run(fn, xs), expected)

    def local(name, run, expected):
        return lambda: Local(name, run, expected)

    thread_label = "`parallel.thread.map`"
    process_label = "`parallel.process.map`"

    # --- (a) no-op tasks.
    if "a" in args.only:
        n = args.size_a
        log(f"(a) {n:,} no-op tasks, {args.pairs_a} pairs")
        xs, expected = tasks.inputs("a", n)
        key = "(a)"
        workload(
            key,
            {
                thread_label: Local("ours", lambda: ours.thread.map(tasks.noop, xs), expected),
                process_label: Local("ours", lambda: ours.process.map(tasks.noop, xs), expected),
            },
            [
                (
                    thread_label,
                    "`ThreadPoolExecutor.map`",
                    f"one `ThreadPoolExecutor()` (default max_workers = {min(32, cores + 4)}) "
                    "created once and reused",
                    local("tpe", lambda: list(tpe.map(tasks.noop, xs)), expected),
                    (
                        "≤ 0.10 (≥ 10× throughput)",
                        lambda r: r <= 0.10,
                        "thread executor ≥ 10× the throughput of ThreadPoolExecutor.map on (a)",
                    ),
                ),
                (
                    thread_label,
                    f"{pp_label} `parallel.thread.map`",
                    "its own venv and subprocess; makes a ThreadPoolExecutor per call, as it always does",
                    remote("a-thread"),
                    None,
                ),
                (
                    process_label,
                    "`ProcessPoolExecutor.map`",
                    f"one `ProcessPoolExecutor()` ({cores} workers, chunksize 1) created once and reused",
                    local("ppe", lambda: list(ppe.map(tasks.noop, xs)), expected),
                    (
                        "≤ 0.10 (≥ 10× throughput)",
                        lambda r: r <= 0.10,
                        "process executor ≥ 10× the throughput of ProcessPoolExecutor.map on (a)",
                    ),
                ),
                (
                    process_label,
                    "`multiprocessing.Pool.map`",
                    f"one `multiprocessing.Pool()` ({cores} workers, automatic chunksize) created "
                    "once and reused",
                    local("pool", lambda: pool.map(tasks.noop, xs), expected),
                    (
                        "≤ 1.00",
                        lambda r: r <= 1.0,
                        "process executor ≥ the throughput of multiprocessing.Pool.map on (a)",
                    ),
                ),
                (
                    process_label,
                    f"joblib {joblib_version or ''} (loky)".replace("  ", " "),
                    f"`Parallel(n_jobs={cores})` per call; loky's reusable executor is created "
                    "at the warm-up and reused",
                    via_joblib(tasks.noop, xs, expected),
                    None,
                ),
                (
                    process_label,
                    f"{pp_label} `parallel.process.map`",
                    "its own venv and subprocess; makes a ProcessPoolExecutor per call (and "
                    "submits one future per task), as it always does",
                    remote("a-process"),
                    None,
                ),
            ],
        )

    # --- (b) sleeps.
    if "b" in args.only:
        n, w = args.size_b, args.workers_b
        ideal = math.ceil(n / w) * 0.010
        log(f"(b) {n:,} sleeps of 10 ms on {w} workers (ideal {fmt_time(ideal)}), {args.pairs_b} pairs")
        xs, expected = tasks.inputs("b", n)
        key = "(b)"
        ours_b = workload(
            key,
            {
                thread_label: Local(
                    "ours", lambda: ours.thread.map(tasks.sleep_10ms, xs, max_workers=w), expected
                )
            },
            [
                (
                    thread_label,
                    f"`ThreadPoolExecutor(max_workers={w}).map`",
                    f"one `ThreadPoolExecutor(max_workers={w})` created once and reused",
                    local("tpe", lambda: list(tpe_b.map(tasks.sleep_10ms, xs)), expected),
                    None,
                ),
                (
                    thread_label,
                    f"{pp_label} `parallel.thread.map`",
                    f"its own venv and subprocess; `max_workers={w}`, a ThreadPoolExecutor per call",
                    remote("b-thread"),
                    None,
                ),
                (
                    thread_label,
                    f"CPython floor: {w} plain `threading.Thread`s, no executor",
                    "each thread sleeps its share in a loop: what 100 waking threads cost under the GIL",
                    local("floor", lambda: plain_threads(xs, w), expected),
                    None,
                ),
            ],
        )
        # The ideal row: every timed run of ours in (b) against the ideal.
        times = [t for r in rows if r.workload == key and r.status is None for t in r.ours_times]
        row = Row(
            key,
            thread_label,
            f"ideal ({n:,} / {w} × 10 ms)",
            "ceil(tasks / workers) × 10 ms: no overhead at all",
            ("≤ 1.10 (within 10%)", lambda r: r <= 1.10, f"(b) within 10% of the ideal {fmt_time(ideal)}"),
        )
        row.ours_first = None
        if isinstance(ours_b[thread_label], str):
            row.status = ours_b[thread_label]
        elif not times:
            row.status = "no timed run of ours"
        else:
            row.ours_times = times
            row.peer_times = [ideal] * len(times)
        rows.append(row)

    # --- (c) CPU tasks.
    if "c" in args.only:
        n = args.size_c
        log(f"(c) {n:,} CPU tasks of ~{fmt_time(cal)}, {args.pairs_c} pairs")
        xs, expected = tasks.inputs("c", n, iters)
        key = "(c)"
        workload(
            key,
            {process_label: Local("ours", lambda: ours.process.map(tasks.cpu_task, xs), expected)},
            [
                (
                    process_label,
                    "`parallel.process.map(..., max_workers=1)` (ours, one worker)",
                    "ours with one worker process",
                    local("one", lambda: ours.process.map(tasks.cpu_task, xs, max_workers=1), expected),
                    ("≤ 0.56 (≥ 1.8× one worker)", lambda r: r <= 1 / 1.8, "(c) ≥ 1.8× ours with one worker"),
                ),
                (
                    process_label,
                    "`ProcessPoolExecutor.map`",
                    "the same reused `ProcessPoolExecutor()` as (a)",
                    local("ppe", lambda: list(ppe.map(tasks.cpu_task, xs)), expected),
                    None,
                ),
                (
                    process_label,
                    "`multiprocessing.Pool.map`",
                    "the same reused `multiprocessing.Pool()` as (a)",
                    local("pool", lambda: pool.map(tasks.cpu_task, xs), expected),
                    None,
                ),
                (
                    process_label,
                    f"joblib {joblib_version or ''} (loky)".replace("  ", " "),
                    f"`Parallel(n_jobs={cores})` per call, loky's reusable executor",
                    via_joblib(tasks.cpu_task, xs, expected),
                    None,
                ),
                (
                    process_label,
                    f"{pp_label} `parallel.process.map`",
                    "its own venv and subprocess; a ProcessPoolExecutor per call",
                    remote("c-process"),
                    None,
                ),
            ],
        )

    cal_end = statistics.median(_time_spin(tasks, iters) for _ in range(5))

    # --- Tear down.
    if peer is not None:
        peer.close()
    tpe.shutdown()
    tpe_b.shutdown()
    ppe.shutdown()
    pool.terminate()
    pool.join()

    # --- (d)-(h): the data path, each measurement in a fresh interpreter (datapath.py), after
    # this process's pools are gone.
    data = None
    if any(letter in args.only for letter in "defgh"):
        import datapath

        data, _ = datapath.run(args, iters, log)
        os.makedirs(args.results_dir, exist_ok=True)
        data_json = os.path.join(args.results_dir, "datapath.json")
        with open(data_json, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        log(f"wrote {data_json}")
        chart_paths = datapath.charts(data, args.results_dir, log)

    elapsed = time.monotonic() - started
    report = [
        f"## Python benchmarks: `parallel` against its peers{' (--quick)' if args.quick else ''}",
        "",
        f"- machine: {cores} cores, {platform.machine()}, Python {platform.python_version()}"
        f" ({platform.python_implementation()}), {platform.system()} {platform.release()}",
        f"- ours: `parallel` {ours_version} ({ours.__file__})",
        f"- peers: joblib {joblib_version or JOBLIB_MISSING}; python-parallel "
        f"{peer.version if peer else PEER_MISSING}"
        + (
            "; data path: "
            + ", ".join(f"{k} {data['versions'][k] or 'not installed'}" for k in ("numpy", "mpire"))
            if data
            else ""
        ),
        f"- sizes: (a) {args.size_a:,} no-op tasks; (b) {args.size_b:,} sleeps of 10 ms on "
        f"{args.workers_b} workers; (c) {args.size_c:,} CPU tasks of {iters:,} loop iterations "
        f"≈ {fmt_time(cal)} at start, {fmt_time(cal_end)} at the end (the drift)",
        f"- data path: (d) {args.size_d:,} blobs of 1 MiB, (e) {args.size_e:,} arrays of 10⁶ float64, "
        f"(f) {args.size_f:,} no-ops, (g) {args.size_g:,} tiny tasks, (h) {args.size_h:,} CPU tasks; "
        f"{args.pairs_data} pairs per peer",
        f"- pairs: (a) {args.pairs_a}, (b) {args.pairs_b}, (c) {args.pairs_c}; one untimed "
        f"warm-up of each side first; ours first in even pairs, the peer first in odd ones; "
        f"{args.settle * 1000:.0f} ms pause and `gc.collect()` before every run; run took {elapsed:.0f} s",
        "",
        "Ratio = ours' time / the peer's time in the same pair (< 1: ours is faster); the "
        "median of the pairs' ratios and their interquartile range.",
        "",
    ]
    if args.quick:
        report += [
            "`--quick`: a smoke run, with smaller sizes and fewer pairs than the targets are "
            "set for; read the verdicts in the full run.",
            "",
        ]
    if rows:
        report += table(rows)
        report += ["", "### Targets", ""]
        for r in rows:
            if r.target:
                met = r.met()
                verdict = "not measured" if met is None else ("met" if met else "not met")
                value = "" if met is None else f" (ratio {fmt_ratio(statistics.median(r.ratios))})"
                report.append(f"- {r.target[2]}: **{verdict}**{value}")
        report += ["", "### How each peer runs", ""]
        seen = set()
        for r in rows:
            if (r.workload, r.peer) not in seen:
                seen.add((r.workload, r.peer))
                report.append(f"- {r.workload} {r.peer}: {r.setup}")
        report += [
            "- (b) has no process peers: 100 worker processes would time process start-up, not the "
            "executor; (c) has no thread rows: the GIL serializes CPU-bound Python on threads.",
            "- python-parallel 0.9.1 also imports as `parallel`, so it runs in its own venv, in one "
            "long-lived subprocess that times each run itself and answers over a pipe.",
        ]
        checks = order_check(rows)
        if checks:
            report += ["", "### Order check (median ratio by which side ran first)", ""] + checks
    if data is not None:
        report += ["", "### The data path: (d)-(h), each measurement in a fresh interpreter", ""]
        report += [
            f"Process executors, {datapath.WORKERS} workers each; pairs per peer: {args.pairs_data}, "
            "ours first in even pairs and the peer first in odd ones; each run is one fresh "
            "interpreter that makes its pool, warms it with one small call, builds the inputs and "
            "times one call; memory is that interpreter's own peak RSS (VmHWM). Ratio = median of "
            "the per-pair ratios ours/peer (IQR in brackets).",
            "",
        ]
        load = data["loadavg_1min"]
        if load:
            report += [
                f"The machine's 1-minute load average before each pair: {load['min']:.1f} to "
                f"{load['max']:.1f} (median {load['median']:.1f}) on {cores} cores, the bench's "
                "own workers counting for about 2: above that, other work competes for the cores; "
                "the paired ratios absorb the drift that causes, but a speed-up over sequential "
                "((h)) cannot exceed the cores the workers actually get.",
                "",
            ]
        report += datapath.tables(data)
        report += datapath.notes(data)
        rel = [os.path.relpath(p, REPO) for p in chart_paths]
        report.append(f"Results: {os.path.relpath(data_json, REPO)}; charts: {', '.join(rel) or 'none'}.")
    text = "\n".join(report) + "\n"
    print(text)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(text)
        log(f"wrote {args.markdown}")
    return 0


def _time_spin(tasks, n):
    t0 = time.perf_counter()
    tasks.spin(n)
    return time.perf_counter() - t0


if __name__ == "__main__":
    sys.exit(main())
