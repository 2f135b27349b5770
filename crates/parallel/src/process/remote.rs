//! The parent's side of a task run in a worker process: a [`RemoteCall`] — what every task of
//! a call sends its worker besides its parameters, and the batches the call has sent, so that a
//! stop reaches them — and the [`Work`]s of the process executor built on it. A pool thread
//! holds a worker from the stash for the batch it runs (replaced if it died meanwhile) and gives
//! it back after.

use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::call::TaskFn;
use crate::engine::sync::lock;
use crate::engine::work::{cloned_params, Interrupt, StartProbe, Work};
use crate::failure::{FailureKind, Fault};
use crate::par::{ParWork, Task};
use crate::process::encoded::Encoded;
use crate::process::entry::entry_of;
use crate::process::inbox::Incoming;
use crate::process::program::Program;
use crate::process::protocol::{Carried, Reply, Request};
use crate::process::shared::{Payload, Shared};
use crate::process::stash;
use crate::process::supervisor::{BatchStop, Death, Worker};
use crate::process::wire;

thread_local! {
    /// The worker process this pool thread holds: taken from the stash for the tasks it runs,
    /// given back after each batch.
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };

    /// The memory limit of the `process().par` call this pool thread runs a task of: its
    /// remote tasks were made before the call, and learn it here.
    static PAR_MEMORY: Cell<Option<u64>> = const { Cell::new(None) };
}

/// What every task of a call sends its worker besides its parameters: which program, which
/// function, the extras, the memory limit; and the batches of the call sent to workers, so
/// that a stop reaches the tasks already sent.
pub(crate) struct RemoteCall {
    program: Program,
    entry: Vec<u8>,
    extras: Vec<u8>,
    memory: Option<u64>,
    /// A strict call: a worker skips the rest of its batch after a failed task.
    stop_on_failure: bool,
    /// Tasks of the call from this index on must not start.
    stop_at: AtomicUsize,
    /// The batches being run: the index of each one's first task, its length, its stop.
    sent: Mutex<Vec<(usize, usize, BatchStop)>>,
    /// When a worker is replaced by a new one.
    recycle: Recycle,
}

/// When a worker process is replaced by a new one, whatever its health: after a number of
/// tasks, or once its resident memory passes a size after a task (its value is kept).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Recycle {
    pub(crate) tasks: Option<u64>,
    pub(crate) memory: Option<u64>,
}

impl Recycle {
    /// Where a request to `worker` starting at task `from` ends, at `to` at most: a worker
    /// that is replaced after `n` tasks gets no more than it has left, and one whose memory is
    /// looked at after each task gets one task per request.
    fn end(&self, worker: &Worker, from: usize, to: usize) -> usize {
        let mut end = to;
        if let Some(n) = self.tasks {
            let left = n.saturating_sub(worker.tasks).max(1);
            end = end.min(from.saturating_add(usize::try_from(left).unwrap_or(usize::MAX)));
        }
        if self.memory.is_some() {
            end = end.min(from + 1);
        }
        end
    }

    /// `true` if `worker` must be replaced now.
    fn due(&self, worker: &Worker) -> bool {
        self.tasks.is_some_and(|n| worker.tasks >= n)
            || self.memory.is_some_and(|limit| worker.resident().is_some_and(|rss| rss > limit))
    }
}

impl RemoteCall {
    pub(crate) fn new(program: Program, entry: Vec<u8>, extras: Vec<u8>, memory: Option<u64>) -> Self {
        RemoteCall {
            program,
            entry,
            extras,
            memory,
            stop_on_failure: false,
            stop_at: AtomicUsize::new(usize::MAX),
            sent: Mutex::new(Vec::new()),
            recycle: Recycle::default(),
        }
    }

    /// The same, replacing workers as `recycle` says.
    pub(crate) fn recycle(mut self, recycle: Recycle) -> Self {
        self.recycle = recycle;
        self
    }

    /// The same, for a strict call (see [`Worker::call`]).
    pub(crate) fn stop_on_failure(mut self, strict: bool) -> Self {
        self.stop_on_failure = strict;
        self
    }

