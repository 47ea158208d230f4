//! Writing results: `metrics.csv`, `villages.csv`, `manifest.json`.
//!
//! Files are written under temporary names (`.NAME.partial`) and renamed when complete, the
//! manifest last, so a crash never leaves a half file that looks whole. A non-empty output
//! folder is only reused when its manifest records the very same resolved scenario (same
//! parameters, same seed) run by the same program version and commit, that is, the same
//! results; anything else needs `--force`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::error::{Error, Result};
use crate::model::observe::Metrics;
use crate::scenario::Scenario;
use crate::sim::RunOutput;

/// Files a run writes.
pub const FILES: [&str; 5] = [
    "metrics.csv",
    "villages.csv",
    "pyramid.csv",
    "distributions.csv",
    "manifest.json",
];

/// A fingerprint of a run's inputs: the resolved scenario (its TOML text, seed included) and
/// the program (version and git commit), hashed. Equal fingerprints mean equal results.
pub fn fingerprint(sc: &Scenario) -> String {
    let text = format!(
        "{}\n{}\n{}",
        sc.to_toml(),
        env!("CARGO_PKG_VERSION"),
        env!("RURALGOV_GIT_COMMIT")
    );
    crate::model::rng::hash_text(&text, 0x243F_6A88_85A3_08D3)
}

/// Check that `dir` may receive this run's results, without changing anything.
pub fn check_dir(dir: &Path, sc: &Scenario, force: bool) -> Result<()> {
    if !dir.exists() {
        // The folder will be created after the run: make sure that can work before running.
        let mut ancestor = dir.parent();
        while let Some(p) = ancestor {
            if p.as_os_str().is_empty() || p.exists() {
                break;
            }
            ancestor = p.parent();
        }
        if let Some(p) = ancestor.filter(|p| !p.as_os_str().is_empty()) {
            if !p.is_dir() {
                return Err(Error::CreateDir {
                    path: dir.to_path_buf(),
                    reason: std::io::Error::new(
                        std::io::ErrorKind::NotADirectory,
                        format!("{} is a file, not a folder", p.display()),
                    ),
                });
            }
        }
        return Ok(());
    }
    if !dir.is_dir() {
        return Err(Error::CreateDir {
            path: dir.to_path_buf(),
            reason: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "a file with that name exists"),
        });
    }
    if force {
        return Ok(());
    }
    let entries: Vec<_> = fs::read_dir(dir)
        .map_err(|e| Error::CreateDir {
            path: dir.to_path_buf(),
            reason: e,
        })?
        .filter_map(|e| e.ok())
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    let manifest = fs::read_to_string(dir.join("manifest.json")).ok();
    let previous = manifest
        .as_deref()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
    match previous {
        Some(m) if m.get("fingerprint").and_then(|f| f.as_str()) == Some(fingerprint(sc).as_str()) => Ok(()),
        Some(m) => Err(Error::OutputExists {
            path: dir.to_path_buf(),
            what: format!(
                "results of a different run (scenario \"{}\", seed {})",
                m.get("scenario_name").and_then(|x| x.as_str()).unwrap_or("?"),
                m.get("seed").map(|x| x.to_string()).unwrap_or_else(|| "?".into())
            ),
        }),
        None => Err(Error::OutputExists {
            path: dir.to_path_buf(),
            what: format!(
                "{} {} that {} not ruralgov results",
                entries.len(),
                if entries.len() == 1 { "file" } else { "files" },
                if entries.len() == 1 { "is" } else { "are" }
            ),
        }),
    }
}

/// Remove what `plot` and `report` derived from earlier results in `dir` (`charts/`,
/// `report.html`): after new results are written they would describe the old ones.
pub fn remove_derived(dir: &Path) -> Result<()> {
    let charts = dir.join("charts");
    if charts.is_dir() {
        fs::remove_dir_all(&charts).map_err(|e| Error::Write {
            path: charts.clone(),
            reason: e,
        })?;
    }
    let report = dir.join("report.html");
    if report.exists() {
        fs::remove_file(&report).map_err(|e| Error::Write {
            path: report.clone(),
            reason: e,
        })?;
    }
    Ok(())
}

