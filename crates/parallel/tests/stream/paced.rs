//! A stream goes at its consumer's pace: while the consumer of `as_completed` lags, the call
//! starts no new task and reads no more of its lazy input, so the tasks started (or finished)
//! and not yet handed out stay bounded, however many the call has — and none is lost, a
//! cancel or a timeout still ends it on time. Counted, not timed: the bounds hold on a
//! loaded machine.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::sleep;
use std::time::{Duration, Instant};

use parallel::FailureKind;

/// What `as_completed` promises at most between the tasks started and those handed out, for
/// two workers: 32,768 tasks, the batch a pool thread took with its last turn and the chunk
/// being handed out (4096 each). (Unpaced, a consumer this slow lets the workers finish
/// nearly every task before it has taken a tenth of them; the bounded channel of chunks the
/// pace replaced let processes run 70,000 tasks ahead.)
const AHEAD: usize = 32_768 + 2 * 4096;

/// A consumer that lags: it sleeps a millisecond every `every` outcomes.
fn lagging(every: usize) -> impl FnMut(usize) {
    move |taken| {
        if taken % every == 0 {
            sleep(Duration::from_millis(1));
        }
    }
}

#[test]
fn a_slow_consumer_holds_back_the_tasks_of_a_lazy_input_on_threads() {
    const TASKS: usize = 2_000_000;
    let (started, read) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let counted = read.clone();
    let lazy = (0..TASKS).filter(|_| true).inspect(move |_| _ = counted.fetch_add(1, Ordering::Relaxed));
    let counter = started.clone();
    let task = move |x: usize| {
        counter.fetch_add(1, Ordering::Relaxed);
        x
    };
    let (mut taken, mut sum, mut most_ahead, mut most_read) = (0, 0, 0, 0);
    let mut lag = lagging(2_000);
    for (index, outcome) in parallel::thread().max_workers(2).as_completed(task, lazy) {
        assert_eq!(outcome.expect("a no-op succeeds"), index);
        taken += 1;
        sum += index;
        most_ahead = most_ahead.max(started.load(Ordering::Relaxed) - taken);
        most_read = most_read.max(read.load(Ordering::Relaxed) - taken);
        lag(taken);
    }
    println!("threads: at most {most_ahead} tasks started and {most_read} read ahead of the consumer");
    assert_eq!((taken, sum), (TASKS, TASKS * (TASKS - 1) / 2), "every task handed out once");
    assert!(most_ahead <= AHEAD, "{most_ahead} tasks started ahead of the consumer (at most {AHEAD})");
    assert!(most_read <= AHEAD, "{most_read} inputs read ahead of the consumer (at most {AHEAD})");
}

fn same(x: u64) -> u64 {
    x
}

#[test]
fn a_slow_consumer_holds_back_the_tasks_of_a_lazy_input_on_processes() {
    const TASKS: u64 = 1_000_000;
    let read = Arc::new(AtomicUsize::new(0));
    let counted = read.clone();
    let lazy = (0..TASKS).filter(|_| true).inspect(move |_| _ = counted.fetch_add(1, Ordering::Relaxed));
    let outcomes = parallel::process().max_workers(2).as_completed(same, lazy);
    let observer = outcomes.observer();
    let (mut taken, mut sum, mut most_ahead, mut most_read) = (0, 0, 0, 0);
    let mut lag = lagging(1_000);
    for (index, outcome) in outcomes {
        assert_eq!(outcome.expect("a no-op succeeds"), index as u64);
        taken += 1;
        sum += index as u64;
        // Finished in the worker processes and not handed out yet (counted as done just after
        // it arrives: it may be handed out first).
        most_ahead = most_ahead.max(observer.progress().done.saturating_sub(taken));
        most_read = most_read.max(read.load(Ordering::Relaxed) - taken);
        lag(taken);
    }
    println!("processes: at most {most_ahead} tasks done and {most_read} read ahead of the consumer");
    assert_eq!((taken as u64, sum), (TASKS, TASKS * (TASKS - 1) / 2), "every task handed out once");
    assert!(most_ahead <= AHEAD, "{most_ahead} tasks done ahead of the consumer (at most {AHEAD})");
    assert!(most_read <= AHEAD, "{most_read} inputs read ahead of the consumer (at most {AHEAD})");
}

