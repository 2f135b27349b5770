//! Inputs → tasks: every shape a caller may pass to `map` becomes a stream of parameters, one
//! per task, plus the keys that put the results back in the same shape.
//!
//! Sequences (vectors, arrays, ranges, sets, iterators) give their results as a `Vec` in input
//! order; `HashMap` and `BTreeMap` give back the same kind of map, keyed the same way.
//!
//! [`Inputs`] is implemented for the standard collections, ranges and iterator adapters. Rust's
//! coherence rules forbid one blanket implementation for every iterator next to the one for
//! maps, so an iterator of any other type is wrapped in [`iter`].

use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::fmt::Debug;
use std::hash::{BuildHasher, Hash};

/// Something `map` can run over: a stream of parameters, one per task, and the keys that give
/// the results back in the same shape.
///
/// Implemented for `Vec`, `VecDeque`, `LinkedList`, `BinaryHeap`, arrays, boxed slices,
/// `Option`, `HashSet`, `BTreeSet`, ranges, the standard iterator adapters (`map`, `filter`,
/// `zip`, `chain`, …), [`iter`], `HashMap` and `BTreeMap`. The parameters and the iterator are
/// moved into the call and must be `Send + 'static`: a call may return at its timeout while
/// abandoned tasks still run.
///
/// ```
/// use std::collections::BTreeMap;
///
/// let doubled = parallel::map(|x: u32| x * 2, 1..=3).unwrap();
/// assert_eq!(doubled, vec![2, 4, 6]);
///
/// let sites = BTreeMap::from([("python", 6), ("rmotr", 5)]);
/// let named = parallel::map(|n: u32| n + 1, sites).unwrap();
/// assert_eq!(named["python"], 7);
/// ```
///
/// Borrowed data — `&v`, `v.iter()`, `&mut v` — is not an input of `map`: map over it with
/// [`scoped_map`](crate::scoped_map), which returns only when its tasks have ended.
///
/// ```compile_fail,E0277
/// let v = vec![1u64, 2, 3];
/// let _ = parallel::map(|x: &u64| x + 1, &v); // error: `&Vec<u64>` is not an input `map` can take
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an input `map` can take",
    label = "not an input of `map`",
    note = "`map` takes owned inputs (a `Vec`, an array, a range, a set, a `HashMap` or `BTreeMap`, an iterator adapter over owned values): its tasks may outlive a call that times out",
    note = "to map over borrowed data (`&v`, `v.iter()`, `&mut v`), use `parallel::scoped_map(f, &v)` or `parallel::thread().scoped_map(f, &v)`, which return only once their tasks have ended",
    note = "any other owned iterator: wrap it, `parallel::map(f, parallel::iter(it))`"
)]
pub trait Inputs {
    /// One task's parameters.
    type Params: Send + 'static;
    /// What identifies a task: its index for sequences, its key for maps.
    type Key;
    /// The keys kept by the caller while the tasks run (`()` for sequences).
    type Keys: Send + 'static;
    /// The tasks' parameters, in input order.
    type Tasks: Tasks<Params = Self::Params> + 'static;
    /// The results, in the input's shape: `Vec<T>` or a map with the same keys.
    type Output<T>;

    /// Splits the input into its keys and its stream of parameters.
    fn into_tasks(self) -> (Self::Keys, Self::Tasks);
    /// The key of the task at `index`, for failure reports (`None` for sequences).
    fn describe_key(keys: &Self::Keys, index: usize) -> Option<String>;
    /// The index of the task with this key.
    fn position(keys: &Self::Keys, key: &Self::Key) -> Option<usize>;
    /// Puts the values, one per task in input order, back in the input's shape.
    fn assemble<T>(keys: Self::Keys, values: Vec<T>) -> Self::Output<T>;
    /// The keys as a function that hands out task `index`'s key — and its description for a
    /// failure report when asked, as [`describe_key`](Self::describe_key) — once per index,
    /// in any order: how [`as_completed`](crate::as_completed()) names each outcome.
    fn key_by_index(keys: Self::Keys) -> KeyByIndex<Self::Key>;
}

