"""Helpers shared by the test modules. The task functions are module-level, so process workers
import them by name: they see the caller's sys.path, on which pytest put `tests/`.
"""

import os
import subprocess
import sys
import textwrap
import time

import parallel

EXECUTORS = [parallel.THREAD_EXECUTOR, parallel.PROCESS_EXECUTOR]
HERE = os.path.dirname(os.path.abspath(__file__))


# --- tasks ---------------------------------------------------------------------------------

def echo(*args, **kwargs):
    return (args, kwargs)


def f3(a, b=0, c=0):
    return (a, b, c)


def divide(a, b=1):
    return a / b


# --- processes and scripts -----------------------------------------------------------------

def alive(pid):
    """`True` if `pid` runs (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone, or gone while it was read
        return False


def wait_gone(pids, within=10.0):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def run_script(code, timeout=60, **kwargs):
    """Runs `code` in a fresh interpreter that sees the tests' directory."""
    env = dict(os.environ, PYTHONPATH=HERE)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout, env=env, **kwargs
    )


def run_user_script(script, tmp_path, stdin):
    """Runs `script` as a user would: `python script.py`, or `python - < script.py`."""
    path = tmp_path / "user_script.py"
    path.write_text(script)
    if stdin:
        with open(path) as source:
            done = subprocess.run([sys.executable, "-"], stdin=source, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    else:
        done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    return path, done


def children(pid=None):
    """The pids of the direct children of process `pid` (this one by default), from each of its
    threads' /proc list; a thread that ends while they are read (an idle pool thread exits
    after 5 s) has none left: its children belong to the process's other threads."""
    pid = pid or os.getpid()
    found = set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found.update(int(p) for p in f.read().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def descendants(pid):
    """The pids of every process below `pid` (its children, theirs, ...)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found
