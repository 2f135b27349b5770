//! A process forked after using `parallel` gets its own threads and worker processes, and
//! leaves its parent's alone (`forked.rs`).
//!
//! Alone in a fresh process of this binary (`alone`), as in a binary of its own: the child of a
//! fork gets a copy of the whole process, and with other tests running beside it on libtest's
//! threads it would inherit the locks they held at that moment (the allocator's, the pool's) and
//! the pipes of their workers, and it would be a child of their process too.

use std::time::{Duration, Instant};

use crate::alone;

fn double(x: u64) -> u64 {
    x * 2
}

/// Forks; the child runs `f` and exits 0 if it returns `true`. Waits for the child at most
/// 60 s (a hang fails the test instead of hanging it).
fn in_child(f: impl FnOnce() -> bool) -> i32 {
    // SAFETY: the child runs only `f` and `_exit`s; the state it inherits from this process's
    // other threads is what the test is about.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(false);
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child.
        let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if done == pid {
            return if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
        }
        if Instant::now() > deadline {
            // SAFETY: kills and reaps our own child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::waitpid(pid, &mut status, 0);
            }
            panic!("the forked child hung");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_forked_child_runs_its_own_thread_and_process_calls() {
    if !alone::run_alone(module_path!(), "a_forked_child_runs_its_own_thread_and_process_calls") {
        return; // it ran in a process of its own: it forks it
    }
    let inputs: Vec<u64> = (0..100).collect();
    let expected: Vec<u64> = inputs.iter().map(|x| x * 2).collect();
    assert_eq!(parallel::map(double, inputs.clone()).unwrap(), expected);
    assert_eq!(parallel::process().max_workers(2).map(double, inputs.clone()).unwrap(), expected);
    let child = in_child(|| {
        parallel::map(double, (0..100).collect::<Vec<u64>>()).unwrap()[99] == 198
            && parallel::process().max_workers(2).map(double, vec![1u64, 2, 3]).unwrap() == vec![2, 4, 6]
    });
    assert_eq!(child, 0);
    // The parent's pool and workers still serve.
    assert_eq!(parallel::process().max_workers(2).map(double, inputs.clone()).unwrap(), expected);
    assert_eq!(parallel::map(double, inputs).unwrap(), expected);
}
