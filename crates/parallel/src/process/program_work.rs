//! A call on worker processes of *another* program ([`Program`]): the same supervisor, batches,
//! timeouts and crash handling as the process executor, for tasks whose function, parameters
//! and values are bytes encoded by the caller. The Python package runs its tasks in Python
//! interpreters this way: its functions and values are pickled, and Rust never looks inside
//! them.
//!
//! The program reads requests from its stdin and writes one reply per task to its stdout, in
//! the frames of [`wire`](crate::plumbing::wire): a request is `(entry, params, extras)` (the
//! function, each task's parameters, the call's extras, all bytes); a reply is `Value(bytes)`,
//! `Failed(panicked, message)` or `Raised(message, error)`, whose encoded error becomes the
//! failure's [`error`](crate::FailedTask::error) (a `Vec<u8>`). The parameters are
//! [`Encoded`] (every task's bytes in one buffer), the values [`Payload`]s; large buffers cross
//! through shared memory both ways (`shared.rs`).

use std::ops::Range;

use crate::engine::tap::{Arrivals, Ended};
use crate::engine::work::{Interrupt, StartProbe, Work};
use crate::failure::{FailureKind, Fault};
use crate::handle::Handle;
use crate::mode::Mode;
use crate::process::encoded::Encoded;
use crate::process::feed::Feed;
use crate::process::program::Program;
use crate::process::remote::{raw_reply, RemoteCall};
use crate::process::shared::Payload;
use crate::process::Process;

/// The tasks of a call on another program: parameters in, value out, both encoded. A task is
/// its index in the call's parameters, which are [`Encoded`] and fed in runs ([`Feed`]).
struct ProgramWork {
    call: RemoteCall,
    params: Feed,
}

impl Work for ProgramWork {
    type Params = usize;
    type Out = Payload;
    /// The index: the caller knows its tasks by it.
    type Kept = usize;

    fn keep(&self, task: &usize) -> usize {
        *task
    }
    fn describe(&self, task: &usize) -> String {
        match self.params.size(*task) {
            Some(size) => format!("<{size} bytes>"),
            None => "<not held: never fed, or sent and let go of>".to_owned(),
        }
    }
    fn again(&self, task: &usize) -> Option<usize> {
        // Its parameters, unless a releasing feed let go of them once sent.
        self.params.size(*task).map(|_| *task)
    }
    fn run(&self, task: usize) -> Result<Payload, Fault> {
        // A lone task (the tracked path looks at stops itself): only a cancel stops it.
        self.run_many(0, vec![task], &|| false).pop().expect("one outcome per task")
    }
    fn batched(&self) -> bool {
        true
    }
    fn run_many(&self, first: usize, tasks: Vec<usize>, stopped: &dyn Fn() -> bool) -> Vec<Result<Payload, Fault>> {
        if stopped() {
            return tasks.iter().map(|_| Err(Fault::cancelled())).collect();
        }
        let mut outcomes = Vec::with_capacity(tasks.len());
        // A batch's tasks are a run of the call's: sent from where their bytes lie, once fed.
        for run in runs(&tasks) {
            let found = self.params.find(run.clone(), stopped);
            for (start, params) in &found.runs {
                let from = run.start.max(*start) - start;
                let to = (run.start + found.fed).min(start + params.len()) - start;
                if from < to {
                    let at = first.saturating_add(outcomes.len());
                    self.call.send_all(at, params, from..to, &mut outcomes, raw_reply);
                }
            }
            // Tasks never fed: the caller stopped feeding, or the call stopped meanwhile.
            let unfed = run.len() - found.fed;
            outcomes.extend((0..unfed).map(|_| match &found.failed {
                Some(message) => Err(Fault::new(FailureKind::Error, message.clone())),
                None => Err(Fault::cancelled()),
            }));
        }
        outcomes
    }
    fn stop_from(&self, index: usize) {
        self.call.stop_from(index);
    }
    fn interrupt(&self) -> Option<Interrupt> {
        self.call.interrupt()
    }
    /// A worker program that says when it began a batch's tasks (the Python worker, once it
    /// has loaded their function and the extras) has its tasks' `task_timeout` counted from then.
    fn start_probe(&self) -> Option<StartProbe> {
        self.call.start_probe()
    }
}

