"""Tasks of tests/test_output.py, importable by process workers: what they print and log."""

import logging
import os
import sys

WIDTH = 3000


def say(x):
    """A line on stdout and one on stderr."""
    print(f"out-{x}")
    print(f"err-{x}", file=sys.stderr)
    return os.getpid()


def chatty(task, lines=200, width=WIDTH):
    """`lines` long lines `line <pid> <task> <seq> <x…>` on stdout, a short one on stderr,
    and, last, a partial line on each."""
    payload = "x" * width
    pid = os.getpid()
    for seq in range(lines):
        print(f"line {pid} {task} {seq} {payload}")
    print(f"done {pid} {task}", file=sys.stderr)
    sys.stdout.write(f"<tail {task}>")
    sys.stderr.write(f"<tail {task}>")
    return pid


def print_then_crash(task):
    """Prints, then the worker dies at once (nothing flushed by Python on the way out)."""
    print(f"last words {task}")
    print(f"last error {task}", file=sys.stderr)
    os._exit(1)


def log(task, records=20):
    """`records` INFO records and as many DEBUG ones, numbered, on the logger `tasks`."""
    logger = logging.getLogger("tasks")
    for seq in range(records):
        logger.info("info %d %d", task, seq)
        logger.debug("debug %d %d", task, seq)
    return os.getpid()


def log_failure(_=None):
    """An ERROR record with its traceback."""
    try:
        1 / 0
    except ZeroDivisionError:
        logging.getLogger("tasks").exception("it failed")
    return os.getpid()


def log_extra(_=None):
    """A record with an `extra=` field that does not pickle."""
    logging.getLogger("tasks").warning("with extras", extra={"lock": __import__("threading").Lock(), "n": 7})
    return os.getpid()


def levels(_=None):
    """What the worker's loggers let through."""
    return (logging.getLogger().getEffectiveLevel(), logging.getLogger("quiet").getEffectiveLevel())


def streams(_=None):
    """What the worker's stdout and stderr are, and the classes of its root logger's handlers."""
    handlers = [type(h).__name__ for h in logging.getLogger().handlers]
    return os.readlink("/proc/self/fd/1"), os.readlink("/proc/self/fd/2"), handlers


def unforwarded(_=None):
    """Removes the handler that sends records to the parent, then logs a warning."""
    from parallel._logs import ForwardHandler

    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, ForwardHandler)]:
        root.removeHandler(handler)
    logging.getLogger("tasks").warning("kept in the worker")
    return os.getpid()
