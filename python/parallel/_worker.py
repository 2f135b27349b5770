"""The worker process of the process executor: a Python interpreter that the Rust supervisor
starts and talks to through its stdin and stdout, in the frames of `parallel::plumbing::wire` (their
codec and the messages' layout are `_protocol`'s).

A request holds the pickled function (empty for `par`, whose tasks carry their own), each task's pickled
`(args, kwargs)` and the pickled extras; the worker answers each task with one reply. The
replies go into the control page's reply log (a memory copy) and the log to the pipe in one
write — a millisecond after its oldest reply, when full, and at the end of each batch — so
tiny tasks cost no system call each, and a worker that dies mid-batch loses nothing already
done: the parent reads the replies still in the log once the worker is gone.

Run with `python -c "from parallel._worker import main; main()"` and PARALLEL_PY_PATH set to
the caller's `sys.path` (os.pathsep-separated).

The parent also shares a control page with the worker (`control.rs` in the crate; its
descriptor in PARALLEL_CONTROL_FD, its layout in `_protocol`): before each task the worker looks whether the parent
stopped its batch (a cancel, or a strict call's failure elsewhere), and a strict call's batch
stops after a failed task; a task that does not start is answered `Skipped`.
"""

import os
import pickle
import signal
import sys
import traceback
from time import monotonic

from ._pickling import describe
from ._protocol import (
    BATCH_MASK,
    BATCH_SHIFT,
    CONTROL_ENV,
    CONTROL_SIZE,
    ENTRY_SINGLE,
    FLAGS_WORD,
    FLUSHED_WORD,
    HEAD,
    LOG_SIZE,
    LOG_START,
    LOG_USED_WORD,
    LOGGED_WORD,
    SKIPPED_REPLY,
    STOP_ON_FAILURE,
    STOP_WORD,
    VALUE,
    NotAFrame,
    encode_varint,
    raised_reply,
    read_frame,
    read_request,
    write_all,
)


class _Control:
    """The control page (`_protocol`'s layout): its stop word says which tasks of which
    request must not start, its flags whether the request belongs to a strict call."""

    def __init__(self, fd):
        import mmap

        self._page = mmap.mmap(fd, CONTROL_SIZE)
        os.close(fd)
        self.words = memoryview(self._page).cast("Q")

    def stop_on_failure(self):
        return self.words[FLAGS_WORD] & STOP_ON_FAILURE == STOP_ON_FAILURE


# How long a reply may wait in the log before the log is written to the pipe (seconds).
FLUSH_AFTER = 0.001


class _Log:
    """The replies to one batch, through the control page's reply log (see `_protocol`)."""

    __slots__ = ("words", "view", "fd", "tag", "logged", "flushed", "used", "oldest")

    def __init__(self, control, fd):
        self.words = control.words
        self.view = memoryview(control._page)[LOG_START : LOG_START + LOG_SIZE]
        self.fd = fd

    def begin(self, batch):
        """The log is empty, for batch `batch` (written again here: the last word this worker
        wrote for the batch before may have landed after the parent's, see control.rs)."""
        self.tag = tag = batch << BATCH_SHIFT
        self.logged = self.flushed = self.used = 0
        self.oldest = None
        words = self.words
        words[LOG_USED_WORD] = 0
        words[FLUSHED_WORD] = tag
        words[LOGGED_WORD] = tag

    def add(self, frame, count=1):
        """Logs `frame`, the frames of the next `count` replies."""
        n, used, words = len(frame), self.used, self.words
        if used + n > LOG_SIZE:
            self.flush()
            used = 0
            if n > LOG_SIZE:  # larger than the log: straight to the pipe
                write_all(self.fd, frame)
                self.logged += count
                self.flushed = self.logged
                words[LOGGED_WORD] = self.tag | self.logged
                words[FLUSHED_WORD] = self.tag | self.flushed
                return
        self.view[used : used + n] = frame
        self.used = used = used + n
        self.logged += count
        words[LOG_USED_WORD] = used
        words[LOGGED_WORD] = self.tag | self.logged
        if self.oldest is None:
            self.oldest = monotonic()
        elif monotonic() - self.oldest >= FLUSH_AFTER:
            self.flush()

    def flush(self):
        """The log to the pipe."""
        if self.used:
            write_all(self.fd, self.view[: self.used])
        self.flushed = self.logged
        words = self.words
        words[FLUSHED_WORD] = self.tag | self.flushed
        words[LOG_USED_WORD] = 0
        self.used = 0
        self.oldest = None


class _Pipe:
    """The replies straight to the pipe, each written at once: without a control page."""

    __slots__ = ("fd",)

    def __init__(self, fd):
        self.fd = fd

    def begin(self, batch):
        pass

    def add(self, frame, count=1):
        write_all(self.fd, frame)

    def flush(self):
        pass


def _control():
    fd = os.environ.pop(CONTROL_ENV, None)
    try:
        return _Control(int(fd)) if fd is not None else None
    except (OSError, ValueError):
        return None


