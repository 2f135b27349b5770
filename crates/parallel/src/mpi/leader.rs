//! Rank 0's side of the job: the worker slots of all ranks, handed to the pool threads one
//! batch at a time ([`Leader`]); a call's batches in flight, so that a stop reaches them
//! ([`MpiCall`]); and the [`Work`]s of the MPI executor built on them, for `map`, `try_map`
//! and `par`.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::fmt::Debug;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crossbeam_channel::Sender;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::engine::sync::lock;
use crate::engine::work::{cloned_params, Interrupt, Work};
use crate::failure::{FailureKind, Fault};
use crate::mpi::message::{Batch, Done, ToRank};
use crate::mpi::to_rank;
use crate::par::{ParWork, Task};
use crate::process::encoded::Encoded;
use crate::process::remote::with_par_route;
use crate::process::wire;

/// A worker slot: a rank, and which of its slots.
type Slot = (i32, u32);

/// The worker slots of the job and the batches waiting for their outcomes.
pub(crate) struct Leader {
    free: Mutex<VecDeque<Slot>>,
    freed: Condvar,
    total: usize,
    waiting: Mutex<HashMap<u64, Sender<Done>>>,
    next_id: AtomicU64,
}

impl Leader {
    /// The slots of every rank (`slots[rank]` of each), handed out across the ranks in turn,
    /// the other ranks' before rank 0's own.
    pub(crate) fn new(slots: &[u32]) -> Self {
        let most = slots.iter().copied().max().unwrap_or(0);
        let ranks = (1..slots.len()).chain(std::iter::once(0));
        let order: Vec<usize> = ranks.collect();
        let mut free = VecDeque::new();
        for slot in 0..most {
            for &rank in &order {
                if slot < slots[rank] {
                    free.push_back((rank as i32, slot));
                }
            }
        }
        let total = free.len();
        Leader {
            free: Mutex::new(free),
            freed: Condvar::new(),
            total,
            waiting: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
        }
    }

    /// How many worker slots the job has.
    pub(crate) fn slots(&self) -> usize {
        self.total
    }