/// Task `index`'s key, and its description if `describe` is set: see [`Inputs::key_by_index`].
/// Called once per index.
///
/// ```
/// use parallel::traits::Inputs;
/// use std::collections::BTreeMap;
/// let (keys, _tasks) = BTreeMap::from([("a", 1), ("b", 2)]).into_tasks();
/// let mut key = <BTreeMap<&str, i32> as Inputs>::key_by_index(keys);
/// assert_eq!(key(1, true), ("b", Some("\"b\"".to_owned())));
/// assert_eq!(key(0, false), ("a", None));
/// ```
pub type KeyByIndex<K> = Box<dyn FnMut(usize, bool) -> (K, Option<String>) + Send>;

/// [`Inputs::key_by_index`] of a map's keys, in input order.
fn map_key_by_index<K: Debug + Send + 'static>(keys: Vec<K>) -> KeyByIndex<K> {
    let mut keys: Vec<Option<K>> = keys.into_iter().map(Some).collect();
    Box::new(move |index, describe| {
        let key = keys[index].take().expect("each task's key is handed out once");
        let described = describe.then(|| format!("{key:?}"));
        (key, described)
    })
}

/// The stream of a call's task parameters, taken by workers a batch at a time.
///
/// Most inputs are read through [`Sequential`], which collects each batch from an iterator.
/// Ranges of integers split off each batch without reading it: the worker generates the
/// numbers as it runs the tasks.
///
/// ```
/// use parallel::plumbing::Tasks;
/// let mut tasks = parallel::plumbing::Sequential::new("abc".chars());
/// assert_eq!(tasks.take(2).collect::<String>(), "ab");
/// assert_eq!(tasks.take(2).len(), 1);
/// ```
pub trait Tasks: Send {
    /// One task's parameters.
    type Params: Send;
    /// One batch of parameters.
    type Batch: ExactSizeIterator<Item = Self::Params> + Send;
    /// Takes the next `n` tasks, or all that are left if fewer.
    fn take(&mut self, n: usize) -> Self::Batch;
    /// After `take` panicked (an iterator adapter's closure did), the tasks it had read.
    fn recover(&mut self) -> Self::Batch;
    /// Bounds on the number of tasks left, as [`Iterator::size_hint`].
    fn size_hint(&self) -> (usize, Option<usize>);
    /// Whether the tasks not yet read are read when the call stops early (cancelled, past its
    /// deadline), each to fail in its place: so they are, by default — every input is
    /// accounted for. A stream that cannot or should not be read to its end (endless, or read
    /// from another program's iterator as the workers go) says `false`: its call then ends
    /// with the tasks it read, and the rest are not part of it (a silent call's results then
    /// hold one outcome per task read). [`Sequential`] says `false` for an iterator whose
    /// [`size_hint`](Iterator::size_hint) has no upper bound.
    ///
    /// ```
    /// use std::time::Duration;
    /// // An endless input, past its deadline: the call returns with the tasks it read.
    /// let out = parallel::thread()
    ///     .timeout(Duration::from_millis(50))
    ///     .silent()
    ///     .map(|x: u64| std::thread::sleep(Duration::from_millis(x)), parallel::iter(std::iter::repeat(5)));
    /// assert!(!out.is_empty()); // each task it read: done, or timed out while it ran
    /// ```
    fn read_rest_on_stop(&self) -> bool {
        true
    }
}

/// Tasks read from an iterator, each batch collected into a `Vec`.
///
/// ```
/// use parallel::plumbing::Tasks;
/// let mut tasks = parallel::plumbing::Sequential::new(vec![1, 2, 3].into_iter());
/// assert_eq!(tasks.size_hint(), (3, Some(3)));
/// assert_eq!(tasks.take(5).collect::<Vec<_>>(), vec![1, 2, 3]);
/// ```
#[derive(Debug, Clone)]
pub struct Sequential<I: Iterator> {
    iter: I,
    /// The batch being read; what a panicking iterator had yielded stays here.
    reading: Vec<I::Item>,
}

impl<I: Iterator> Sequential<I> {
    /// Tasks read from `iter`.
    pub fn new(iter: I) -> Self {
        Sequential { iter, reading: Vec::new() }
    }
}

