"""What crosses between the caller and its worker processes, in both directions.

* `dumps`: plain pickle — the fast path, for builtin and importable types — and cloudpickle for
  what plain pickle cannot do, or must not: a pickle that names `__main__` would be resolved in
  the worker's `__main__`, which is not the caller's script, so classes and functions of the
  script travel by value instead (dataclasses, enums, exceptions, in arguments and in values).
  The check is a substring search of the pickle, so the common case pays nothing more. In a
  child started by multiprocessing's spawn (a Dask worker too) the script is `__mp_main__`,
  which a worker process cannot import either: it goes by value the same way.
* cloudpickle rebuilds a function's code with `co_filename` set to "<dynamic-code>" (for
  deterministic payloads); `cloud_dumps` keeps the real file name, so a worker's traceback
  names the script's file and `linecache` finds its source lines.
* `exception_payload` / `load_exception`: a task's exception with its traceback text, and with
  what the parent needs to rebuild it (class, message, arguments, attributes) when the
  exception cannot be pickled in the worker or cannot be unpickled in the parent.
"""

import collections
import collections.abc
import importlib
import io
import pickle
import sys
import types

__all__ = ["dumps", "cloud_dumps", "describe", "exception_payload", "load_exception", "rebuild_exception"]

PROTOCOL = pickle.HIGHEST_PROTOCOL

# How a pickle names the module of a class or function defined in the caller's script: in
# `__main__`, or in `__mp_main__` (the script of a parent that started this process with
# multiprocessing's spawn). One search finds both.
_MAIN = b"_main__"
# Values that cannot refer to `__main__`: their pickles need no search.
_ATOMS = frozenset({int, float, str, bytes, bool, type(None), complex})


def dumps(obj, _plain=pickle.dumps, _find=bytes.find, _atoms=_ATOMS):
    """`obj` pickled for the other end: plain pickle unless it refers to `__main__` or cannot
    be pickled plainly, cloudpickle then."""
    try:
        data = _plain(obj, PROTOCOL)
    except Exception:
        return cloud_dumps(obj)
    if type(obj) not in _atoms and _find(data, _MAIN) >= 0:
        return cloud_dumps(obj)
    return data


_pickler = None


def _pickler_class():
    """cloudpickle's pickler, keeping code objects' real file names."""
    global _pickler
    if _pickler is None:
        import cloudpickle

        base = cloudpickle.Pickler
        code_reduce = getattr(getattr(cloudpickle, "cloudpickle", None), "_code_reduce", None)
        table = getattr(base, "dispatch_table", None)
        if code_reduce is None or not isinstance(table, collections.abc.Mapping):
            _pickler = base
        else:

            def reduce_code(code):
                rebuild, args = code_reduce(code)[:2]
                # cloudpickle passes "<dynamic-code>" as co_filename: the real one instead.
                args = tuple(code.co_filename if a == "<dynamic-code>" else a for a in args)
                return rebuild, args

            class Pickler(base):
                dispatch_table = collections.ChainMap({types.CodeType: reduce_code}, table)

            _pickler = Pickler
    return _pickler


def cloud_dumps(obj):
    """`obj` pickled by cloudpickle (functions and classes of `__main__` by value), code
    objects keeping their file names."""
    pickler = _pickler_class()
    _by_value_mp_main()
    out = io.BytesIO()
    pickler(out, protocol=PROTOCOL).dump(obj)
    return out.getvalue()


_mp_main = None


def _by_value_mp_main():
    """In a child started by multiprocessing's spawn, the parent's script is the module
    `__mp_main__` (it is put in `sys.modules` after the script's top level ran, so this is
    checked when pickling, not at import): cloudpickle sends what it defines by value, as it
    does for `__main__`, since a worker process cannot import it."""
    global _mp_main
    module = sys.modules.get("__mp_main__")
    if module is not None and module is not _mp_main:
        import cloudpickle

        cloudpickle.register_pickle_by_value(module)
        _mp_main = module


def _text(obj):
    try:
        return str(obj)
    except Exception:
        return f"<unprintable {type(obj).__name__}>"


def _repr(obj):
    try:
        return repr(obj)
    except Exception:
        return f"<unprintable {type(obj).__name__}>"


def describe(exc):
    """`exc` in one line, "Type: message" (also for an exception whose `str()` fails)."""
    return f"{type(exc).__name__}: {_text(exc)}"


def _round_trips(obj):
    """`obj` pickled, if it also unpickles here; else None."""
    try:
        data = dumps(obj)
        pickle.loads(data)
        return data
    except Exception:
        return None


# --- a task's exception ----------------------------------------------------------------------


