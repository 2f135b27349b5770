"""`progress=True` as a user sees it: a program run in a pseudo-terminal (the stdlib's
`os.openpty`, nothing outside Python), whose every byte on the terminal is read until it exits
and replayed on a small screen model (carriage returns overwrite, newlines move down, escape
sequences are dropped); and the same program with stderr a pipe, as under a CI log or `2> file`.

No timing is asserted: a loaded machine only makes the bar slower. A run that hangs is killed
(its whole process group: the process executor's workers too) after `HANG_GUARD` seconds and
fails with what the terminal showed so far.
"""

import errno
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import textwrap
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
HANG_GUARD = 60.0  # seconds a child may take before it is killed and the test fails
ROWS, COLS = 24, 100
# An ANSI escape: CSI (ESC [ ... final byte), OSC, or a two-byte ESC sequence.
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# tqdm's bar: full blocks, then at most one partial block (tqdm.std.Bar's UTF-8 charset).
_BLOCKS = "▏▎▍▌▋▊▉█"
_COUNT = re.compile(r"(\d+)/20\b")


def _env():
    """The test's own environment, with tests/ importable and the terminal's size stated."""
    env = dict(os.environ)
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join([HERE] + paths)
    env["COLUMNS"], env["LINES"] = str(COLS), str(ROWS)
    # Block characters need a UTF-8 stream; the test must not depend on the machine's locale.
    env["PYTHONIOENCODING"] = "utf-8"
    env.setdefault("TERM", "xterm")
    return env


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_in_terminal(code):
    """Runs `code` (`python -c`) with stdin, stdout and stderr on a fresh pseudo-terminal of
    ROWS x COLS; returns (exit code, every byte the terminal got, decoded)."""
    master, slave = os.openpty()
    try:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=_env(),
            cwd=HERE,
            close_fds=True,
            start_new_session=True,  # its own process group: the hang guard kills the workers too
        )
    except BaseException:
        os.close(master)
        os.close(slave)
        raise
    os.close(slave)  # the child (and its workers) hold the only ends left
    chunks = []
    deadline = time.monotonic() + HANG_GUARD
    exited_at = None
    try:
        while True:
            now = time.monotonic()
            if now > deadline:
                _kill_group(proc)
                proc.wait()
                shown = b"".join(chunks).decode("utf-8", "replace")
                pytest.fail(f"the program did not end within {HANG_GUARD:.0f} s; the terminal showed:\n{shown!r}")
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            # Once the child exited, what is still buffered is read; then EIO (every end closed)
            # or, if a worker still holds the terminal, 2 s of silence ends the reading.
            if exited_at is not None and now - exited_at > 2.0:
                break
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError as exc:
                if exc.errno == errno.EIO:  # Linux: every slave end is closed
                    break
                raise
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=HANG_GUARD)
    finally:
        _kill_group(proc)  # workers left behind, if any
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


def screen(raw):
    """What a terminal shows after `raw`: its lines, each with trailing blanks dropped (no
    scrolling, no cursor movement beyond carriage return and newline; escapes are dropped)."""
    lines, row, col = [[]], 0, 0
    for ch in _ESCAPE.sub("", raw):
        if ch == "\r":
            col = 0
        elif ch == "\n":
            row, col = row + 1, 0
            if row == len(lines):
                lines.append([])
        elif ch == "\b":
            col = max(0, col - 1)
        else:
            line = lines[row]
            line.extend(" " * (col + 1 - len(line)))
            line[col] = ch
            col += 1
    out = ["".join(line).rstrip() for line in lines]
    while out and not out[-1]:
        out.pop()
    return out


def frames(raw):
    """Every state of the bar drawn, in order: the text between carriage returns / newlines
    that shows a count of the 20 tasks."""
    return [f.strip() for f in re.split(r"[\r\n]", _ESCAPE.sub("", raw)) if _COUNT.search(f)]


def assert_a_full_bar(line):
    assert "100%" in line and "20/20" in line and "task/s" in line, line
    bar = re.search(r"\|([^|]*)\|", line)
    assert bar, f"no |bar| in {line!r}"
    assert bar.group(1) and set(bar.group(1)) == {"█"}, f"a full bar is drawn in full blocks: {line!r}"


