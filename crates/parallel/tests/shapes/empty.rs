//! Empty inputs give empty outputs at once, for every form: `map`, `try_map`, the `async_*`
//! functions, `par` over empty collections, silent mode, every input shape, with timeouts.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Duration;

use parallel::prelude::*;
use parallel::Task;

fn double(x: i32) -> i32 {
    x * 2
}

fn parse(s: &str) -> Result<i32, std::num::ParseIntError> {
    s.parse()
}

#[test]
fn map_and_try_map() {
    assert_eq!(parallel::map(double, Vec::new()).unwrap(), Vec::<i32>::new());
    assert_eq!(parallel::try_map(parse, Vec::<&str>::new()).unwrap(), Vec::<i32>::new());
}

#[test]
fn every_sequence_shape() {
    let none: Vec<i32> = Vec::new();
    assert_eq!(parallel::map(double, [0; 0]).unwrap(), none);
    assert_eq!(parallel::map(double, VecDeque::new()).unwrap(), none);
    assert_eq!(parallel::map(double, BTreeSet::new()).unwrap(), none);
    assert_eq!(parallel::map(double, HashSet::new()).unwrap(), none);
    assert_eq!(parallel::map(double, 0..0).unwrap(), none);
    #[allow(clippy::reversed_empty_ranges)]
    let backwards = 5..0;
    assert_eq!(parallel::map(double, backwards).unwrap(), none);
    assert_eq!(parallel::map(double, std::iter::empty()).unwrap(), none);
    assert_eq!(parallel::map(double, (0..10).filter(|_| false)).unwrap(), none);
    assert_eq!(parallel::map(double, parallel::iter(Vec::new())).unwrap(), none);
    assert_eq!(parallel::map(double, None).unwrap(), none);
    assert_eq!(parallel::map(|a: i32, b: i32| a + b, Vec::<(i32, i32)>::new()).unwrap(), none);
}

#[test]
fn maps() {
    assert_eq!(parallel::map(double, HashMap::<&str, i32>::new()).unwrap(), HashMap::new());
    assert_eq!(parallel::map(double, BTreeMap::<u8, i32>::new()).unwrap(), BTreeMap::new());
}

#[test]
fn async_forms() {
    assert_eq!(parallel::async_map(double, Vec::new()).wait().unwrap(), Vec::<i32>::new());
    assert_eq!(parallel::async_try_map(parse, Vec::<&str>::new()).wait().unwrap(), Vec::<i32>::new());
    assert_eq!(parallel::async_par(Vec::<Task<u8>>::new()).wait().unwrap(), Vec::<u8>::new());
    let handle = parallel::async_map(double, HashMap::<u8, i32>::new());
    assert_eq!(handle.wait().unwrap(), HashMap::new());
}

#[test]
fn par_over_empty_collections() {
    assert_eq!(parallel::par(Vec::<Task<i32>>::new()).unwrap(), Vec::<i32>::new());
    assert_eq!(parallel::par(HashMap::<&str, Task<i32>>::new()).unwrap(), HashMap::new());
    assert_eq!(parallel::par(BTreeMap::<&str, Task<i32>>::new()).unwrap(), BTreeMap::new());
    let results = parallel::thread().silent().par(Vec::<Task<i32>>::new());
    assert!(results.is_empty());
}

#[test]
fn silent() {
    let results = parallel::thread().silent().map(double, Vec::new());
    assert!(results.is_empty());
    assert_eq!(results.len(), 0);
    assert!(!results.failures());
    assert!(results.failed().is_empty());
    assert!(results.succeeded().is_empty());
    assert_eq!(results.iter().count(), 0);
    assert_eq!(results.get(&0), None);
    assert_eq!(results.replace_failed(0), Vec::<i32>::new());

    let results = parallel::thread().silent().try_map(parse, BTreeMap::<u8, &str>::new());
    assert_eq!(results.into_result().unwrap(), BTreeMap::new());
    let results = parallel::thread().silent().async_map(double, 0..0).wait();
    assert!(results.is_empty());
}

#[test]
fn with_every_option() {
    let executor =
        parallel::thread().max_workers(3).timeout(Duration::from_secs(10)).task_timeout(Duration::from_secs(5));
    assert_eq!(executor.map(double, Vec::new()).unwrap(), Vec::<i32>::new());
    assert_eq!(executor.silent().map(double, 0..0).len(), 0);
    struct Extras;
    let with_extras = parallel::thread().extras(Extras);
    assert_eq!(with_extras.map(|x: i32, _: &Extras| x, Vec::new()).unwrap(), Vec::<i32>::new());
}

#[test]
fn a_zero_timeout_with_nothing_to_do() {
    // Nothing to run: nothing can time out. (The input is known to be empty before anything
    // starts: the outcome must not depend on which thread gets there first.)
    let out = parallel::thread().timeout(Duration::ZERO).map(double, Vec::new());
    assert_eq!(out, Ok(Vec::new()));
    let results = parallel::thread().silent().timeout(Duration::ZERO).map(double, HashMap::<u8, i32>::new());
    assert_eq!(results.into_result(), Ok(HashMap::new()));
}

#[test]
fn through_the_prelude() {
    assert_eq!(double.map(Vec::new()).unwrap(), Vec::<i32>::new());
    assert_eq!(parse.try_map(Vec::<&str>::new()).unwrap(), Vec::<i32>::new());
    assert_eq!(double.async_map(Vec::new()).wait().unwrap(), Vec::<i32>::new());
    assert!(double.thread().silent().max_workers(2).map(Vec::new()).is_empty());
}