/// `tasks` as runs of consecutive tasks (a batch is one run; a lone task too).
fn runs(tasks: &[usize]) -> Vec<Range<usize>> {
    let mut runs: Vec<Range<usize>> = Vec::new();
    for &task in tasks {
        match runs.last_mut() {
            Some(run) if run.end == task => run.end += 1,
            _ => runs.push(task..task + 1),
        }
    }
    runs
}

impl<E, M: Mode> Process<E, M> {
    /// Runs one task per element of `params` in worker processes of `program`, with this
    /// executor's options (`max_workers`, timeouts, memory limit, silent): each task sends
    /// `function`, its parameters and `extras` to a worker, and its value is the bytes the
    /// worker replied. A worker that dies fails its task as crashed; the rest of its batch runs
    /// on a new worker. (This executor's typed [`extras`](Self::extras) do not apply.)
    pub fn run_program(
        &self,
        program: &Program,
        function: &[u8],
        extras: &[u8],
        params: impl Into<Encoded>,
    ) -> M::Map<Range<usize>, Payload> {
        let (work, tasks) = self.program_work(program, function, extras, params.into());
        self.call(work, tasks)
    }

    /// [`run_program`](Self::run_program) without blocking: returns a [`Handle`] at once.
    ///
    /// ```
    /// let cat = parallel::plumbing::Program::new(|| std::process::Command::new("cat"));
    /// // `cat` echoes the request frame instead of replying: its reply does not decode, and
    /// // the task fails (it never hangs).
    /// let handle = parallel::process().silent().async_run_program(&cat, b"f", b"", vec![vec![1]]);
    /// assert!(handle.wait()[0].is_err());
    /// ```
    pub fn async_run_program(
        &self,
        program: &Program,
        function: &[u8],
        extras: &[u8],
        params: impl Into<Encoded>,
    ) -> Handle<M::Map<Range<usize>, Payload>>
    where
        M::Map<Range<usize>, Payload>: Send + 'static,
    {
        let (work, tasks) = self.program_work(program, function, extras, params.into());
        self.spawn(work, tasks, |output| output)
    }

    /// [`async_run_program`](Self::async_run_program) for `tasks` tasks whose parameters the
    /// caller feeds while the call runs: push them to the [`Feed`] returned, in task order,
    /// run after run (a pool thread whose tasks are not fed yet waits for them); if the caller
    /// stops before all are fed, it says why with [`Feed::fail`], and the rest fail so.
    ///
    /// ```
    /// use parallel::plumbing::{Encoded, Program};
    ///
    /// let cat = Program::new(|| std::process::Command::new("cat"));
    /// let (feed, handle) = parallel::process().silent().async_run_program_fed(&cat, b"f", b"", 3);
    /// let mut first = Encoded::new();
    /// first.push(&[1], Vec::new());
    /// feed.push(first);
    /// feed.fail("no more parameters");
    /// let outcomes = handle.wait();
    /// assert!(outcomes[2].as_ref().unwrap_err().message().contains("no more parameters"));
    /// ```
    pub fn async_run_program_fed(
        &self,
        program: &Program,
        function: &[u8],
        extras: &[u8],
        tasks: usize,
    ) -> (Feed, Handle<M::Map<Range<usize>, Payload>>)
    where
        M::Map<Range<usize>, Payload>: Send + 'static,
    {
        let feed = Feed::new();
        let work = self.program_work_on(program, function, extras, feed.clone());
        (feed, self.spawn(work, 0..tasks, |output| output))
    }