    /// A free slot, once there is one.
    fn take(&self) -> Slot {
        let mut free = lock(&self.free);
        loop {
            if let Some(slot) = free.pop_front() {
                return slot;
            }
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn give_back(&self, slot: Slot) {
        lock(&self.free).push_back(slot);
        self.freed.notify_one();
    }

    /// `true` while batches are out, waiting for their outcomes.
    pub(crate) fn expecting(&self) -> bool {
        !lock(&self.waiting).is_empty()
    }

    /// The outcomes of a batch, from its rank.
    pub(crate) fn done(&self, done: Done) {
        if let Some(waiting) = lock(&self.waiting).remove(&done.id) {
            let _ = waiting.send(done);
        }
    }
}

thread_local! {
    /// Where the task this pool thread runs next is sent, once it is: what its
    /// [`Work::interrupt`] kills.
    static TARGET: RefCell<Option<Target>> = const { RefCell::new(None) };
}

/// The rank and batch of a task being run, once it is sent.
type Target = Arc<Mutex<Option<(i32, u64)>>>;

/// A killer for the task this thread runs next: it kills the worker process running its
/// batch, on whichever rank.
fn interrupt() -> Option<Interrupt> {
    let target = Target::default();
    TARGET.with(|t| *t.borrow_mut() = Some(target.clone()));
    Some(Box::new(move || {
        if let Some((rank, id)) = *lock(&target) {
            to_rank(rank, ToRank::Kill { id });
        }
    }))
}

/// What every batch of a call carries besides its parameters, and the call's batches in
/// flight.
pub(crate) struct MpiCall {
    leader: &'static Leader,
    entry: Vec<u8>,
    extras: Vec<u8>,
    memory: Option<u64>,
    strict: bool,
    /// Tasks of the call from this index on must not start.
    stop_at: AtomicUsize,
    /// The batches in flight: the index of each one's first task, its length, its rank, its
    /// number.
    sent: Mutex<Vec<(usize, usize, i32, u64)>>,
}

impl MpiCall {
    pub(crate) fn new(
        leader: &'static Leader,
        entry: Vec<u8>,
        extras: Vec<u8>,
        memory: Option<u64>,
        strict: bool,
    ) -> Self {
        MpiCall {
            leader,
            entry,
            extras,
            memory,
            strict,
            stop_at: AtomicUsize::new(usize::MAX),
            sent: Mutex::new(Vec::new()),
        }
    }

    /// The tasks from `index` on must not start, those sent to a rank included.
    fn stop_from(&self, index: usize) {
        self.stop_at.fetch_min(index, Ordering::AcqRel);
        for &(first, len, rank, id) in lock(&self.sent).iter() {
            if index < first.saturating_add(len) {
                to_rank(rank, ToRank::Stop { id, from: index.saturating_sub(first) as u32 });
            }
        }
    }

    /// Sends tasks `params` — the call's tasks from index `first` on — as one batch to a free
    /// worker slot, waits for its outcomes, and pushes one per task, its value made by
    /// `decode`.
    fn send<T>(
        &self,
        first: usize,
        params: &Encoded,
        outcomes: &mut Vec<Result<T, Fault>>,
        decode: impl Fn(&[u8]) -> Result<T, Fault>,
    ) {
        let count = params.len();
        if count == 0 {
            return;
        }
        let target = TARGET.with(|t| t.borrow_mut().take());
        let cancelled =
            |outcomes: &mut Vec<Result<T, Fault>>| outcomes.extend((0..count).map(|_| Err(Fault::cancelled())));
        if self.stop_at.load(Ordering::Acquire) <= first {
            return cancelled(outcomes);
        }
        let (rank, slot) = self.leader.take();
        let id = self.leader.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = crossbeam_channel::bounded(1);
        lock(&self.leader.waiting).insert(id, tx);
        {
            // Registered and sent under the lock a stop takes: a stop either comes first and
            // is seen here, or comes after the batch and reaches it.
            let mut sent = lock(&self.sent);
            let stop = self.stop_at.load(Ordering::Acquire);
            if stop <= first {
                drop(sent);
                lock(&self.leader.waiting).remove(&id);
                self.leader.give_back((rank, slot));
                return cancelled(outcomes);
            }
            sent.push((first, count, rank, id));
            if let Some(target) = &target {
                *lock(target) = Some((rank, id));
            }
            let batch = Batch {
                id,
                slot,
                entry: self.entry.clone(),
                extras: self.extras.clone(),
                memory: self.memory,
                strict: self.strict,
                count: count as u32,
                framed: params.framed(0, count).to_vec(),
            };
            to_rank(rank, ToRank::Batch(batch));
            if stop < first.saturating_add(count) {
                to_rank(rank, ToRank::Stop { id, from: (stop - first) as u32 });
            }
        }
        let done = rx.recv();
        if let Some(target) = &target {
            *lock(target) = None;
        }
        lock(&self.sent).retain(|s| s.3 != id);
        self.leader.give_back((rank, slot));
        match done {
            Ok(done) => outcomes.extend(done.outcomes(count).into_iter().map(|o| o.and_then(&decode))),
            Err(_) => {
                let lost = || Err(Fault::new(FailureKind::Error, format!("rank {rank} never answered")));
                outcomes.extend((0..count).map(|_| lost()));
            }
        }
    }
}

/// A value of type `T` from its bytes.
fn decode_value<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Fault> {
    wire::decode(bytes).map_err(|e| Fault::new(FailureKind::Error, format!("its value did not cross: {e}")))
}

/// A call on the MPI executor: its tasks cross to the ranks in batches, each run on one
/// worker process of its rank, which runs the call's function on parameters `A` and gives a
/// `T`. It is the [`Maps::Work`](crate::plumbing::Maps::Work) of [`Mpi`](crate::mpi::Mpi),
/// made by `parallel::mpi().map(..)`; code generic over a backend's work can name it.
///
/// ```
/// use parallel::plumbing::Work;
/// fn is_work<W: Work>() {}
/// is_work::<parallel::mpi::MpiWork<u64, u64>>();
/// ```
pub struct MpiWork<A, T> {
    call: MpiCall,
    marker: PhantomData<fn(A) -> T>,
}

impl<A, T> MpiWork<A, T> {
    pub(crate) fn new(call: MpiCall) -> Self {
        MpiWork { call, marker: PhantomData }
    }
}

impl<A, T> Work for MpiWork<A, T>
where
    A: Clone + Debug + Serialize + Send + 'static,
    T: DeserializeOwned + Send + 'static,
{
    cloned_params!(T);

    fn interrupt(&self) -> Option<Interrupt> {
        interrupt()
    }

    fn run(&self, params: A) -> Result<T, Fault> {
        self.run_many(0, vec![params], &|| false).pop().expect("one outcome per task")
    }

    fn batched(&self) -> bool {
        true
    }

    /// Sends the batch to a worker slot of some rank in one message and waits for its
    /// outcomes, which come back in one message. A stop of the call reaches the batch on its
    /// rank (see [`stop_from`](Work::stop_from)).
    fn run_many(&self, first: usize, params: Vec<A>, stopped: &dyn Fn() -> bool) -> Vec<Result<T, Fault>> {
        if stopped() {
            return params.iter().map(|_| Err(Fault::cancelled())).collect();
        }
        let mut outcomes = Vec::with_capacity(params.len());
        let mut encoded = Encoded::with_capacity(params.len(), params.len() * 4);
        let mut from = first;
        for p in &params {
            if let Err(e) = encoded.push_encoded(p) {
                // Run the tasks before it, fail this one, go on with the rest.
                self.call.send(from, &encoded, &mut outcomes, decode_value);
                encoded = Encoded::with_capacity(params.len() - outcomes.len(), 0);
                outcomes.push(Err(Fault::new(FailureKind::Error, format!("its parameters did not cross: {e}"))));
                from = first.saturating_add(outcomes.len());
            }
        }
        self.call.send(from, &encoded, &mut outcomes, decode_value);
        outcomes
    }

    fn stop_from(&self, index: usize) {
        self.call.stop_from(index);
    }
}

/// `par` on the MPI executor: each [remote](crate::prelude::ParallelFn::remote) task is a
/// batch of one, sent to a worker slot of some rank. It is the
/// [`Backend::ParWork`](crate::plumbing::Backend::ParWork) of [`Mpi`](crate::mpi::Mpi).
///
/// ```
/// use parallel::plumbing::Work;
/// fn is_work<W: Work>() {}
/// is_work::<parallel::mpi::MpiParWork<String>>();
/// ```
pub struct MpiParWork<V> {
    par: ParWork<V>,
    leader: &'static Leader,
    memory: Option<u64>,
}

impl<V> MpiParWork<V> {
    pub(crate) fn new(leader: &'static Leader, memory: Option<u64>) -> Self {
        MpiParWork { par: ParWork::new(), leader, memory }
    }
}

impl<V: Send + 'static> Work for MpiParWork<V> {
    type Params = Task<V>;
    type Out = V;
    type Kept = String;

    fn keep(&self, task: &Task<V>) -> String {
        self.par.keep(task)
    }
    fn describe(&self, kept: &String) -> String {
        self.par.describe(kept)
    }
    fn describe_params(&self, task: &Task<V>) -> String {
        self.par.describe_params(task)
    }
    fn run(&self, task: Task<V>) -> Result<V, Fault> {
        let (leader, memory) = (self.leader, self.memory);
        let route = Rc::new(move |entry: &[u8], params: &Encoded| {
            let call = MpiCall::new(leader, entry.to_vec(), Vec::new(), memory, false);
            let mut outcomes = Vec::with_capacity(1);
            call.send(0, params, &mut outcomes, |bytes| Ok(bytes.to_vec()));
            outcomes.pop().unwrap_or_else(|| Err(Fault::new(FailureKind::Error, "no outcome")))
        });
        with_par_route(route, || self.par.run(task))
    }
    fn interrupt(&self) -> Option<Interrupt> {
        interrupt()
    }
}
