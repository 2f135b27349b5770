"""What tasks print and log in process workers reaches the parent: stdout on the parent's
stdout, stderr on its stderr, each line whole and in order per worker, all of it before the
call returns — a worker that crashes right after printing loses nothing — and log records
through the parent's own logging (its handlers, levels and formatters), with the worker's pid.
`PARALLEL_WORKER_OUTPUT=inherit` gives the workers the parent's own streams instead.

Most tests run a small script in a fresh interpreter and read its stdout and stderr: what a
user sees. Each script writes a marker to both streams with `os.write` as soon as its call
returns, then exits at once (`os._exit`): what is not out by then is lost, and what comes
after the marker came late.
"""

import logging
import os
import re
import subprocess
import sys
from collections import defaultdict

import parallel

import helpers
import output_tasks

MARKER = "<<the call returned>>"

# The script's end: the marker on both streams at once, then out without any cleanup.
END = f"""
os.write(1, b"\\n{MARKER}\\n")
os.write(2, b"\\n{MARKER}\\n")
os._exit(0)
"""


def run(body, env=None):
    """Runs `body` (after `import os, sys, logging, parallel, output_tasks`), then `END`; its
    stdout and stderr, each split at the marker: `(out_before, out_after, err_before,
    err_after)`."""
    code = "import logging, os, sys\nimport parallel, output_tasks\n" + body + END
    env = {**os.environ, "PYTHONPATH": helpers.HERE, "PARALLEL_WORKER_OUTPUT": "", **(env or {})}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode == 0, done.stderr
    assert MARKER in done.stdout and MARKER in done.stderr, (done.stdout[-2000:], done.stderr[-2000:])
    out_before, out_after = done.stdout.split(MARKER, 1)
    err_before, err_after = done.stderr.split(MARKER, 1)
    return out_before, out_after, err_before, err_after


def test_stdout_and_stderr_reach_the_parents_own():
    out, _, err, _ = run("parallel.process.map(output_tasks.say, range(6), max_workers=2)\n")
    assert sorted(re.findall(r"out-\d", out)) == [f"out-{x}" for x in range(6)]
    assert sorted(re.findall(r"err-\d", err)) == [f"err-{x}" for x in range(6)]
    assert "err-" not in out and "out-" not in err, "each line on its own stream"


def test_lines_of_many_workers_arrive_whole_in_order_and_before_the_call_returns():
    out, out_after, err, _ = run("parallel.process.map(output_tasks.chatty, range(8), max_workers=4)\n")
    assert "line " not in out_after, "every line came before the call returned"
    next_seq = defaultdict(int)
    lines = 0
    for line in out.splitlines():
        if "line " not in line:
            continue
        # A line may follow a task's partial line (`<tail n>`), the previous task on its worker.
        line = line[line.index("line ") :]
        fields = line.split(" ")
        assert len(fields) == 5 and fields[4] == "x" * output_tasks.WIDTH, f"a line mixed or cut: {line[:200]!r}"
        pid, task, seq = fields[1], fields[2], int(fields[3])
        assert seq == next_seq[(pid, task)], f"task {task} on worker {pid}: line {seq} out of order"
        next_seq[(pid, task)] += 1
        lines += 1
    assert lines == 8 * 200
    assert sorted(next_seq.values()) == [200] * 8
    # The partial lines each task wrote last are out too, on their own streams.
    assert sorted(re.findall(r"<tail (\d)>", out)) == [str(t) for t in range(8)]
    assert sorted(re.findall(r"<tail (\d)>", err)) == [str(t) for t in range(8)]
    assert len(re.findall(r"done \d+ \d", err)) == 8


def test_a_worker_that_crashes_right_after_printing_loses_nothing():
    out, _, err, _ = run(
        "results = parallel.process.map(output_tasks.print_then_crash, range(3), max_workers=2, silent=True)\n"
        "assert len(results.failed) == 3, results\n"
    )
    assert sorted(re.findall(r"last words \d", out)) == [f"last words {t}" for t in range(3)]
    assert sorted(re.findall(r"last error \d", err)) == [f"last error {t}" for t in range(3)]


