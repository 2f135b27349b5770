//! Helpers shared by the benchmarks against peers: a *paired* runner, medians, and the
//! markdown table of results.
//!
//! The machines these benchmarks run on drift in speed (up to 2× from one moment to the next
//! on a small cloud VM), so comparing two medians taken minutes apart says little. Instead
//! each workload alternates runs of the baseline (ours) and of one peer — ours, peer, peer,
//! ours, … — and every pair gives one ratio `ours / peer` measured under the same conditions;
//! the headline is the median of those ratios.

// Each bench uses the subset of these helpers it needs.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// One named way of running a workload; each call of `run` is one timed run.
pub struct Contender<'a> {
    name: String,
    run: Box<dyn FnMut() + 'a>,
}

impl<'a> Contender<'a> {
    /// A contender named `name` (as it appears in the table) that runs the workload once per
    /// call of `run`. `run` should pass its result through `std::hint::black_box`.
    pub fn new(name: impl Into<String>, run: impl FnMut() + 'a) -> Self {
        Contender { name: name.into(), run: Box::new(run) }
    }

    /// The contender's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs the workload once and returns how long it took.
    pub fn time(&mut self) -> Duration {
        self.time_after(Duration::ZERO)
    }

    /// Pauses for `settle`, then runs the workload once and returns how long it took.
    pub fn time_after(&mut self, settle: Duration) -> Duration {
        if !settle.is_zero() {
            std::thread::sleep(settle);
        }
        let start = Instant::now();
        (self.run)();
        start.elapsed()
    }
}

/// How many runs: untimed warm-up runs of every contender, then `pairs` pairs per peer.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Untimed runs of each contender before the pairs.
    pub warmup: usize,
    /// Timed pairs (baseline run + peer run) per peer.
    pub pairs: usize,
    /// A pause before every timed run, so that each starts from quiet threads: without it a
    /// run pays for the previous contender's threads still spinning down (rayon's workers
    /// spin before they sleep), which on a 2-core machine can be most of a 1 ms run.
    pub settle: Duration,
}

/// One timed pair.
#[derive(Clone, Copy, Debug)]
pub struct Pair {
    /// The baseline's time.
    pub ours: Duration,
    /// The peer's time.
    pub theirs: Duration,
    /// Whether the baseline ran first.
    pub ours_first: bool,
}

impl Pair {
    /// ours / theirs.
    pub fn ratio(&self) -> f64 {
        self.ours.as_secs_f64() / self.theirs.as_secs_f64()
    }
}

/// The timed pairs of one peer.
pub struct PeerSamples {
    /// The peer's name.
    pub name: String,
    /// One entry per pair.
    pub pairs: Vec<Pair>,
}

/// The paired measurements of one workload.
pub struct Paired {
    /// The workload's name.
    pub workload: String,
    /// The baseline's name.
    pub baseline: String,
    /// The pairs of each peer, in the order the peers were given.
    pub peers: Vec<PeerSamples>,
}

/// Runs `baseline` against every peer in alternating pairs.
///
/// Round `i` runs one pair per peer; within a pair the order alternates (baseline first in
/// even rounds, peer first in odd ones) so that neither side always runs just after the
/// other (caches, threads still spinning down, frequency steps).
pub fn run_paired(workload: &str, mut baseline: Contender<'_>, mut peers: Vec<Contender<'_>>, plan: Plan) -> Paired {
    eprintln!(
        "paired: {workload}: {} warm-up run(s) each, then {} pairs of {} vs each of [{}]",
        plan.warmup,
        plan.pairs,
        baseline.name(),
        peers.iter().map(Contender::name).collect::<Vec<_>>().join(", ")
    );
    for _ in 0..plan.warmup {
        baseline.time();
        for peer in &mut peers {
            peer.time();
        }
    }
    let mut samples: Vec<PeerSamples> = peers
        .iter()
        .map(|p| PeerSamples { name: p.name().to_owned(), pairs: Vec::with_capacity(plan.pairs) })
        .collect();
    for round in 0..plan.pairs {
        for (peer, samples) in peers.iter_mut().zip(&mut samples) {
            let ours_first = round % 2 == 0;
            let pair = if ours_first {
                let ours = baseline.time_after(plan.settle);
                Pair { ours, theirs: peer.time_after(plan.settle), ours_first }
            } else {
                let theirs = peer.time_after(plan.settle);
                Pair { ours: baseline.time_after(plan.settle), theirs, ours_first }
            };
            samples.pairs.push(pair);
        }
    }
    Paired { workload: workload.to_owned(), baseline: baseline.name().to_owned(), peers: samples }
}

