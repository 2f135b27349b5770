//! `par`: different functions run concurrently — positionally (a tuple of closures gives a
//! tuple of results, each of its own type) or by name (a map of [`Task`]s gives a map of
//! results).

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Debug};
use std::hash::{BuildHasher, Hash};
use std::marker::PhantomData;

use crate::engine::work::Work;
use crate::failure::Fault;
use crate::inputs::Inputs;
use crate::results::{FailedTask, Results};

/// One task of a `par` call: a closure and, for failure reports, a description of what it was
/// called with. Build one with [`task`] or with `.future(args)` from the
/// [prelude](crate::prelude::ParallelFn::future).
///
/// ```
/// use std::collections::HashMap;
///
/// let prices = parallel::par(HashMap::from([
///     ("btc", parallel::task(|| 64_000)),
///     ("eth", parallel::task(|| 3_100)),
/// ])).unwrap();
/// assert_eq!(prices["eth"], 3_100);
/// ```
pub struct Task<T> {
    /// Runs the task; `Err` when it failed other than by panicking (a remote task whose
    /// worker process died).
    pub(crate) run: Box<dyn FnOnce() -> Result<T, Fault> + Send>,
    pub(crate) params: String,
}

/// Makes a [`Task`] of a closure.
///
/// ```
/// let t = parallel::task(|| "done");
/// assert_eq!(parallel::par((t,)).unwrap(), ("done",));
/// ```
pub fn task<T>(f: impl FnOnce() -> T + Send + 'static) -> Task<T> {
    Task { run: Box::new(move || Ok(f())), params: "()".to_owned() }
}

impl<T> Task<T> {
    /// A task that calls `f` with `params`, which failure reports show.
    pub(crate) fn with_params<P: Debug + Send + 'static>(params: P, f: impl FnOnce(P) -> T + Send + 'static) -> Self {
        let described = format!("{params:?}");
        Task { run: Box::new(move || Ok(f(params))), params: described }
    }

    /// A task whose run can fail other than by panicking.
    pub(crate) fn fallible<P: Debug + Send + 'static>(
        params: P,
        f: impl FnOnce(P) -> Result<T, Fault> + Send + 'static,
    ) -> Self {
        let described = format!("{params:?}");
        Task { run: Box::new(move || f(params)), params: described }
    }

    /// Runs the task here, on the calling thread.
    ///
    /// # Panics
    /// If the task fails other than by panicking: a [remote](crate::prelude::ParallelFn::remote)
    /// task whose worker process dies.
    ///
    /// ```
    /// assert_eq!(parallel::task(|| 2 + 2).run(), 4);
    /// ```
    pub fn run(self) -> T {
        (self.run)().unwrap_or_else(|fault| panic!("the task {}: {}", fault.kind, fault.message))
    }
}

impl<T> Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Task{}", self.params)
    }
}

/// Anything a positional `par` accepts as one of its entries: a closure or a [`Task`].
///
/// ```
/// let (a, b) = parallel::par((|| 1, parallel::task(|| 2))).unwrap();
/// assert_eq!(a + b, 3);
/// ```
pub trait IntoTask: Send + 'static {
    /// What the task returns.
    type Output: Send + 'static;
    /// Makes the task.
    fn into_task(self) -> Task<Self::Output>;
}

impl<F, R> IntoTask for F
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    type Output = R;
    fn into_task(self) -> Task<R> {
        task(self)
    }
}

impl<R: Send + 'static> IntoTask for Task<R> {
    type Output = R;
    fn into_task(self) -> Task<R> {
        self
    }
}

/// What `par` runs: a tuple of closures or [`Task`]s (results in a tuple, each of its own
/// type), or an array, `Vec`, `HashMap` or `BTreeMap` of [`Task`]s (results in a `Vec` for
/// arrays and vectors, else the same kind of map).
///
/// The items marked *plumbing* are how `par` runs the tasks; you never call them.
///
/// ```
/// let (sum, text) = parallel::par((|| 2 + 3, || "hello ".to_owned() + "world")).unwrap();
/// assert_eq!((sum, text.as_str()), (5, "hello world"));
/// ```
pub trait Par: Sized {
    /// The output of a call that is not silent.
    type Output;
    /// The output of a silent call.
    type Silent;
    /// Plumbing: the value one task gives.
    type Value: Send + 'static;
    /// Plumbing: the tasks, as `map` input.
    type Tasks: Inputs<Params = Task<Self::Value>>;

