"""How the Python benchmarks state a measurement: the quartiles of paired ratios, and times
and ratios as the tables print them (bench.py and datapath.py alike)."""

import statistics


def quartiles(values):
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def fmt_time(s):
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.3g} s"


def fmt_ratio(r):
    return f"{r:.2f}" if r >= 0.1 else f"{r:.3f}"
