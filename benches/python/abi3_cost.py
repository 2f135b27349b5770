"""What the stable ABI costs on the hot paths: `make bench-abi3` (or `python
benches/python/abi3_cost.py [--pairs 21] [--python python3.11]`).

The working tree is built twice with the same source, as release wheels: the abi3 one (the
default, what `make wheel` ships) and a version-specific one for the interpreter given
(`--no-default-features`: PyO3 without `abi3-py39`), each installed in a venv of its own under
target/abi3-cost/. Then each workload of benches/compare/workloads.py — 100,000 no-op tasks on
threads and on processes, the quickest of 15 calls in one interpreter — runs alternately,
A B, B A, …, for `--pairs` pairs; the table reports the median time of each side and the median
of the paired ratios abi3 / version-specific, against the 1.03 target.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
WORK = ROOT / "target" / "abi3-cost"
WORKLOADS = ["py-thread-noop-best", "py-process-noop-best"]
TARGET = 1.03


def sh(*args, **kw):
    print("+", " ".join(str(a) for a in args), file=sys.stderr)
    subprocess.run([str(a) for a in args], check=True, **kw)


def version_of(python):
    out = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def build(side, python):
    """The working tree's wheel for `side` ("abi3" or "specific"), in a venv of its own made by
    `python`; the command that runs a workload there."""
    wheels = WORK / f"wheels-{side}"
    shutil.rmtree(wheels, ignore_errors=True)
    maturin = ROOT / ".venv" / "bin" / "maturin"
    features = [] if side == "abi3" else ["--no-default-features"]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    sh(maturin, "build", "--release", "--quiet", "--locked", *features, "-i", python, "-o", wheels, cwd=ROOT, env=env)
    [wheel] = wheels.glob("*.whl")
    if (side == "abi3") != ("-abi3-" in wheel.name):
        raise SystemExit(f"the {side} build made {wheel.name}")
    env_dir = WORK / f"venv-{side}"
    shutil.rmtree(env_dir, ignore_errors=True)
    subprocess.run([python, "-m", "venv", env_dir], check=True)
    interpreter = env_dir / "bin" / "python"
    sh(interpreter, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel, "cloudpickle==3.1.3", "tqdm==4.70.1")
    return wheel.name, [interpreter, ROOT / "benches" / "compare" / "workloads.py"]


def timed(command, workload):
    out = subprocess.run([str(c) for c in command] + [workload], check=True, capture_output=True, text=True, cwd=WORK)
    return float(out.stdout.split()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=21)
    default = shutil.which("python3.11") or str(Path.home() / ".pyenv" / "versions" / "3.11.7" / "bin" / "python3")
    parser.add_argument("--python", default=default, help="the interpreter to build for and run on (default: CPython 3.11)")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    version = version_of(args.python)
    specific_wheel, specific = build("specific", args.python)
    abi3_wheel, abi3 = build("abi3", args.python)
    rows = []
    for workload in WORKLOADS:
        timed(specific, workload), timed(abi3, workload)  # warm caches, not counted
        s_times, a_times, ratios = [], [], []
        for i in range(args.pairs):
            if i % 2 == 0:
                s, a = timed(specific, workload), timed(abi3, workload)
            else:
                a, s = timed(abi3, workload), timed(specific, workload)
            s_times.append(s)
            a_times.append(a)
            ratios.append(a / s)
            print(f"{workload} pair {i + 1}: specific {s:.4f} s, abi3 {a:.4f} s, {a / s:.3f}", file=sys.stderr)
        rows.append((workload, statistics.median(s_times), statistics.median(a_times), statistics.median(ratios)))
    print(f"\nCPython {version}: {specific_wheel} (version-specific) against {abi3_wheel} (abi3), the same source;")
    print(f"{args.pairs} pairs, alternated; the median of the paired ratios abi3 / version-specific\n")
    print("| workload | pairs | version-specific (s) | abi3 (s) | ratio | target | met? |")
    print("|---|---:|---:|---:|---:|---:|:-:|")
    for workload, s, a, ratio in rows:
        print(f"| {workload} | {args.pairs} | {s:.4f} | {a:.4f} | {ratio:.3f} | ≤ {TARGET:.2f} | {'yes' if ratio <= TARGET else '**no**'} |")


if __name__ == "__main__":
    main()
