#!/usr/bin/env python3
"""The data-path workloads of `make bench-python` (issue 11): real payloads on the process
executor against the process pools, each measurement in a fresh interpreter.

Workloads (2 workers everywhere: `max_workers=2`, `processes=2`, `n_jobs=2`):

- (d) sha256 of 200 blobs of 1 MiB: bytes in, hex digest out;
- (e) numpy: 100 arrays of 10**6 float64 in, `a * 2` out;
- (f) 200,000 no-op tasks;
- (g) 1,000,000 tiny tasks (`x * 2`), the peers chunked by 10,000;
- (h) 100 CPU tasks of ~10 ms (bench.py's calibrated loop): the speed-up over sequential.

Contenders: ours, `parallel.process.map(f, xs, max_workers=2)`; `multiprocessing.Pool(2).map`,
`concurrent.futures.ProcessPoolExecutor(2).map`, joblib `Parallel(n_jobs=2)` (loky) and mpire
`WorkerPool(n_jobs=2, keep_alive=True).map`; for (h) also a plain loop.

Method: one measurement is one fresh interpreter (`python datapath.py measure <spec>`) that makes
its pool (ours: nothing to make, its workers start at the first call and are reused), warms it
with one small call of the same function on inputs of the same type, builds the inputs, times
the one call and a read of one byte of every page of its results (`touch`: memory mapped but
not yet read would otherwise be neither timed nor counted), and prints the seconds and its own peak RSS (VmHWM of /proc/self/status: the
kernel's high-water mark of this process alone; `ru_maxrss` would keep a forking parent's peak
across exec). For each (ours, peer) the two alternate, ours first in even pairs and the peer
first in odd ones, and the report gives the median of the per-pair ratios ours/peer, for time
and for VmHWM. `run()` is called by bench.py, which writes the tables; this module also draws
the charts (`python datapath.py charts results.json outdir` redraws them from the JSON).

Like bench.py, this module imports only the standard library at module level: the workers of
every pool import it by name (`datapath`) to find the task functions.
"""

import gc
import hashlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WORKERS = 2
RESULT_TAG = "DATAPATH-RESULT "
BLOB_BYTES = 1 << 20
ARRAY_LEN = 10**6


# ---------------------------------------------------------------------------------------------
# The tasks (imported by name in every worker).


def sha256_hex(blob):
    return hashlib.sha256(blob).hexdigest()


def times_two(x):
    return x * 2


def noop(x):
    return x


# (h)'s task is the benchmarks' calibrated loop; it pickles by reference to `spin.cpu_task`.
from spin import cpu_task  # noqa: E402
from stats import fmt_ratio, fmt_time, quartiles  # noqa: E402


# ---------------------------------------------------------------------------------------------
# Inputs and checks, in the measuring interpreter.


def make_inputs(workload, size, iters):
    """The items of one call."""
    if workload == "sha256":
        return [os.urandom(BLOB_BYTES) for _ in range(size)]
    if workload == "numpy":
        import numpy as np

        base = np.arange(ARRAY_LEN, dtype=np.float64)
        return [base + i for i in range(size)]
    if workload in ("noop", "tiny"):
        return list(range(size))
    if workload == "cpu":
        return [iters] * size
    raise ValueError(workload)