    /// [`async_run_program_fed`](Self::async_run_program_fed), tapped: each task's outcome
    /// goes to the returned [`Arrivals`] as it arrives — converted by the caller while the
    /// call still runs — and the handle says how the call ended.
    ///
    /// ```
    /// use std::time::Duration;
    /// use parallel::plumbing::{Encoded, Ended, Program};
    /// let cat = Program::new(|| std::process::Command::new("cat"));
    /// let (feed, handle, arrivals) = parallel::process().silent().async_run_program_tapped(&cat, b"f", b"", 2);
    /// let mut params = Encoded::new();
    /// params.push(&[1], Vec::new());
    /// params.push(&[2], Vec::new());
    /// feed.push(params);
    /// assert_eq!(handle.wait(), Ended::Done);
    /// let mut failed = 0;
    /// while let Some(arrived) = arrivals.next_timeout(Duration::ZERO) {
    ///     failed += arrived.failures.len(); // `cat` speaks no protocol: its tasks fail
    /// }
    /// assert_eq!(failed, 2);
    /// ```
    pub fn async_run_program_tapped(
        &self,
        program: &Program,
        function: &[u8],
        extras: &[u8],
        tasks: usize,
    ) -> (Feed, Handle<Ended>, Arrivals<Payload>) {
        let feed = Feed::new();
        let work = self.program_work_on(program, function, extras, feed.clone());
        let (handle, arrivals) = self.spawn_tapped(work, 0..tasks);
        (feed, handle, arrivals)
    }

    /// [`async_run_program_tapped`](Self::async_run_program_tapped) for tasks of a number not
    /// known in advance: `tasks` yields each task's index (0, 1, 2, … in order) once the
    /// caller has pushed its parameters to `feed` — a [`Tasks`](crate::plumbing::Tasks) whose
    /// `take` reads the next tasks from the caller's stream, feeds them and returns their
    /// indices, so the stream is read as the workers take tasks, a few batches ahead of them.
    /// The call's total is known once `tasks` is exhausted. With a
    /// [`releasing`](Feed::releasing) feed, the parameters of the tasks sent are let go of.
    ///
    /// ```
    /// use std::time::Duration;
    /// use parallel::plumbing::{Encoded, Ended, Feed, Program};
    /// let cat = Program::new(|| std::process::Command::new("cat"));
    /// let feed = Feed::releasing();
    /// let mut params = Encoded::new();
    /// params.push(&[1], Vec::new());
    /// params.push(&[2], Vec::new());
    /// feed.push(params);
    /// let (handle, arrivals) =
    ///     parallel::process().silent().async_run_program_streamed(&cat, b"f", b"", feed, parallel::iter(0..2usize));
    /// assert_eq!(handle.wait(), Ended::Done);
    /// let mut outcomes = 0;
    /// while let Some(arrived) = arrivals.next_timeout(Duration::ZERO) {
    ///     outcomes += arrived.len; // `cat` speaks no protocol: its tasks fail
    /// }
    /// assert_eq!(outcomes, 2);
    /// ```
    pub fn async_run_program_streamed<I>(
        &self,
        program: &Program,
        function: &[u8],
        extras: &[u8],
        feed: Feed,
        tasks: I,
    ) -> (Handle<Ended>, Arrivals<Payload>)
    where
        I: crate::inputs::Inputs<Params = usize>,
    {
        let work = self.program_work_on(program, function, extras, feed);
        self.spawn_tapped(work, tasks)
    }

    fn program_work(
        &self,
        program: &Program,
        function: &[u8],
        extras: &[u8],
        params: Encoded,
    ) -> (ProgramWork, Range<usize>) {
        let tasks = 0..params.len();
        (self.program_work_on(program, function, extras, Feed::of(params)), tasks)
    }

    fn program_work_on(&self, program: &Program, function: &[u8], extras: &[u8], params: Feed) -> ProgramWork {
        let call = RemoteCall::new(program.clone(), function.to_vec(), extras.to_vec(), self.backend().memory());
        ProgramWork { call: call.stop_on_failure(!self.keeps_going()).recycle(self.backend().recycle()), params }
    }
}