def exception_payload(exc, tb):
    """The bytes that carry a task's exception `exc` and its traceback text `tb` to the parent:
    the pickled exception if it pickles and unpickles here (else None), and always its class's
    module and qualified name and its message, so that the parent can rebuild it if it cannot
    unpickle it. When the exception does not round-trip here, also its arguments (each one
    that does not pickle in its `repr`) and its attributes that pickle."""
    cls = type(exc)
    why = None
    try:
        data = dumps(exc)
    except Exception as failed:
        data, why = None, f"it could not be pickled in the worker process ({describe(failed)})"
    else:
        try:
            pickle.loads(data)
        except Exception as failed:
            data, why = None, f"it pickles, but does not unpickle ({describe(failed)})"
    exact = True
    if data is None:
        values = []
        for a in getattr(exc, "args", ()):
            if _round_trips(a) is None:
                exact = False
                a = _repr(a)
            values.append(a)
        args = tuple(values)
        state, dropped = {}, []
        for k, v in (getattr(exc, "__dict__", None) or {}).items():
            if isinstance(k, str) and _round_trips(v) is not None:
                state[k] = v
            else:
                dropped.append(_text(k))
        try:
            extra = dumps((args, state, dropped))
        except Exception:
            extra = dumps((tuple(_repr(a) for a in args), {}, [*state, *dropped]))
            exact = False
    else:
        extra = None
    fallback = (
        getattr(cls, "__module__", None) or "builtins",
        getattr(cls, "__qualname__", None) or cls.__name__,
        _text(exc),
        extra,
        exact,
        why,
    )
    return pickle.dumps((data, tb, fallback), PROTOCOL)


def load_exception(payload):
    """`(exception, traceback text)` from `exception_payload`'s bytes: the exception itself, or
    rebuilt from its class and message if it cannot be unpickled here."""
    data, tb, (module, qualname, message, extra, exact, why) = pickle.loads(payload)
    if data is not None:
        try:
            return pickle.loads(data), tb
        except Exception as exc:
            why = f"it could not be unpickled in the parent ({describe(exc)})"
    args, state, dropped = (), {}, ()
    if extra is not None:
        try:
            args, state, dropped = pickle.loads(extra)
        except Exception:
            exact = False
    else:
        exact = False
    exc = rebuild_exception(module, qualname, message, args, state, exact, why)
    if dropped:
        names = ", ".join(map(repr, dropped))
        _note(exc, f"parallel: attributes of the worker's exception that could not be pickled were not carried over: {names}")
    return exc, tb


def _resolve(module, qualname):
    try:
        obj = sys.modules.get(module) or importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except Exception:
        return None
    return obj


def _note(exc, text):
    """Adds `text` to the notes a traceback of `exc` prints (Python 3.11+; nothing before), once.
    The exception's own `__getattr__` may raise anything: urllib's `HTTPError` made without a
    file raises `KeyError` for any attribute it lacks (`add_note` on Python 3.9 and 3.10)."""
    if not hasattr(BaseException, "add_note"):
        return
    try:
        notes = getattr(exc, "__notes__", None) or ()
    except Exception:
        notes = ()
    if text not in notes:
        exc.add_note(text)


def _restore(exc, state):
    for k, v in state.items():
        try:
            setattr(exc, k, v)
        except Exception:
            pass


# One subclass per original class, so that rebuilt exceptions of a class share a type.
_rebuilt_classes = {}


def _rebuilt_class(cls):
    """A subclass of `cls` that is made without calling `cls`'s constructor and prints the
    worker's message."""
    sub = _rebuilt_classes.get(cls)
    if sub is None:

        def __init__(self, *args, **kwargs):
            pass

        def __str__(self):
            return self.__dict__.get("__parallel_message__", "")

        def __reduce__(self):
            fields = self.__parallel_rebuild__
            state = {k: v for k, v in self.__dict__.items() if k not in ("__parallel_message__", "__parallel_rebuild__")}
            return rebuild_exception, (*fields[:3], tuple(self.args), state, False, fields[3])

        namespace = {
            "__init__": __init__,
            "__str__": __str__,
            "__reduce__": __reduce__,
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
            "__parallel_rebuilt_from__": cls,  # FailedTask equality compares it as `cls`
        }
        sub = type(cls)(cls.__name__, (cls,), namespace)
        _rebuilt_classes[cls] = sub
    return sub


def rebuild_exception(module, qualname, message, args=(), state=None, exact=False, why=""):
    """An exception of class `module.qualname` that says `message`, rebuilt in this process:

    1. the class called with the exception's arguments, its attributes set again, if that
       gives the same message (`exact`: the arguments are the original ones);
    2. else an instance of a subclass of it, made here without calling its constructor, with
       the arguments and the attributes that pickled, saying `message`;
    3. else (the class cannot be imported here, or is not an exception class), a
       `BaseParallelException` whose message says so.
    """
    from .exceptions import BaseParallelException

    state = state or {}
    cls = _resolve(module, qualname)
    name = qualname if module in ("builtins", "__main__") else f"{module}.{qualname}"
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        return BaseParallelException(
            f"{name}: {message} (the exception could not be rebuilt in the parent: {why}, and its class "
            f"{'is not an exception class' if cls is not None else 'cannot be imported'} here)"
        )
    if exact:
        try:
            exc = cls(*args)
            _restore(exc, state)
            if str(exc) == message:
                return exc
        except Exception:
            pass
    try:
        sub = _rebuilt_class(cls)
        try:
            exc = sub.__new__(sub, *args)
        except Exception:
            exc = sub.__new__(sub)
        exc.args = tuple(args)
        _restore(exc, state)
        exc.__dict__["__parallel_message__"] = message
        exc.__dict__["__parallel_rebuild__"] = (module, qualname, message, why)
    except Exception as failed:
        return BaseParallelException(
            f"{name}: {message} (the exception could not be rebuilt in the parent: {why}, and making it "
            f"anew failed: {type(failed).__name__}: {_text(failed)})"
        )
    _note(exc, f"parallel: rebuilt in the parent as a subclass of {name}, without calling its constructor: {why}")
    return exc