def warm_inputs(workload, iters):
    """A small call of the same function on items of the same type."""
    if workload == "sha256":
        return [os.urandom(1024) for _ in range(2 * WORKERS)]
    if workload == "numpy":
        import numpy as np

        return [np.arange(1000, dtype=np.float64) for _ in range(2 * WORKERS)]
    if workload == "cpu":
        return [max(1, iters // 100)] * (2 * WORKERS)
    return list(range(4 * WORKERS))


def check(workload, xs, out, iters):
    out = list(out)
    if len(out) != len(xs):
        raise AssertionError(f"{len(out)} results for {len(xs)} inputs")
    if workload == "sha256":
        ok = all(r == hashlib.sha256(b).hexdigest() for b, r in zip(xs, out))
    elif workload == "numpy":
        import numpy as np

        ok = all(r.shape == a.shape and np.array_equal(r, a * 2) for a, r in zip(xs, out))
    elif workload == "noop":
        ok = out == xs
    elif workload == "tiny":
        ok = all(r == 2 * x for x, r in zip(xs, out))
    else:
        ok = all(r == out[0] for r in out) and out[0] == cpu_task(iters)
    if not ok:
        raise AssertionError("wrong results")


def touch(workload, out):
    """Reads one byte of every page of the results, as a user of them would: results whose
    memory is mapped but not yet read (shared memory) count in the time and the peak RSS as
    much as results read into memory."""
    if workload == "numpy":
        for r in out:
            r[:: 4096 // r.itemsize].sum()
    elif workload == "sha256":
        for r in out:
            r[::4096]


FUNCTIONS = {
    "sha256": "sha256_hex",
    "numpy": "times_two",
    "noop": "noop",
    "tiny": "times_two",
    "cpu": "cpu_task",
}


def pool_chunksize(n, workers=WORKERS):
    """`multiprocessing.Pool.map`'s automatic chunksize for `n` items."""
    chunk, extra = divmod(n, workers * 4)
    return chunk + 1 if extra else chunk


# ---------------------------------------------------------------------------------------------
# The contenders, in the measuring interpreter: `make(chunk)` returns `(call(fn, xs), close())`.


def make_ours(chunk):
    import parallel

    return (lambda fn, xs: parallel.process.map(fn, xs, max_workers=WORKERS)), (lambda: None)


def make_pool(chunk):
    import multiprocessing

    pool = multiprocessing.Pool(processes=WORKERS)

    def call(fn, xs):
        return pool.map(fn, xs, chunksize=chunk) if chunk else pool.map(fn, xs)

    def close():
        pool.close()
        pool.join()

    return call, close


def make_ppe(chunk):
    import concurrent.futures

    ppe = concurrent.futures.ProcessPoolExecutor(max_workers=WORKERS)
    return (lambda fn, xs: list(ppe.map(fn, xs, chunksize=chunk or 1))), ppe.shutdown


def make_joblib(chunk):
    from joblib import Parallel, delayed

    par = Parallel(n_jobs=WORKERS, batch_size=chunk or "auto")
    return (lambda fn, xs: par(delayed(fn)(x) for x in xs)), (lambda: None)


def make_mpire(chunk):
    from mpire import WorkerPool

    pool = WorkerPool(n_jobs=WORKERS, keep_alive=True)

    def call(fn, xs):
        # Without concatenate_numpy_output=False, mpire joins arrays returned into one array.
        return pool.map(fn, xs, chunk_size=chunk, progress_bar=False, concatenate_numpy_output=False)

    return call, pool.terminate


def make_sequential(chunk):
    return (lambda fn, xs: [fn(x) for x in xs]), (lambda: None)


MAKERS = {
    "ours": make_ours,
    "pool": make_pool,
    "ppe": make_ppe,
    "joblib": make_joblib,
    "mpire": make_mpire,
    "sequential": make_sequential,
}


def vmhwm():
    """This process's peak resident set (bytes), as the kernel keeps it."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def measure(spec):
    """One measurement: `spec` = {workload, contender, size, chunk, iters}."""
    sys.path.insert(0, HERE)
    import datapath as tasks  # the functions by reference, as the workers import them

    workload, iters = spec["workload"], spec.get("iters", 0)
    fn = getattr(tasks, FUNCTIONS[workload])
    call, close = MAKERS[spec["contender"]](spec.get("chunk"))
    try:
        warm = warm_inputs(workload, iters)
        check(workload, warm, call(fn, warm), max(1, iters // 100))
        xs = make_inputs(workload, spec["size"], iters)
        gc.collect()
        t0 = time.perf_counter()
        out = call(fn, xs)
        touch(workload, out)
        seconds = time.perf_counter() - t0
        peak = vmhwm()
        check(workload, xs, out, iters)
    finally:
        close()
    print(RESULT_TAG + json.dumps({"seconds": seconds, "vmhwm": peak}), flush=True)


# ---------------------------------------------------------------------------------------------
# The parent: workloads, rows, pairs.


class Peer:
    def __init__(self, key, label, setup, chunk=None, time_target=None, mem_target=None, needs=None):
        self.key = key  # contender
        self.label = label
        self.setup = setup
        self.chunk = chunk
        self.time_target = time_target  # (text, max ratio) or None
        self.mem_target = mem_target
        self.needs = needs  # a module the contender imports


POOL = "`multiprocessing.Pool.map`"
PPE = "`ProcessPoolExecutor.map`"
JOBLIB = "joblib (loky)"
MPIRE = "mpire `WorkerPool.map`"
LE1 = ("≤ 1.0×", 1.0)


def workloads(sizes):
    """(letter, key, title, size, [Peer]) of each workload; `sizes`: letter -> size."""
    n_sha, n_np, n_noop, n_tiny, n_cpu = (sizes[k] for k in "defgh")
    big = [
        Peer("pool", POOL, "`Pool(processes=2).map(f, xs)`, automatic chunksize"),
        Peer("ppe", PPE, "`ProcessPoolExecutor(max_workers=2).map(f, xs)`, chunksize 1"),
        Peer("joblib", JOBLIB, "`Parallel(n_jobs=2)(delayed(f)(x) for x in xs)`, automatic batches",
             needs="joblib"),
        Peer("mpire", MPIRE, "`WorkerPool(n_jobs=2, keep_alive=True).map(f, xs, "
             "concatenate_numpy_output=False)`, automatic chunks", needs="mpire"),
    ]

    def targeted(peers, time_keys=("pool", "joblib"), mem_keys=()):
        out = []
        for p in peers:
            p = Peer(p.key, p.label, p.setup, p.chunk, p.time_target, p.mem_target, p.needs)
            if p.key in time_keys:
                p.time_target = LE1
            if p.key in mem_keys:
                p.mem_target = ("≤ 1.1×", 1.1)
            out.append(p)
        return out

    auto = pool_chunksize(n_noop)
    noop_peers = targeted(big)
    noop_peers[1] = Peer(
        "ppe", f"`ProcessPoolExecutor.map(chunksize={auto})`",
        f"`ProcessPoolExecutor(max_workers=2).map(f, xs, chunksize={auto})`: the chunksize Pool.map "
        "picks itself (the default chunksize 1 costs ~150 µs a task, 30 s for 200,000; (a) measures it)",
        chunk=auto,
    )
    tiny = 10_000
    return [
        ("d", "sha256", f"sha256 of {n_sha:,} blobs of 1 MiB", n_sha, targeted(big)),
        ("e", "numpy", f"numpy: {n_np:,} arrays of 10⁶ float64, `a * 2`", n_np,
         targeted(big, mem_keys=("pool",))),
        ("f", "noop", f"{n_noop:,} no-op tasks", n_noop, noop_peers),
        ("g", "tiny", f"{n_tiny:,} tiny tasks (`x * 2`)", n_tiny, [
            Peer("pool", f"`Pool.map(chunksize={tiny})`", f"`Pool(processes=2).map(f, xs, chunksize={tiny})`",
                 chunk=tiny, time_target=LE1),
            Peer("ppe", f"`ProcessPoolExecutor.map(chunksize={tiny})`",
                 f"`ProcessPoolExecutor(max_workers=2).map(f, xs, chunksize={tiny})`", chunk=tiny),
            Peer("joblib", f"joblib (loky, batch_size={tiny})",
                 f"`Parallel(n_jobs=2, batch_size={tiny})(delayed(f)(x) for x in xs)`", chunk=tiny,
                 needs="joblib"),
            Peer("mpire", f"mpire `WorkerPool.map(chunk_size={tiny})`",
                 f"`WorkerPool(n_jobs=2, keep_alive=True).map(f, xs, chunk_size={tiny}, "
                 "concatenate_numpy_output=False)`", chunk=tiny, needs="mpire"),
        ]),
        ("h", "cpu", f"{n_cpu:,} CPU tasks of ~10 ms", n_cpu, [
            Peer("sequential", "sequential (a plain loop)", "`[f(x) for x in xs]` in the measuring process",
                 time_target=("≥ 1.9× sequential (ratio ≤ 0.53)", 1 / 1.9)),
        ] + [Peer(p.key, p.label, p.setup, p.chunk, None, None, p.needs) for p in big]),
    ]


class Series:
    """One (workload, peer): the paired measurements."""

    def __init__(self, letter, key, title, peer):
        self.letter, self.key, self.title, self.peer = letter, key, title, peer
        self.ours = []  # (seconds, vmhwm) per pair
        self.theirs = []
        self.ours_first = []
        self.loadavg = []  # the 1-minute load average before each pair: the machine is shared
        self.status = None

    def ratios(self, i):
        return [o[i] / p[i] for o, p in zip(self.ours, self.theirs)]

    def summary(self):
        if self.status is not None or not self.ours:
            return None
        out = {}
        for i, what in ((0, "seconds"), (1, "vmhwm")):
            r = self.ratios(i)
            q1, med, q3 = quartiles(r)
            target = self.peer.time_target if i == 0 else self.peer.mem_target
            out[what] = {
                "ours": [o[i] for o in self.ours],
                "peer": [p[i] for p in self.theirs],
                "ours_median": statistics.median(o[i] for o in self.ours),
                "peer_median": statistics.median(p[i] for p in self.theirs),
                "ratios": r,
                "ratio_median": med,
                "ratio_iqr": [q1, q3],
                "target": target[0] if target else None,
                "target_max_ratio": target[1] if target else None,
                "met": (med <= target[1]) if target else None,
            }
        return out


class MeasureError(Exception):
    pass


def run_one(spec, timeout):
    """One fresh interpreter measuring one call: (seconds, vmhwm)."""
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([HERE] + paths)
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "datapath.py"), "measure", json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=HERE,
        env=env,
        text=True,
        start_new_session=True,  # its pool's workers too are killed on a hang
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise MeasureError(f"{spec['contender']}: no result within {timeout:.0f} s (killed)") from None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # workers left behind, if any
        except ProcessLookupError:
            pass
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_TAG):
            r = json.loads(line[len(RESULT_TAG):])
            return r["seconds"], r["vmhwm"]
    last = [line for line in err.strip().splitlines() if line.strip()][-1:]
    last = last or [f"exit code {proc.returncode}"]
    raise MeasureError(f"{spec['contender']}: {last[0].strip()[:160]}")


def available(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def run(args, iters, log):
    """Every data-path series of `args.only`; returns the results (JSON-ready) and the series."""
    sizes = {k: getattr(args, f"size_{k}", None) for k in "defgh"}
    plan = [w for w in workloads(sizes) if w[0] in args.only]
    series = []
    have_numpy = available("numpy")
    for letter, key, title, size, peers in plan:
        log(f"({letter}) {title}: {len(peers)} peers, {args.pairs_data} pairs, each run a fresh interpreter")
        for peer in peers:
            s = Series(letter, key, title, peer)
            series.append(s)
            if key == "numpy" and not have_numpy:
                s.status = "numpy not installed"
            elif peer.needs and not available(peer.needs):
                s.status = f"{peer.needs} not installed"
            if s.status:
                log(f"  ({letter}) vs {peer.label}: {s.status}")
                continue
            base = {"workload": key, "size": size, "iters": iters}
            ours_spec = dict(base, contender="ours")
            peer_spec = dict(base, contender=peer.key, chunk=peer.chunk)
            began = time.monotonic()
            try:
                for i in range(args.pairs_data):
                    s.loadavg.append(os.getloadavg()[0])
                    if i % 2 == 0:
                        o = run_one(ours_spec, args.measure_timeout)
                        p = run_one(peer_spec, args.measure_timeout)
                    else:
                        p = run_one(peer_spec, args.measure_timeout)
                        o = run_one(ours_spec, args.measure_timeout)
                    s.ours.append(o)
                    s.theirs.append(p)
                    s.ours_first.append(i % 2 == 0)
                sm = s.summary()
                log(
                    f"  ({letter}) vs {peer.label}: time {sm['seconds']['ratio_median']:.2f}"
                    f" ({fmt_time(sm['seconds']['ours_median'])} / {fmt_time(sm['seconds']['peer_median'])}),"
                    f" VmHWM {sm['vmhwm']['ratio_median']:.2f}"
                    f" ({fmt_bytes(sm['vmhwm']['ours_median'])} / {fmt_bytes(sm['vmhwm']['peer_median'])});"
                    f" {time.monotonic() - began:.0f} s"
                )
            except Exception as exc:  # a failing peer (or ours) makes its row an error
                s.status = f"error: {' '.join(str(exc).split())[:160]}"
                log(f"  ({letter}) vs {peer.label}: {s.status}")
    return results_json(args, iters, plan, series), series


def versions():
    """The installed distributions (mpire has no `__version__`)."""
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name, dist in (("parallel", "parallel-rs"), ("numpy",) * 2, ("joblib",) * 2, ("mpire",) * 2,
                       ("matplotlib",) * 2):
        try:
            out[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def results_json(args, iters, plan, series):
    loads = [x for s in series for x in s.loadavg]
    return {
        "quick": bool(args.quick),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": {
            "cores": os.cpu_count(),
            "arch": platform.machine(),
            "system": f"{platform.system()} {platform.release()}",
        },
        "versions": versions(),
        "loadavg_1min": {"min": min(loads), "median": statistics.median(loads), "max": max(loads)}
        if loads
        else None,
        "workers": WORKERS,
        "pairs": args.pairs_data,
        "cpu_task_iterations": iters,
        "workloads": [
            {
                "letter": letter,
                "key": key,
                "title": title,
                "size": size,
                "peers": [
                    {
                        "key": s.peer.key,
                        "label": s.peer.label,
                        "setup": s.peer.setup,
                        "status": s.status,
                        "ours_first": s.ours_first,
                        "loadavg_1min": s.loadavg,
                        **(s.summary() or {}),
                    }
                    for s in series
                    if s.letter == letter
                ],
            }
            for letter, key, title, size, _ in plan
        ],
    }


# ---------------------------------------------------------------------------------------------
# Report.


def fmt_bytes(b):
    if b >= 1e9:
        return f"{b / 1e9:.2f} GB"
    return f"{b / 1e6:.0f} MB"


def tables(results):
    """The markdown lines: a time table and a memory table."""
    out = []
    for what, heading, fmt in (
        ("seconds", "Time of the one call", fmt_time),
        ("vmhwm", "The measuring process's peak RSS (VmHWM)", fmt_bytes),
    ):
        out += [
            f"#### {heading}",
            "",
            "| workload | ours | peer | ours/peer (IQR) | target | met? |",
            "|---|---:|---|---:|---|:---:|",
        ]
        for w in results["workloads"]:
            name = f"({w['letter']}) {w['title']}"
            for p in w["peers"]:
                if p["status"] is not None:
                    out.append(f"| {name} | | {p['label']} | {p['status']} | | |")
                    continue
                m = p[what]
                q1, q3 = m["ratio_iqr"]
                ratio = f"**{fmt_ratio(m['ratio_median'])}** ({fmt_ratio(q1)}–{fmt_ratio(q3)})"
                if p["key"] == "sequential" and what == "seconds":
                    ratio += f", {1 / m['ratio_median']:.2f}× faster"
                met = {True: "yes", False: "**no**", None: ""}[m["met"]]
                out.append(
                    f"| {name} | {fmt(m['ours_median'])} | {p['label']} {fmt(m['peer_median'])} | {ratio}"
                    f" | {m['target'] or ''} | {met} |"
                )
        out.append("")
    return out


def notes(results):
    out = ["How each peer runs (2 workers each; ours is `parallel.process.map(f, xs, max_workers=2)`):", ""]
    letters = {}
    for w in results["workloads"]:
        for p in w["peers"]:
            letters.setdefault((p["label"], p["setup"]), []).append(f"({w['letter']})")
    for (label, setup), which in letters.items():
        out.append(f"- {', '.join(which)} {label}: {setup}")
    return out + [""]


# ---------------------------------------------------------------------------------------------
# Charts.


def charts(results, outdir, log=print):
    """One PNG per workload: time and VmHWM bars, ours and each peer. Returns the paths."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("charts: matplotlib not installed, none drawn")
        return []
    os.makedirs(outdir, exist_ok=True)
    paths = []
    for w in results["workloads"]:
        peers = [p for p in w["peers"] if p["status"] is None]
        if not peers:
            continue
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
        for ax, what, unit, scale in (
            (axes[0], "seconds", "seconds (median)", 1.0),
            (axes[1], "vmhwm", "parent's peak RSS, MB (median VmHWM)", 1e-6),
        ):
            ours_all = [v for p in peers for v in p[what]["ours"]]
            labels = ["ours"] + [short_label(p["label"]) for p in peers]
            values = [statistics.median(ours_all) * scale] + [p[what]["peer_median"] * scale for p in peers]
            colors = ["#1f77b4"] + ["#9a9a9a"] * len(peers)
            bars = ax.bar(range(len(values)), values, color=colors)
            ax.set_xticks(range(len(values)), labels, rotation=20, ha="right", fontsize=8)
            ax.set_ylabel(unit)
            top = max(values) or 1.0
            ax.set_ylim(0, top * 1.18)
            for bar, p in zip(bars[1:], peers):
                m = p[what]
                ax.annotate(
                    f"ours/peer\n{fmt_ratio(m['ratio_median'])}",
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=7,
                    color="black" if m["ratio_median"] <= 1 else "#d62728",
                )
            ax.grid(axis="y", alpha=0.3)
        quick = " (--quick)" if results.get("quick") else ""
        fig.suptitle(
            f"({w['letter']}) {w['title'].replace('`', '')}{quick}: {results['workers']} workers, "
            f"pairs per peer: {results['pairs']}; ours/peer = median of the paired ratios",
            fontsize=10,
        )
        fig.tight_layout()
        path = os.path.join(outdir, f"datapath-{w['letter']}-{w['key']}.png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    for path in paths:
        log(f"wrote {path}")
    return paths


def short_label(label):
    return label.replace("`", "").replace("multiprocessing.", "").replace("ProcessPoolExecutor", "PPE")


def main(argv):
    if len(argv) >= 2 and argv[0] == "measure":
        measure(json.loads(argv[1]))
        return 0
    if len(argv) == 3 and argv[0] == "charts":
        with open(argv[1], encoding="utf-8") as f:
            charts(json.load(f), argv[2])
        return 0
    print("usage: datapath.py measure <json spec> | charts <results.json> <outdir>", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
