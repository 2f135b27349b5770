#!/usr/bin/env python3
"""The cluster executors against their engines' own ways, on the same local clusters, in one run.

Clusters (started once, on 127.0.0.1 only, as the tests start them): a `distributed.LocalCluster`
of 2 worker processes with 1 thread each (`dashboard_address=None`) and a local Ray of 2 CPUs
(no dashboard, node address 127.0.0.1).

Workloads, each a pair of calls alternated A B A B … (`--pairs` pairs, after one warm-up call
of each side), the ratio peer / ours of each pair, and the median of those ratios:
  (a) 20,000 no-op tasks (`noop(x)` returns x):
      `parallel.dask.map` against `Client.map` + `Client.gather`, and against joblib's Dask
      backend (`Parallel(backend="dask")`); `parallel.ray.map` against plain Ray tasks
      (`f.remote(x)` each, then `ray.get`) and against `ray.util.multiprocessing.Pool.map`.
      Targets: ≥ 10× `Client.map` and ≥ 10× Ray tasks.
  (b) 200 CPU tasks of ~10 ms each (a calibrated pure-Python loop, `spin.py`): `parallel.dask.map`
      and `parallel.ray.map` against a plain loop in this process. Target: ≥ 1.8× sequential.
      First, with no cluster up, the machine's ceiling: two forked processes, each running half
      the tasks with nothing to coordinate, against the same loop — what two cores give at best.

Only one cluster is up at a time (Dask's rows, then Ray's): an idle cluster's processes (its
scheduler, nannies, raylet, GCS) would take CPU from the other's rows.

Usage:
    python benches/python/cluster.py [--pairs 3] [--tiny 20000] [--cpu 200] [--only tiny|cpu]
"""

import argparse
import os
import pickle
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from spin import cpu_task, spin  # noqa: E402 - the benchmarks' one CPU task
from stats import fmt_ratio, fmt_time, quartiles  # noqa: E402


def noop(x):
    return x


def calibrate(seconds=0.010):
    """The iteration count of `spin` that takes `seconds` here."""
    n = 10_000
    while True:
        start = time.perf_counter()
        spin(n)
        took = time.perf_counter() - start
        if took > 0.05:
            return max(1, int(n * seconds / took))
        n *= 2


