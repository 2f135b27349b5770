//! The one thread of each rank that calls MPI: it initializes MPI, checks that every rank runs
//! rank 0's executable, learns how many worker slots each rank has, then carries messages —
//! [`Command::Send`]s from the other threads out, and every message that comes in to the
//! rank's `deliver` — until the job ends, and finalizes MPI.
//!
//! Sends are non-blocking (each message's bytes are kept until MPI is done with them) and
//! receives are probed, so two ranks sending each other large messages never wait on each
//! other. The thread waits on its command channel between probes, less and less often while
//! nothing happens (from a few microseconds up to [`MAX_WAIT`]), so an idle rank costs
//! nothing and a busy one answers at once.
//!
//! **The end.** Rank 0's [`Command::Shutdown`] sends every other rank [`EXIT`]; each one stops
//! its tasks, answers [`EXIT`] once its last message has gone, and finalizes; rank 0 finalizes
//! once every rank answered. All messages of a pair of ranks share one tag, so MPI delivers
//! them in the order they were sent: a rank's goodbye comes after its last reply.

use std::io::Read;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use rsmpi::request::{Request, StaticScope};
use rsmpi::topology::SimpleCommunicator;
use rsmpi::traits::*;
use rsmpi::Threading;

use crate::mpi::MpiError;

/// What other threads ask of the MPI thread.
pub(crate) enum Command {
    /// Send `bytes` (a message whose first byte is [`DATA`]) to rank `to`.
    Send { to: i32, bytes: Vec<u8> },
    /// End the job: `MPI_Abort` with this code.
    Abort(i32),
    /// Rank 0: end the job cleanly — every rank exits — and say so on the channel.
    Shutdown(Sender<()>),
}

/// The first byte of a message: a message of the ranks ([`message`](crate::mpi::message)).
pub(crate) const DATA: u8 = 0;
/// The first byte of a message: rank 0 says the job ends; a rank's answer, its last message.
const EXIT: u8 = 1;
/// The tag of every message.
const TAG: i32 = 0x7a11;
/// The longest the MPI thread waits between two looks at incoming messages ...
const MAX_WAIT: Duration = Duration::from_millis(1);
/// ... and while it expects one: rank 0 with batches out, whose replies come only through MPI.
const EXPECTING_WAIT: Duration = Duration::from_micros(50);

/// What a rank learns when the job starts.
pub(crate) struct Setup {
    pub(crate) rank: i32,
    /// How many worker slots each rank has, by rank.
    pub(crate) slots: Vec<u32>,
}

/// Where the MPI thread hands what it receives — each message's source and bytes (after its
/// first byte), and, on a rank other than 0, the end of the job — and what it asks of the rank.
pub(crate) struct Handlers {
    pub(crate) deliver: fn(i32, &[u8]),
    pub(crate) exit: fn(),
    /// `true` while a message is expected soon (rank 0 waits for a batch's outcomes).
    pub(crate) expecting: fn() -> bool,
}

/// The MPI thread, started and past its checks: its [`Setup`], the channel of its commands,
/// and its handle (it ends once MPI is finalized).
pub(crate) struct Started {
    pub(crate) setup: Setup,
    pub(crate) commands: Sender<Command>,
    pub(crate) thread: JoinHandle<()>,
    /// Tell the thread to start carrying messages (once the rank's state is in place).
    pub(crate) go: Sender<Handlers>,
}

/// Starts the MPI thread of this rank, which offers `slots(ranks on this machine)` worker
/// slots; returns once MPI is initialized, every rank's executable checked against rank 0's,
/// and the slots of all ranks known. A rank whose executable is not rank 0's prints why and
/// ends the job.
pub(crate) fn start(slots: fn(usize) -> u32) -> Result<Started, MpiError> {
    let (path, hash) = executable_hash()?;
    let (setup_tx, setup_rx) = crossbeam_channel::bounded::<Result<Setup, MpiError>>(1);
    let (go_tx, go_rx) = crossbeam_channel::bounded::<Handlers>(1);
    let (commands_tx, commands_rx) = crossbeam_channel::unbounded();
    let thread = thread::Builder::new()
        .name("parallel-mpi".into())
        .spawn(move || {
            let Some((universe, _)) = rsmpi::initialize_with_threading(Threading::Funneled) else {
                let _ = setup_tx.send(Err(MpiError::AlreadyInitialized));
                return;
            };
            let world = universe.world();
            let (rank, size) = (world.rank(), world.size());
            let root = world.process_at_rank(0);
            let mut leader = hash;
            root.broadcast_into(&mut leader);
            if leader != hash {
                eprintln!("parallel::mpi: {}", MpiError::OtherExecutable { rank, path });
                world.abort(3);
            }
            let here = usize::try_from(world.split_shared(0).size()).unwrap_or(1);
            let slots = slots(here);
            let mut all = vec![0u32; usize::try_from(size).unwrap_or(0)];
            if rank == 0 {
                root.gather_into_root(&slots, &mut all[..]);
            } else {
                root.gather_into(&slots);
            }
            root.broadcast_into(&mut all[..]);
            if setup_tx.send(Ok(Setup { rank, slots: all })).is_err() {
                world.abort(4);
            }
            let Ok(handlers) = go_rx.recv() else { world.abort(4) };
            let pump = Pump { world: &world, rank, size, sending: Vec::new(), handlers };
            // A panic here is a bug of ours: the job ends rather than hangs.
            let ended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pump.run(&commands_rx)));
            match ended {
                Ok(Some(done)) => {
                    drop(universe); // MPI_Finalize
                    let _ = done.send(());
                }
                Ok(None) => drop(universe),
                Err(_) => world.abort(5),
            }
        })
        .map_err(|e| MpiError::Thread(e.to_string()))?;
    match setup_rx.recv() {
        Ok(Ok(setup)) => Ok(Started { setup, commands: commands_tx, thread, go: go_tx }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        Err(_) => Err(MpiError::Thread("the mpi thread ended before the job started".into())),
    }
}

