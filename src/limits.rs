//! What the machine can take: thread counts, memory estimates and input sizes, checked
//! before anything is allocated or started.
//!
//! Every size a user can type (villages, adults per village, bench villagers, threads, jobs,
//! bootstrap resamples, design points, runs) is either bounded here or estimated and compared
//! with the machine's memory, so that no input exhausts the machine without a message first.
//! An estimate that exceeds the machine is refused with the estimate in the message; the
//! commands that simulate accept `--no-memory-check` to try anyway.

use crate::error::{Error, Result};

/// Most worker threads (`--threads`, `--jobs`) a command accepts.
pub const MAX_THREADS: usize = 1024;

/// Most bytes read from one scenario, experiment or data file.
pub const MAX_INPUT_BYTES: u64 = 4 << 20;

/// Deepest chain of `extends` a scenario may have.
pub const MAX_EXTENDS_DEPTH: usize = 32;

/// Most keyframes a schedule may have.
pub const MAX_KEYFRAMES: usize = 5_000;

/// Most bootstrap resamples (`compare --bootstrap`, `sampling.bootstrap`).
pub const MAX_BOOTSTRAP: usize = 1_000_000;

/// Most design points an experiment may have.
pub const MAX_POINTS: u64 = 200_000;

/// Most runs (arms x points x replications) an experiment may have.
pub const MAX_RUNS: u64 = 1_000_000;

/// Check a thread or job count given on the command line.
pub fn threads(flag: &str, n: usize) -> Result<usize> {
    if n == 0 || n > MAX_THREADS {
        return Err(Error::option(
            flag,
            n,
            format!("use between 1 and {MAX_THREADS} (this machine has {} cores)", cores()),
        ));
    }
    Ok(n)
}

/// Cores the machine reports (at least 1).
pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Total memory of the machine in bytes (from `/proc/meminfo`; `None` where unknown).
pub fn machine_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A byte count for messages: `2.2 TB`, `512.0 MB`.
pub fn bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1e12 {
        format!("{:.1} TB", n / 1e12)
    } else if n >= 1e9 {
        format!("{:.1} GB", n / 1e9)
    } else if n >= 1e6 {
        format!("{:.1} MB", n / 1e6)
    } else {
        format!("{:.0} kB", (n / 1e3).max(1.0))
    }
}

/// Refuse `what` if its estimated memory `estimate` exceeds 90% of the machine's memory,
/// unless `allow` (the user passed `--no-memory-check`).
pub fn memory(what: &str, estimate: u64, allow: bool) -> Result<()> {
    let Some(total) = machine_memory() else {
        return Ok(());
    };
    let limit = total / 10 * 9;
    if estimate <= limit || allow {
        return Ok(());
    }
    Err(Error::TooLarge {
        what: what.to_string(),
        needs: format!("needs about {} of memory", bytes(estimate)),
        limit: format!("90% of this machine's {}", bytes(total)),
        remedy: "Make it smaller, or pass --no-memory-check to try anyway.".into(),
    })
}
