"""Idle process workers are capped process-wide: at most one per core stays warm after a burst
of calls; the rest exit soon after they go idle (the stash's `SURPLUS_GRACE`, 1 s)."""

import os
import threading
import time

import parallel


def children():
    found = set()
    for tid in os.listdir(f"/proc/{os.getpid()}/task"):
        with open(f"/proc/{os.getpid()}/task/{tid}/children") as f:
            found.update(int(p) for p in f.read().split())
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_burst_of_calls_leaves_at_most_one_idle_worker_per_core():
    cores = os.cpu_count()
    before = children()
    results = []
    barrier = threading.Barrier(16)

    def call():
        barrier.wait()
        results.append(parallel.process.map(time.sleep, [0.05] * 10, max_workers=5))

    threads = [threading.Thread(target=call) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [[None] * 10] * 16
    started = children() - before
    assert len(started) > cores, "the burst ran more workers at once than there are cores"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len([p for p in started if alive(p)]) > cores:
        time.sleep(0.1)
    left = [p for p in started if alive(p)]
    assert len(left) <= cores, f"{len(left)} idle workers stayed, more than the {cores} cores"
    # Those kept serve the next call.
    assert parallel.process.map(abs, [-1] * 4, max_workers=2) == [1] * 4