impl<I> Tasks for Sequential<I>
where
    I: Iterator + Send,
    I::Item: Send,
{
    type Params = I::Item;
    type Batch = std::vec::IntoIter<I::Item>;

    fn take(&mut self, n: usize) -> Self::Batch {
        self.reading.reserve_exact(n.min(self.iter.size_hint().0.max(1)));
        self.reading.extend(self.iter.by_ref().take(n));
        std::mem::take(&mut self.reading).into_iter()
    }
    fn recover(&mut self) -> Self::Batch {
        std::mem::take(&mut self.reading).into_iter()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
    /// Only an iterator that says how long it is at most: one that may be endless
    /// (`repeat`, `from_fn`, `0..`) is not read past what the call took — reading it to its
    /// end would never end, or would keep a call past its deadline.
    fn read_rest_on_stop(&self) -> bool {
        self.iter.size_hint().1.is_some()
    }
}

/// Tasks over a range of integers: a batch is a sub-range, split off without reading it.
///
/// ```
/// use parallel::plumbing::Tasks;
/// let mut tasks = parallel::plumbing::Span(0u64..10);
/// assert_eq!(tasks.take(4).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
/// assert_eq!(tasks.take(100).len(), 6);
/// assert_eq!(tasks.take(1).len(), 0);
/// ```
#[derive(Debug, Clone)]
pub struct Span<A>(pub std::ops::Range<A>);

/// The key items of a sequence's `Inputs`: the key is the index, results come in a `Vec`.
macro_rules! sequence_keys {
    () => {
        fn describe_key(_: &(), _: usize) -> Option<String> {
            None
        }
        fn position(_: &(), key: &usize) -> Option<usize> {
            Some(*key)
        }
        fn assemble<Z>(_: (), values: Vec<Z>) -> Vec<Z> {
            values
        }
        fn key_by_index(_: ()) -> KeyByIndex<usize> {
            Box::new(|index, _| (index, None))
        }
    };
}

impl<A> Tasks for Span<A>
where
    std::ops::Range<A>: Iterator<Item = A>,
    A: Clone + Send,
{
    type Params = A;
    type Batch = SpanBatch<A>;

    fn take(&mut self, n: usize) -> SpanBatch<A> {
        let start = self.0.start.clone();
        if n > 0 {
            // O(1) for ranges: moves `start` on by `n`, or to `end` if fewer are left.
            let _ = self.0.nth(n - 1);
        }
        SpanBatch(start..self.0.start.clone())
    }
    fn recover(&mut self) -> SpanBatch<A> {
        SpanBatch(self.0.start.clone()..self.0.start.clone())
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

/// One batch of a [`Span`]: a sub-range of at most `usize::MAX` values, so its length is
/// exact whatever the integer type.
///
/// ```
/// use parallel::plumbing::Tasks;
/// let mut tasks = parallel::plumbing::Span(-5i64..5);
/// assert_eq!(tasks.take(3).collect::<Vec<_>>(), vec![-5, -4, -3]);
/// assert_eq!(tasks.take(100).len(), 7);
/// ```
#[derive(Debug, Clone)]
pub struct SpanBatch<A>(std::ops::Range<A>);

impl<A> Iterator for SpanBatch<A>
where
    std::ops::Range<A>: Iterator<Item = A>,
{
    type Item = A;
    fn next(&mut self) -> Option<A> {
        self.0.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<A> ExactSizeIterator for SpanBatch<A> where std::ops::Range<A>: Iterator<Item = A> {}

/// Ranges of integers (and of any other type a `Range` iterates). One implementation for
/// every such type, so that the type of `0..n` is inferred from the function's parameter.
impl<A> Inputs for std::ops::Range<A>
where
    std::ops::Range<A>: Iterator<Item = A>,
    A: Clone + Send + 'static,
{
    type Params = A;
    type Key = usize;
    type Keys = ();
    type Tasks = Span<A>;
    type Output<Z> = Vec<Z>;

    fn into_tasks(self) -> ((), Span<A>) {
        ((), Span(self))
    }
    sequence_keys!();
}

/// Wraps any iterator or collection so that it can be given to `map`; results come back as a
/// `Vec` in iteration order.
///
/// ```
/// let words = "one two three".split(' ').map(String::from).collect::<Vec<_>>().into_iter();
/// let lens = parallel::map(|w: String| w.len(), parallel::iter(words.rev())).unwrap();
/// assert_eq!(lens, vec![5, 3, 3]);
/// ```
pub fn iter<I>(items: I) -> Iter<I::IntoIter>
where
    I: IntoIterator,
{
    Iter(items.into_iter())
}

/// A stream of tasks of the caller's own ([`Tasks`]) given as a call's input: its tasks are
/// numbered from 0 and its results come back as a `Vec`. For a binding whose tasks come from
/// elsewhere — the Python package reads a generator this way, a batch at a time.
///
/// ```
/// use parallel::plumbing::{FromTasks, Sequential};
/// let out = parallel::map(|x: u8| x * 2, FromTasks(Sequential::new(vec![1, 2].into_iter())));
/// assert_eq!(out.unwrap(), vec![2, 4]);
/// ```
#[derive(Debug, Clone)]
pub struct FromTasks<T>(pub T);

impl<T> Inputs for FromTasks<T>
where
    T: Tasks + 'static,
    T::Params: Send + 'static,
{
    type Params = T::Params;
    type Key = usize;
    type Keys = ();
    type Tasks = T;
    type Output<Z> = Vec<Z>;

    fn into_tasks(self) -> ((), T) {
        ((), self.0)
    }
    sequence_keys!();
}

/// An iterator given to `map` through [`iter`]; its results come back as a `Vec`.
///
/// ```
/// let it: parallel::traits::Iter<_> = parallel::iter(vec![1, 2]);
/// assert_eq!(parallel::map(|x: i32| -x, it).unwrap(), vec![-1, -2]);
/// ```
#[derive(Debug, Clone)]
pub struct Iter<I>(pub I);

/// Implements `Inputs` for a sequence: key = index, results in a `Vec`.
macro_rules! sequence {
    ([$($gen:tt)*] $ty:ty => $item:ty, $tasks:ty, |$s:ident| $into:expr) => {
        sequence!([$($gen)*] $ty => $item, $tasks, |$s| $into,
            where $item: Send + 'static, $tasks: Iterator<Item = $item> + Send + 'static);
    };
    ([$($gen:tt)*] $ty:ty => $item:ty, $tasks:ty, |$s:ident| $into:expr, where $($bound:tt)*) => {
        impl<$($gen)*> Inputs for $ty
        where
            $($bound)*
        {
            type Params = $item;
            type Key = usize;
            type Keys = ();
            type Tasks = Sequential<$tasks>;
            type Output<Z> = Vec<Z>;

            fn into_tasks(self) -> ((), Self::Tasks) {
                let $s = self;
                ((), Sequential::new($into))
            }
            sequence_keys!();
        }
    };
}

/// Implements `Inputs` for an iterator type that is its own stream of tasks.
macro_rules! iterator {
    ($([$($gen:tt)*] $ty:ty;)*) => {$(
        sequence!([$($gen)*] $ty => <$ty as Iterator>::Item, $ty, |s| s,
            where $ty: Iterator + Send + 'static, <$ty as Iterator>::Item: Send + 'static);
    )*};
}

sequence!([T] Vec<T> => T, std::vec::IntoIter<T>, |s| s.into_iter());
sequence!([T] VecDeque<T> => T, std::collections::vec_deque::IntoIter<T>, |s| s.into_iter());
sequence!([T] LinkedList<T> => T, std::collections::linked_list::IntoIter<T>, |s| s.into_iter());
sequence!([T] BinaryHeap<T> => T, std::collections::binary_heap::IntoIter<T>, |s| s.into_iter());
sequence!([T, const N: usize] [T; N] => T, std::array::IntoIter<T, N>, |s| s.into_iter());
sequence!([T] Box<[T]> => T, std::vec::IntoIter<T>, |s| s.into_vec().into_iter());
sequence!([T] Option<T> => T, std::option::IntoIter<T>, |s| s.into_iter());
sequence!([T] BTreeSet<T> => T, std::collections::btree_set::IntoIter<T>, |s| s.into_iter());
sequence!([T, S] HashSet<T, S> => T, std::collections::hash_set::IntoIter<T>, |s| s.into_iter());
sequence!([I] Iter<I> => <I as Iterator>::Item, I, |s| s.0,
    where I: Iterator + Send + 'static, <I as Iterator>::Item: Send + 'static);

iterator! {
    [A] std::ops::RangeInclusive<A>;
    [T] std::vec::IntoIter<T>;
    [T] std::collections::vec_deque::IntoIter<T>;
    [T, const N: usize] std::array::IntoIter<T, N>;
    [T] std::option::IntoIter<T>;
    [T] std::iter::Once<T>;
    [T] std::iter::Empty<T>;
    [T] std::iter::RepeatN<T>;
    [F] std::iter::FromFn<F>;
    [T, F] std::iter::Successors<T, F>;
    [I, F] std::iter::Map<I, F>;
    [I, P] std::iter::Filter<I, P>;
    [I, F] std::iter::FilterMap<I, F>;
    [I, P] std::iter::TakeWhile<I, P>;
    [I, P] std::iter::SkipWhile<I, P>;
    [I, P] std::iter::MapWhile<I, P>;
    [I: Iterator, U: IntoIterator, F] std::iter::FlatMap<I, U, F>;
    [I: Iterator<Item: IntoIterator>] std::iter::Flatten<I>;
    [I] std::iter::Enumerate<I>;
    [I] std::iter::Take<I>;
    [I] std::iter::Skip<I>;
    [I] std::iter::StepBy<I>;
    [I] std::iter::Rev<I>;
    [I] std::iter::Fuse<I>;
    [I: Iterator] std::iter::Peekable<I>;
    [I, F] std::iter::Inspect<I, F>;
    [I, St, F] std::iter::Scan<I, St, F>;
    [A, B] std::iter::Zip<A, B>;
    [A, B] std::iter::Chain<A, B>;
}

impl<K, V, S> Inputs for HashMap<K, V, S>
where
    K: Debug + Eq + Hash + Send + 'static,
    V: Send + 'static,
    S: BuildHasher + Default,
{
    type Params = V;
    type Key = K;
    type Keys = Vec<K>;
    type Tasks = Sequential<std::vec::IntoIter<V>>;
    type Output<T> = HashMap<K, T, S>;

    fn into_tasks(self) -> (Vec<K>, Self::Tasks) {
        let (keys, values): (Vec<K>, Vec<V>) = self.into_iter().unzip();
        (keys, Sequential::new(values.into_iter()))
    }
    fn describe_key(keys: &Vec<K>, index: usize) -> Option<String> {
        keys.get(index).map(|k| format!("{k:?}"))
    }
    /// Linear in the number of keys: a `HashMap`'s keys are kept in its iteration order.
    fn position(keys: &Vec<K>, key: &K) -> Option<usize> {
        keys.iter().position(|k| k == key)
    }
    fn assemble<T>(keys: Vec<K>, values: Vec<T>) -> HashMap<K, T, S> {
        keys.into_iter().zip(values).collect()
    }
    fn key_by_index(keys: Vec<K>) -> KeyByIndex<K> {
        map_key_by_index(keys)
    }
}

impl<K, V> Inputs for BTreeMap<K, V>
where
    K: Debug + Ord + Send + 'static,
    V: Send + 'static,
{
    type Params = V;
    type Key = K;
    type Keys = Vec<K>;
    type Tasks = Sequential<std::vec::IntoIter<V>>;
    type Output<T> = BTreeMap<K, T>;

    fn into_tasks(self) -> (Vec<K>, Self::Tasks) {
        let (keys, values): (Vec<K>, Vec<V>) = self.into_iter().unzip();
        (keys, Sequential::new(values.into_iter()))
    }
    fn describe_key(keys: &Vec<K>, index: usize) -> Option<String> {
        keys.get(index).map(|k| format!("{k:?}"))
    }
    /// Logarithmic: a `BTreeMap`'s keys come sorted.
    fn position(keys: &Vec<K>, key: &K) -> Option<usize> {
        keys.binary_search(key).ok()
    }
    fn assemble<T>(keys: Vec<K>, values: Vec<T>) -> BTreeMap<K, T> {
        keys.into_iter().zip(values).collect()
    }
    fn key_by_index(keys: Vec<K>) -> KeyByIndex<K> {
        map_key_by_index(keys)
    }
}
