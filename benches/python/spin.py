"""The CPU task of the Python benchmarks: a calibrated pure-Python loop, in a module of its own
so that bench.py and datapath.py both take it from here (and the workers of every pool import
it by name)."""


def spin(n):
    """A pure-Python loop of `n` iterations; returns a checksum so that it can't be skipped."""
    acc = 0
    for i in range(n):
        acc = (acc * 1103515245 + i) & 0xFFFFFFFF
    return acc


def cpu_task(n):
    """One CPU task: `n` is the calibrated iteration count (passed, since workers don't share
    this process's globals)."""
    return spin(n)
