//! The process executor: values come back in input order, and a task that panics, aborts,
//! segfaults or exits fails alone with a precise kind while the others complete — and the
//! next call works.
//!
//! This file has its own `main` (`harness = false`): worker processes are this test binary
//! started again, and `parallel::init()` must run first thing in `main`.

use parallel::FailureKind;

fn square(x: u64) -> u64 {
    x * x
}

fn add(x: u32, y: u32, offset: &u32) -> u32 {
    x + y + offset
}

/// 0 → value; 1 → panic; 2 → abort; 3 → segfault; 4 → exit(3).
fn misbehave(what: u8) -> u8 {
    match what {
        1 => panic!("task asked to panic"),
        2 => std::process::abort(),
        // SAFETY: none: this writes through a null pointer on purpose, to die of SIGSEGV.
        3 => unsafe { std::ptr::null_mut::<u8>().write_volatile(1) },
        4 => std::process::exit(3),
        _ => {}
    }
    what
}

fn values_come_back_in_input_order() {
    let out = parallel::process().map(square, 0..200u64).unwrap();
    assert_eq!(out, (0..200u64).map(|x| x * x).collect::<Vec<_>>());
    let out = parallel::process().max_workers(3).map(|s: String| s.len(), vec!["a".to_owned(), "bcd".to_owned()]);
    assert_eq!(out.unwrap(), vec![1, 3]);
}

fn tuples_and_extras_cross() {
    let out = parallel::process().extras(100u32).map(add, vec![(1, 2), (3, 4)]).unwrap();
    assert_eq!(out, vec![103, 107]);
}

fn each_failure_is_alone_and_precise() {
    let inputs = vec![0u8, 1, 0, 2, 0, 3, 0, 4, 0];
    let results = parallel::process().max_workers(2).silent().map(misbehave, inputs.clone());
    assert_eq!(results.len(), inputs.len());
    for (i, what) in inputs.iter().enumerate() {
        let outcome = &results[i];
        match what {
            0 => assert_eq!(outcome, &Ok(0), "task {i}"),
            1 => {
                let failed = outcome.as_ref().unwrap_err();
                assert_eq!(*failed.kind(), FailureKind::Panicked);
                assert_eq!(failed.message(), "task asked to panic");
            }
            2 => assert_eq!(
                *outcome.as_ref().unwrap_err().kind(),
                FailureKind::Crashed { signal: Some(libc_sigabrt()), code: None }
            ),
            3 => {
                assert_eq!(*outcome.as_ref().unwrap_err().kind(), FailureKind::Crashed { signal: Some(11), code: None })
            }
            4 => {
                let failed = outcome.as_ref().unwrap_err();
                assert_eq!(*failed.kind(), FailureKind::Crashed { signal: None, code: Some(3) });
                assert_eq!(failed.message(), "its worker process exited with code 3");
                assert_eq!(failed.params(), "4");
            }
            _ => unreachable!(),
        }
    }
    // The pool healed: the next call works.
    assert_eq!(parallel::process().max_workers(2).map(misbehave, vec![0, 0, 0]).unwrap(), vec![0, 0, 0]);
}

fn libc_sigabrt() -> i32 {
    6
}

fn strict_mode_reports_the_crash() {
    let err = parallel::process().max_workers(1).map(misbehave, vec![0, 4, 0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "task 1 with parameters 4 crashed its worker process: its worker process exited with code 3"
    );
}

/// The states of this process's children, from `/proc` (`Z` is a zombie).
fn children() -> Vec<(u32, char)> {
    let me = std::process::id();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid ...: the comm may hold spaces, so split after its `)`.
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(me) {
            let pid = head.split_whitespace().next().unwrap().parse().unwrap();
            found.push((pid, fields[0].chars().next().unwrap()));
        }
    }
    found
}

fn crashed_workers_leave_no_zombie() {
    let _ = parallel::process().max_workers(2).silent().map(misbehave, vec![2, 3, 4, 2, 3, 4]);
    let zombies: Vec<_> = children().into_iter().filter(|(_, state)| *state == 'Z').collect();
    assert!(zombies.is_empty(), "zombie workers: {zombies:?}");
    // Live workers wait for the next task: at most one per worker thread of the pool.
    assert!(children().len() <= 2 + std::thread::available_parallelism().map_or(1, |n| n.get()));
}

fn main() {
    parallel::init();
    let tests: [(&str, fn()); 5] = [
        ("crashed_workers_leave_no_zombie", crashed_workers_leave_no_zombie),
        ("values_come_back_in_input_order", values_come_back_in_input_order),
        ("tuples_and_extras_cross", tuples_and_extras_cross),
        ("each_failure_is_alone_and_precise", each_failure_is_alone_and_precise),
        ("strict_mode_reports_the_crash", strict_mode_reports_the_crash),
    ];
    for (name, test) in tests {
        test();
        println!("test {name} ... ok");
    }
    println!("test result: ok. {} passed", tests.len());
}
