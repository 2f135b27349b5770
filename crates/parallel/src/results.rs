//! Results: every task's outcome put back in its slot — a value, or a [`FailedTask`] that says
//! which input failed, with what parameters, how and why.

use std::fmt;
use std::ops::Index;

use crate::failure::{ErrorValue, FailureKind};
use crate::inputs::Inputs;

/// A task that did not produce a value: which input it was, its parameters, how it failed and
/// the error or panic message.
///
/// The parameters are reported by their `Debug`, from a clone made before the call, so the
/// parameters of a call must be `Clone + Debug` — unless its function is wrapped in
/// [`unreported`](crate::unreported): a failure then reports only the task's index (and its
/// key, for a map), and the parameters need be neither. Mutable borrows (`&mut v` in a
/// [scoped call](crate::scoped_map)) report only the index too. The process executor's
/// parameters, serde values, are always reported. The rule in full: [`Report`](crate::traits::Report).
///
/// ```
/// fn add(x: i32, y: i32) -> Result<i32, String> {
///     x.checked_add(y).ok_or_else(|| format!("{x} + {y} overflows"))
/// }
/// let results = parallel::thread().silent().try_map(add, vec![(2, 3), (i32::MAX, 5)]);
/// let failed = results.failed()[0];
/// assert_eq!(failed.index(), 1);
/// assert_eq!(failed.params(), "(2147483647, 5)");
/// assert_eq!(*failed.kind(), parallel::FailureKind::Error);
/// assert_eq!(failed.message(), "2147483647 + 5 overflows");
/// ```
///
/// It is one pointer wide (its details are boxed), so a silent call's `Result<T, FailedTask>`
/// slots cost little more than the values themselves.
#[derive(Clone)]
pub struct FailedTask(pub(crate) Box<Details>);

/// What a [`FailedTask`] says.
#[derive(Clone)]
pub(crate) struct Details {
    pub(crate) index: usize,
    pub(crate) key: Option<String>,
    pub(crate) params: String,
    pub(crate) kind: FailureKind,
    pub(crate) message: String,
    pub(crate) error: Option<ErrorValue>,
    pub(crate) attempts: u32,
}

impl fmt::Debug for FailedTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FailedTask")
            .field("index", &self.0.index)
            .field("key", &self.0.key)
            .field("params", &self.0.params)
            .field("kind", &self.0.kind)
            .field("message", &self.0.message)
            .finish_non_exhaustive()
    }
}

/// Two failures are equal when they say the same: index, key, parameters, kind and message
/// (the error values, which need not be comparable, are not compared).
impl PartialEq for FailedTask {
    fn eq(&self, other: &Self) -> bool {
        (self.0.index, &self.0.key, &self.0.params, &self.0.kind, &self.0.message)
            == (other.0.index, &other.0.key, &other.0.params, &other.0.kind, &other.0.message)
    }
}

impl Eq for FailedTask {}

impl FailedTask {
    /// The task's position in input order.
    pub fn index(&self) -> usize {
        self.0.index
    }
    /// The task's key (`Debug`-formatted) when the input was a map.
    pub fn key(&self) -> Option<&str> {
        self.0.key.as_deref()
    }
    /// The task's parameters, `Debug`-formatted — empty when they are not reported: the call's
    /// function was [`unreported`](crate::unreported), or its parameters are mutable borrows
    /// (see [`Report`](crate::traits::Report)).
    pub fn params(&self) -> &str {
        &self.0.params
    }
    /// How the task failed.
    pub fn kind(&self) -> &FailureKind {
        &self.0.kind
    }
    /// How many times the task ran before it failed for good: 1, or up to 1 + the call's
    /// [`retries`](crate::Executor::retries).
    ///
    /// ```
    /// let results = parallel::thread().silent().retries(2).map(|x: u32| if x == 1 { panic!("no") } else { x }, 0..3);
    /// assert_eq!(results[1].as_ref().unwrap_err().attempts(), 3);
    /// ```
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }
    /// The error's `Display`, the panic's message, or what passed for a timeout.
    pub fn message(&self) -> &str {
        &self.0.message
    }
    /// The error value itself, if the task failed with one of type `X`: the `Err` of
    /// `try_map` on the thread executor, or what a [`Work`](crate::plumbing::Work) kept in its
    /// [`Fault`](crate::plumbing::Fault). (On the process executor the error stays in the worker: only
    /// its message crosses.)
    ///
    /// ```
    /// let results = parallel::thread().silent().try_map(|s: &str| s.parse::<u8>(), ["1", "300"]);
    /// let error = results[1].as_ref().unwrap_err().error::<std::num::ParseIntError>().unwrap();
    /// assert_eq!(*error.kind(), std::num::IntErrorKind::PosOverflow);
    /// ```
    pub fn error<X: std::any::Any>(&self) -> Option<&X> {
        self.0.error.as_deref()?.downcast_ref()
    }
}

