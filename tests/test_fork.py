"""A process forked after using `parallel` works on its own: its own threads and worker
processes, started afresh; it never touches, reaps or kills its parent's, and the parent is not
disturbed. Each case runs in a fresh interpreter, which forks as a user's script would."""

import os
import subprocess
import sys
import textwrap

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

# What every script below starts with: `in_child(fn)` forks, runs `fn` in the child and
# returns what it printed; a child that hangs is killed after 60 s and the script fails.
PRELUDE = """
import os, signal, sys, time
import parallel
from helpers import children

def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False

def in_child(fn):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            out = repr(fn())
            code = 0
        except BaseException as exc:
            out = f"child failed: {type(exc).__name__}: {exc}"
            code = 1
        os.write(write, out.encode())
        os._exit(code)
    os.close(write)
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.exit("the forked child hung")
        time.sleep(0.01)
    out = os.read(read, 1 << 20).decode()
    assert os.waitstatus_to_exitcode(status) == 0, out
    return out
"""


def run(code):
    env = dict(os.environ, PYTHONPATH=HERE)
    script = PRELUDE + textwrap.dedent(code)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_a_forked_child_runs_its_own_calls(executor):
    out = run(f"""
        ex = parallel.{executor}
        assert ex.map(abs, [-1] * 20) == [1] * 20
        assert ex.map(time.sleep, [0.01] * 20) == [None] * 20
        print(in_child(lambda: ex.map(abs, range(-50, 0))) == repr(list(range(50, 0, -1))))
        # And again: the child's second call reuses what its first one started.
        print(in_child(lambda: (ex.map(abs, [-2] * 30), ex.map(abs, [-3] * 30))[1] == [3] * 30))
        assert ex.map(abs, [-4] * 20) == [4] * 20
    """)
    assert out.split() == ["True", "True"]


def test_a_child_never_touches_its_parents_workers():
    out = run("""
        assert parallel.process.map(abs, [-1] * 8, max_workers=2) == [1] * 8
        workers = children()
        assert workers, "the parent holds idle workers"

        def child():
            parallel.process.map(abs, [-1] * 8, max_workers=2)
            mine = children()
            assert mine and not (mine & workers), (mine, workers)  # workers of its own
            import atexit
            atexit._run_exitfuncs()  # what a child that exits normally runs: kills its workers
            return sorted(workers)

        in_child(child)
        # The parent's workers survived the child, and serve the next call.
        assert all(alive(p) for p in workers), "the child killed its parent's workers"
        assert parallel.process.map(abs, [-5] * 8, max_workers=2) == [5] * 8
        assert children() & workers, "the parent's idle workers are reused"
        print("ok")
    """)
    assert out.strip() == "ok"


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_a_fork_while_a_call_of_the_parent_runs(executor):
    out = run(f"""
        ex = parallel.{executor}
        call = ex.async_map(time.sleep, [0.25] * 24, max_workers=2)  # 3 s
        time.sleep(0.2)  # mid-call
        assert not call.done()
        print(in_child(lambda: ex.map(abs, [-7] * 10)) == repr([7] * 10))

        def the_parents_call_in_the_child():
            call.cancel()  # not the child's to stop: nothing happens
            try:
                call.results()
            except RuntimeError as exc:
                return "cannot wait" if "forked" in str(exc) else str(exc)
            return "waited"

        print(in_child(the_parents_call_in_the_child))
        assert call.results() == [None] * 24, "the parent's call is undisturbed"
        print("ok")
    """)
    assert out.split() == ["True", "'cannot", "wait'", "ok"]


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_a_fork_start_multiprocessing_pool_whose_tasks_call_parallel(executor):
    out = run(f"""
        import multiprocessing

        def task(n):
            return sum(parallel.{executor}.map(abs, [-n] * 4))

        if __name__ == "__main__":
            parallel.{executor}.map(abs, [-1] * 4)  # used just before: its threads are idle
            with multiprocessing.get_context("fork").Pool(2) as pool:
                result = pool.map_async(task, range(6))
                print(result.get(timeout=120))
    """)
    assert out.strip() == repr([4 * n for n in range(6)])
