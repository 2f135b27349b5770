//! A rank's side of the job — rank 0's own workers included: its worker slots, each a thread
//! that runs one [`Batch`] at a time on a worker process of this machine (the process
//! executor's, from its stash), so a task that crashes fails alone and the rank goes on; and
//! the batches running, so that a stop or a kill from rank 0 reaches them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;

use crossbeam_channel::Sender;

use crate::engine::sync::lock;
use crate::engine::work::Interrupt;
use crate::failure::{FailureKind, Fault};
use crate::mpi::message::{unframe, Batch, Done, Kind, ToRank};
use crate::process::encoded::push_varint;
use crate::process::program::Program;
use crate::process::remote::{raw_reply, RemoteCall};

/// The worker slots of this rank and the batches they run.
pub(crate) struct Server {
    slots: Vec<Sender<Batch>>,
    running: Mutex<HashMap<u64, Running>>,
    /// Where a batch's outcomes go: to rank 0.
    reply: fn(Done),
}

/// A batch being run: its call (which stops its tasks) and the killer of its worker process.
struct Running {
    call: Arc<RemoteCall>,
    killer: Option<Interrupt>,
    killed: bool,
}

impl Server {
    /// Starts `slots` worker slots (threads; their worker processes start with their first
    /// batch), which send each batch's outcomes to `reply`.
    pub(crate) fn start(slots: u32, reply: fn(Done)) -> &'static Server {
        let mut senders = Vec::new();
        let mut receivers = Vec::new();
        for _ in 0..slots.max(1) {
            let (tx, rx) = crossbeam_channel::unbounded::<Batch>();
            senders.push(tx);
            receivers.push(rx);
        }
        let server: &'static Server =
            Box::leak(Box::new(Server { slots: senders, running: Mutex::new(HashMap::new()), reply }));
        for batches in receivers {
            thread::Builder::new()
                .name("parallel-mpi-slot".into())
                .spawn(move || batches.iter().for_each(|batch| server.run(batch)))
                .expect("a worker slot's thread starts");
        }
        server
    }

    /// Handles a message from rank 0; never blocks.
    pub(crate) fn handle(&self, message: ToRank) {
        match message {
            ToRank::Batch(batch) => {
                let call = RemoteCall::new(
                    Program::this_executable(),
                    batch.entry.clone(),
                    batch.extras.clone(),
                    batch.memory,
                )
                .stop_on_failure(batch.strict);
                let running = Running { call: Arc::new(call), killer: None, killed: false };
                lock(&self.running).insert(batch.id, running);
                let slot = (batch.slot as usize) % self.slots.len();
                if let Err(unsent) = self.slots[slot].send(batch) {
                    self.finish(Self::failed(&unsent.0, "its rank's worker slot is gone"));
                }
            }
            ToRank::Stop { id, from } => {
                if let Some(running) = lock(&self.running).get(&id) {
                    running.call.stop_from(from as usize);
                }
            }
            ToRank::Kill { id } => {
                if let Some(running) = lock(&self.running).get_mut(&id) {
                    running.kill();
                }
            }
        }
    }

    /// The job ends: every batch stops, and the worker processes running one are killed.
    pub(crate) fn exit(&self) {
        lock(&self.running).values_mut().for_each(Running::kill);
    }

    /// Runs a batch on this slot's worker process and sends its outcomes.
    fn run(&self, batch: Batch) {
        let Some(call) = lock(&self.running).get(&batch.id).map(|r| r.call.clone()) else { return };
        let count = batch.count as usize;
        let Some(params) = unframe(&batch.framed, count) else {
            return self.finish(Self::failed(&batch, "its parameters did not cross"));
        };
        // The killer of the worker this thread runs the batch on, held from now on.
        let killer = call.interrupt();
        if let Some(running) = lock(&self.running).get_mut(&batch.id) {
            if running.killed {
                killer.into_iter().for_each(|kill| kill());
            } else {
                running.killer = killer;
            }
        }
        let values = RefCell::new(Vec::new());
        let mut outcomes = Vec::with_capacity(count);
        call.send_all(0, &params, 0..count, &mut outcomes, |reply| {
            let payload = raw_reply(reply)?;
            let mut values = values.borrow_mut();
            push_varint(&mut values, payload.bytes().len());
            values.extend_from_slice(payload.bytes());
            Ok(())
        });
        let mut done = Done { id: batch.id, values: values.into_inner(), failures: Vec::new() };
        for (at, outcome) in outcomes.into_iter().enumerate() {
            if let Err(fault) = outcome {
                done.failures.push((at as u32, Kind::from(&fault.kind), fault.message));
            }
        }
        self.finish(done);
    }

    /// A batch's outcomes, when every task failed with `message`.
    fn failed(batch: &Batch, message: &str) -> Done {
        let fault = || Err::<&[u8], _>(Fault::new(FailureKind::Error, message));
        Done::new(batch.id, (0..batch.count).map(|_| fault()).collect())
    }

    /// The batch is over: forgotten here, its outcomes sent.
    fn finish(&self, done: Done) {
        lock(&self.running).remove(&done.id);
        (self.reply)(done);
    }
}

impl Running {
    /// Its tasks not started never start; the one running is killed.
    fn kill(&mut self) {
        self.killed = true;
        self.call.stop_from(0);
        if let Some(kill) = self.killer.take() {
            kill();
        }
    }
}
