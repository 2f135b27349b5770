"""Module-level functions for the tests: importable by worker processes, which see the
caller's sys.path, as a user's own modules are."""

import ctypes
import os
import signal
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