def test_log_records_are_handled_by_the_parents_logging():
    body = (
        'logging.basicConfig(format="%(process)d|%(levelname)s|%(name)s|%(message)s", level=logging.INFO)\n'
        "pids = parallel.process.map(output_tasks.log, range(4), max_workers=2)\n"
        'print("pids", *sorted(set(pids)), "parent", os.getpid(), file=sys.stderr, flush=True)\n'
    )
    _, _, err, err_after = run(body)
    assert "|tasks|" not in err_after, "every record was handled before the call returned"
    reported = re.search(r"pids ([\d ]+) parent (\d+)", err)
    workers, parent = set(reported.group(1).split()), reported.group(2)
    assert parent not in workers
    next_seq = defaultdict(int)
    for line in err.splitlines():
        if "|tasks|" not in line:
            continue
        pid, level, _, message = line.split("|")
        assert level == "INFO" and pid in workers, line  # the parent's format, the worker's pid
        _, task, seq = message.split()
        assert int(seq) == next_seq[(pid, task)], f"records of worker {pid} out of order: {line}"
        next_seq[(pid, task)] += 1
    assert sorted(next_seq.values()) == [20] * 4
    assert "debug" not in err, "the parent's level drops DEBUG records"


def test_records_arrive_as_log_records_of_the_worker(caplog):
    caplog.set_level(logging.INFO)
    pids = parallel.process.map(output_tasks.log, range(2), max_workers=2)
    records = [r for r in caplog.records if r.name == "tasks"]
    assert len(records) == 2 * 20
    assert all(isinstance(r, logging.LogRecord) and r.levelno == logging.INFO for r in records)
    assert {r.process for r in records} == set(pids)
    assert os.getpid() not in pids
    assert {r.getMessage() for r in records} == {f"info {t} {s}" for t in range(2) for s in range(20)}


def test_a_records_traceback_and_extras_cross(caplog):
    caplog.set_level(logging.INFO)
    parallel.process.map(output_tasks.log_failure, [0])
    parallel.process.map(output_tasks.log_extra, [0])
    failed = [r for r in caplog.records if r.getMessage() == "it failed"]
    assert len(failed) == 1 and failed[0].levelno == logging.ERROR
    assert "ZeroDivisionError" in failed[0].exc_text and "ZeroDivisionError" in caplog.text
    extra = [r for r in caplog.records if r.getMessage() == "with extras"]
    assert len(extra) == 1 and extra[0].n == 7 and "lock" in extra[0].lock


def test_the_parents_levels_reach_the_workers_of_the_next_call():
    body = (
        "logging.basicConfig(level=logging.INFO)\n"
        'logging.getLogger("quiet").setLevel(logging.ERROR)\n'
        "first = parallel.process.map(output_tasks.levels, [0])[0]\n"
        "logging.getLogger().setLevel(logging.DEBUG)\n"
        "second = parallel.process.map(output_tasks.levels, [0])[0]\n"
        'print("levels", first, second, flush=True)\n'
    )
    out, _, _, _ = run(body)
    # Records the parent would drop are not even made in the worker.
    assert "levels (20, 40) (10, 40)" in out, out


def test_inherit_gives_workers_the_parents_own_streams_and_no_log_handler():
    body = (
        "theirs = parallel.process.map(output_tasks.streams, [0])[0]\n"
        'ours = (os.readlink("/proc/self/fd/1"), os.readlink("/proc/self/fd/2"))\n'
        'print("same" if theirs[:2] == ours else "different", *theirs[2], flush=True)\n'
        "parallel.process.map(output_tasks.say, range(2))\n"
    )
    out, _, err, _ = run(body, env={"PARALLEL_WORKER_OUTPUT": "inherit"})
    assert "same" in out and "ForwardHandler" not in out, out
    assert sorted(re.findall(r"out-\d", out)) == ["out-0", "out-1"], "the output still appears"
    assert sorted(re.findall(r"err-\d", err)) == ["err-0", "err-1"]
    # Forwarded, the workers' streams are pipes of their own, and records go to the parent.
    out, _, _, _ = run(body, env={"PARALLEL_WORKER_OUTPUT": ""})
    assert "different ForwardHandler" in out, out


def test_a_worker_without_the_handler_keeps_its_records():
    body = (
        "logging.basicConfig(format='from the parent: %(message)s')\n"
        "parallel.process.map(output_tasks.unforwarded, [0])\n"
    )
    _, _, err, _ = run(body)
    # Printed by the worker's own logging (its last resort, on its stderr), not the parent's.
    assert "kept in the worker" in err and "from the parent" not in err, err