def _failure(exc):
    """The reply for a task that raised `exc`: the exception and its traceback, pickled, with
    what the parent needs to rebuild an exception that does not cross (`_pickling`)."""
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is _serve_batch.__code__ and tb.tb_next is not None:
        tb = tb.tb_next  # the worker's own loop is not part of the task's story
    tb = "".join(traceback.format_exception(type(exc), exc, tb))
    from parallel._pickling import exception_payload

    return raised_reply(describe(exc).encode("utf-8", "replace"), exception_payload(exc, tb))


def _unpickle_failed(exc):
    from parallel.exceptions import PicklingError

    return PicklingError(f"the task's arguments could not be unpickled in the worker: {describe(exc)}")


def _value_failed(function, exc):
    from parallel.exceptions import PicklingError

    name = getattr(function, "__qualname__", function)
    return PicklingError(
        f"the value returned by {name!r} cannot be pickled to cross back from the worker process: {describe(exc)}"
    )


def _serve_batch(replies, function, params, extras, single=False, words=None, batch=0, strict=False):
    """Runs one batch: one reply per task, each added to `replies` (a `_Log` or a `_Pipe`;
    the hot loop). `single`: each
    task is `function`'s one argument, else `(args, kwargs)` (or `(fn, args, kwargs)` when
    `function` is None). `words`: the control page, looked at before each task (this is
    request number `batch`); `strict`: the batch stops after a failed task."""
    fn = function
    loads, dumps, protocol, add = pickle.loads, pickle.dumps, pickle.HIGHEST_PROTOCOL, replies.add
    # `_protocol.value_reply`, written inline: the head, and the tag of `Reply::Value`.
    head, tag = HEAD, bytes((VALUE,))
    # A stop word for this batch is at least `key`; words of earlier batches are below it.
    key = batch << BATCH_SHIFT
    stop = STOP_WORD
    for offset, p in enumerate(params):
        if words is not None:
            word = words[stop]
            if word >= key and word - key <= offset:
                skipped = len(params) - offset
                add(SKIPPED_REPLY * skipped, skipped)
                return
        try:
            try:
                task = loads(p)
            except Exception as exc:
                raise _unpickle_failed(exc) from exc
            if type(task) is _Unpicklable:
                from parallel.exceptions import PicklingError

                raise PicklingError(task.message)
            if single:
                value = function(task)
            else:
                if function is None:
                    fn, args, kwargs = task
                else:
                    fn = function
                    args, kwargs = task
                if extras:
                    kwargs = {**extras, **kwargs} if kwargs else extras
                value = fn(*args, **kwargs) if kwargs else fn(*args)
            try:
                data = dumps(value, protocol)
            except Exception:
                try:
                    from parallel._pickling import cloud_dumps

                    data = cloud_dumps(value)
                except Exception as exc:
                    raise _value_failed(fn if fn is not None else function, exc) from exc
            n = len(data)
            body = (tag + bytes((n,)) if n < 128 else tag + encode_varint(n)) + data
            frame = head + len(body).to_bytes(4, "little") + body
        except BaseException as exc:  # SystemExit too: it fails the task, not the worker
            frame = _failure(exc)
            if strict:
                # The tasks after a strict call's failure never run.
                add(frame + SKIPPED_REPLY * (len(params) - offset - 1), len(params) - offset)
                return
        add(frame)


class _Unpicklable:
    """Sent in place of a task's arguments that could not be pickled: the task fails in place
    with this message."""

    def __init__(self, message):
        self.message = message


def main():
    # Ctrl-C reaches the whole process group: the parent cancels the call and kills workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    path = os.environ.pop("PARALLEL_PY_PATH", None)
    if path is not None:
        sys.path[:] = path.split(os.pathsep)
    # The protocol moves off stdin/stdout: what tasks print goes to stderr, and they read
    # nothing, so neither can corrupt a frame.
    requests, replies = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)
    os.close(null)
    control = _control()
    words = control.words if control is not None else None
    out = _Log(control, replies) if control is not None else _Pipe(replies)
    batch = 0
    functions = {}
    last_extras = (b"", None)  # sent with every batch of a call: unpickled once
    while True:
        try:
            payload = read_frame(requests)
        except NotAFrame:
            sys.exit("parallel worker: not a frame from the parent")
        if payload is None:
            return
        batch = (batch + 1) & BATCH_MASK
        out.begin(batch)
        entry, params, extras_bytes = read_request(payload)
        try:
            # The entry: `ENTRY_PAR` (each task carries its function), or `ENTRY_ARGS` /
            # `ENTRY_SINGLE` + the pickled function (tasks are `(args, kwargs)` / its one
            # argument).
            function = functions.get(entry)
            if function is None and entry:
                function = functions[entry] = pickle.loads(entry[1:])
                if len(functions) > 16:
                    functions.pop(next(iter(functions)))
            single = entry[:1] == ENTRY_SINGLE
            if extras_bytes != last_extras[0]:
                last_extras = (extras_bytes, pickle.loads(extras_bytes) if extras_bytes else None)
            extras = last_extras[1]
        except BaseException as exc:
            from parallel.exceptions import PicklingError

            error = PicklingError(f"the function could not be unpickled in the worker process: {describe(exc)}")
            reply = _failure(error)
            for _ in params:
                out.add(reply)
            out.flush()
            continue
        strict = control is not None and control.stop_on_failure()
        try:
            _serve_batch(out, function, params, extras, single, words, batch, strict)
        finally:
            out.flush()