    /// The tasks of the call from `index` on must not start, those already sent to a worker
    /// included: see [`Work::stop_from`].
    pub(crate) fn stop_from(&self, index: usize) {
        self.stop_at.fetch_min(index, Ordering::AcqRel);
        for (start, len, stop) in lock(&self.sent).iter() {
            if index < start.saturating_add(*len) {
                stop.stop_from(index.saturating_sub(*start));
            }
        }
    }

    fn stops(&self, index: usize) -> bool {
        index >= self.stop_at.load(Ordering::Acquire)
    }

    /// A killer for the worker this thread will run its next task on, taken now.
    pub(crate) fn interrupt(&self) -> Option<Interrupt> {
        WORKER.with(|slot| {
            let mut slot = slot.borrow_mut();
            self.hold(&mut slot).ok(); // a failure to start is reported by the task
            slot.as_ref().map(Worker::killer)
        })
    }

    /// How to learn when the worker this thread will run its next task on begins to run it,
    /// taken now (after [`interrupt`](Self::interrupt), which makes the thread hold a worker).
    pub(crate) fn start_probe(&self) -> Option<StartProbe> {
        WORKER.with(|slot| slot.borrow().as_ref().map(Worker::start_probe))
    }

    /// Makes `slot` hold a worker of this call's program, taking one from the stash.
    fn hold(&self, slot: &mut Option<Worker>) -> Result<(), String> {
        if slot.as_ref().is_some_and(|w| w.program.same(&self.program) && w.memory == self.memory) {
            // Held since an earlier task: it may have died meanwhile (killed from outside
            // while idle), which is no fault of the next task — replaced, as in the stash.
            if slot.as_ref().is_some_and(Worker::is_alive) {
                return Ok(());
            }
            *slot = None; // reaped as it drops
        }
        if let Some(other) = slot.take() {
            stash::give_back(other);
        }
        let worker = stash::take(&self.program, self.memory);
        *slot = Some(worker.map_err(|e| format!("no worker process could be started: {e}"))?);
        Ok(())
    }

