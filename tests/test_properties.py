"""Property: whatever the input's shape, the tasks' behaviour, the executor and its options, a
call gives what a sequential run gives — the same value at the same index or key, the same
exception type (and arguments) in a `FailedTask` whose `params`/`kwargs` are the task's
arguments, and without `silent` the first failure in input order, raised.

The task functions are module-level: process workers import this module by name (they see the
caller's `sys.path`, on which pytest put `tests/`); `test_workers_import_this_module` checks it.
`PARALLEL_PROPERTY_SCALE=20` runs twenty times the examples.
"""

import ctypes
import os
import signal
import sys
import time

import hypothesis.strategies as st
from hypothesis import given, settings

import parallel
from parallel.exceptions import WorkerCrashedError

SCALE = int(os.environ.get("PARALLEL_PROPERTY_SCALE", "1"))


# --- the tasks, run in the workers -------------------------------------------------------------


class Boom(Exception):
    """A user's own exception type: crosses back from a worker by reference to this module."""


RAISES = {"ValueError": ValueError, "KeyError": KeyError, "Boom": Boom, "SystemExit": SystemExit}


def task(how, value):
    """Does what `how` says with `value`: returns it, raises with it, sleeps `value` ms and
    returns it, or kills its worker process (exit with code `value`, or a segfault)."""
    if how == "return":
        return value
    if how == "sleep":
        time.sleep(value / 1000)
        return value
    if how == "divide":
        return 1 / value  # ZeroDivisionError for 0: an exception the interpreter raises
    if how in RAISES:
        raise RAISES[how](value)
    if how == "exit":
        os._exit(value)
    if how == "segfault":
        ctypes.string_at(0)
    raise AssertionError(f"unknown behaviour {how!r}")


def task_one(spec):
    """`task` with its behaviour and value as one argument (a tuple)."""
    return task(*spec)


def where(_):
    """Where a task runs: the process, and whether this module was imported there by name."""
    return os.getpid(), __name__, "test_properties" in sys.modules


# --- the sequential reference ----------------------------------------------------------------


def expected(spec, fn, args, kwargs):
    """`(True, value)` or `(False, exception)`: what the task of `spec` gives when run in
    sequence, as `fn(*args, **kwargs)`. A crash cannot run here: its outcome is the
    `WorkerCrashedError` it must give."""
    how, value = spec
    if how == "exit":
        return False, WorkerCrashedError(f"the task crashed: its worker process exited with code {value}", None, value)
    if how == "segfault":
        message = f"the task crashed: its worker process was killed by signal {signal.SIGSEGV.value} (SIGSEGV)"
        return False, WorkerCrashedError(message, signal.SIGSEGV.value, None)
    try:
        return True, fn(*args, **kwargs)
    except BaseException as exc:  # SystemExit included: a task's own exception, whatever it is
        return False, exc


def same_failure(got, exc, args, kwargs, key):
    """Checks a `FailedTask` against the reference exception and the task's arguments."""
    assert isinstance(got, parallel.FailedTask), got
    assert type(got.ex) is type(exc), (got, exc)
    assert got.ex.args == exc.args, (got, exc)
    assert got.params == tuple(args), (got.params, args)
    assert got.kwargs == kwargs, (got.kwargs, kwargs)
    assert got == parallel.FailedTask(params=args, kwargs=kwargs, ex=exc)
    if key is not None:
        assert got.key == key
    if isinstance(exc, WorkerCrashedError):
        assert (got.ex.signal, got.ex.exitcode) == (exc.signal, exc.exitcode)


# --- strategies --------------------------------------------------------------------------------

# Limits that never pass: the engine's tracked path (and its worker killers) all the same.
LIMITS = [{}, {"timeout": 60}, {"task_timeout": 60}, {"timeout": 60, "task_timeout": 60}]


def behaviours(process):
    """`(how, value)` of one task; crashes only for the process executor."""
    values = st.one_of(st.integers(), st.text(max_size=4), st.none(), st.lists(st.integers(), max_size=2))
    options = [
        st.tuples(st.just("return"), values),
        st.tuples(st.sampled_from(sorted(RAISES)), st.none()),  # the value: see `calls`
        st.tuples(st.just("divide"), st.integers(-1, 1)),
        st.tuples(st.just("sleep"), st.integers(0, 5)),
    ]
    weights = [6, 2, 1, 1]
    if process:
        options += [st.tuples(st.just("exit"), st.sampled_from([0, 1, 3, 255])), st.just(("segfault", 0))]
        weights += [1, 1]
    # Weighted: a behaviour appears as often as its weight says.
    return st.one_of(*[o for o, w in zip(options, weights) for _ in range(w)])


