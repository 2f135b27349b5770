//! Bounded memory: 2,000,000 tiny tasks from a lazy iterator through the thread executor keep
//! the peak resident memory of the call near the size of the results (8 bytes per `u64`) plus
//! a constant — not a box, a closure or a queued task per input. Measured alone in a fresh
//! process of this binary (`alone`: nothing else runs there, to add to its memory), from `VmHWM`
//! reset before the call. The long version (10,000,000 tasks) is `cargo bench --bench soak`.

use crate::alone;
use crate::soak_support::{peak_per_task, watchdog, Lazy};

const TASKS: u64 = 2_000_000;

/// Generous: the values take 8 bytes per task; a growing `Vec` may briefly hold two copies.
const MAX_BYTES_PER_TASK: f64 = 40.0;

#[test]
fn lazy_inputs_cost_their_results_not_a_box_per_task() {
    if !alone::run_alone(module_path!(), "lazy_inputs_cost_their_results_not_a_box_per_task") {
        return; // it ran in a process of its own: it measures the whole process's peak memory
    }
    watchdog("bounded_memory", std::time::Duration::from_secs(300));
    for input in [Lazy::ExactSize, Lazy::UnknownSize] {
        let peak = peak_per_task(input, TASKS);
        println!("{peak}");
        assert!(
            peak.per_task() < MAX_BYTES_PER_TASK,
            "{input:?}: {:.1} bytes per task over the baseline (bound {MAX_BYTES_PER_TASK})",
            peak.per_task()
        );
    }
}
