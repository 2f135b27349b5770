//! The chaos soak, short: 20,000 tasks in silent mode through the process executor while a
//! thread SIGKILLs a random worker process about every 20 ms. Every task is accounted for —
//! its value, or `Crashed { signal: Some(9) }` for the task its killed worker was running —
//! no task starts twice, the failed ones give their values when run again, and the next call
//! works. The long version (1,000,000 tasks) is `cargo bench --bench soak`.
//!
//! Alone in a fresh process of this binary (`alone`): the killer kills any child of its process,
//! and the other tests' workers are children of theirs.

use std::time::Duration;

use crate::alone;
use crate::soak_support::{soak, watchdog, Counters};

const TASKS: usize = 20_000;

#[test]
fn killing_workers_loses_no_task() {
    if !alone::run_alone(module_path!(), "killing_workers_loses_no_task") {
        return; // it ran in a process of its own: its killer kills any child of it
    }
    watchdog("soak_short", Duration::from_secs(300));
    let counters = Counters::create(TASKS);
    // Each task naps 100 µs, so that the call lasts long enough (about 2 s on 2 cores) for
    // dozens of kills, in the middle of batches.
    let report = soak(&counters, TASKS, Duration::from_micros(100), Duration::from_millis(20));
    println!("{report}");
    assert!(report.ok(), "{report}");
    assert_eq!(report.lost, 0);
    assert_eq!(report.ran_twice, 0);
    assert!(report.kills > 0, "the killer killed nothing, so the soak proved nothing: {report}");
}