def parameter(spec, style):
    """The parameter of one task in `style`, and the `(fn, args, kwargs)` it means."""
    how, value = spec
    if style == "spread":  # a tuple spreads into positional arguments
        return (how, value), (task, (how, value), {})
    if style == "keywords":  # a lone dict is keyword arguments
        return {"how": how, "value": value}, (task, (), {"how": how, "value": value})
    return parallel.arg(spec), (task_one, (spec,), {})  # exactly one argument, a tuple


@st.composite
def calls(draw, process):
    """One call: the parameters in some shape, and how it is made."""
    specs = draw(st.lists(behaviours(process), max_size=12 if process else 40))
    # A raised exception carries its task's position: in strict mode, the one raised says
    # which task failed.
    specs = [(how, i) if how in RAISES else (how, value) for i, (how, value) in enumerate(specs)]
    style = draw(st.sampled_from(["spread", "keywords", "one"]))
    shape = draw(st.sampled_from(["list", "tuple", "dict", "generator"]))
    keys = None
    if shape == "dict":
        key = st.one_of(st.integers(), st.text(max_size=3))
        keys = draw(st.lists(key, min_size=len(specs), max_size=len(specs), unique=True))
    return {
        "specs": specs,
        "style": style,
        "shape": shape,
        "keys": keys,
        "max_workers": draw(st.one_of(st.none(), st.integers(1, 4 if process else 8))),
        "limits": draw(st.sampled_from(LIMITS)),
        "silent": draw(st.booleans()),
        "asynchronous": draw(st.booleans()),
    }


# --- the property ----------------------------------------------------------------------------


def check(call, executor):
    fn = task_one if call["style"] == "one" else task
    pairs = [parameter(spec, call["style"]) for spec in call["specs"]]
    params = [p for p, _ in pairs]
    tasks = [t for _, t in pairs]
    keys = call["keys"]
    if call["shape"] == "list":
        inputs = params
    elif call["shape"] == "tuple":
        inputs = tuple(params)
    elif call["shape"] == "dict":
        inputs = dict(zip(keys, params))
    else:
        inputs = (p for p in params)
    reference = [expected(spec, *t) for spec, t in zip(call["specs"], tasks)]
    options = {"executor": executor, "max_workers": call["max_workers"], "silent": call["silent"], **call["limits"]}

    try:
        if call["asynchronous"]:
            got = parallel.async_map(fn, inputs, **options).results()
        else:
            got = parallel.map(fn, inputs, **options)
    except KeyboardInterrupt:
        raise
    except BaseException as raised:
        failures = [i for i, (ok, _) in enumerate(reference) if not ok]
        assert not call["silent"], f"a silent call raised {raised!r}"
        assert failures, f"no task fails in the reference, yet the call raised {raised!r}"
        first = reference[failures[0]][1]
        assert type(raised) is type(first), (raised, first, failures[0])
        assert raised.args == first.args, (raised, first)
        return

    failures = [i for i, (ok, _) in enumerate(reference) if not ok]
    assert call["silent"] or not failures, f"the call did not raise the failure of task {failures[:1]}"
    if keys is not None:
        assert isinstance(got, parallel.DictResult)
        assert list(got) == keys  # the same keys, in the same order
        outcomes = [got[k] for k in keys]
    else:
        assert isinstance(got, parallel.ListResult)
        outcomes = list(got)
    assert len(outcomes) == len(reference)
    for i, (outcome, (ok, value), (_, args, kwargs)) in enumerate(zip(outcomes, reference, tasks)):
        if ok:
            assert not isinstance(outcome, parallel.FailedTask), (i, outcome)
            assert outcome == value and type(outcome) is type(value), (i, outcome, value)
        else:
            same_failure(outcome, value, args, kwargs, keys[i] if keys is not None else None)
    assert got.failures == bool(failures)


@settings(max_examples=150 * SCALE, deadline=None)
@given(calls(process=False))
def test_thread_calls_match_a_sequential_run(call):
    check(call, parallel.THREAD_EXECUTOR)


# Process examples are slower: a crash costs a new worker (an interpreter that imports this
# module, hypothesis included).
@settings(max_examples=40 * SCALE, deadline=None)
@given(calls(process=True))
def test_process_calls_match_a_sequential_run(call):
    check(call, parallel.PROCESS_EXECUTOR)


def test_workers_import_this_module():
    """The premise of the process property: a worker imports this module by its name."""
    [(pid, name, imported)] = parallel.process.map(where, [None])
    assert pid != os.getpid()
    assert (name, imported) == ("test_properties", True)
