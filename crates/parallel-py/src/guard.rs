//! Python called from the engine's pool threads, guarded against the interpreter's exit: a
//! thread that CPython ends with `pthread_exit` while it calls Python is parked instead
//! ([`guarded`]). Tasks and the readers of streamed inputs call Python through it.

use pyo3::Python;

/// Runs `f`, which calls Python, guarded against the interpreter's exit (see [`HangIfKilled`]).
///
/// `f` is called through a pointer the optimiser cannot see through: the call may unwind as
/// far as it knows, so the guard's drop stays on the unwinding path even when every function
/// below is known not to unwind (with LTO, the CPython functions are `nounwind`) — the forced
/// unwinding of `pthread_exit` still goes through it.
pub(crate) fn guarded<'py, R>(py: Python<'py>, f: &mut dyn FnMut(Python<'py>) -> R) -> R {
    let hang = HangIfKilled;
    let f = std::hint::black_box(f);
    let out = f(py);
    std::mem::forget(hang);
    out
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