    /// Runs tasks `tasks` of `params` — the call's tasks from index `first` on — on this
    /// thread's worker, starting a new worker after each one that dies, and pushes one outcome
    /// per task, made from its reply by `decode`. Tasks stopped before they start (see
    /// [`stop_from`](Self::stop_from)) are [`Fault::cancelled`]. The large buffers of the
    /// parameters cross through shared memory if the worker can open this process's
    /// descriptors, and in the request otherwise; a request carries at most
    /// [`REQUEST_BUFFERS`] bytes of them (and at least one task).
    pub(crate) fn send_all<T>(
        &self,
        first: usize,
        params: &Encoded,
        tasks: Range<usize>,
        outcomes: &mut Vec<Result<T, Fault>>,
        decode: impl Fn(Incoming<'_>) -> Result<T, Fault>,
    ) {
        let index = |task: usize| first.saturating_add(task - tasks.start);
        let mut next = tasks.start;
        while next < tasks.end {
            if self.stops(index(next)) {
                outcomes.extend((next..tasks.end).map(|_| Err(Fault::cancelled())));
                break;
            }
            let mut end = request_end(params, next, tasks.end);
            let before = outcomes.len();
            let died: Result<Option<Death>, String> = WORKER.with(|slot| {
                let mut slot = slot.borrow_mut();
                self.hold(&mut slot)?;
                let worker = slot.as_mut().expect("started above");
                end = self.recycle.end(worker, next, end);
                // The buffers' memfds live until the request's replies are in.
                let carrying = carry(params, next..end, worker.shares());
                let buffers = carried(&carrying);
                let request = Request {
                    entry: &self.entry,
                    params,
                    from: next,
                    to: end,
                    extras: &self.extras,
                    buffers: &buffers,
                };
                // Registered before it is sent, and looked at again after: a stop either sees
                // this batch, or comes before the look and the batch is not sent.
                let stop = worker.next_stop();
                lock(&self.sent).push((index(next), end - next, stop.clone()));
                let sent = !self.stops(index(next));
                let ran = if sent {
                    worker.call(&request, self.stop_on_failure, |reply| outcomes.push(decode(reply)))
                } else {
                    Ok(())
                };
                lock(&self.sent).retain(|(_, _, s)| !s.same(&stop));
                if !sent {
                    stop.withdraw(); // not sent (cancelled below): its number goes to the next batch
                }
                worker.tasks += (outcomes.len() - before) as u64;
                match ran {
                    Ok(()) => {
                        if self.recycle.due(worker) {
                            *slot = None; // replaced: the next task starts a new worker
                        }
                        Ok(None)
                    }
                    Err(death) => {
                        *slot = None; // reaped: the next task starts a new worker
                        Ok(Some(death))
                    }
                }
            });
            next += outcomes.len() - before;
            match died {
                Ok(None) => {}
                Ok(Some(_)) if next == end => {} // it died after its request's last task
                Ok(Some(death)) => {
                    let kind = FailureKind::Crashed { signal: death.signal, code: death.code };
                    outcomes.push(Err(Fault::new(kind, death.message)));
                    next += 1;
                    if self.stop_on_failure {
                        // A strict call's tasks after a crash never run.
                        self.stop_at.fetch_min(index(next), Ordering::AcqRel);
                    }
                }
                Err(message) => {
                    let failed = tasks.end - next;
                    outcomes.extend((0..failed).map(|_| Err(Fault::new(FailureKind::Error, message.clone()))));
                    next = tasks.end;
                }
            }
        }
        WORKER.with(|slot| slot.borrow_mut().take().map(stash::give_back));
    }
}

/// The most bytes of large buffers one request carries: a batch of large parameters is sent
/// in several requests, so that no more than this is in shared memory at once per worker.
pub(crate) const REQUEST_BUFFERS: usize = 64 << 20;

/// The most large buffers one request carries: each is a descriptor open while the request
/// runs, and a process may have as few as 1,024.
pub(crate) const REQUEST_BUFFER_COUNT: usize = 64;

/// Where the request that starts at task `from` ends: at `to`, or before the task whose
/// buffers would take it past [`REQUEST_BUFFERS`] bytes or [`REQUEST_BUFFER_COUNT`] buffers
/// (it holds one task at least).
fn request_end(params: &Encoded, from: usize, to: usize) -> usize {
    if !params.has_buffers() {
        return to;
    }
    let (mut bytes, mut count) = (0, 0);
    for task in from..to {
        let buffers = params.buffers(task);
        bytes += buffers.iter().map(|b| b.len()).sum::<usize>();
        count += buffers.len();
        if task > from && (bytes > REQUEST_BUFFERS || count > REQUEST_BUFFER_COUNT) {
            return task;
        }
    }
    to
}

/// A large buffer of a request: in a memfd made for it, or in the request itself.
enum Carrying<'a> {
    Shared(u32, Shared),
    Inline(u32, &'a [u8]),
}

/// The large buffers of tasks `tasks`, each in a memfd of its own if `shared` — or, where no
/// memfd can be made (out of descriptors, say), in the request.
fn carry(params: &Encoded, tasks: Range<usize>, shared: bool) -> Vec<Carrying<'_>> {
    let mut carrying = Vec::new();
    for task in tasks.clone() {
        for buffer in params.buffers(task) {
            let at = (task - tasks.start) as u32;
            let memfd = if shared { Shared::write(buffer).ok() } else { None };
            carrying.push(match memfd {
                Some(memfd) => Carrying::Shared(at, memfd),
                None => Carrying::Inline(at, buffer),
            });
        }
    }
    carrying
}