    /// Plumbing: the tasks, as `map` input.
    fn into_tasks(self) -> Self::Tasks;
    /// Plumbing: the output from the values of the tasks.
    fn output(values: <Self::Tasks as Inputs>::Output<Self::Value>) -> Self::Output;
    /// Plumbing: the silent output from the outcomes of the tasks.
    fn silent(results: Results<Self::Tasks, Self::Value>) -> Self::Silent;
}

type AnyValue = Box<dyn Any + Send>;

/// Takes back the concrete value of a positional task.
fn downcast<R: 'static>(value: AnyValue) -> R {
    *value.downcast::<R>().expect("a par task's value has its task's type")
}

macro_rules! positional {
    ($($t:ident $i:tt),+) => {
        impl<$($t: IntoTask),+> Par for ($($t,)+) {
            type Output = ($($t::Output,)+);
            type Silent = ($(Result<$t::Output, FailedTask>,)+);
            type Value = AnyValue;
            type Tasks = Vec<Task<AnyValue>>;

            fn into_tasks(self) -> Self::Tasks {
                vec![$({
                    let task = self.$i.into_task();
                    let run = move || (task.run)().map(|value| Box::new(value) as AnyValue);
                    Task { run: Box::new(run), params: task.params }
                }),+]
            }

            fn output(values: Vec<AnyValue>) -> Self::Output {
                let mut values = values.into_iter();
                ($(downcast::<$t::Output>(values.next().expect("one value per task")),)+)
            }

            fn silent(results: Results<Self::Tasks, AnyValue>) -> Self::Silent {
                let mut outcomes = results.into_iter();
                ($(outcomes.next().expect("one outcome per task").map(downcast::<$t::Output>),)+)
            }
        }
    };
}

positional!(A 0);
positional!(A 0, B 1);
positional!(A 0, B 1, C 2);
positional!(A 0, B 1, C 2, D 3);
positional!(A 0, B 1, C 2, D 3, E 4);
positional!(A 0, B 1, C 2, D 3, E 4, F 5);
positional!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
positional!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// `par` over a collection of tasks that is already `map` input.
macro_rules! collection {
    ([$($gen:tt)*] $ty:ty where $($bounds:tt)*) => {
        impl<$($gen)*> Par for $ty where $($bounds)* {
            type Output = <$ty as Inputs>::Output<T>;
            type Silent = Results<$ty, T>;
            type Value = T;
            type Tasks = $ty;

            fn into_tasks(self) -> Self {
                self
            }
            fn output(values: Self::Output) -> Self::Output {
                values
            }
            fn silent(results: Self::Silent) -> Self::Silent {
                results
            }
        }
    };
}

collection!([T] Vec<Task<T>> where T: Send + 'static);
collection!([T, const N: usize] [Task<T>; N] where T: Send + 'static);
collection!([K, T, S] HashMap<K, Task<T>, S> where K: Debug + Eq + Hash + Send + 'static, T: Send + 'static, S: BuildHasher + Default);
collection!([K, T] BTreeMap<K, Task<T>> where K: Debug + Ord + Send + 'static, T: Send + 'static);

/// `par`: each task is its own closure.
pub struct ParWork<V>(PhantomData<fn() -> V>);

impl<V> ParWork<V> {
    pub(crate) fn new() -> Self {
        ParWork(PhantomData)
    }
}

impl<V: Send + 'static> Work for ParWork<V> {
    type Params = Task<V>;
    type Out = V;
    type Kept = String;

    fn keep(&self, task: &Task<V>) -> String {
        task.params.clone()
    }
    fn describe(&self, kept: &String) -> String {
        kept.clone()
    }
    fn describe_params(&self, task: &Task<V>) -> String {
        task.params.clone()
    }
    fn run(&self, task: Task<V>) -> Result<V, Fault> {
        (task.run)()
    }
}
