//! Parameters need not be `Clone + Debug`: with the function wrapped in `parallel::unreported`,
//! parameters of any `Send` type run, and a failed task reports its index (and key) without its
//! parameters. Mutable borrows in scoped calls report only their index, unwrapped.

use std::collections::{BTreeMap, HashMap};

use parallel::prelude::*;
use parallel::{Error, FailureKind};

use crate::common::quiet_panics; // some tasks panic on purpose

/// Neither `Clone` nor `Debug`.
struct Job {
    id: u32,
    name: String,
}

fn jobs(n: u32) -> Vec<Job> {
    (0..n).map(|id| Job { id, name: format!("job {id}") }).collect()
}

fn run(job: Job) -> u32 {
    if job.id == 3 {
        panic!("{} fails", job.name);
    }
    job.id * 10
}

#[test]
fn parameters_that_are_neither_clone_nor_debug_run() {
    let out = parallel::map(parallel::unreported(|job: Job| job.id + job.name.len() as u32), jobs(3)).unwrap();
    assert_eq!(out, vec![5, 6, 7]);
    let out = parallel::thread().max_workers(2).map(parallel::unreported(|job: Job| job.id), jobs(100)).unwrap();
    assert_eq!(out, (0..100).collect::<Vec<_>>());
}

#[test]
fn a_failure_reports_the_index_without_parameters() {
    quiet_panics();
    let err = parallel::map(parallel::unreported(run), jobs(5)).unwrap_err();
    let Error::Task(failed) = &err else { panic!("expected a task failure, got {err:?}") };
    assert_eq!((failed.index(), failed.params(), failed.kind()), (3, "", &FailureKind::Panicked));
    assert_eq!(failed.message(), "job 3 fails");
    assert_eq!(err.to_string(), "task 3 panicked: job 3 fails");

    let results = parallel::thread().silent().map(parallel::unreported(run), jobs(5));
    assert_eq!(results.into_options(), vec![Some(0), Some(10), Some(20), None, Some(40)]);
}

#[test]
fn maps_keep_their_keys_and_report_them() {
    quiet_panics();
    let named: HashMap<&str, Job> =
        HashMap::from([("ok", Job { id: 1, name: "a".into() }), ("bad", Job { id: 3, name: "b".into() })]);
    let results = parallel::thread().silent().map(parallel::unreported(run), named);
    assert_eq!(results.get(&"ok"), Some(&Ok(10)));
    let failed = results.get(&"bad").unwrap().as_ref().unwrap_err();
    assert_eq!((failed.key(), failed.params()), (Some("\"bad\""), ""));
    assert_eq!(failed.to_string(), "task \"bad\" panicked: b fails");

    let sorted = BTreeMap::from([(2, Job { id: 2, name: "c".into() })]);
    assert_eq!(parallel::map(parallel::unreported(run), sorted).unwrap()[&2], 20);
}

#[test]
fn ranges_try_map_async_and_the_prelude() {
    let squares = parallel::map(parallel::unreported(|x: u64| x * x), 0..1_000u64).unwrap();
    assert_eq!(squares[999], 999 * 999);
    let parsed = parallel::thread().silent().try_map(parallel::unreported(|s: &str| s.parse::<u8>()), ["1", "x"]);
    assert_eq!(parsed[1].as_ref().unwrap_err().to_string(), "task 1 returned an error: invalid digit found in string");
    let handle = parallel::async_map(parallel::unreported(|job: Job| job.id), jobs(4));
    assert_eq!(handle.wait().unwrap(), vec![0, 1, 2, 3]);
    // Tuples still spread, extras still come last.
    let sums =
        parallel::thread().extras(100).map(parallel::unreported(|a: i32, b: i32, e: &i32| a + b + e), vec![(1, 2)]);
    assert_eq!(sums.unwrap(), vec![103]);
    // Through the prelude too: an unreported function is a function.
    assert_eq!(parallel::unreported(run).map(jobs(3)).unwrap(), vec![0, 10, 20]);
    assert_eq!(parallel::unreported(run).thread().max_workers(2).map(jobs(2)).unwrap(), vec![0, 10]);
}

#[test]
fn scoped_calls_take_unreported_functions() {
    let all = jobs(4);
    let names = parallel::scoped_map(parallel::unreported(|job: &Job| job.name.len()), &all).unwrap();
    assert_eq!(names, vec![5, 5, 5, 5]);
}

#[test]
fn mutable_borrows_report_only_their_index() {
    quiet_panics();
    let mut counts = vec![0u32; 5];
    let results = parallel::thread().silent().scoped_map(
        |c: &mut u32| {
            *c += 1;
            assert!(*c < 2, "counted twice");
        },
        &mut counts,
    );
    assert!(!results.failures());
    assert_eq!(counts, [1; 5]);
    let err = parallel::scoped_map(
        |c: &mut u32| {
            if *c == 1 {
                panic!("one")
            }
        },
        counts.iter_mut(),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "task 0 panicked: one");
}
