//! Under tokio: a `Handle` awaited beside a task that keeps ticking, the `Stream` of
//! `as_completed` in completion order, dropping it cancels the call, and progress reported
//! to async code.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use parallel::Progress;

fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

#[tokio::test(flavor = "current_thread")]
async fn a_handle_awaited_in_join_lets_a_ticking_task_tick() {
    let handle = parallel::thread().max_workers(2).async_map(nap, vec![300, 300]);
    let observer = handle.observer();
    let ticker = async {
        let mut ticks = 0;
        while !observer.is_finished() {
            tokio::time::sleep(Duration::from_millis(10)).await;
            ticks += 1;
        }
        ticks
    };
    let (output, ticks) = tokio::join!(handle, ticker);
    assert_eq!(output.unwrap(), vec![300, 300]);
    assert!(ticks >= 2, "the runtime's only thread kept ticking while the call ran: {ticks} ticks");
}

#[tokio::test(flavor = "current_thread")]
async fn the_stream_yields_in_completion_order() {
    let mut stream = parallel::thread().max_workers(3).as_completed(nap, vec![300, 100, 200]).into_stream();
    let mut keys = Vec::new();
    while let Some((key, outcome)) = stream.next().await {
        assert!(outcome.is_ok());
        keys.push(key);
    }
    assert_eq!(keys, vec![1, 2, 0]);

    let mut stream = parallel::process().max_workers(3).as_completed(nap, vec![300, 100, 200]).into_stream();
    let mut keys = Vec::new();
    while let Some((key, _)) = stream.next().await {
        keys.push(key);
    }
    assert_eq!(keys, vec![1, 2, 0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_of_many_tasks_misses_none_from_a_spawned_task() {
    let stream = parallel::thread().as_completed(|x: u64| x * 2, (0..100_000u64).filter(|_| true)).into_stream();
    // The stream is `Send`: it moves into a task of the multi-threaded runtime.
    let counted = tokio::spawn(async move {
        let mut stream = stream;
        let (mut count, mut sum) = (0u64, 0u64);
        while let Some((index, outcome)) = stream.next().await {
            assert_eq!(outcome.unwrap(), index as u64 * 2);
            count += 1;
            sum += index as u64;
        }
        (count, sum)
    });
    assert_eq!(counted.await.unwrap(), (100_000, 99_999 * 100_000 / 2));
}

#[tokio::test(flavor = "current_thread")]
async fn dropping_the_stream_midway_cancels_the_call() {
    let started = Arc::new(AtomicUsize::new(0));
    let counter = started.clone();
    let mut stream = parallel::thread()
        .max_workers(2)
        .as_completed(
            move |ms: u64| {
                counter.fetch_add(1, Ordering::SeqCst);
                nap(ms)
            },
            vec![20; 200],
        )
        .into_stream();
    assert!(stream.next().await.is_some());
    drop(stream);
    let now = started.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A worker past its look at the stop when the drop came may still start its task: one each.
    assert!(started.load(Ordering::SeqCst) <= now + 2, "no task starts after the drop");
    assert!(now < 200);

    // A handle dropped unfinished, the same.
    let started = Arc::new(AtomicUsize::new(0));
    let counter = started.clone();
    let handle = parallel::thread().max_workers(1).async_map(
        move |ms: u64| {
            counter.fetch_add(1, Ordering::SeqCst);
            nap(ms)
        },
        vec![20; 200],
    );
    let _ = tokio::time::timeout(Duration::from_millis(50), handle).await;
    let now = started.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(started.load(Ordering::SeqCst) <= now + 1);
    assert!(now < 200);
}

#[tokio::test(flavor = "current_thread")]
async fn progress_of_an_awaited_call_ends_at_the_total() {
    let seen = Arc::new(Mutex::new(Vec::<Progress>::new()));
    let record = seen.clone();
    let handle = parallel::thread()
        .max_workers(4)
        .silent()
        .on_progress(move |p| record.lock().unwrap().push(p))
        .async_map(|x: u64| nap(x % 3), 0..300);
    let results = handle.await;
    assert_eq!(results.len(), 300);
    let seen = seen.lock().unwrap();
    assert!(seen.windows(2).all(|w| w[0].done <= w[1].done), "monotonic: {seen:?}");
    assert_eq!(seen.last(), Some(&Progress { done: 300, failed: 0, total: Some(300) }));
}
