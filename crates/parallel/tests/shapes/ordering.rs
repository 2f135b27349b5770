//! Results come back in input order for every sequence shape — vectors, arrays, deques, lists,
//! heaps, boxed slices, options, sets, ranges, iterator adapters and `parallel::iter` — even
//! when the tasks finish in the reverse order, and for 100,000 items.

use std::collections::{BTreeSet, BinaryHeap, HashSet, LinkedList, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How many tasks the out-of-order tests run, all at once.
const N: usize = 16;

/// Tasks over the values `0..N` where the task for `v` does not finish before the task for
/// `v + 1` has: with every task running at once, they finish in reverse order of value.
struct Reversed {
    done: Vec<AtomicBool>,
    finished: Mutex<Vec<usize>>,
}

impl Reversed {
    fn new() -> Arc<Self> {
        Arc::new(Reversed { done: (0..N).map(|_| AtomicBool::new(false)).collect(), finished: Mutex::default() })
    }

    /// The task: waits for its successor (at most a few seconds), then returns `v * 10`.
    fn task(self: &Arc<Self>) -> impl Fn(usize) -> usize + Send + Sync + 'static {
        let this = self.clone();
        move |v| {
            let deadline = Instant::now() + Duration::from_secs(5);
            while v + 1 < N && !this.done[v + 1].load(Ordering::SeqCst) && Instant::now() < deadline {
                sleep(Duration::from_millis(1));
            }
            this.finished.lock().unwrap().push(v);
            this.done[v].store(true, Ordering::SeqCst);
            v * 10
        }
    }

    /// The order in which the values finished.
    fn finish_order(&self) -> Vec<usize> {
        self.finished.lock().unwrap().clone()
    }
}

fn tens(values: impl IntoIterator<Item = usize>) -> Vec<usize> {
    values.into_iter().map(|v| v * 10).collect()
}

/// Runs `f` over `inputs` with every task at once and checks the results follow `expected`
/// (the input order) although the tasks finished in reverse order of value.
fn check<I>(inputs: I, expected_input_order: Vec<usize>)
where
    I: parallel::traits::Inputs<Params = usize, Output<usize> = Vec<usize>>,
{
    let reversed = Reversed::new();
    let results = parallel::thread().max_workers(N).map(reversed.task(), inputs).unwrap();
    assert_eq!(results, tens(expected_input_order.iter().copied()));
    let mut by_value = expected_input_order.clone();
    by_value.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(reversed.finish_order(), by_value, "the tasks did not finish in reverse order of value");
}

#[test]
fn vec_keeps_input_order_when_tasks_finish_in_reverse() {
    check((0..N).collect::<Vec<_>>(), (0..N).collect());
}

#[test]
fn array_keeps_input_order() {
    let array: [usize; N] = std::array::from_fn(|i| i);
    check(array, (0..N).collect());
}

#[test]
fn vec_deque_linked_list_and_boxed_slice_keep_input_order() {
    check((0..N).collect::<VecDeque<_>>(), (0..N).collect());
    check((0..N).collect::<LinkedList<_>>(), (0..N).collect());
    check((0..N).collect::<Box<[usize]>>(), (0..N).collect());
}

#[test]
fn shuffled_vec_keeps_its_own_order() {
    // A fixed permutation: results follow the input, not the values.
    let shuffled = vec![7, 3, 12, 0, 15, 9, 1, 4, 14, 6, 11, 2, 8, 13, 5, 10];
    check(shuffled.clone(), shuffled);
}

#[test]
fn ranges_keep_input_order() {
    check(0..N, (0..N).collect());
    check(0..=N - 1, (0..N).collect());
}