/// How a request names the buffers of [`carry`].
fn carried<'a>(carrying: &'a [Carrying<'a>]) -> Vec<Carried<'a>> {
    (carrying.iter())
        .map(|c| match c {
            Carrying::Shared(task, shared) => {
                Carried::Shared { task: *task, fd: shared.fd() as u32, len: shared.len() as u64 }
            }
            Carrying::Inline(task, bytes) => Carried::Inline { task: *task, bytes },
        })
        .collect()
}

/// The outcome of a reply whose value is the task's value, still encoded, with its large
/// buffers.
pub(crate) fn raw_reply(reply: Incoming<'_>) -> Result<Payload, Fault> {
    match reply {
        // Tiny values are held inline: nothing allocated per task.
        Incoming::Value(bytes) => Ok(Payload::from(bytes)),
        Incoming::Reply(Reply::Mapped(bytes, buffers)) => Ok(Payload::with_buffers(bytes, buffers)),
        Incoming::Reply(reply) => owned_reply(reply).map(Payload::new),
    }
}

/// The outcome of a reply read whole.
fn owned_reply(reply: Reply) -> Result<Vec<u8>, Fault> {
    match reply {
        Reply::Value(bytes) => Ok(bytes),
        // (Only a worker of another program sends buffers beside a value.)
        Reply::Mapped(bytes, _) => Ok(bytes),
        Reply::Shared(..) => {
            Err(Fault::new(FailureKind::Error, "its value's shared buffers were not taken".to_owned()))
        }
        Reply::Failed(true, message) => Err(Fault::new(FailureKind::Panicked, message)),
        Reply::Failed(false, message) => Err(Fault::new(FailureKind::Error, message)),
        Reply::Raised(message, error) => Err(Fault::new(FailureKind::Error, message).with_error(error)),
        Reply::Skipped => Err(Fault::cancelled()),
    }
}

/// The outcome of a reply whose value is a `T` in the [`wire`] codec, decoded from where it
/// was read.
fn decode_reply<T: DeserializeOwned>(reply: Incoming<'_>) -> Result<T, Fault> {
    let decoded = match reply {
        Incoming::Value(bytes) => wire::decode(bytes),
        Incoming::Reply(reply) => wire::decode(&owned_reply(reply)?),
    };
    decoded.map_err(|e| Fault::new(FailureKind::Error, format!("its value did not cross: {e}")))
}

/// A call on the process executor: each task is a round trip to this thread's worker, which
/// runs the call's entry on parameters `A` and gives a `T`.
pub struct RemoteWork<A, T> {
    call: RemoteCall,
    marker: PhantomData<fn(A) -> T>,
}

impl<A, T> RemoteWork<A, T> {
    pub(crate) fn new(call: RemoteCall) -> Self {
        RemoteWork { call, marker: PhantomData }
    }
}

impl<A, T> Work for RemoteWork<A, T>
where
    A: Clone + Debug + Serialize + Send + 'static,
    T: DeserializeOwned + Send + 'static,
{
    cloned_params!(T);

    fn interrupt(&self) -> Option<Interrupt> {
        self.call.interrupt()
    }

    fn run(&self, params: A) -> Result<T, Fault> {
        // A lone task (the tracked path looks at stops itself): only a cancel stops it.
        self.run_many(0, vec![params], &|| false).pop().expect("one outcome per task")
    }

    fn batched(&self) -> bool {
        true
    }

    /// Sends the batch in one message and reads the outcomes as they stream back. If the
    /// worker dies, the task it was running fails as crashed, and the tasks after it run
    /// again on a new worker. A stop of the call reaches the batch in the worker (see
    /// [`stop_from`](Work::stop_from)).
    fn run_many(&self, first: usize, params: Vec<A>, stopped: &dyn Fn() -> bool) -> Vec<Result<T, Fault>> {
        if stopped() {
            return params.iter().map(|_| Err(Fault::cancelled())).collect();
        }
        let mut outcomes = Vec::with_capacity(params.len());
        let mut encoded = Encoded::with_capacity(params.len(), params.len() * 4);
        let mut from = first;
        for p in &params {
            // Into one buffer: no `Vec` per task.
            if let Err(e) = encoded.push_encoded(p) {
                // Unencodable parameters are rare: run the tasks before them, fail this one,
                // and go on with the rest.
                self.call.send_all(from, &encoded, 0..encoded.len(), &mut outcomes, decode_reply);
                encoded = Encoded::with_capacity(params.len() - outcomes.len(), 0);
                let message = format!("its parameters did not cross: {e}");
                outcomes.push(Err(Fault::new(FailureKind::Error, message)));
                from = first.saturating_add(outcomes.len());
            }
        }
        self.call.send_all(from, &encoded, 0..encoded.len(), &mut outcomes, decode_reply);
        outcomes
    }

    fn stop_from(&self, index: usize) {
        self.call.stop_from(index);
    }
}

/// Where a `par` remote task runs when not on this machine's workers: its function's entry and
/// its parameters in, its value's bytes out (the MPI executor sends it to a rank).
#[cfg(feature = "mpi")]
pub(crate) type ParRoute = std::rc::Rc<dyn Fn(&[u8], &Encoded) -> Result<Vec<u8>, Fault>>;

#[cfg(feature = "mpi")]
thread_local! {
    /// The route of the `par` remote tasks this pool thread runs, if they go elsewhere.
    static PAR_ROUTE: RefCell<Option<ParRoute>> = const { RefCell::new(None) };
}

/// Runs `f` — a `par` task — with its remote tasks sent along `route`.
#[cfg(feature = "mpi")]
pub(crate) fn with_par_route<R>(route: ParRoute, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<ParRoute>);
    impl Drop for Restore {
        fn drop(&mut self) {
            PAR_ROUTE.with(|route| *route.borrow_mut() = self.0.take());
        }
    }
    let _restore = Restore(PAR_ROUTE.with(|r| r.replace(Some(route))));
    f()
}

