//! The reliability checks shared by the modules `soak_short`, `no_leaks` and `bounded_memory`
//! of the `reliability` test binary and by the long versions in `benches/soak.rs` (both include
//! this file by path):
//!
//! * what this process holds, read from `/proc`: its children (live and zombie), descriptors,
//!   threads, resident memory and peak resident memory;
//! * a [`Killer`] thread that SIGKILLs a random worker process of ours every so often;
//! * [`Counters`]: one byte per task in a shared file that worker processes bump as each task
//!   starts, so that a task run twice is seen even when its two outcomes could not both show;
//! * the chaos [`soak`], the [`leak_check`] and the [`peak_per_task`] measurement themselves.
//!
//! Everything asserts correctness only, never timing: these run in `make test` on loaded
//! machines.

// Each includer uses the subset it needs.
#![allow(dead_code)]

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use parallel::FailureKind;

// --- /proc ------------------------------------------------------------------------------------

/// The state (`R`, `S`, `Z`…) and parent pid of process `pid`, if it exists.
pub fn stat_of(pid: i32) -> Option<(char, i32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // pid (comm) state ppid …: the comm may hold spaces and parentheses, so split after the last `)`.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

/// This process's children: pid and state (`Z` for a zombie).
pub fn children() -> Vec<(i32, char)> {
    let me = std::process::id() as i32;
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| match stat_of(pid) {
            Some((state, ppid)) if ppid == me => Some((pid, state)),
            _ => None,
        })
        .collect()
}

