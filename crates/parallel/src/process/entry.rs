//! What crosses to a worker process as a function: its type alone. [`RemoteFn`] says which
//! functions can (a `fn` item or a closure that captures nothing), [`Owned`] which values; an
//! *entry* is the worker-side trampoline of one function type — decode the parameters and
//! extras, call, encode the value — named across processes by [`entry_id`].

use std::fmt::Display;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::call::TaskFn;
use crate::process::serve::entry_id;
use crate::process::wire;

/// A function the process executor can run: a `fn` item or a closure that captures nothing.
/// Its type alone names its code, so a task crosses to a worker process as a code address and
/// its parameters — never as captured data. Implemented for every `Copy` type; one that is not
/// zero-sized (a closure capturing `Copy` values, a `fn` pointer) fails the build
/// (`cargo build`: the check needs the type's size) with the same advice.
///
/// A closure that captures values is a compile error that says what to write instead:
///
/// ```compile_fail,E0277
/// let name = String::from("prefix");
/// let _ = parallel::process().map(move |x: u64| format!("{name}{x}"), 0..4);
/// // error[E0277]: the process executor cannot run `{closure}`: it captures values
/// ```
///
/// ```compile_fail,E0080
/// let offset = 10u64;
/// let _ = parallel::process().map(move |x: u64| x + offset, 0..4);
/// // error[E0080]: evaluation panicked: the process executor cannot run a closure that captures values ...
/// ```
///
/// Pass what it captured as parameters, or as extras (the function's last argument):
///
/// ```
/// fn add(x: u64, offset: &u64) -> u64 { x + offset }
/// assert_eq!(parallel::process().extras(10u64).map(add, 0..3).unwrap(), vec![10, 11, 12]);
/// ```
#[diagnostic::on_unimplemented(
    message = "the process executor cannot run `{Self}`: it captures values",
    label = "captures values (or is not a function)",
    note = "a worker process gets the function's code, not its data: pass a `fn` item or a closure that captures nothing",
    note = "pass what it captures as parameters (`(x, captured)` tuples spread into arguments) or as `.extras(value)` (a last argument `&E` of every task)"
)]
pub trait RemoteFn: Copy {
    /// Evaluates, at build time, to `()` for a function that captures nothing, and fails the
    /// build for any other.
    #[doc(hidden)]
    const CAPTURES_NOTHING: ();
}

#[diagnostic::do_not_recommend] // an error names `RemoteFn` and says what to write
impl<F: Copy> RemoteFn for F {
    const CAPTURES_NOTHING: () = assert!(
        std::mem::size_of::<F>() == 0,
        "the process executor cannot run a closure that captures values (nor a fn pointer): \
         pass a fn item or a closure that captures nothing, and what it captured as parameters \
         or as .extras(value)"
    );
}

/// A value that crosses between processes — a parameter, extras or a value of the process
/// executor: `Serialize`, and `Deserialize` from bytes of any lifetime. That is, an owned
/// value: `String`, not `&str`; `Vec<T>`, not `&[T]`. Implemented for every such type.
///
/// A borrowed parameter is a compile error whose first line names this trait
/// ("implementation of `Owned` is not general enough"):
///
/// ```compile_fail
/// fn len(s: &str) -> usize { s.len() }
/// let _ = parallel::process().map(len, vec!["a", "bc"]);
/// // error: implementation of `Owned` is not general enough
/// //   = note: `&str` must implement `Owned<'0>`, for any lifetime `'0`...
/// ```
///
/// Take `String` instead (rustc cannot be told to say so: the error is a lifetime error, not
/// a missing trait, so no custom message can attach to it):
///
/// ```
/// fn len(s: String) -> usize { s.len() }
/// let words: Vec<String> = ["a", "bc"].map(String::from).to_vec();
/// assert_eq!(parallel::process().map(len, words).unwrap(), vec![1, 2]);
/// ```
pub trait Owned<'de>: Serialize + Deserialize<'de> {}

impl<'de, T: Serialize + Deserialize<'de>> Owned<'de> for T {}

/// The value of a zero-sized function type: a `fn` item or a closure that captures nothing.
fn conjure<F: RemoteFn>() -> F {
    let () = F::CAPTURES_NOTHING;
    // SAFETY: `F` is zero-sized (checked at build time, above) and `Copy`, so it is a `fn` item or a
    // closure without captures: a type with exactly one value, made of no bytes, with no
    // invariant to break.
    unsafe { std::mem::zeroed() }
}

/// The worker side of a task of `F`: decode, call, encode.
pub(crate) fn entry_of<F, K, A>() -> [u8; 8]
where
    F: TaskFn<A, (), K> + RemoteFn,
    F::Output: Serialize,
    A: DeserializeOwned,
{
    entry_id(entry::<F, (), K, A>)
}

/// The worker side of a task of `F`: decode, call, encode (at the end of `out`).
pub(crate) fn entry<F, E, K, A>(params: &[u8], extras: &[u8], out: &mut Vec<u8>) -> Result<(), (bool, String)>
where
    F: TaskFn<A, E, K> + RemoteFn,
    F::Output: Serialize,
    A: DeserializeOwned,
    E: DeserializeOwned,
{
    let f = conjure::<F>();
    let params: A = wire::decode(params).map_err(|e| (false, format!("its parameters did not cross: {e}")))?;
    let extras: E = wire::decode(extras).map_err(|e| (false, format!("the extras did not cross: {e}")))?;
    wire::encode_into(&f.call(params, &extras), out).map_err(|e| (false, format!("its value did not cross: {e}")))
}

/// The worker side of an initializer `I` (`Process::init`): calls it; the request's
/// parameters and extras are not its.
pub(crate) fn init_entry<I: Fn() + RemoteFn>(_: &[u8], _: &[u8], _: &mut Vec<u8>) -> Result<(), (bool, String)> {
    conjure::<I>()();
    Ok(())
}

/// The worker side of a task of `F` that returns `Result`: an `Err` fails the task.
pub(crate) fn try_entry<F, E, K, A, T, X>(params: &[u8], extras: &[u8], out: &mut Vec<u8>) -> Result<(), (bool, String)>
where
    F: TaskFn<A, E, K, Output = Result<T, X>> + RemoteFn,
    T: Serialize,
    X: Display,
    A: DeserializeOwned,
    E: DeserializeOwned,
{
    let f = conjure::<F>();
    let params: A = wire::decode(params).map_err(|e| (false, format!("its parameters did not cross: {e}")))?;
    let extras: E = wire::decode(extras).map_err(|e| (false, format!("the extras did not cross: {e}")))?;
    let value = f.call(params, &extras).map_err(|e| (false, e.to_string()))?;
    wire::encode_into(&value, out).map_err(|e| (false, format!("its value did not cross: {e}")))
}