/// The MPI side of one rank, in its thread.
struct Pump<'w> {
    world: &'w SimpleCommunicator,
    rank: i32,
    size: i32,
    /// Messages being sent, with the bytes each one owns.
    sending: Vec<Sending>,
    handlers: Handlers,
}

/// A message MPI sends: its request and the bytes it reads, leaked from their `Box` until
/// the request completes.
struct Sending {
    request: Option<Request<'static, [u8], StaticScope>>,
    bytes: *mut [u8],
}

impl Pump<'_> {
    /// Carries messages until the job ends; on rank 0, returns the channel that waits for
    /// MPI to be finalized.
    fn run(mut self, commands: &Receiver<Command>) -> Option<Sender<()>> {
        let mut quiet = 0u32;
        let mut shutdown: Option<Sender<()>> = None;
        let mut goodbyes = 0;
        let mut leaving = false;
        loop {
            let mut active = false;
            let most = if (self.handlers.expecting)() { EXPECTING_WAIT } else { MAX_WAIT };
            let wait = match quiet {
                0..=15 => Duration::ZERO,
                n => Duration::from_micros(5 << (n - 16).min(8)).min(most),
            };
            let first = if wait.is_zero() {
                commands.try_recv().map_err(|_| RecvTimeoutError::Timeout)
            } else {
                commands.recv_timeout(wait)
            };
            if let Ok(command) = first {
                active = true;
                for command in std::iter::once(command).chain(commands.try_iter()) {
                    match command {
                        Command::Send { to, bytes } if !leaving => self.send(to, bytes),
                        Command::Send { .. } => {} // the job ends: nobody waits for it
                        Command::Abort(code) => self.world.abort(code),
                        Command::Shutdown(done) => {
                            (1..self.size).for_each(|to| self.send(to, vec![EXIT]));
                            shutdown = Some(done);
                        }
                    }
                }
            }
            while let Some(probed) = self.world.any_process().immediate_matched_probe_with_tag(TAG) {
                active = true;
                let from = probed.1.source_rank();
                let (bytes, _) = probed.matched_receive_vec::<u8>();
                match bytes.first() {
                    Some(&DATA) if !leaving => (self.handlers.deliver)(from, &bytes[1..]),
                    Some(&EXIT) if self.rank == 0 => goodbyes += 1,
                    Some(&EXIT) if !leaving => {
                        leaving = true;
                        (self.handlers.exit)();
                        self.send(0, vec![EXIT]);
                    }
                    _ => {}
                }
            }
            self.sending.retain_mut(Sending::done_or_keep);
            if self.sending.is_empty() {
                if self.rank == 0 && shutdown.is_some() && goodbyes == self.size - 1 {
                    return shutdown;
                }
                if leaving {
                    return None;
                }
            }
            quiet = if active { 0 } else { quiet.saturating_add(1) };
        }
    }

    /// Starts sending `bytes` to rank `to`.
    fn send(&mut self, to: i32, bytes: Vec<u8>) {
        let bytes: &'static mut [u8] = Box::leak(bytes.into_boxed_slice());
        let raw: *mut [u8] = bytes;
        // SAFETY: `raw` points to the bytes just leaked, which nothing else holds: MPI reads
        // them through this shared reference until the request completes, and they are freed
        // only then (`done_or_keep`).
        let shared: &'static [u8] = unsafe { &*raw };
        let request = self.world.process_at_rank(to).immediate_send_with_tag(StaticScope, shared, TAG);
        self.sending.push(Sending { request: Some(request), bytes: raw });
    }
}

impl Sending {
    /// `false` (and the bytes freed) once the message is sent.
    fn done_or_keep(&mut self) -> bool {
        let Some(request) = self.request.take() else { return false };
        match request.test() {
            Ok(_) => {
                // SAFETY: the bytes were leaked from a `Box<[u8]>` in `send`, and their one
                // reader, the request, has completed and is gone: nothing refers to them.
                drop(unsafe { Box::from_raw(self.bytes) });
                false
            }
            Err(request) => {
                self.request = Some(request);
                true
            }
        }
    }
}

/// This process's executable and a hash of its bytes: every rank must run the same one.
fn executable_hash() -> Result<(String, u64), MpiError> {
    use std::hash::Hasher;
    let path =
        std::fs::read_link("/proc/self/exe").map_or_else(|_| "/proc/self/exe".to_owned(), |p| p.display().to_string());
    let unreadable = |e: std::io::Error| MpiError::Executable { path: path.clone(), error: e.to_string() };
    let mut file = std::fs::File::open("/proc/self/exe").map_err(unreadable)?;
    let mut hasher = std::hash::DefaultHasher::new();
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut chunk).map_err(unreadable)?;
        if n == 0 {
            break;
        }
        hasher.write(&chunk[..n]);
    }
    Ok((path, hasher.finish()))
}