#[test]
fn iterator_adapters_keep_input_order() {
    check((0..N).collect::<Vec<_>>().into_iter(), (0..N).collect());
    check((1..=N).map(|v| v - 1), (0..N).collect());
    check((0..N * 2).filter(|v| v % 2 == 0).map(|v| v / 2), (0..N).collect());
    check((0..N / 2).chain(N / 2..N), (0..N).collect());
    check((0..N + 5).skip(5).map(|v| v - 5), (0..N).collect());
    check((0..).take(N), (0..N).collect());
    check((0..N).rev(), (0..N).rev().collect());
    check((0..N / 2).flat_map(|v| [2 * v, 2 * v + 1]), (0..N).collect());
    check((0..N * 3).step_by(3).map(|v| v / 3), (0..N).collect());
    check(std::iter::successors(Some(0), |v| (v + 1 < N).then_some(v + 1)), (0..N).collect());
    let mut next = 0;
    let from_fn = std::iter::from_fn(move || {
        next += 1;
        (next <= N).then_some(next - 1)
    });
    check(from_fn, (0..N).collect());
}

#[test]
fn parallel_iter_of_any_iterator_keeps_input_order() {
    /// An iterator type the crate knows nothing about.
    struct Countdown(usize);
    impl Iterator for Countdown {
        type Item = usize;
        fn next(&mut self) -> Option<usize> {
            self.0 = self.0.checked_sub(1)?;
            Some(self.0)
        }
    }
    check(parallel::iter(Countdown(N)), (0..N).rev().collect());
    check(parallel::iter(vec![3, 1, 2, 0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]), {
        vec![3, 1, 2, 0, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    });
}

#[test]
fn sets_give_a_vec_in_their_iteration_order() {
    check((0..N).rev().collect::<BTreeSet<_>>(), (0..N).collect());

    let set: HashSet<usize> = (0..N).collect();
    let iteration_order: Vec<usize> = set.iter().copied().collect();
    check(set, iteration_order);

    let heap: BinaryHeap<usize> = (0..N).collect();
    let iteration_order: Vec<usize> = heap.clone().into_vec();
    check(heap, iteration_order);
}

#[test]
fn option_gives_zero_or_one_result() {
    assert_eq!(parallel::map(|x: u8| x + 1, Some(41)).unwrap(), vec![42]);
    assert_eq!(parallel::map(|x: u8| x + 1, None).unwrap(), Vec::<u8>::new());
}

#[test]
fn hundred_thousand_items_keep_input_order() {
    let n = 100_000u64;
    let expected: Vec<u64> = (0..n).map(|x| x * 2 + 1).collect();
    // A few slow tasks make chunks arrive out of order.
    let f = |x: u64| {
        if x % 10_000 == 0 {
            sleep(Duration::from_millis(5));
        }
        x * 2 + 1
    };
    assert_eq!(parallel::map(f, 0..n).unwrap(), expected);
    assert_eq!(parallel::map(f, (0..n).collect::<Vec<_>>()).unwrap(), expected);
    // An iterator whose length is unknown in advance.
    let mut next = 0;
    let unknown_length = std::iter::from_fn(move || {
        next += 1;
        (next <= n).then_some(next - 1)
    });
    assert_eq!(parallel::map(f, unknown_length).unwrap(), expected);
    // With a timeout the call takes another path (tracked batches): same order.
    let with_timeout = parallel::thread().timeout(Duration::from_secs(60)).map(f, 0..n).unwrap();
    assert_eq!(with_timeout, expected);
    // Silent mode too.
    let silent = parallel::thread().silent().map(f, 0..n).replace_failed(0);
    assert_eq!(silent, expected);
}

#[test]
fn hundred_thousand_owned_strings_keep_input_order() {
    let inputs: Vec<String> = (0..100_000).map(|i| format!("item-{i}")).collect();
    let lens = parallel::map(|s: String| s.len(), inputs.clone()).unwrap();
    assert_eq!(lens, inputs.iter().map(String::len).collect::<Vec<_>>());
    let echoed = parallel::map(|s: String| s, inputs.clone()).unwrap();
    assert_eq!(echoed, inputs);
}
