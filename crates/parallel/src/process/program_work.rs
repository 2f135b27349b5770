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
//! failure's [`error`](crate::FailedTask::error) (a `Vec<u8>`).

use crate::engine::work::{Interrupt, Work};
use crate::failure::Fault;
use crate::handle::Handle;
use crate::mode::Mode;
use crate::process::program::Program;
use crate::process::protocol::Params;
use crate::process::remote::{raw_reply, RemoteCall};
use crate::process::Process;

/// The tasks of a call on another program: parameters in, value out, both encoded.
struct ProgramWork(RemoteCall);

impl Work for ProgramWork {
    type Params = Vec<u8>;
    type Out = Vec<u8>;
    /// Only the size: the caller knows its tasks by index.
    type Kept = usize;

    fn keep(&self, params: &Vec<u8>) -> usize {
        params.len()
    }
    fn describe(&self, len: &usize) -> String {
        format!("<{len} bytes>")
    }
    fn run(&self, params: Vec<u8>) -> Result<Vec<u8>, Fault> {
        // A lone task (the tracked path looks at stops itself): only a cancel stops it.
        self.run_many(0, vec![params], &|| false).pop().expect("one outcome per task")
    }
    fn batched(&self) -> bool {
        true
    }
    fn run_many(&self, first: usize, params: Vec<Vec<u8>>, stopped: &dyn Fn() -> bool) -> Vec<Result<Vec<u8>, Fault>> {
        if stopped() {
            return params.iter().map(|_| Err(Fault::cancelled())).collect();
        }
        let mut outcomes = Vec::with_capacity(params.len());
        let mut encoded = Params::with_capacity(params.len());
        params.iter().for_each(|p| encoded.push(p));
        drop(params);
        self.0.send_all(first, &encoded, &mut outcomes, raw_reply);
        outcomes
    }
    fn stop_from(&self, index: usize) {
        self.0.stop_from(index);
    }
    fn interrupt(&self) -> Option<Interrupt> {
        self.0.interrupt()
    }
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
        params: Vec<Vec<u8>>,
    ) -> M::Map<Vec<Vec<u8>>, Vec<u8>> {
        self.call(self.program_work(program, function, extras), params)
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
        params: Vec<Vec<u8>>,
    ) -> Handle<M::Map<Vec<Vec<u8>>, Vec<u8>>>
    where
        M::Map<Vec<Vec<u8>>, Vec<u8>>: Send + 'static,
    {
        self.spawn(self.program_work(program, function, extras), params, |output| output)
    }

    fn program_work(&self, program: &Program, function: &[u8], extras: &[u8]) -> ProgramWork {
        let call = RemoteCall::new(program.clone(), function.to_vec(), extras.to_vec(), self.backend().memory());
        ProgramWork(call.stop_on_failure(!M::SILENT))
    }
}
