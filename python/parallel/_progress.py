"""How far a call has got, shown while it runs: the `progress=` option of every call.

The engine counts each task's outcome as it arrives; this module only shows the counts, in one
of three forms:

* `progress=True`: a `tqdm.auto` bar on stderr (a terminal bar, or a widget in Jupyter) whose
  total is the number of tasks (for a generator, unknown — a counter — until it is exhausted), with the failures so far in its postfix, closed when the call
  ends — however it ends;
* `progress=callable`: `callable(done, total)`, `done` the tasks finished (succeeded or
  failed), `total` an int (or None while unknown), at most every `EVERY` seconds and always
  once at the end;
* `progress=obj` with an `update(n)` method (a `tqdm` of one's own, a rich adapter):
  `obj.update(n)` with increments that sum to the number of tasks finished.

A blocking call shows its progress from the thread that waits for it; a non-blocking one from
a thread of its own, which ends with the call. A callback that raises fails the call with that
exception (its tasks are cancelled).
"""

import atexit
import collections
import threading
import time
import weakref

__all__ = ["Progress", "watcher", "EVERY"]

# How often a call's progress is shown, at most (seconds).
EVERY = 0.1
# How often an async call's thread of progress looks whether the call has ended.
_LOOK = 0.01


class Progress(collections.namedtuple("Progress", ["done", "failed", "total"])):
    """How far a call has got: `done` tasks have an outcome (a value or a failure), `failed` of
    them failed, of `total` (an int; None while a generator given as input is not exhausted)."""

    __slots__ = ()


def watcher(progress, total):
    """What shows `progress=` for a call of `total` tasks: None (not shown) or a `_Watcher`."""
    if progress is None or progress is False:
        return None
    if progress is True:
        return _Bar(total)
    if callable(getattr(progress, "update", None)):
        return _Updates(progress)
    if callable(progress):
        return _Callback(progress)
    raise TypeError(
        "progress must be True (a tqdm bar on stderr), a callable called as callable(done, total), "
        f"or an object with an update(n) method (a tqdm bar of your own), got {type(progress).__name__}: "
        f"{progress!r:.80}"
    )


class _Watcher:
    """What the three forms share: a subclass shows each new `Progress` in `show(p)`;
    `close(p)` shows the last one, `abandon()` gives up after an error."""

    def close(self, p):
        self.show(p)

    def abandon(self):
        """The call ended in an error: nothing more is shown."""


class _Callback(_Watcher):
    def __init__(self, fn):
        self._fn = fn
        self._last = None

    def show(self, p):
        if p.done != self._last:
            self._last = p.done
            self._fn(p.done, p.total)

    def close(self, p):
        if p.done != self._last or self._last is None:
            self._last = p.done
            self._fn(p.done, p.total)


class _Updates(_Watcher):
    def __init__(self, obj):
        self._obj = obj
        self._done = 0

    def show(self, p):
        if p.done > self._done:
            step, self._done = p.done - self._done, p.done
            self._obj.update(step)


class _Bar(_Updates):
    """A `tqdm.auto` bar, made at the call's first show (after `EVERY`): a call that ends
    sooner never makes one — its one frame, the last counts, is drawn at its end by tqdm's own
    formatter (`tqdm.format_meter`), as a bar closed then would draw it. Making and closing a
    tqdm costs ~0.3–0.5 ms, 5% of a 100,000-no-op call. In a notebook (where `tqdm.auto` is a
    widget) a bar is always made."""

    def __init__(self, total):
        from tqdm.auto import tqdm

        super().__init__(None)
        self._make = tqdm
        self._total = total
        self._failed = 0
        self._start = time.time()  # tqdm's clock

    def _bar(self, p):
        if self._obj is None:
            # Drawn from here by `show` (tqdm's `delay`: not when made), its rate from the call's start.
            self._obj = self._make(total=p.total, unit="task", dynamic_ncols=True, delay=EVERY)
            self._obj.start_t = self._obj.last_print_t = self._start
        if p.failed != self._failed:
            self._failed = p.failed
            self._obj.set_postfix(failed=p.failed, refresh=False)
        if p.total is not None and self._obj.total != p.total:
            self._obj.total = p.total  # a generator's length, once it is exhausted
        return self._obj

    def show(self, p):
        if self._obj is None:  # its first frame, also before a task is done
            self._bar(p).n = self._done = p.done
            self._obj.refresh()
        self._bar(p)
        super().show(p)

    def close(self, p):
        if self._obj is None and not _draws_as_text(self._make):
            self._bar(p)  # a widget: made, and closed at once
        if self._obj is None:
            _draw_once(self._make, p, time.time() - self._start)
            return
        try:
            self._bar(p)
            self._obj.n = self._done = max(self._done, p.done)
            self._obj.delay = 0  # the last counts, drawn once, by close
        finally:
            self._obj.close()

    def abandon(self):
        if self._obj is not None:
            self._obj.close()


def _draws_as_text(bar):
    """Whether the tqdm class `bar` draws text lines, as the standard one does (`tqdm.auto`
    in a terminal or pipe), rather than a widget (`tqdm.auto` in a notebook)."""
    from tqdm.std import tqdm

    return bar.display is tqdm.display and bar.close is tqdm.close


def _draw_once(bar, p, elapsed):
    """Writes to stderr the one frame a bar of the class `bar` made now and closed at once
    would: the counts `p`, after `elapsed` seconds."""
    import sys

    from tqdm.utils import _screen_shape_wrapper, _supports_unicode

    file = sys.stderr
    if file is None:
        return
    shape = _screen_shape_wrapper()
    ncols = shape(file)[0] if shape else None
    frame = bar.format_meter(
        p.done,
        p.total,
        elapsed,
        ncols=ncols,
        ascii=not _supports_unicode(file),
        unit="task",
        postfix=f"failed={p.failed}" if p.failed else None,
    )
    with bar.get_lock():
        file.write("\r" + frame + "\n")
        file.flush()


class Background:
    """Shows a running call's progress from a thread of its own, every `EVERY` seconds, until
    the call is done (`call.done()`; its counts: `call.progress()`); then once more, and the
    watcher is closed. An exception the watcher raised is kept in `error` (the call is then
    cancelled by `on_error`)."""

    def __init__(self, watch, call, on_error):
        self._watch = watch
        self._call = call
        self._on_error = on_error
        self.error = None
        self._thread = threading.Thread(target=self._run, name="parallel-progress", daemon=True)
        _showing.add(self)
        self._thread.start()

    def _run(self):
        try:
            shown = time.perf_counter()
            while not self._call.done():
                time.sleep(_LOOK)  # the call's end is seen within this, shown every EVERY
                if time.perf_counter() - shown >= EVERY:
                    shown = time.perf_counter()
                    self._watch.show(Progress(*self._call.progress()))
            self._watch.close(Progress(*self._call.progress()))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by results()
            self.error = exc
            self._watch.abandon()
            self._on_error()
        finally:
            _showing.discard(self)

    def join(self):
        """Waits for the thread: after the call ended, its last show is done."""
        if self._thread is not threading.current_thread():
            self._thread.join()


# The async calls whose progress is shown now: a call still running when the interpreter
# exits has its display closed then (its daemon thread would stop mid-bar, and the shell's
# prompt would land on the bar's line).
_showing = weakref.WeakSet()


@atexit.register
def _close_at_exit():
    for shown in list(_showing):
        shown._watch.abandon()