def halves(xs):
    """`cpu_task` over `xs` in two forked processes, half each, with nothing to coordinate (the
    values come back through a pipe each, once): what two cores give at best."""
    half = len(xs) // 2
    children = []
    for part in (xs[:half], xs[half:]):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            with os.fdopen(write, "wb") as out:
                pickle.dump([cpu_task(x) for x in part], out)
            os._exit(0)
        os.close(write)
        children.append((pid, read))
    out = []
    for pid, read in children:
        with os.fdopen(read, "rb") as got:
            out.extend(pickle.load(got))
        os.waitpid(pid, 0)
    return out


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def paired(ours, peer, pairs, check):
    """Runs `ours` and `peer` alternated (warm-up first), `pairs` pairs, the order alternating;
    each result checked by `check`. Returns (ours' times, peer's times, ratios peer / ours)."""
    check(ours())
    check(peer())
    mine, theirs, ratios = [], [], []
    for i in range(pairs):
        sides = [(ours, mine), (peer, theirs)] if i % 2 == 0 else [(peer, theirs), (ours, mine)]
        for fn, into in sides:
            took, out = timed(fn)
            check(out)
            into.append(took)
        ratios.append(theirs[-1] / mine[-1])
    return mine, theirs, ratios


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--tiny", type=int, default=20_000)
    parser.add_argument("--cpu", type=int, default=200)
    parser.add_argument("--only", choices=["tiny", "cpu"], help="run only the rows of (a) tiny or (b) cpu tasks")
    args = parser.parse_args()

    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # with the node address: loopback only
    import distributed
    import joblib
    import ray
    import ray.util.multiprocessing

    import parallel

    began = time.time()
    tiny = list(range(args.tiny))
    n = calibrate()
    cpu = [n] * args.cpu
    expected_cpu = [spin(n)] * args.cpu

    def is_tiny(out):
        assert list(out) == tiny

    def is_cpu(out):
        assert list(out) == expected_cpu

    rows = []

    def row(workload, ours_name, peer_name, ours, peer, check, target):
        if args.only and not workload.startswith("(a)" if args.only == "tiny" else "(b)"):
            return
        print(f"{workload}: {ours_name} against {peer_name} ...", file=sys.stderr, flush=True)
        mine, theirs, ratios = paired(ours, peer, args.pairs, check)
        q1, med, q3 = quartiles(ratios)
        met = "—" if target is None else ("yes" if med >= target else "**no**")
        rows.append((workload, ours_name, fmt_time(statistics.median(mine)), peer_name,
                     fmt_time(statistics.median(theirs)), f"{fmt_ratio(med)} [{fmt_ratio(q1)}, {fmt_ratio(q3)}]",
                     "—" if target is None else f"≥ {target:g}×", met))

    a = f"(a) {args.tiny:,} no-ops"
    b = f"(b) {args.cpu} CPU tasks of 10 ms"
    sequential = lambda: [cpu_task(x) for x in cpu]  # noqa: E731

    # The machine's ceiling, with no cluster up.
    row(b, "two bare processes (the ceiling)", "sequential loop", lambda: halves(cpu), sequential, is_cpu, None)

    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1")
    client = distributed.Client(cluster)

    def joblib_dask():
        with joblib.parallel_config(backend="dask"):
            return joblib.Parallel()(joblib.delayed(noop)(x) for x in tiny)

    dask_tiny = lambda: parallel.dask.map(noop, tiny)  # noqa: E731
    row(a, "`parallel.dask.map`", "`Client.map` + `gather`", dask_tiny,
        lambda: client.gather(client.map(noop, tiny, pure=False)), is_tiny, 10)
    row(a, "`parallel.dask.map`", "joblib, Dask backend", dask_tiny, joblib_dask, is_tiny, None)
    row(b, "`parallel.dask.map`", "sequential loop", lambda: parallel.dask.map(cpu_task, cpu), sequential, is_cpu, 1.8)
    row(b, "`parallel.dask.map`", "`Client.map` + `gather`", lambda: parallel.dask.map(cpu_task, cpu),
        lambda: client.gather(client.map(cpu_task, cpu, pure=False)), is_cpu, None)
    client.close()
    cluster.close()

    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": HERE}})
    ray_noop, ray_cpu = ray.remote(noop), ray.remote(cpu_task)
    pool = ray.util.multiprocessing.Pool(processes=2)
    ray_tiny = lambda: parallel.ray.map(noop, tiny)  # noqa: E731
    row(a, "`parallel.ray.map`", "Ray tasks (`f.remote` each)", ray_tiny,
        lambda: ray.get([ray_noop.remote(x) for x in tiny]), is_tiny, 10)
    row(a, "`parallel.ray.map`", "`ray.util.multiprocessing.Pool.map`", ray_tiny, lambda: pool.map(noop, tiny), is_tiny, None)
    row(b, "`parallel.ray.map`", "sequential loop", lambda: parallel.ray.map(cpu_task, cpu), sequential, is_cpu, 1.8)
    row(b, "`parallel.ray.map`", "Ray tasks (`f.remote` each)", lambda: parallel.ray.map(cpu_task, cpu),
        lambda: ray.get([ray_cpu.remote(x) for x in cpu]), is_cpu, None)
    pool.terminate()
    ray.shutdown()

    load = os.getloadavg()[0]
    print("## Python: the cluster executors against their engines' own calls\n")
    print(f"- machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
          f"Linux {platform.release()}; 1-minute load average at the end {load:.1f}")
    print(f"- dask/distributed {distributed.__version__}, ray {ray.__version__}, joblib {joblib.__version__}, "
          f"`parallel` {parallel.__version__}")
    print(f"- a LocalCluster of 2 worker processes × 1 thread, then a local Ray of 2 CPUs (one up at a time), both on 127.0.0.1; "
          f"{args.pairs} pairs per row, alternated, after a warm-up call of each side; run took {time.time() - began:.0f} s\n")
    print("| workload | ours | median | peer | median | peer / ours, median of paired ratios [IQR] | target | met? |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
