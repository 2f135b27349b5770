"""Process workers: reused across calls; they see the caller's sys.path and working directory;
they are gone when the interpreter exits or is killed. Idle ones are capped process-wide: at
most one per core stays warm after a burst of calls; the rest exit soon after they go idle (the
stash's `SURPLUS_GRACE`, 1 s)."""

import os
import subprocess
import sys
import threading
import time

import parallel

import workload
from helpers import HERE, alive, run_script, wait_gone


def children():
    found = set()
    for tid in os.listdir(f"/proc/{os.getpid()}/task"):
        try:
            with open(f"/proc/{os.getpid()}/task/{tid}/children") as f:
                found.update(int(p) for p in f.read().split())
        except FileNotFoundError:
            pass  # a thread that ended since the listing (its children, if any, are its process's)
    return found


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


def test_workers_are_reused_across_calls():
    first = set(parallel.process.map(workload.pid, range(20), max_workers=2))
    second = set(parallel.process.map(workload.pid, range(20), max_workers=2))
    assert os.getpid() not in first
    assert first & second  # the same processes served both calls



def test_workers_see_the_callers_sys_path_and_working_directory(tmp_path, monkeypatch):
    (tmp_path / "mine_only_here.py").write_text("def where(_):\n    import os\n    return os.getcwd()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    import mine_only_here

    assert parallel.process.map(mine_only_here.where, [1]) == [str(tmp_path)]
    assert parallel.process.map(workload.cwd, [1]) == [str(tmp_path)]



def test_workers_are_gone_when_the_interpreter_exits():
    done = run_script(
        """
        import parallel, workload
        print(*set(parallel.process.map(workload.pid, range(10))))
        """
    )
    assert done.returncode == 0, done.stderr
    workers = [int(p) for p in done.stdout.split()]
    assert workers and wait_gone(workers) == []



def test_workers_die_with_a_killed_parent():
    child = subprocess.Popen(
        [sys.executable, "-c", "import parallel, workload, time\n"
         "print(*set(parallel.process.map(workload.pid, range(10))), flush=True)\ntime.sleep(600)"],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=HERE),
    )
    workers = [int(p) for p in child.stdout.readline().split()]
    child.kill()
    child.wait()
    child.stdout.close()
    assert workers and wait_gone(workers) == []