#[test]
fn a_stream_whose_consumer_pauses_as_a_stream_is_held_back_too() {
    use futures_util::StreamExt;
    let started = Arc::new(AtomicUsize::new(0));
    let counter = started.clone();
    let task = move |x: usize| {
        counter.fetch_add(1, Ordering::Relaxed);
        x
    };
    let mut stream =
        parallel::thread().max_workers(2).as_completed(task, (0..1_000_000).filter(|_| true)).into_stream();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().expect("a runtime");
    let (mut taken, mut most_ahead) = (0, 0);
    runtime.block_on(async {
        while let Some((_, outcome)) = stream.next().await {
            outcome.expect("a no-op succeeds");
            taken += 1;
            most_ahead = most_ahead.max(started.load(Ordering::Relaxed) - taken);
            if taken % 2_000 == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    });
    assert_eq!(taken, 1_000_000);
    assert!(most_ahead <= AHEAD, "{most_ahead} tasks started ahead of the consumer (at most {AHEAD})");
}

/// Waits up to `limit` for `done`, polling.
fn eventually(limit: Duration, done: impl Fn() -> bool) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if done() {
            return true;
        }
        sleep(Duration::from_millis(5));
    }
    done()
}

#[test]
fn a_consumer_that_stops_taking_leaves_the_workers_waiting_not_running_on() {
    let started = Arc::new(AtomicUsize::new(0));
    let counter = started.clone();
    let task = move |x: u64| {
        counter.fetch_add(1, Ordering::Relaxed);
        x
    };
    let mut outcomes = parallel::thread().max_workers(2).as_completed(task, (0u64..).filter(|_| true));
    assert!(outcomes.next().is_some());
    // The workers run until the bound, then wait: the count settles there.
    let settled = || {
        let before = started.load(Ordering::Relaxed);
        sleep(Duration::from_millis(100));
        started.load(Ordering::Relaxed) == before
    };
    assert!(eventually(Duration::from_secs(60), settled), "the workers never stopped");
    let held = started.load(Ordering::Relaxed);
    assert!(held <= AHEAD + 1, "{held} tasks started for a consumer that took one");
    // Taking more lets them go on.
    let more: usize = outcomes.by_ref().take(100_000).count();
    assert_eq!(more, 100_000);
    assert!(started.load(Ordering::Relaxed) > 100_000);
    drop(outcomes); // cancels: the waiting workers end
    let after = started.load(Ordering::Relaxed);
    sleep(Duration::from_millis(100));
    assert!(started.load(Ordering::Relaxed) <= after + 2 * 4096, "the workers ran on after the drop");
}

#[test]
fn a_held_back_stream_still_ends_at_a_cancel_and_at_its_timeout() {
    // Cancelled while its workers wait for the consumer: the tasks read and not started are
    // cancelled, and the rest of the lazy input is never read.
    let endless = || (0u64..).filter(|_| true);
    let mut outcomes = parallel::thread().max_workers(2).as_completed(|x: u64| x, endless());
    assert!(outcomes.next().is_some());
    sleep(Duration::from_millis(50));
    outcomes.cancel();
    let began = Instant::now();
    let (mut ok, mut cancelled) = (1, 0);
    for (_, outcome) in outcomes.by_ref() {
        match outcome {
            Ok(_) => ok += 1,
            Err(failed) => {
                assert_eq!(failed.kind(), &FailureKind::Cancelled);
                cancelled += 1;
            }
        }
    }
    assert!(ok + cancelled <= AHEAD, "{ok} tasks ran and {cancelled} were cancelled: all read ahead");
    assert!(outcomes.is_finished());
    assert!(began.elapsed() < Duration::from_secs(30), "the cancelled stream ended");

    // Past its deadline while the consumer takes nothing: the call ends, the tasks read and
    // not started timed out, and the consumer then gets every outcome.
    let outcomes =
        parallel::thread().max_workers(2).timeout(Duration::from_millis(200)).as_completed(|x: u64| x, endless());
    let observer = outcomes.observer();
    assert!(eventually(Duration::from_secs(60), || observer.is_finished()), "the deadline ended the call");
    let (mut ok, mut timed_out) = (0, 0);
    for (_, outcome) in outcomes {
        match outcome {
            Ok(_) => ok += 1,
            Err(failed) => {
                assert_eq!(failed.kind(), &FailureKind::TimedOut);
                timed_out += 1;
            }
        }
    }
    assert!(ok + timed_out <= AHEAD, "{ok} tasks ran and {timed_out} timed out for a consumer that took none");
    assert!(ok > 0);
}
