//! The process executor works from ordinary `#[test]`s, whose `main` is libtest's: a worker
//! serves before `main` runs, without `parallel::init()`.

fn cube(x: i64) -> i64 {
    x * x * x
}

#[test]
fn a_libtest_binary_runs_process_workers() {
    let out = parallel::process().max_workers(2).map(cube, -3..4i64).unwrap();
    assert_eq!(out, vec![-27, -8, -1, 0, 1, 8, 27]);
}

#[test]
fn a_panic_in_a_worker_is_reported() {
    let results = parallel::process().silent().map(|x: i32| if x == 1 { panic!("one") } else { x }, vec![0, 1, 2]);
    assert_eq!(results.failed()[0].message(), "one");
    assert_eq!(results.succeeded(), vec![&0, &2]);
}
