"""The same workloads before and after a change, paired in one run: `make bench-compare
BASE=<commit>` (or `python benches/compare.py <commit>`).

The checkout at BASE is exported to target/compare/<commit>/, and both it and the working tree
are built the same way: the Rust workloads (benches/compare/driver.rs) as a release binary
against each one's crates/parallel, the Python package as a release wheel in a venv of its
own (the working tree's is .venv, built by `make python`). Then every workload runs
alternately — before, after, after, before, … — each run timing itself inside its process, and
the table reports the median of the per-pair ratios after / before: robust to a machine whose
speed drifts from moment to moment. A ratio above 1.05 is marked.
"""

import argparse
import os
import statistics
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "target" / "compare"
RUST = ["thread-tiny", "thread-cpu", "thread-sleep", "thread-silent", "process-tiny", "process-cpu",
        "thread-stream", "process-stream"]
PYTHON = ["py-thread-noop", "py-thread-silent", "py-thread-par", "py-process-noop", "py-process-cpu",
          "py-thread-noop-best", "py-process-noop-best", "py-thread-stream-best", "py-process-stream-best"]
LIMIT = 1.05


def sh(*args, **kw):
    print("+", " ".join(str(a) for a in args), file=sys.stderr)
    subprocess.run([str(a) for a in args], check=True, **kw)


def export(commit):
    """The tree at `commit`, exported once to target/compare/<sha>/."""
    sha = subprocess.run(["git", "rev-parse", "--short", commit], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    tree = WORK / sha
    if not (tree / "Cargo.toml").exists():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.Popen(["git", "archive", sha], cwd=ROOT, stdout=subprocess.PIPE)
        sh("tar", "-x", "-C", tree, stdin=archive.stdout)
        if archive.wait() != 0:
            raise SystemExit(f"git archive {sha} failed")
    return sha, tree


def build_driver(side, tree):
    """benches/compare/driver.rs built against `tree`'s crate; the binary's path."""
    crate = WORK / f"driver-{side}"
    crate.mkdir(parents=True, exist_ok=True)
    (crate / "Cargo.toml").write_text(
        "[package]\nname = \"compare-driver\"\nversion = \"0.0.0\"\nedition = \"2021\"\n"
        f"[dependencies]\nparallel = {{ path = \"{tree / 'crates' / 'parallel'}\" }}\n"
        f"[[bin]]\nname = \"driver\"\npath = \"{ROOT / 'benches' / 'compare' / 'driver.rs'}\"\n"
        "[workspace]\n"
    )
    lock = tree / "Cargo.lock"
    if lock.exists() and not (crate / "Cargo.lock").exists():
        (crate / "Cargo.lock").write_bytes(lock.read_bytes())
    target = WORK / f"target-{side}"
    sh("cargo", "build", "--release", "--quiet", "--manifest-path", crate / "Cargo.toml",
       env={**os.environ, "CARGO_TARGET_DIR": str(target)})
    return [target / "release" / "driver"]


def build_python(side, tree):
    """The package at `tree` as a release wheel, in a venv of its own; the interpreter."""
    env_dir = WORK / f"venv-{side}"
    python = env_dir / "bin" / "python"
    if not python.exists():
        venv.create(env_dir, with_pip=True)
    wheels = WORK / f"wheels-{side}"
    for old in wheels.glob("*.whl"):
        old.unlink()
    maturin = ROOT / ".venv" / "bin" / "maturin"
    sh(maturin, "build", "--release", "--quiet", "-o", wheels, cwd=tree,
       env={**os.environ, "CARGO_TARGET_DIR": str(WORK / f"target-py-{side}")})
    sh(python, "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps", *wheels.glob("*.whl"))
    sh(python, "-m", "pip", "install", "--quiet", "cloudpickle>=3")
    return [python, ROOT / "benches" / "compare" / "workloads.py"]


def timed(command, workload):
    out = subprocess.run([str(c) for c in command] + [workload], check=True, capture_output=True,
                         text=True, cwd=WORK)
    return float(out.stdout.split()[-1])


def compare(workloads, before, after, pairs):
    rows = []
    for workload in workloads:
        timed(before, workload), timed(after, workload)  # warm caches, not counted
        b_times, a_times, ratios = [], [], []
        for i in range(pairs):
            # B A, then A B: neither side always runs first.
            if i % 2 == 0:
                b, a = timed(before, workload), timed(after, workload)
            else:
                a, b = timed(after, workload), timed(before, workload)
            b_times.append(b)
            a_times.append(a)
            ratios.append(a / b)
        ratio = statistics.median(ratios)
        rows.append((workload, statistics.median(b_times), statistics.median(a_times), ratio))
        print(f"{workload}: {ratio:.3f}", file=sys.stderr)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="the commit to compare the working tree with")
    parser.add_argument("--pairs", type=int, default=9)
    parser.add_argument("--only", choices=["rust", "python"])
    parser.add_argument("--workloads", nargs="+", metavar="NAME", help=f"some of {RUST + PYTHON}")
    args = parser.parse_args()
    chosen = set(args.workloads or RUST + PYTHON)
    rust, python = [w for w in RUST if w in chosen], [w for w in PYTHON if w in chosen]
    sha, tree = export(args.base)
    rows = []
    if args.only != "python" and rust:
        rows += compare(rust, build_driver("before", tree), build_driver("after", ROOT), args.pairs)
    if args.only != "rust" and python:
        after = [ROOT / ".venv" / "bin" / "python", ROOT / "benches" / "compare" / "workloads.py"]
        rows += compare(python, build_python("before", tree), after, args.pairs)
    print(f"\nbefore: {sha}, after: the working tree; {args.pairs} pairs, median of after/before\n")
    print("| workload | before (s) | after (s) | after / before | ≤ 1.05 |")
    print("|---|---:|---:|---:|:-:|")
    for workload, b, a, ratio in rows:
        print(f"| {workload} | {b:.4f} | {a:.4f} | {ratio:.3f} | {'yes' if ratio <= LIMIT else '**no**'} |")


if __name__ == "__main__":
    main()
