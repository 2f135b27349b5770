"""Module-level functions for the tests: importable by worker processes, which see the
caller's sys.path, as a user's own modules are."""

import ctypes
import os
import signal
import threading
import time

import parallel


def add(x, y):
    return x + y


def pid(_=None):
    return os.getpid()


def cwd(_=None):
    return os.getcwd()


def sleep_then(seconds, value=None):
    time.sleep(seconds)
    return value


def sleep_or_exit(*args):
    """`sleep_then(*args)`, or the worker process exits if `args` is `("exit",)`."""
    if args == ("exit",):
        os._exit(3)
    return sleep_then(*args)


def misbehave(how):
    """Fails its task in the way `how` says, or returns it."""
    if how == "segfault":
        ctypes.string_at(0)
    if how == "exit":
        os._exit(3)
    if how == "sigkill":  # as the kernel's OOM killer would
        os.kill(os.getpid(), signal.SIGKILL)
    if how == "hang":
        time.sleep(600)
    if how == "raise":
        raise ValueError("raised on purpose")
    return how


def deep_raise(n):
    if n == 0:
        raise KeyError("at the bottom")
    return deep_raise(n - 1)


@parallel.decorate
def decorated_square(x):
    return x * x


@parallel.decorate(executor=parallel.PROCESS_EXECUTOR, timeout=30, max_workers=2)
def decorated_pid(_):
    return os.getpid()


class CountsPickling:
    """Counts how often it is pickled (in this process)."""

    pickled = 0

    def __init__(self, value):
        self.value = value

    def __getstate__(self):
        type(self).pickled += 1
        return self.__dict__


def with_extra(x, extra=None):
    return x + extra.value


# --- exceptions that do not cross as they are (tests/test_exceptions.py) ----------------------


def raise_http_error(_=None):
    from urllib.error import HTTPError

    raise HTTPError("http://example.invalid/", 500, "boom", hdrs={}, fp=None)


class NeedsKeyword(Exception):
    """Pickles with its args only: unpickling calls it without its keyword-only `code`."""

    def __init__(self, message, *, code):
        super().__init__(message)
        self.code = code


def raise_needs_keyword(code):
    raise NeedsKeyword(f"failed with code {code}", code=code)


class HoldsLock(Exception):
    """Cannot be pickled at all: it holds a lock."""

    def __init__(self, message):
        super().__init__(message)
        self.lock = threading.Lock()
        self.detail = "kept"


def raise_holds_lock(x):
    raise HoldsLock(f"locked {x}")


class HoldsGenerator(ValueError):
    """Cannot be pickled at all: it holds a generator."""

    def __init__(self, message):
        super().__init__(message)
        self.pending = (i for i in range(3))


def raise_holds_generator(x):
    raise HoldsGenerator(f"generating {x}")


def raise_unimportable(_=None):
    """An exception whose class the parent cannot import (nor the worker pickle)."""
    cls = type("Vanished", (Exception,), {"__module__": "no_such_module_anywhere"})
    exc = cls("from a class made in the worker")
    exc.lock = threading.Lock()
    raise exc


# --- tasks still running at a deadline (test_options.py, test_async.py, test_compat_002.py) ---

RELEASE = threading.Event()


def hold(x):
    """Returns `x` at once; raises for "fail"; for "hold", blocks until RELEASE is set (a
    minute at most: in a worker process, until the worker is killed)."""
    if x == "fail":
        raise ValueError("failed on purpose")
    if x == "hold":
        RELEASE.wait(60)
    return x


def stuck(n, label):
    """A task that is still running at any deadline of a test (see `hold`)."""
    RELEASE.wait(60)
    return n, label


decorated_hold = parallel.decorate(hold)
process_decorated_hold = parallel.decorate(executor=parallel.PROCESS_EXECUTOR)(hold)


def record_then(path, index, exit_here):
    """Appends this task's index to `path` (one line, one write), then: the index back, or the
    worker process exits if `exit_here`."""
    with open(path, "a") as f:
        f.write(f"{index}\n")
    if exit_here:
        os._exit(3)
    return index


def square(x):
    return x * x


def pid_then_sleep(path, seconds):
    """Writes its worker process's pid to `path`, then sleeps `seconds` and returns them."""
    with open(path, "w") as f:
        f.write(str(os.getpid()))
    time.sleep(seconds)
    return seconds


def while_running(seconds):
    """Sleeps `seconds`; returns when it ran, `(start, end)` (`time.time()`)."""
    start = time.time()
    time.sleep(seconds)
    return start, time.time()


def parent_then_sleep(path, seconds):
    """Appends its worker process's parent's pid to `path` (one line per run), then sleeps."""
    with open(path, "a") as f:
        f.write(f"{os.getppid()}\n")
    time.sleep(seconds)
    return seconds


# --- workers users shape: initializers, retries, recycling ------------------------------------


def note_init(path, value):
    """An initializer: records this worker's pid in `path` (one line per run) and keeps `value`
    in its state."""
    with open(path, "a") as f:
        f.write(f"{os.getpid()}:{threading.get_ident()}\n")
    parallel.worker_state()["model"] = value


def failing_init():
    raise RuntimeError("the model did not load")


def with_model(x):
    """`(pid, thread, the worker state's model, x)`."""
    return os.getpid(), threading.get_ident(), parallel.worker_state().get("model"), x


def count_in_state(_):
    """How many tasks this worker has run, counted in its state."""
    state = parallel.worker_state()
    state["tasks"] = state.get("tasks", 0) + 1
    return os.getpid(), state["tasks"]


def _count_run(path):
    runs = (int(open(path).read()) if os.path.exists(path) else 0) + 1
    with open(path, "w") as f:
        f.write(str(runs))
    return runs


def fails_then_succeeds(path, fails, how="raise"):
    """Fails its first `fails` runs — raising a ValueError, crashing its worker process
    (`"exit"`) or hanging (`"hang"`) — and then returns how many runs it took."""
    runs = _count_run(path)
    if runs <= fails:
        if how == "exit":
            os._exit(5)
        if how == "hang":
            time.sleep(60)
        if how == "key":
            raise KeyError(runs)
        raise ValueError(f"run {runs} fails")
    return runs


def leak_then_pid(mb):
    """Keeps `mb` MB more alive in this worker (a leak), and returns its pid."""
    leaked = parallel.worker_state().setdefault("leak", [])
    leaked.append(bytearray(mb << 20))
    for i in range(0, len(leaked[-1]), 4096):
        leaked[-1][i] = 1  # touched: resident
    return os.getpid()