impl fmt::Display for FailedTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.key {
            Some(key) => write!(f, "task {key}")?,
            None => write!(f, "task {}", self.0.index)?,
        }
        if !self.0.params.is_empty() {
            write!(f, " with parameters {}", self.0.params)?;
        }
        write!(f, " {}: {}", self.0.kind, self.0.message)
    }
}

impl std::error::Error for FailedTask {}

/// What a silent call returns: one outcome per task, in input order — the value, or the
/// [`FailedTask`].
///
/// Index it by position (`results[0]`), look it up by key ([`get`](Self::get)), iterate it, or
/// turn it into the plain output with [`replace_failed`](Self::replace_failed).
///
/// ```
/// fn add(x: i32, y: i32) -> i32 { x.checked_add(y).expect("overflow") }
///
/// let results = parallel::thread().silent().map(add, vec![(2, 3), (i32::MAX, 5), (1, 1)]);
/// assert!(results.failures());
/// assert_eq!(results.succeeded(), vec![&5, &2]);
/// assert_eq!(results.replace_failed(0), vec![5, 0, 2]);
/// ```
pub struct Results<I: Inputs, T> {
    keys: I::Keys,
    outcomes: Vec<Result<T, FailedTask>>,
}

impl<I: Inputs, T> Results<I, T> {
    pub(crate) fn new(keys: I::Keys, outcomes: Vec<Result<T, FailedTask>>) -> Self {
        Results { keys, outcomes }
    }

    /// `true` if any task failed.
    pub fn failures(&self) -> bool {
        self.outcomes.iter().any(Result::is_err)
    }
    /// The failed tasks, in input order.
    pub fn failed(&self) -> Vec<&FailedTask> {
        self.outcomes.iter().filter_map(|o| o.as_ref().err()).collect()
    }
    /// The values of the tasks that succeeded, in input order.
    pub fn succeeded(&self) -> Vec<&T> {
        self.outcomes.iter().filter_map(|o| o.as_ref().ok()).collect()
    }
    /// The number of tasks.
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }
    /// `true` if the call had no task.
    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }
    /// The outcome of the task with this key (its index, for sequences).
    ///
    /// ```
    /// use std::collections::HashMap;
    /// let results = parallel::thread().silent().map(|x: u8| x * 2, HashMap::from([("a", 1)]));
    /// assert_eq!(results.get(&"a"), Some(&Ok(2)));
    /// assert_eq!(results.get(&"b"), None);
    /// ```
    pub fn get(&self, key: &I::Key) -> Option<&Result<T, FailedTask>> {
        I::position(&self.keys, key).and_then(|i| self.outcomes.get(i))
    }
    /// The outcomes in input order.
    pub fn iter(&self) -> std::slice::Iter<'_, Result<T, FailedTask>> {
        self.outcomes.iter()
    }
    /// The output in the input's shape, with `value` in the place of every failed task.
    pub fn replace_failed(self, value: T) -> I::Output<T>
    where
        T: Clone,
    {
        let values = self.outcomes.into_iter().map(|o| o.unwrap_or_else(|_| value.clone()));
        I::assemble(self.keys, values.collect())
    }
    /// The output in the input's shape with `None` in the place of every failed task.
    ///
    /// ```
    /// let results = parallel::thread().silent().map(|x: i32| 6 / x, vec![3, 0]);
    /// assert_eq!(results.into_options(), vec![Some(2), None]);
    /// ```
    pub fn into_options(self) -> I::Output<Option<T>> {
        I::assemble(self.keys, self.outcomes.into_iter().map(Result::ok).collect())
    }

    /// The output in the input's shape, or the first failure in input order.
    ///
    /// ```
    /// let results = parallel::thread().silent().map(|x: u8| x + 1, vec![1, 2]);
    /// assert_eq!(results.into_result().unwrap(), vec![2, 3]);
    /// ```
    pub fn into_result(self) -> Result<I::Output<T>, crate::Error> {
        let values = self.outcomes.into_iter().collect::<Result<Vec<T>, FailedTask>>();
        Ok(I::assemble(self.keys, values?))
    }
}

impl<I: Inputs, T> Index<usize> for Results<I, T> {
    type Output = Result<T, FailedTask>;
    fn index(&self, index: usize) -> &Self::Output {
        &self.outcomes[index]
    }
}

impl<I: Inputs, T> IntoIterator for Results<I, T> {
    type Item = Result<T, FailedTask>;
    type IntoIter = std::vec::IntoIter<Result<T, FailedTask>>;
    fn into_iter(self) -> Self::IntoIter {
        self.outcomes.into_iter()
    }
}

impl<'a, I: Inputs, T> IntoIterator for &'a Results<I, T> {
    type Item = &'a Result<T, FailedTask>;
    type IntoIter = std::slice::Iter<'a, Result<T, FailedTask>>;
    fn into_iter(self) -> Self::IntoIter {
        self.outcomes.iter()
    }
}

impl<I: Inputs, T: fmt::Debug> fmt::Debug for Results<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.outcomes).finish()
    }
}