/// What a row's ratio is held to: `ratio ≤ max`.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// The largest acceptable median ratio.
    pub max: f64,
}

/// One line of the results table.
#[derive(Clone, Debug)]
pub struct Row {
    /// The workload's name.
    pub workload: String,
    /// The baseline's median time (over the runs paired with this peer).
    pub ours: Duration,
    /// The peer's name.
    pub peer: String,
    /// The peer's median time.
    pub theirs: Duration,
    /// Median of the paired ratios ours / peer.
    pub ratio: f64,
    /// First and third quartiles of the paired ratios.
    pub quartiles: (f64, f64),
    /// How many ratios.
    pub pairs: usize,
    /// Median ratio of the pairs where ours ran first, and of those where the peer did (a
    /// check that running just after the other side does not favour either); `None` for a
    /// comparison with a fixed time.
    pub by_order: Option<(f64, f64)>,
    /// The target, if this comparison has one.
    pub target: Option<Target>,
}

impl Row {
    /// `Some(true)` if the row has a target and meets it.
    pub fn met(&self) -> Option<bool> {
        self.target.map(|t| self.ratio <= t.max)
    }
}

impl Paired {
    /// The row comparing the baseline with `peer`, held to `target` if any.
    ///
    /// # Panics
    /// If no peer is named `peer`.
    pub fn row(&self, peer: &str, target: Option<Target>) -> Row {
        let samples = self.peers.iter().find(|p| p.name == peer).unwrap_or_else(|| panic!("no peer named {peer}"));
        let ours: Vec<Duration> = samples.pairs.iter().map(|p| p.ours).collect();
        let theirs: Vec<Duration> = samples.pairs.iter().map(|p| p.theirs).collect();
        let ratios: Vec<f64> = samples.pairs.iter().map(Pair::ratio).collect();
        let ordered = |first: bool| {
            let ratios: Vec<f64> = samples.pairs.iter().filter(|p| p.ours_first == first).map(Pair::ratio).collect();
            if ratios.is_empty() {
                f64::NAN
            } else {
                median(&ratios)
            }
        };
        Row {
            workload: self.workload.clone(),
            ours: median_duration(&ours),
            peer: samples.name.clone(),
            theirs: median_duration(&theirs),
            ratio: median(&ratios),
            quartiles: (quantile(&ratios, 0.25), quantile(&ratios, 0.75)),
            pairs: ratios.len(),
            by_order: Some((ordered(true), ordered(false))),
            target,
        }
    }

    /// A row per peer, in order; `targets` gives the target of some peers by name.
    pub fn rows(&self, targets: &[(&str, Target)]) -> Vec<Row> {
        self.peers
            .iter()
            .map(|p| self.row(&p.name, targets.iter().find(|(name, _)| *name == p.name).map(|(_, t)| *t)))
            .collect()
    }

    /// The row comparing every baseline run (of all pairs) with a fixed ideal time: the
    /// ratio is the median of `ours / ideal`.
    pub fn ideal_row(&self, name: &str, ideal: Duration, target: Option<Target>) -> Row {
        let ours: Vec<Duration> = self.peers.iter().flat_map(|p| p.pairs.iter().map(|pair| pair.ours)).collect();
        let ratios: Vec<f64> = ours.iter().map(|d| d.as_secs_f64() / ideal.as_secs_f64()).collect();
        Row {
            workload: self.workload.clone(),
            ours: median_duration(&ours),
            peer: name.to_owned(),
            theirs: ideal,
            ratio: median(&ratios),
            quartiles: (quantile(&ratios, 0.25), quantile(&ratios, 0.75)),
            pairs: ratios.len(),
            by_order: None,
            target,
        }
    }
}

