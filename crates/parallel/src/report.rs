//! What a failed task reports of its parameters: their `Debug`, from a clone made before the
//! call (the parameters themselves move into the function) — or, for a function wrapped in
//! [`unreported`], nothing but the task's index and key, so that its parameters need not be
//! `Clone + Debug` at all.
//!
//! How a call reports parameters is chosen by the function's [`TaskFn`] marker, which is
//! inferred from the function alone: so the parameters' type is still inferred from the
//! function's (`parallel::map(double, Vec::new())`).

use std::fmt::Debug;

use crate::call::{Plain, TaskFn, WithExtras};

/// How a call keeps and reports the parameters `Params` of a task for the report of its
/// failure. `Self` is the function's [`TaskFn`] marker; `Marker` only tells the
/// implementations apart. Both are always inferred, and you never implement this trait.
///
/// The rule:
/// - parameters that are `Clone + Debug + Send` are reported by their `Debug`, from a clone
///   made before the call (wrap large parameters in an `Arc` to make that clone cheap);
/// - a mutable borrow, `&mut T` (the items of `&mut v` in a [scoped call](crate::scoped_map)),
///   reports only its task's index: a report of the value would need a clone of it before
///   every task;
/// - the parameters of a function wrapped in [`unreported`] report only the task's index (and
///   its key, for a map), whatever their type.
///
/// ```
/// // Reported: `Clone + Debug`.
/// let err = parallel::map(|x: i32| 10 / x, vec![5, 0]).unwrap_err();
/// assert_eq!(err.to_string(), "task 1 with parameters 0 panicked: attempt to divide by zero");
///
/// // A mutable borrow: only the index.
/// let mut v = vec![5, 0];
/// let err = parallel::scoped_map(|x: &mut i32| *x = 10 / *x, &mut v).unwrap_err();
/// assert_eq!(err.to_string(), "task 1 panicked: attempt to divide by zero");
/// ```
///
/// Parameters that fit none of these are a compile error that says what to write:
///
/// ```compile_fail,E0277
/// struct Job { id: u32 } // neither Clone nor Debug
/// let _ = parallel::map(|job: Job| job.id, vec![Job { id: 1 }]);
/// // error[E0277]: the parameters `Job` cannot be kept for the report of a failed task
/// ```
#[diagnostic::on_unimplemented(
    message = "the parameters `{Params}` cannot be kept for the report of a failed task",
    label = "parameters that are not `Clone + Debug + Send`",
    note = "a failed task reports its parameters by their `Debug`, from a clone made before the call: derive `Clone` and `Debug` for them",
    note = "or report only the index (and key) of a failed task: wrap the function, `parallel::map(parallel::unreported(f), inputs)`"
)]
pub trait Report<Params, Marker> {
    /// What is kept for a failure report while the parameters move into the call.
    type Kept: Send;
    /// What to keep before the parameters move into the call.
    fn keep(params: &Params) -> Self::Kept;
    /// The report of a failed task's parameters, from what was kept; empty if none.
    fn describe(kept: &Self::Kept) -> String;
    /// The report of parameters that never moved into a call (their task never ran).
    fn describe_params(params: &Params) -> String;
    /// The parameters again, from what was kept, for a retry; `None` if what was kept cannot
    /// give them (the task is then not retried).
    fn again(kept: &Self::Kept) -> Option<Params> {
        let _ = kept;
        None
    }
}

/// Tells apart the implementations of [`Report`] for parameters reported by their `Debug`.
#[doc(hidden)]
#[derive(Debug)]
pub struct Cloned;
/// Tells apart the implementations of [`Report`] for parameters that report only their index.
#[doc(hidden)]
#[derive(Debug)]
pub struct IndexOnly;
/// The [`TaskFn`] marker of a function wrapped in [`unreported`].
#[doc(hidden)]
pub struct Unwrapped<K>(std::marker::PhantomData<K>);

/// Implements `Report` for the markers of plain functions, with or without extras.
macro_rules! plain_markers {
    ($($marker:ident),*) => {$(
        // An error names `Report` and says what to write, not the bound that failed.
        #[diagnostic::do_not_recommend]
        impl<F, A: Clone + Debug + Send> Report<A, Cloned> for $marker<F> {
            type Kept = A;
            fn keep(params: &A) -> A {
                params.clone()
            }
            fn describe(kept: &A) -> String {
                format!("{kept:?}")
            }
            fn describe_params(params: &A) -> String {
                format!("{params:?}")
            }
            fn again(kept: &A) -> Option<A> {
                Some(kept.clone())
            }
        }

        impl<'a, F, T: ?Sized> Report<&'a mut T, IndexOnly> for $marker<F> {
            type Kept = ();
            fn keep(_: &&'a mut T) {}
            fn describe(_: &()) -> String {
                String::new()
            }
            fn describe_params(_: &&'a mut T) -> String {
                String::new()
            }
        }
    )*};
}

plain_markers!(Plain, WithExtras);

impl<A, K> Report<A, IndexOnly> for Unwrapped<K> {
    type Kept = ();
    fn keep(_: &A) {}
    fn describe(_: &()) -> String {
        String::new()
    }
    fn describe_params(_: &A) -> String {
        String::new()
    }
}

/// A function whose failed tasks report only their index (and key), not their parameters:
/// made by [`unreported`]. Call it through the crate's calls, like the function it wraps —
/// and with the prelude's methods.
///
/// ```
/// use parallel::prelude::*;
/// struct Page(String); // neither Clone nor Debug
/// let count: parallel::traits::Unreported<fn(Page) -> usize> = parallel::unreported(|page: Page| page.0.len());
/// assert_eq!(count.map(vec![Page("ab".into())]).unwrap(), vec![2]);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Unreported<F>(F);

/// Wraps a function so that a failed task of a call reports only its index (and its key, for
/// a map) and not its parameters — which then need not be `Clone` or `Debug`, and are not
/// cloned before each task.
///
/// ```
/// struct Job { id: u32, name: String } // neither Clone nor Debug
///
/// fn run(job: Job) -> usize {
///     if job.id == 2 { panic!("{} failed", job.name) }
///     job.name.len()
/// }
///
/// let jobs = vec![Job { id: 1, name: "one".into() }, Job { id: 2, name: "two".into() }];
/// let results = parallel::thread().silent().map(parallel::unreported(run), jobs);
/// assert_eq!(results[0], Ok(3));
/// let failed = results[1].as_ref().unwrap_err();
/// assert_eq!((failed.index(), failed.params()), (1, ""));
/// assert_eq!(failed.to_string(), "task 1 panicked: two failed");
/// ```
pub fn unreported<F>(f: F) -> Unreported<F> {
    Unreported(f)
}

impl<F, A, E, K> TaskFn<A, E, Unwrapped<K>> for Unreported<F>
where
    F: TaskFn<A, E, K>,
{
    type Output = F::Output;
    fn call(&self, args: A, extras: &E) -> F::Output {
        self.0.call(args, extras)
    }
}
