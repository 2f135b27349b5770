//! Python called from the engine's pool threads, guarded against the interpreter's exit: a
//! thread that CPython ends with `pthread_exit` while it calls Python is parked instead
//! ([`guarded`], [`call_guarded`]). Tasks, cluster batches and the readers of streamed inputs
//! call Python through it.

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// Runs `f`, which calls Python, guarded against the interpreter's exit (see [`HangIfKilled`]).
///
/// `f` is called through a pointer the optimiser cannot see through: the call may unwind as
/// far as it knows, so the guard's drop stays on the unwinding path even when every function
/// below is known not to unwind (with LTO, the CPython functions are `nounwind`) — the forced
/// unwinding of `pthread_exit` still goes through it.
///
/// The frames of `f` itself must let that unwinding pass, which a frame with cleanups of its
/// own around a call PyO3 declares `extern "C"` does not (the unwinder finds no entry for the
/// call and stops the process). [`call_guarded`] is the call that always lets it pass.
pub(crate) fn guarded<'py, R>(py: Python<'py>, f: &mut dyn FnMut(Python<'py>) -> R) -> R {
    let hang = HangIfKilled;
    let f = std::hint::black_box(f);
    let out = f(py);
    std::mem::forget(hang);
    out
}

extern "C-unwind" {
    /// CPython's `PyObject_Call`, declared as what it is for a thread the interpreter's exit
    /// ends while it waits for the GIL: a call out of which `pthread_exit` unwinds.
    #[link_name = "PyObject_Call"]
    fn object_call_unwinding(
        callable: *mut ffi::PyObject,
        args: *mut ffi::PyObject,
        kwargs: *mut ffi::PyObject,
    ) -> *mut ffi::PyObject;
}

#[cfg(feature = "abi3")]
extern "C-unwind" {
    /// CPython's `PyObject_CallFunctionObjArgs` (its arguments end with a null), declared
    /// likewise. It calls through vectorcall without a tuple of the arguments, in the limited
    /// API of every version (`PyObject_Vectorcall` is there from 3.12 only).
    #[link_name = "PyObject_CallFunctionObjArgs"]
    fn object_call_args_unwinding(callable: *mut ffi::PyObject, ...) -> *mut ffi::PyObject;
}

/// `callable(*args, **kwargs)`, by a call that lets the forced unwinding of `pthread_exit`
/// pass (for callers inside [`guarded`]; PyO3's `call` declares `PyObject_Call` `extern "C"`,
/// through which that unwinding stops the whole process with `SIGABRT`).
pub(crate) fn call<'py>(
    callable: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = kwargs.map_or(std::ptr::null_mut(), Bound::as_ptr);
    // SAFETY: the GIL is held (`callable`'s lifetime); `callable`, `args` and `kwargs` (or
    // null) are live objects borrowed for the call, `args` a tuple and `kwargs` a dict, as
    // `PyObject_Call` requires; its answer is a new reference, or null with an exception set,
    // which `from_owned_ptr_or_err` takes either way.
    unsafe {
        let answer = object_call_unwinding(callable.as_ptr(), args.as_ptr(), kwargs);
        Bound::from_owned_ptr_or_err(callable.py(), answer)
    }
}