/// A task that calls `F` with `args` in this thread's worker process; for `par`.
pub(crate) fn remote_task<F, K, A>(args: A) -> Task<F::Output>
where
    F: TaskFn<A, (), K> + Copy,
    F::Output: Serialize + DeserializeOwned + Send + 'static,
    A: Debug + Serialize + DeserializeOwned + Send + 'static,
    K: 'static,
{
    Task::fallible(args, move |args| {
        let mut params = Encoded::with_capacity(1, 16);
        params.push_encoded(&args).map_err(|e| Fault::new(FailureKind::Error, format!("its parameters: {e}")))?;
        #[cfg(feature = "mpi")]
        if let Some(route) = PAR_ROUTE.with(|route| route.borrow().clone()) {
            let value = route(&entry_of::<F, K, A>(), &params)?;
            return wire::decode(&value)
                .map_err(|e| Fault::new(FailureKind::Error, format!("its value did not cross: {e}")));
        }
        // `()` extras encode to nothing; the memory limit is the running call's.
        let memory = PAR_MEMORY.with(Cell::get);
        let call = RemoteCall::new(Program::this_executable(), entry_of::<F, K, A>().to_vec(), Vec::new(), memory);
        let mut outcomes = Vec::with_capacity(1);
        call.send_all(0, &params, 0..1, &mut outcomes, decode_reply::<F::Output>);
        outcomes.pop().unwrap_or_else(|| Err(Fault::new(FailureKind::Error, "no outcome")))
    })
}

/// `par` on the process executor: the tasks call their worker themselves, under the call's
/// memory limit; a task past its timeout gets its worker killed.
pub struct RemoteParWork<V>(pub(crate) ParWork<V>, pub(crate) Option<u64>);

impl<V: Send + 'static> Work for RemoteParWork<V> {
    type Params = Task<V>;
    type Out = V;
    type Kept = String;

    fn keep(&self, task: &Task<V>) -> String {
        self.0.keep(task)
    }
    fn describe(&self, kept: &String) -> String {
        self.0.describe(kept)
    }
    fn describe_params(&self, task: &Task<V>) -> String {
        self.0.describe_params(task)
    }
    fn run(&self, task: Task<V>) -> Result<V, Fault> {
        let before = PAR_MEMORY.with(|memory| memory.replace(self.1));
        let outcome = self.0.run(task);
        PAR_MEMORY.with(|memory| memory.set(before));
        outcome
    }
    fn interrupt(&self) -> Option<Interrupt> {
        // The tasks of `par` run this executable's functions.
        RemoteCall::new(Program::this_executable(), Vec::new(), Vec::new(), self.1).interrupt()
    }
}