fn count_dir(path: &str) -> usize {
    fs::read_dir(path).map_or(0, |d| d.count())
}

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`: given there in kB).
pub fn status_bytes(field: &str) -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Resident memory now, from `/proc/self/statm` (pages × page size).
pub fn rss_bytes() -> u64 {
    let statm = fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    pages * page
}

/// Resets the peak resident memory (`VmHWM`) to the current one (Linux ≥ 4.0); `false` if
/// the kernel refused, and then the peak is the process's since it started.
pub fn reset_peak() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// What this process holds at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Open file descriptors (`/proc/self/fd`).
    pub fds: usize,
    /// Threads (`/proc/self/task`).
    pub threads: usize,
    /// Children that are not zombies (idle worker processes wait in the stash by design).
    pub children: usize,
    /// Children that died and were not reaped.
    pub zombies: usize,
    /// Resident memory, bytes.
    pub rss: u64,
}

impl Snapshot {
    /// Now.
    pub fn take() -> Snapshot {
        let kids = children();
        let zombies = kids.iter().filter(|(_, s)| *s == 'Z').count();
        Snapshot {
            // Minus the descriptor `read_dir` itself holds while it lists.
            fds: count_dir("/proc/self/fd").saturating_sub(1),
            threads: count_dir("/proc/self/task"),
            children: kids.len() - zombies,
            zombies,
            rss: rss_bytes(),
        }
    }

    /// After up to 7 s for the children that died to be reaped (a worker killed at a timeout is
    /// reaped by the pool thread that ran it, a moment after the call returned — rarely only
    /// when that thread idles out, after 5 s: see docs/reliability.md) and for the stash to be
    /// done replacing them: the same children and descriptors in two looks 50 ms apart. (Taken
    /// while a killed worker's replacement was starting, a count was one worker short, and the
    /// next count seemed to grow.)
    pub fn settled() -> Snapshot {
        let deadline = Instant::now() + Duration::from_secs(7);
        let mut last: Option<Snapshot> = None;
        loop {
            let now = Snapshot::take();
            let steady = last.is_some_and(|l| (l.children, l.fds) == (now.children, now.fds));
            if (now.zombies == 0 && steady) || Instant::now() >= deadline {
                return now;
            }
            last = Some(now);
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl fmt::Display for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>3} fds, {:>2} threads, {} children, {} zombies, RSS {:>6.1} MiB",
            self.fds,
            self.threads,
            self.children,
            self.zombies,
            self.rss as f64 / (1 << 20) as f64
        )
    }
}

// --- the killer -------------------------------------------------------------------------------

/// SIGKILLs child `pid` if it is still a live child of ours — through a pidfd, so that a pid
/// reused by another process after the check is never signalled. `true` if the signal went.
pub fn kill_child(pid: i32) -> bool {
    let me = std::process::id() as i32;
    // SAFETY: plain system calls on a descriptor this function owns and closes.
    unsafe {
        let fd = libc::syscall(libc::SYS_pidfd_open, pid, 0) as i32;
        if fd < 0 {
            // No pidfd (kernel < 5.3), or the process is gone: the check then the kill.
            return matches!(stat_of(pid), Some((s, p)) if p == me && s != 'Z') && libc::kill(pid, libc::SIGKILL) == 0;
        }
        // The pidfd names the process that had `pid` when it was opened; if that one is still
        // our live child, the signal reaches it and nothing else.
        let ours = matches!(stat_of(pid), Some((s, p)) if p == me && s != 'Z');
        let sent = ours
            && libc::syscall(libc::SYS_pidfd_send_signal, fd, libc::SIGKILL, std::ptr::null::<libc::siginfo_t>(), 0)
                == 0;
        libc::close(fd);
        sent
    }
}

/// A thread that SIGKILLs a random live child process of ours about every `period` (between
/// half and one and a half of it), until stopped or `max_kills` were sent.
pub struct Killer {
    stop: Arc<AtomicBool>,
    kills: Arc<AtomicUsize>,
    victims: Arc<Mutex<Vec<i32>>>,
    thread: Option<JoinHandle<()>>,
}

impl Killer {
    /// Starts killing.
    pub fn start(period: Duration, max_kills: usize) -> Killer {
        let stop = Arc::new(AtomicBool::new(false));
        let kills = Arc::new(AtomicUsize::new(0));
        let victims = Arc::new(Mutex::new(Vec::new()));
        let (stopped, killed, signalled) = (stop.clone(), kills.clone(), victims.clone());
        let thread = thread::Builder::new()
            .name("soak-killer".into())
            .spawn(move || {
                let mut random = Random::seeded();
                while !stopped.load(Ordering::SeqCst) && killed.load(Ordering::SeqCst) < max_kills {
                    let jitter = random.below(period.as_micros() as u64 + 1);
                    let pause = period / 2 + Duration::from_micros(jitter);
                    // In small steps, so that `stop` returns soon.
                    let until = Instant::now() + pause;
                    while Instant::now() < until && !stopped.load(Ordering::SeqCst) {
                        thread::sleep((until - Instant::now()).min(Duration::from_millis(5)));
                    }
                    if stopped.load(Ordering::SeqCst) {
                        break;
                    }
                    let live: Vec<i32> = children().into_iter().filter(|(_, s)| *s != 'Z').map(|(p, _)| p).collect();
                    if live.is_empty() {
                        continue;
                    }
                    let victim = live[random.below(live.len() as u64) as usize];
                    if kill_child(victim) {
                        killed.fetch_add(1, Ordering::SeqCst);
                        signalled.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(victim);
                    }
                }
            })
            .expect("the killer thread");
        Killer { stop, kills, victims, thread: Some(thread) }
    }

    /// Kills sent so far.
    pub fn kills(&self) -> usize {
        self.kills.load(Ordering::SeqCst)
    }

    /// Stops the killer; returns how many workers it killed, once every one it signalled is
    /// dead (a zombie or reaped): a worker killed while idle is then seen dead by the stash,
    /// not handed to the next task to die under it.
    pub fn stop(mut self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let victims = self.victims.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline
            && victims
                .iter()
                .any(|&p| stat_of(p).is_some_and(|(state, ppid)| state != 'Z' && ppid == std::process::id() as i32))
        {
            thread::sleep(Duration::from_millis(5));
        }
        self.kills()
    }
}

impl Drop for Killer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// xorshift64*: enough randomness to pick a victim.
struct Random(u64);

impl Random {
    fn seeded() -> Random {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos());
        Random((nanos as u64 ^ u64::from(std::process::id()) << 32) | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// Aborts the process with `what` if it still runs `limit` from now: a hang is a bug, and a
/// test that hangs would hang `make test` instead of reporting it.
pub fn watchdog(what: &'static str, limit: Duration) {
    thread::Builder::new()
        .name("soak-watchdog".into())
        .spawn(move || {
            thread::sleep(limit);
            eprintln!("{what}: still running after {limit:?}: a hang; aborting. Children: {:?}", children());
            std::process::abort();
        })
        .expect("the watchdog thread");
}

// --- execution counters shared with the workers -----------------------------------------------

/// The counter file of the process `pid`'s soak (its workers find it from their parent's pid).
fn counters_path(pid: u32) -> PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() { shm.to_path_buf() } else { std::env::temp_dir() };
    dir.join(format!("parallel-soak-{pid}"))
}

/// Maps `file` (of `len` bytes) shared, for the life of the process.
fn map_shared(file: &File, len: usize) -> Option<&'static [AtomicU8]> {
    if len == 0 {
        return None;
    }
    // SAFETY: a fresh shared mapping of a file we opened read-write, never unmapped: the
    // slice lives as long as the process. `AtomicU8` has the layout of `u8`, and every access
    // to the bytes, from any process, is atomic.
    unsafe {
        let at = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        );
        if at == libc::MAP_FAILED {
            return None;
        }
        Some(std::slice::from_raw_parts(at.cast::<AtomicU8>(), len))
    }
}

/// One byte per task, in a file shared with the worker processes: each task adds one to its
/// byte as it starts (see [`mark`]), so the parent can tell how many times each task ran.
pub struct Counters {
    path: PathBuf,
    bytes: &'static [AtomicU8],
}

impl Counters {
    /// Room for `len` tasks. One per process: workers map the file once and keep it.
    pub fn create(len: usize) -> Counters {
        let path = counters_path(std::process::id());
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
        file.set_len(len as u64).unwrap();
        let bytes = map_shared(&file, len).expect("mmap of the counters");
        Counters { path, bytes }
    }

    /// Zeroes the first `n` counters.
    pub fn reset(&self, n: usize) {
        assert!(n <= self.bytes.len(), "counters for {} tasks, not {n}", self.bytes.len());
        self.bytes[..n].iter().for_each(|b| b.store(0, Ordering::SeqCst));
    }

    /// How many times task `i` started.
    pub fn runs(&self, i: usize) -> u8 {
        self.bytes[i].load(Ordering::SeqCst)
    }
}

impl Drop for Counters {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// In a worker: counts one start of task `i` in its parent's counters (if it has some).
pub fn mark(i: u64) {
    static MINE: OnceLock<Option<&'static [AtomicU8]>> = OnceLock::new();
    let counters = MINE.get_or_init(|| {
        // SAFETY: getppid has no preconditions.
        let parent = unsafe { libc::getppid() } as u32;
        let file = OpenOptions::new().read(true).write(true).open(counters_path(parent)).ok()?;
        let len = file.metadata().ok()?.len() as usize;
        map_shared(&file, len)
    });
    if let Some(byte) = counters.and_then(|c| c.get(i as usize)) {
        let _ = byte.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| Some(b.saturating_add(1)));
    }
}

// --- the chaos soak ---------------------------------------------------------------------------

/// The value of task `i`: a function of its index only (splitmix64), so a value in the wrong
/// slot is seen.
pub fn value(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A soak task, run in a worker process: counts its start, naps `nap_us` µs, gives its value.
pub fn soak_task(i: u64, nap_us: &u64) -> u64 {
    mark(i);
    if *nap_us > 0 {
        thread::sleep(Duration::from_micros(*nap_us));
    }
    value(i)
}

/// What a soak did and found.
#[derive(Debug, Default)]
pub struct SoakReport {
    /// Tasks in the call.
    pub tasks: usize,
    /// How long each task naps.
    pub nap: Duration,
    /// Worker processes killed during the call.
    pub kills: usize,
    /// Tasks that failed.
    pub failures: usize,
    /// Failures of another kind than `Crashed { signal: Some(9) }`, or in the wrong slot (also
    /// counted as lost). Must be 0.
    pub other_failures: usize,
    /// Tasks without their value nor the expected failure: missing, a wrong value, a value in
    /// the wrong slot, another kind of failure. Must be 0.
    pub lost: usize,
    /// Tasks that started more than once. Must be 0.
    pub ran_twice: usize,
    /// Tasks with a value that never started (the counters did not see them). Must be 0.
    pub unseen: usize,
    /// Failed tasks whose re-run gave their value.
    pub rerun_ok: usize,
    /// A call after the soak, without the killer, gave every value.
    pub healthy: bool,
    /// Zombie children left after the soak settled.
    pub zombies: usize,
    /// The soak call's wall time.
    pub wall: Duration,
    /// The first problems found, described.
    pub problems: Vec<String>,
}

impl SoakReport {
    /// Notes a problem (the first 20).
    fn problem(&mut self, what: String) {
        if self.problems.len() < 20 {
            self.problems.push(what);
        }
    }

    /// `true` if every check passed.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for SoakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tasks: {}, nap: {:?}, workers killed: {}, failures: {} (all Crashed {{ signal: Some(9) }}: {}), \
             lost: {}, ran twice: {}, re-run of the failed: {}/{} values, pool healthy after: {}, zombies: {}, \
             wall time: {:.2} s",
            self.tasks,
            self.nap,
            self.kills,
            self.failures,
            if self.other_failures == 0 { "yes" } else { "NO" },
            self.lost,
            self.ran_twice,
            self.rerun_ok,
            self.failures,
            if self.healthy { "yes" } else { "NO" },
            self.zombies,
            self.wall.as_secs_f64()
        )?;
        for problem in &self.problems {
            write!(f, "\n  PROBLEM: {problem}")?;
        }
        Ok(())
    }
}

/// Runs `tasks` tasks of `nap` each in silent mode through `parallel::process()` while a
/// [`Killer`] SIGKILLs a random worker about every `period`, then checks every outcome: a
/// value — the right one, from a task that ran once — or a `Crashed { signal: Some(9) }` from
/// a task that ran at most once; no more failures than kills; the failed tasks give their
/// values when run again; and the next call works.
pub fn soak(counters: &Counters, tasks: usize, nap: Duration, period: Duration) -> SoakReport {
    let nap_us = nap.as_micros() as u64;
    let mut report = SoakReport { tasks, nap, ..SoakReport::default() };
    counters.reset(tasks);
    // Workers wait in the stash from the calls before: start with them.
    let killer = Killer::start(period, usize::MAX);
    let started = Instant::now();
    let results = parallel::process().extras(nap_us).silent().map(soak_task, 0..tasks as u64);
    report.wall = started.elapsed();
    report.kills = killer.stop();

    if results.len() != tasks {
        report.lost += tasks.abs_diff(results.len());
        report.problem(format!("{} outcomes for {tasks} tasks", results.len()));
    }
    let mut failed = Vec::new();
    for (i, outcome) in results.iter().enumerate() {
        let runs = counters.runs(i);
        if runs > 1 {
            report.ran_twice += 1;
            report.problem(format!("task {i} started {runs} times"));
        }
        match outcome {
            Ok(v) if *v == value(i as u64) => {
                if runs == 0 {
                    report.unseen += 1;
                    report.problem(format!("task {i} has its value but never started"));
                }
            }
            Ok(v) => {
                report.lost += 1;
                report.problem(format!("task {i} gave {v:#x}, not its value {:#x}", value(i as u64)));
            }
            Err(e) => {
                report.failures += 1;
                failed.push(i as u64);
                if e.index() != i {
                    report.lost += 1;
                    report.other_failures += 1;
                    report.problem(format!("the failure in slot {i} is task {}'s: {e}", e.index()));
                } else if *e.kind() != (FailureKind::Crashed { signal: Some(9), code: None }) {
                    report.lost += 1;
                    report.other_failures += 1;
                    report.problem(format!("task {i} failed as {:?}: {e}", e.kind()));
                }
            }
        }
    }
    if report.failures > report.kills {
        let what = format!("{} failures for {} kills", report.failures, report.kills);
        report.problem(what);
    }
    drop(results);

    // The failed tasks, run again without the killer, give their values.
    let rerun = parallel::process().extras(nap_us).silent().map(soak_task, failed.clone());
    for (outcome, &i) in rerun.iter().zip(&failed) {
        match outcome {
            Ok(v) if *v == value(i) => report.rerun_ok += 1,
            other => report.problem(format!("task {i} run again: {other:?}")),
        }
    }
    // The pool is healthy: a strict call gives every value.
    match parallel::process().extras(0u64).map(soak_task, 0..1_000u64) {
        Ok(values) => {
            report.healthy = values.iter().enumerate().all(|(i, v)| *v == value(i as u64));
            if !report.healthy {
                report.problem("the call after the soak gave wrong values".to_owned());
            }
        }
        Err(e) => report.problem(format!("the call after the soak failed: {e}")),
    }
    report.zombies = Snapshot::settled().zombies;
    if report.zombies > 0 {
        let what = format!("{} zombie children after the soak: {:?}", report.zombies, children());
        report.problem(what);
    }
    report
}

// --- no leaks ---------------------------------------------------------------------------------

/// One executor of the leak check: a name and one call, which checks its own outcome and
/// returns how many of its tasks failed as `Crashed { signal: Some(9) }` though nothing killed
/// them (see [`killed`]).
pub struct Executor {
    /// What the call does.
    pub name: &'static str,
    /// One call.
    pub call: fn() -> usize,
}

fn double(x: u64) -> u64 {
    x * 2
}

fn nap_ms(ms: u64) -> u64 {
    thread::sleep(Duration::from_millis(ms));
    ms
}

/// The thread executor's `map`.
pub fn thread_map() -> usize {
    let out = parallel::map(double, 0..1_000u64).unwrap();
    assert_eq!(out[999], 1_998);
    0
}

/// The thread executor's `async_map`, waited on.
pub fn thread_async_map() -> usize {
    let out = parallel::async_map(double, 0..1_000u64).wait().unwrap();
    assert_eq!(out[999], 1_998);
    0
}

/// The process executor's `map`.
pub fn process_map() -> usize {
    let out = parallel::process().map(double, 0..200u64).unwrap();
    assert_eq!(out[199], 398);
    0
}

/// How long the killing calls wait for their stuck task.
const KILL_AFTER: Duration = Duration::from_millis(20);

/// Checks a killing call's outcomes: the stuck task (at `stuck`) timed out; a quick one gave
/// its value, or timed out too if its worker was still starting on a loaded machine. A quick
/// task that failed as `Crashed { signal: Some(9) }` was hit by a *stray kill* — the killer of
/// a worker whose task had ended, fired after the worker went back to the stash (fixed in
/// issue 5: killers only act while their worker's lease lasts) — and fails the check. Returns
/// the number of stray kills (always 0 when it returns).
fn killed<I: parallel::traits::Inputs>(results: &parallel::Results<I, u64>, stuck: usize) -> usize {
    for (i, outcome) in results.iter().enumerate() {
        match outcome {
            Ok(0) if i != stuck => {}
            Err(e) if *e.kind() == FailureKind::TimedOut => {}
            other => panic!("task {i} of a killing call (a stray kill, if it crashed): {other:?}"),
        }
    }
    0
}

/// The process executor with a call `timeout` that kills the worker of a stuck task.
pub fn process_timeout_kill() -> usize {
    killed(&parallel::process().timeout(KILL_AFTER).silent().map(nap_ms, vec![0, 60_000]), 1)
}

/// The process executor with a `task_timeout` that kills the worker of a stuck task.
pub fn process_task_timeout_kill() -> usize {
    killed(&parallel::process().task_timeout(KILL_AFTER).silent().map(nap_ms, vec![0, 60_000, 0]), 1)
}

/// Every executor the leak check runs.
pub fn executors() -> Vec<Executor> {
    vec![
        Executor { name: "thread map", call: thread_map },
        Executor { name: "thread async_map", call: thread_async_map },
        Executor { name: "process map", call: process_map },
        Executor { name: "process timeout (kills)", call: process_timeout_kill },
        Executor { name: "process task_timeout (kills)", call: process_task_timeout_kill },
    ]
}

/// The leak check of one executor: what the process held after the warm-up (all executors),
/// after `first` calls and after `second` calls in all.
#[derive(Debug)]
pub struct LeakRow {
    /// The executor.
    pub name: &'static str,
    /// Calls before `after_first` and `after_second`.
    pub calls: (usize, usize),
    /// After the warm-up of every executor.
    pub baseline: Snapshot,
    /// After `calls.0` calls.
    pub after_first: Snapshot,
    /// After `calls.1` calls.
    pub after_second: Snapshot,
    /// How long the calls took.
    pub wall: Duration,
    /// Tasks that failed as killed though nothing killed them (see [`killed`]).
    pub stray_kills: usize,
}

/// How much a count may differ without being a leak.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    /// File descriptors (each idle worker process holds five: its stdin and stdout, its control
    /// page, the pipes of its output and errors).
    pub fds: usize,
    /// Threads (pool threads come and go: idle ones exit after 5 s).
    pub threads: usize,
    /// Live children (idle workers wait in the stash for 5 minutes).
    pub children: usize,
    /// Resident memory growth from `after_first` to `after_second`, bytes.
    pub rss: u64,
}

impl Default for Tolerance {
    /// One more worker and the five descriptors it holds (and its two forwarding threads); the
    /// threads of one more call (a call that starts while the last one's threads are still on
    /// their way back to the pool starts new ones, which idle out after 5 s); 4 MiB of resident
    /// memory (the allocator's arenas wobble).
    fn default() -> Self {
        Tolerance { fds: 5, threads: parallel::default_thread_workers(), children: 1, rss: 4 << 20 }
    }
}

impl LeakRow {
    /// Resident memory growth per call between the two measures, bytes.
    pub fn rss_per_call(&self) -> f64 {
        (self.after_second.rss as f64 - self.after_first.rss as f64) / (self.calls.1 - self.calls.0) as f64
    }

    /// What grew with the number of calls beyond `tol`.
    pub fn problems(&self, tol: Tolerance) -> Vec<String> {
        let (a, b, base) = (self.after_first, self.after_second, self.baseline);
        let mut found = Vec::new();
        let mut check = |what: &str, first: usize, second: usize, base: usize, tol: usize| {
            if second > first + tol || second > base + 2 * tol {
                found.push(format!(
                    "{}: {what} {base} after the warm-up, {first} after {} calls, {second} after {}",
                    self.name, self.calls.0, self.calls.1
                ));
            }
        };
        check("fds", a.fds, b.fds, base.fds, tol.fds);
        check("threads", a.threads, b.threads, base.threads, tol.threads);
        check("live children", a.children, b.children, base.children, tol.children);
        check("zombies", a.zombies, b.zombies, 0, 0);
        if b.rss > a.rss + tol.rss {
            found.push(format!(
                "{}: RSS grew by {} KiB from {} to {} calls ({:.0} B/call)",
                self.name,
                (b.rss - a.rss) >> 10,
                self.calls.0,
                self.calls.1,
                self.rss_per_call()
            ));
        }
        found
    }
}

impl fmt::Display for LeakRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:.1} s)", self.name, self.wall.as_secs_f64())?;
        if self.stray_kills > 0 {
            write!(f, " — {} quick task(s) failed as Crashed {{ signal: Some(9) }}: stray kills", self.stray_kills)?;
        }
        writeln!(f, ":")?;
        writeln!(f, "  after the warm-up:   {}", self.baseline)?;
        writeln!(f, "  after {:>5} calls:   {}", self.calls.0, self.after_first)?;
        write!(
            f,
            "  after {:>5} calls:   {}   (RSS {:+.0} B/call between the two)",
            self.calls.1,
            self.after_second,
            self.rss_per_call()
        )
    }
}

/// Runs every executor `warmup` times, takes the baseline, then for each executor in turn
/// runs `first` calls and measures, runs up to `second` calls in all and measures again.
pub fn leak_check(executors: &[Executor], warmup: usize, first: usize, second: usize) -> Vec<LeakRow> {
    for executor in executors {
        (0..warmup).for_each(|_| {
            (executor.call)();
        });
    }
    let baseline = Snapshot::settled();
    executors
        .iter()
        .map(|executor| {
            let started = Instant::now();
            let mut stray_kills: usize = (0..first).map(|_| (executor.call)()).sum();
            let after_first = Snapshot::settled();
            stray_kills += (first..second).map(|_| (executor.call)()).sum::<usize>();
            let after_second = Snapshot::settled();
            LeakRow {
                name: executor.name,
                calls: (first, second),
                baseline,
                after_first,
                after_second,
                wall: started.elapsed(),
                stray_kills,
            }
        })
        .collect()
}

// --- bounded memory ---------------------------------------------------------------------------

/// One lazy input of the memory measure.
#[derive(Clone, Copy, Debug)]
pub enum Lazy {
    /// `parallel::iter((0..n).map(|i| i + 1))`: lazy, with an exact size hint.
    ExactSize,
    /// `parallel::iter(std::iter::from_fn(..))`: lazy, size unknown.
    UnknownSize,
    /// As `ExactSize`, in silent mode (the results hold a `Result<u64, FailedTask>` per task).
    ExactSizeSilent,
}

/// What one call of `n` tiny tasks cost at its peak.
#[derive(Debug)]
pub struct Peak {
    /// The input.
    pub input: Lazy,
    /// Tasks.
    pub tasks: usize,
    /// Resident memory before the call, bytes.
    pub before: u64,
    /// Peak resident memory during the call, bytes.
    pub peak: u64,
    /// The call's wall time.
    pub wall: Duration,
    /// The peak was reset before the call (else it is the process's since it started).
    pub reset: bool,
}

impl Peak {
    /// Peak bytes per task over the memory before the call.
    pub fn per_task(&self) -> f64 {
        self.peak.saturating_sub(self.before) as f64 / self.tasks as f64
    }
}

impl fmt::Display for Peak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<16} {:>10} tasks: RSS {:>6.1} MiB before, peak {:>7.1} MiB → {:>6.2} bytes/task over the baseline \
             (the u64 results alone: 8), {:.2} s{}",
            format!("{:?}", self.input),
            self.tasks,
            self.before as f64 / (1 << 20) as f64,
            self.peak as f64 / (1 << 20) as f64,
            self.per_task(),
            self.wall.as_secs_f64(),
            if self.reset { "" } else { " (peak not resettable: since the process started)" }
        )
    }
}

fn triple(x: u64) -> u64 {
    x.wrapping_mul(3)
}

/// Runs `n` tiny tasks from a lazy input through the thread executor and measures the peak
/// resident memory of the call (best in a fresh process); checks every value.
pub fn peak_per_task(input: Lazy, n: u64) -> Peak {
    // Pool threads started, their stacks touched, before the baseline.
    assert_eq!(parallel::map(triple, parallel::iter((0..10_000u64).map(|i| i + 1))).unwrap()[9_999], 30_000);
    let reset = reset_peak();
    let before = rss_bytes();
    let started = Instant::now();
    // The peak is read as soon as the call returns: checking the values must not add to it.
    let peak_now = || status_bytes("VmHWM").max(rss_bytes());
    let check = |values: &mut dyn Iterator<Item = u64>| {
        let mut count = 0u64;
        for (i, v) in values.enumerate() {
            assert_eq!(v, triple(i as u64 + 1), "task {i}");
            count += 1;
        }
        assert_eq!(count, n);
    };
    let (peak, wall) = match input {
        Lazy::ExactSize => {
            let values = parallel::map(triple, parallel::iter((0..n).map(|i| i + 1))).unwrap();
            let measured = (peak_now(), started.elapsed());
            check(&mut values.into_iter());
            measured
        }
        Lazy::UnknownSize => {
            let mut next = 0u64;
            let lazy = std::iter::from_fn(move || {
                next += 1;
                (next <= n).then_some(next)
            });
            let values = parallel::map(triple, parallel::iter(lazy)).unwrap();
            let measured = (peak_now(), started.elapsed());
            check(&mut values.into_iter());
            measured
        }
        Lazy::ExactSizeSilent => {
            let results = parallel::thread().silent().map(triple, parallel::iter((0..n).map(|i| i + 1)));
            let measured = (peak_now(), started.elapsed());
            check(&mut results.into_iter().map(|r| r.expect("no task fails")));
            measured
        }
    };
    Peak { input, tasks: n as usize, before, peak, wall, reset }
}