/// `callable(arg)`, the hot call of a task (a thread task's, a worker's), through vectorcall.
///
/// Built for one interpreter (without the feature `abi3`), PyO3's `call1` (its vectorcall is
/// inlined). On the stable ABI, PyO3's `call1` makes a tuple of the argument and calls
/// `PyObject_Call` before 3.12 (`PyObject_Vectorcall` is in the limited API from 3.12): here
/// `PyObject_Vectorcall` is found by name at run time instead ([`vectorcall`]), and where it is
/// not (3.9, 3.10) `PyObject_CallFunctionObjArgs` calls through vectorcall without a tuple.
/// Both are declared as calls out of which `pthread_exit` unwinds (see [`call`]).
pub(crate) fn call1<'py>(callable: &Bound<'py, PyAny>, arg: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    #[cfg(not(feature = "abi3"))]
    {
        callable.call1((arg,))
    }
    #[cfg(feature = "abi3")]
    {
        let answer = match vectorcall(callable.py()) {
            Some(vectorcall) => {
                // One slot before the argument, which the callee may use (the offset flag).
                let args = [std::ptr::null_mut(), arg.as_ptr()];
                // SAFETY: the GIL is held; `callable` and `arg` are live objects borrowed for
                // the call; `args[1..]` holds the one argument, with `args[0]` before it for
                // `PY_VECTORCALL_ARGUMENTS_OFFSET`, and there are no keyword names.
                unsafe {
                    vectorcall(
                        callable.as_ptr(),
                        args.as_ptr().add(1),
                        1 | VECTORCALL_ARGUMENTS_OFFSET,
                        std::ptr::null_mut(),
                    )
                }
            }
            // SAFETY: as above; the arguments end with the null the function requires.
            None => unsafe {
                object_call_args_unwinding(callable.as_ptr(), arg.as_ptr(), std::ptr::null_mut::<ffi::PyObject>())
            },
        };
        // SAFETY: the answer is a new reference, or null with an exception set, which
        // `from_owned_ptr_or_err` takes either way.
        unsafe { Bound::from_owned_ptr_or_err(callable.py(), answer) }
    }
}

/// CPython's `PyObject_Vectorcall`, declared as a call out of which `pthread_exit` unwinds.
#[cfg(feature = "abi3")]
type Vectorcall = unsafe extern "C-unwind" fn(
    callable: *mut ffi::PyObject,
    args: *const *mut ffi::PyObject,
    nargsf: usize,
    kwnames: *mut ffi::PyObject,
) -> *mut ffi::PyObject;

/// CPython's `PY_VECTORCALL_ARGUMENTS_OFFSET`.
#[cfg(feature = "abi3")]
const VECTORCALL_ARGUMENTS_OFFSET: usize = 1 << (usize::BITS - 1);

/// `PyObject_Vectorcall` of this interpreter, if it has it: from 3.12 in the stable ABI, and an
/// exported function of the same signature (its public C API since 3.9) from 3.11; 3.9 and
/// 3.10 have it inline only. Looked up by name once (an extension that named it would not load
/// on those).
#[cfg(feature = "abi3")]
fn vectorcall(py: Python<'_>) -> Option<Vectorcall> {
    static FOUND: std::sync::OnceLock<Option<Vectorcall>> = std::sync::OnceLock::new();
    *FOUND.get_or_init(|| {
        if py.version_info() < (3, 11) {
            return None;
        }
        // SAFETY: looks a NUL-terminated name up among the symbols loaded; null if absent.
        let found = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"PyObject_Vectorcall".as_ptr()) };
        // SAFETY: a non-null answer is CPython's `PyObject_Vectorcall`, of this signature.
        (!found.is_null()).then(|| unsafe { std::mem::transmute::<*mut libc::c_void, Vectorcall>(found) })
    })
}

/// `callable(*args, **kwargs)`, guarded against the interpreter's exit like [`guarded`], by a
/// call that lets the forced unwinding of `pthread_exit` reach the guard from any caller
/// ([`call`]).
///
/// A cluster batch waits for its cluster in Python for seconds: at the exit of an interpreter
/// with a call still running, its thread is ended there (a call through PyO3's `call` stopped
/// the whole process with `SIGABRT` instead).
pub(crate) fn call_guarded<'py>(
    callable: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    guarded(callable.py(), &mut |_| call(callable, args, kwargs))
}

/// Parks the thread forever if dropped while the stack unwinds without a Rust panic.
///
/// A task abandoned at its timeout may still run when the interpreter exits. CPython 3.11
/// then ends a thread that wants the GIL back with `pthread_exit`, whose forced unwinding
/// would run PyO3's guard and release a thread state the finalizing interpreter has freed —
/// a fatal error at exit. Parked instead, without the GIL, the thread ends with the process.
/// (PyO3 does the same inside `PyGILState_Ensure`; Python 3.14 hangs such threads itself.)
struct HangIfKilled;

impl Drop for HangIfKilled {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            loop {
                std::thread::park();
            }
        }
    }
}