/// The median of `values` (the mean of the two middle ones for an even count).
///
/// # Panics
/// If `values` is empty.
pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// The `q`-quantile of `values` (0 ≤ q ≤ 1), interpolating linearly between ranks.
///
/// # Panics
/// If `values` is empty.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    assert!(!values.is_empty(), "quantile of no values");
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
}

/// The median of durations.
pub fn median_duration(values: &[Duration]) -> Duration {
    Duration::from_secs_f64(median(&values.iter().map(Duration::as_secs_f64).collect::<Vec<_>>()))
}

/// A duration in a unit that suits it: `850 µs`, `12.3 ms`, `1.25 s`.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1e-3 {
        format!("{:.0} µs", secs * 1e6)
    } else if secs < 0.1 {
        format!("{:.2} ms", secs * 1e3)
    } else if secs < 1.0 {
        format!("{:.1} ms", secs * 1e3)
    } else {
        format!("{secs:.2} s")
    }
}

/// The rows as a markdown table.
pub fn markdown_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| workload | ours (median) | peer | peer (median) | ratio ours/peer (median of pairs) | ratio IQR | pairs | target | met? |\n\
         |---|---:|---|---:|---:|---:|---:|---:|:---:|\n",
    );
    for row in rows {
        let target = row.target.map_or_else(|| "—".to_owned(), |t| format!("≤ {:.2}", t.max));
        let met = match row.met() {
            Some(true) => "yes",
            Some(false) => "**NO**",
            None => "—",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | **{:.2}** | {:.2}–{:.2} | {} | {} | {} |\n",
            row.workload,
            format_duration(row.ours),
            row.peer,
            format_duration(row.theirs),
            row.ratio,
            row.quartiles.0,
            row.quartiles.1,
            row.pairs,
            target,
            met,
        ));
    }
    out
}

/// One line per paired row: the median ratio when ours ran first and when the peer did.
pub fn order_check(rows: &[Row]) -> String {
    rows.iter()
        .filter_map(|row| {
            let (first, second) = row.by_order?;
            Some(format!(
                "- {} vs {}: {first:.2} when ours ran first, {second:.2} when the peer ran first\n",
                row.workload, row.peer
            ))
        })
        .collect()
}

/// The CPU task of the benchmarks: a xorshift loop of `iters` rounds from `seed`.
pub fn spin(iters: u64, seed: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..std::hint::black_box(iters) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x)
}

/// Finds the number of `spin` iterations that takes `target` on one thread: doubles until a
/// run is long enough to time, scales, then refines twice on the median of 15 runs (the
/// machine's speed drifts). Returns the count and the median time it took at the last check.
pub fn calibrate(target: Duration) -> (u64, Duration) {
    let mut iters = 1_000u64;
    let mut took = time_spin(iters);
    while took < target / 4 {
        iters *= 2;
        took = time_spin(iters);
    }
    let scale =
        |iters: u64, took: Duration| ((iters as f64) * target.as_secs_f64() / took.as_secs_f64()).max(1.0) as u64;
    iters = scale(iters, took);
    for _ in 0..2 {
        iters = scale(iters, median_spin(iters));
    }
    (iters, median_spin(iters))
}

/// How long one `spin` of `iters` takes on this thread.
pub fn time_spin(iters: u64) -> Duration {
    let start = Instant::now();
    std::hint::black_box(spin(iters, 7));
    start.elapsed()
}

/// The median of 15 timings of `spin(iters)`.
pub fn median_spin(iters: u64) -> Duration {
    median_duration(&(0..15).map(|_| time_spin(iters)).collect::<Vec<_>>())
}

/// Prints the headline of a bench run: the paired table, the order check and the targets.
pub fn print_results(rows: &[Row]) {
    println!();
    println!("## Paired results: median of per-pair ratios ours / peer (lower is better for us)");
    println!();
    print!("{}", markdown_table(rows));
    println!();
    println!("Order check (median ratio by which side of the pair ran first):");
    print!("{}", order_check(rows));
    let missed: Vec<&Row> = rows.iter().filter(|r| r.met() == Some(false)).collect();
    println!();
    if missed.is_empty() {
        println!("All targets met.");
    }
    for row in missed {
        let max = row.target.map_or(f64::NAN, |t| t.max);
        println!("Target missed: {} vs {}: {:.3} > {:.3}", row.workload, row.peer, row.ratio, max);
    }
}
