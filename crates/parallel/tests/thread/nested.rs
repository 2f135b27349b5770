//! Calls inside tasks: a task that itself calls `map`, `par` or an `async_*` function does not
//! deadlock — whatever the worker bounds, however deep — and gets the right results.

use std::sync::mpsc;
use std::thread::sleep;
use std::time::Duration;

/// Runs `f` on its own thread and fails the test if it has not returned within 20 s.
fn without_deadlock<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(f());
    });
    receiver.recv_timeout(Duration::from_secs(20)).expect("the nested call deadlocked")
}

#[test]
fn map_inside_map() {
    let out = without_deadlock(|| {
        parallel::thread()
            .max_workers(2)
            .map(
                |x: u64| {
                    parallel::thread()
                        .max_workers(2)
                        .map(
                            move |y: u64| {
                                sleep(Duration::from_millis(1));
                                x * 10 + y
                            },
                            0..5,
                        )
                        .unwrap()
                },
                0..8,
            )
            .unwrap()
    });
    assert_eq!(out, (0..8).map(|x| (0..5).map(|y| x * 10 + y).collect::<Vec<_>>()).collect::<Vec<_>>());
}

#[test]
fn one_worker_at_every_level() {
    let out = without_deadlock(|| {
        parallel::thread()
            .max_workers(1)
            .map(
                |x: u32| {
                    let inner = parallel::thread().max_workers(1).map(move |y: u32| x + y, 0..3).unwrap();
                    inner.iter().sum::<u32>()
                },
                0..4,
            )
            .unwrap()
    });
    assert_eq!(out, vec![3, 6, 9, 12]);
}

#[test]
fn three_levels_deep_with_default_workers() {
    let out = without_deadlock(|| {
        parallel::map(
            |a: u32| {
                parallel::map(move |b: u32| parallel::map(move |c: u32| a * 100 + b * 10 + c, 0..4).unwrap(), 0..4)
                    .unwrap()
            },
            0..4,
        )
        .unwrap()
    });
    for (a, level2) in out.iter().enumerate() {
        for (b, level3) in level2.iter().enumerate() {
            let expected: Vec<u32> = (0..4).map(|c| a as u32 * 100 + b as u32 * 10 + c).collect();
            assert_eq!(level3, &expected);
        }
    }
}

#[test]
fn many_tasks_each_blocking_on_an_inner_call() {
    // More outer tasks than the default workers, each waiting on an inner call of its own.
    let outer = parallel::default_thread_workers() * 3;
    let out = without_deadlock(move || {
        parallel::map(
            |x: usize| {
                parallel::map(
                    move |y: usize| {
                        sleep(Duration::from_millis(2));
                        x + y
                    },
                    0..10,
                )
                .unwrap()
                .into_iter()
                .sum::<usize>()
            },
            0..outer,
        )
        .unwrap()
    });
    assert_eq!(out, (0..outer).map(|x| 10 * x + 45).collect::<Vec<_>>());
}

#[test]
fn par_and_async_inside_tasks() {
    let out = without_deadlock(|| {
        parallel::thread()
            .max_workers(2)
            .map(
                |x: i32| {
                    let (a, b) = parallel::par((move || x + 1, move || x * 2)).unwrap();
                    let c = parallel::async_map(move |y: i32| y - x, vec![x, 2 * x]).wait().unwrap();
                    (a, b, c)
                },
                vec![1, 2, 3],
            )
            .unwrap()
    });
    assert_eq!(out, vec![(2, 2, vec![0, 1]), (3, 4, vec![0, 2]), (4, 6, vec![0, 3])]);
}

#[test]
fn a_failing_inner_call_fails_only_its_outer_task() {
    let results = without_deadlock(|| {
        parallel::thread().silent().map(
            |x: i32| parallel::map(move |y: i32| 10 / (y - x), vec![1, 2]).map(|v| v.len()).map_err(|e| e.to_string()),
            vec![0, 1, 5],
        )
    });
    assert_eq!(results[0], Ok(Ok(2)));
    assert!(results[1].as_ref().unwrap().is_err(), "1 - 1 divides by zero");
    assert_eq!(results[2], Ok(Ok(2)));
}
