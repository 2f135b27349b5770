"""Log records of process workers, handled by the parent's logging: its handlers, levels,
filters and formatters apply to them as to its own records, and `record.process` is the pid of
the worker that made the record.

In a worker (`install`, called once by `_worker.main` when the parent gave it a pipe for
lines, in PARALLEL_LOG_FD): a `ForwardHandler` on the root logger writes each record that
reaches it as one line — the record's dict as `logging.handlers.SocketHandler` pickles it (the
message merged with its args, the traceback formatted into `exc_text`, `args` and `exc_info`
None), pickled and base64-encoded — and the loggers get the parent's levels
(PARALLEL_LOG_LEVELS), so that records the parent would drop are not even made: a task that
logs at DEBUG costs nothing more while the parent does not want DEBUG. (With a handler on its
root logger, a task's own `logging.basicConfig()` does nothing: the parent formats the
records.) To keep a worker's records in the worker, remove the handler there (in a task, or in
code every worker runs first): `logging.getLogger().removeHandler(h)` for each `h` that is a
`parallel._logs.ForwardHandler`.

In the parent (`handle`, called by the engine for each line, on the thread that reads that
worker's pipe): the record is rebuilt (`logging.makeLogRecord`) and handled by the logger of
its name if that logger is enabled for its level. A batch's records are handled before its
call returns, in the order the worker made them.

The levels are the parent's when a call starts (`levels`: the root logger's level and every
logger's that is set explicitly, and `logging.disable`'s): a call made after the parent's
logging is configured, or configured again, runs on workers started with that configuration —
workers started before, with other levels, are not used for it (they age out of the stash).
Levels changed by `Logger.setLevel`, `logging.disable` or the `logging.config` functions are
seen; a level assigned to `Logger.level` directly is not (the parent's own logging caches
would miss it too).
"""

import binascii
import logging
import os
import pickle
import sys

__all__ = ["ForwardHandler", "handle", "install", "levels"]

# What the worker reads.
LOG_FD_ENV = "PARALLEL_LOG_FD"
LEVELS_ENV = "PARALLEL_LOG_LEVELS"


class ForwardHandler(logging.Handler):
    """Sends each record to the parent process, whose logging handles it: one line per record
    on the descriptor `fd`. Installed on a process worker's root logger."""

    def __init__(self, fd):
        super().__init__()
        self.fd = fd

    def line(self, record):
        """The record as one line: its dict, pickled, base64-encoded, newline-terminated."""
        d = dict(record.__dict__)
        d["msg"] = record.getMessage()
        d["args"] = None
        if record.exc_info:
            d["exc_text"] = record.exc_text or _FORMATTER.formatException(record.exc_info)
        d["exc_info"] = None
        d.pop("message", None)
        try:
            data = pickle.dumps(d, pickle.HIGHEST_PROTOCOL)
        except Exception:
            # An `extra=` value that does not pickle crosses as its repr.
            data = pickle.dumps({k: _picklable(v) for k, v in d.items()}, pickle.HIGHEST_PROTOCOL)
        return binascii.b2a_base64(data, newline=True)

    def emit(self, record):
        try:
            line = memoryview(self.line(record))
            while line:
                line = line[os.write(self.fd, line) :]
        except Exception:
            self.handleError(record)


_FORMATTER = logging.Formatter()


def _picklable(value):
    try:
        pickle.dumps(value)
        return value
    except Exception:
        return repr(value)


def install():
    """In a worker: sends the records of its loggers to the parent, if the parent gave it a
    pipe for them, and sets the parent's levels. Returns the handler, or None."""
    fd = os.environ.pop(LOG_FD_ENV, None)
    passed = os.environ.pop(LEVELS_ENV, "")
    if fd is None:
        return None
    fd = int(fd)
    os.set_inheritable(fd, False)  # programs a task starts do not write to it
    _set_levels(passed)
    handler = ForwardHandler(fd)
    logging.getLogger().addHandler(handler)
    return handler


def _set_levels(passed):
    """The levels `levels()` wrote in the parent, set here."""
    if not passed:
        return  # the parent's logging is as it starts: so is the worker's
    first, *loggers = passed.split("\n")
    logging.disable(int(first))
    for entry in loggers:
        level, _, name = entry.partition(" ")
        (logging.getLogger(name) if name else logging.getLogger()).setLevel(int(level))


class _Seen:
    """Put in the root logger's level cache when the levels are read: `Logger.setLevel`,
    `logging.disable` and the `logging.config` functions empty that cache, and so show that
    the levels must be read again."""


_SEEN = _Seen()
_levels = None


def levels():
    """The parent's levels as a worker reads them: "" while logging is not imported (its
    defaults), else `logging.disable`'s level, then a line per logger whose level is set —
    "<level> <name>", the root logger first, with an empty name. Read again only once a level
    may have changed."""
    global _levels
    if "logging" not in sys.modules:
        return ""
    root = logging.getLogger()
    cache = getattr(root, "_cache", None)
    if _levels is not None and isinstance(cache, dict) and _SEEN in cache:
        return _levels
    lines = [str(root.manager.disable), f"{root.level} "]
    for name, logger in list(root.manager.loggerDict.items()):
        level = getattr(logger, "level", 0)
        if level and isinstance(logger, logging.Logger):
            lines.append(f"{level} {name}")
    _levels = "\n".join(lines)
    if isinstance(cache, dict):
        cache[_SEEN] = True
    return _levels


def handle(line):
    """In the parent: the record a worker sent as `line` (a `ForwardHandler`'s, without its
    newline), handled by the logger of its name if that logger is enabled for its level."""
    record = logging.makeLogRecord(pickle.loads(binascii.a2b_base64(line)))
    logger = logging.getLogger() if record.name == "root" else logging.getLogger(record.name)
    if logger.isEnabledFor(record.levelno):
        logger.handle(record)