/// Write `dir/name` atomically: the body goes to `.name.partial`, which is synced and renamed
/// when complete (and removed on failure).
pub fn write_atomic(
    dir: &Path,
    name: &str,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<PathBuf> {
    let tmp = dir.join(format!(".{name}.partial"));
    let path = dir.join(name);
    let result = (|| {
        let file = fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        body(&mut w)?;
        w.flush()?;
        w.get_ref().sync_all()?;
        drop(w);
        fs::rename(&tmp, &path)
    })();
    match result {
        Ok(()) => Ok(path),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(Error::Write { path, reason: e })
        }
    }
}

/// Format a float for CSV: shortest round-trip representation.
/// A number for CSV: integers without a fraction, others in the shortest round-trip form,
/// NaN as an empty cell.
pub fn num(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Write `metrics.csv` to a writer.
pub fn write_metrics(w: &mut dyn Write, metrics: &[Metrics]) -> std::io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    let mut header = vec!["step", "year", "month"];
    header.extend(Metrics::COLUMNS.iter().map(|(n, _)| *n));
    out.write_record(&header)?;
    for m in metrics {
        let mut row = vec![m.step.to_string(), m.year.to_string(), m.month.to_string()];
        row.extend(m.values().into_iter().map(num));
        out.write_record(&row)?;
    }
    out.flush()
}

fn write_rows<T: serde::Serialize>(w: &mut dyn Write, rows: &[T]) -> std::io::Result<()> {
    let mut c = csv::Writer::from_writer(w);
    for r in rows {
        c.serialize(r)?;
    }
    c.flush()
}

/// Describes the run for the manifest.
#[derive(Debug, Clone)]
pub struct RunInfo<'a> {
    /// Scenario files read, base first.
    pub files: &'a [PathBuf],
    /// `--set` overrides.
    pub sets: &'a [String],
    /// Worker threads.
    pub threads: usize,
    /// The command line.
    pub command: String,
}

/// Peak resident memory of this process in bytes (Linux; 0 elsewhere).
pub fn peak_memory_bytes() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<u64>().ok()))
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Write every output of a run into `dir` (created if needed). The caller checked the folder
/// with [`check_dir`] before running.
pub fn write_all(dir: &Path, sc: &Scenario, out: &RunOutput, info: &RunInfo) -> Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).map_err(|e| Error::CreateDir {
        path: dir.to_path_buf(),
        reason: e,
    })?;
    // A previous manifest goes first, so a crash mid-way never leaves old and new files
    // looking like one complete run.
    let old_manifest = dir.join("manifest.json");
    remove_derived(dir)?;
    if old_manifest.exists() {
        fs::remove_file(&old_manifest).map_err(|e| Error::Write {
            path: old_manifest.clone(),
            reason: e,
        })?;
    }
    let mut written = vec![write_atomic(dir, "metrics.csv", |w| write_metrics(w, &out.metrics))?];
    let villages_path = dir.join("villages.csv");
    if sc.output.villages {
        written.push(write_atomic(dir, "villages.csv", |w| write_rows(w, &out.villages))?);
    } else if villages_path.exists() {
        fs::remove_file(&villages_path).map_err(|e| Error::Write {
            path: villages_path,
            reason: e,
        })?;
    }
    written.push(write_atomic(dir, "pyramid.csv", |w| write_rows(w, &out.pyramid))?);
    written.push(write_atomic(dir, "distributions.csv", |w| {
        write_rows(w, &out.distributions)
    })?);
    let deps: serde_json::Map<String, serde_json::Value> = env!("RURALGOV_DEPS")
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let files: Vec<String> = info.files.iter().map(|p| p.display().to_string()).collect();
    let outputs: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let manifest = json!({
        "ruralgov_version": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("RURALGOV_GIT_COMMIT"),
        "command": info.command,
        "scenario_name": sc.name,
        "scenario_files": files,
        "overrides": info.sets,
        "seed": sc.run.seed,
        "threads": info.threads,
        "fingerprint": fingerprint(sc),
        "villages": sc.region.villages,
        "steps": sc.steps(),
        "initial_registered_adults": out.initial_registered,
        "bytes_per_villager": out.bytes_per_villager,
        "slots": out.slots,
        "repacks": out.repacks,
        "wall_seconds": out.wall_seconds,
        "peak_memory_bytes": peak_memory_bytes(),
        "dependencies": deps,
        "outputs": outputs,
        "platform": format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        "scenario": sc,
    });
    written.push(write_atomic(dir, "manifest.json", |w| {
        serde_json::to_writer_pretty(&mut *w, &manifest).map_err(std::io::Error::other)?;
        writeln!(w)
    })?);
    Ok(written)
}