PROGRAM = """
    import time
    import parallel

    out = {call}(time.sleep, [0.05] * 20, max_workers=2, progress=True)
    print("DONE", len(out), out.count(None))
"""


@pytest.mark.parametrize("call", ["parallel.map", "parallel.process.map"], ids=["thread", "process"])
def test_a_bar_in_a_terminal_advances_and_ends_full_on_its_own_line(call):
    code, raw = run_in_terminal(PROGRAM.format(call=call))
    shown = screen(raw)
    assert code == 0, f"exit code {code}; the terminal showed:\n" + "\n".join(shown)
    # What is left on the screen: the bar's last state, then what the program printed, on a line
    # of its own (the bar was closed with its newline) — nothing else, no second bar, no noise.
    assert len(shown) == 2, "the terminal shows more than the bar and the program's line:\n" + "\n".join(shown)
    bar_line, printed = shown
    assert_a_full_bar(bar_line)
    assert printed == "DONE 20 20"
    # The bar was drawn while the call ran: some state between none and all of the tasks.
    counts = [int(_COUNT.search(f).group(1)) for f in frames(raw)]
    assert counts and counts[-1] == 20
    assert counts == sorted(counts), f"the bar never goes back: {counts}"
    assert any(0 < k < 20 for k in counts), f"no intermediate state was drawn: {counts}"
    partial = [f for f in frames(raw) if 0 < int(_COUNT.search(f).group(1)) < 20]
    assert any(re.search(r"\|[" + _BLOCKS + r"]+ *\|", f) for f in partial), partial


@pytest.mark.parametrize("call", ["parallel.map", "parallel.process.map"], ids=["thread", "process"])
def test_a_failed_task_in_silent_mode_shows_in_the_bars_postfix(call):
    # time.sleep(-1) raises ValueError: one failure among 20 tasks, on either executor.
    code, raw = run_in_terminal(
        f"""
        import time
        import parallel

        out = {call}(time.sleep, [0.05] * 10 + [-1] + [0.05] * 9, max_workers=2, silent=True, progress=True)
        print("FAILED", len(out.failed))
        """
    )
    shown = screen(raw)
    assert code == 0, f"exit code {code}; the terminal showed:\n" + "\n".join(shown)
    assert len(shown) == 2, "\n".join(shown)
    bar_line, printed = shown
    assert "20/20" in bar_line and "100%" in bar_line, bar_line
    assert "failed=1" in bar_line, f"the failure is not in the bar's postfix: {bar_line!r}"
    assert printed == "FAILED 1"


@pytest.mark.parametrize("call", ["parallel.map", "parallel.process.map"], ids=["thread", "process"])
def test_with_stderr_a_pipe_the_bar_still_ends_there_and_stdout_is_the_programs_alone(call):
    env = _env()
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(PROGRAM.format(call=call))],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=HERE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        pytest.fail(f"the program did not end within {HANG_GUARD:.0f} s; stderr: {err!r}")
    finally:
        _kill_group(proc)
    out, err = out.decode("utf-8"), err.decode("utf-8")
    assert proc.returncode == 0, err
    assert out == "DONE 20 20\n", "stdout holds the program's line alone"
    last = screen(err)
    assert len(last) == 1, f"stderr holds the bar alone: {last}"
    assert_a_full_bar(last[0])
    assert err.endswith("\n"), "the bar was closed (its newline written)"


def test_the_bar_of_an_async_call_still_running_at_exit_is_closed():
    # The program leaves while its call runs: the bar stops where it was, but is closed — the
    # next line (the shell's prompt) starts on a line of its own.
    code, raw = run_in_terminal(
        """
        import time
        import parallel

        call = parallel.async_map(time.sleep, [0.2] * 20, max_workers=2, progress=True)
        time.sleep(0.5)
        """
    )
    assert code == 0, raw
    assert frames(raw), f"no bar was drawn: {raw!r}"
    assert _ESCAPE.sub("", raw).endswith("\n"), f"the bar was left open: {raw[-200:]!r}"
