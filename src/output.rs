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

/// Files a run writes: its CSV tables (each also as `.parquet` with `--format`) and the
/// manifest.
pub const FILES: [&str; 5] = [
    "metrics.csv",
    "villages.csv",
    "pyramid.csv",
    "distributions.csv",
    "manifest.json",
];

/// Hidden name of the lock file a writer holds in an output folder.
pub const LOCK_FILE: &str = ".ruralgov.lock";

/// Name of the record `plot` keeps of the chart files it wrote (in the charts folder).
pub const CHARTS_RECORD: &str = ".ruralgov-charts.json";

/// A fingerprint of a run's inputs: the resolved scenario (seed included, serialized as JSON,
/// which represents every valid value) and the program (version and git commit), hashed.
/// Equal fingerprints mean equal results.
pub fn fingerprint(sc: &Scenario) -> String {
    let scenario = serde_json::to_string(sc).unwrap_or_else(|e| format!("unserializable scenario: {e:?}"));
    let text = format!(
        "{scenario}\n{}\n{}",
        env!("CARGO_PKG_VERSION"),
        env!("RURALGOV_GIT_COMMIT")
    );
    crate::model::rng::hash_text(&text, 0x243F_6A88_85A3_08D3)
}

/// Whether a folder entry is ruralgov's own leftover or lock, not a result: a lock file, or
/// a `.NAME.partial` left by a process that was killed while writing.
pub fn is_own_leftover(name: &str) -> bool {
    name == LOCK_FILE || (name.starts_with('.') && name.ends_with(".partial"))
}

/// The names in folder `dir`, ruralgov's own leftovers (lock, staged files) left out.
fn contents(dir: &Path) -> Result<Vec<String>> {
    Ok(fs::read_dir(dir)
        .map_err(|e| Error::Read {
            path: dir.to_path_buf(),
            reason: e,
        })?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !is_own_leftover(n))
        .collect())
}

/// Refuse to start a `what` (a "sweep", a "calibration") in `out` if the folder holds files
/// other than ruralgov's own leftovers.
pub fn refuse_foreign(out: &Path, what: &str) -> Result<()> {
    let foreign = contents(out)?;
    if foreign.is_empty() {
        return Ok(());
    }
    Err(Error::OutputExists {
        path: out.to_path_buf(),
        what: format!(
            "{} {} that {} not a ruralgov {what}",
            foreign.len(),
            if foreign.len() == 1 { "file" } else { "files" },
            if foreign.len() == 1 { "is" } else { "are" }
        ),
        remedy: format!("Choose another folder with --out (--restart only discards an earlier {what})"),
    })
}

/// An exclusive lock on an output folder, held while a command writes into it.
///
/// The lock is an advisory `flock` on `DIR/.ruralgov.lock`, which records the holder's
/// process id and command for the message a second writer gets. It is released (and the
/// file removed) when the value is dropped, also when the command fails; a process killed
/// with `kill -9` releases it too (the kernel drops the lock), and its stale file is reused.
/// Taking the lock creates the folder if needed, which also checks, before any work is done,
/// that the folder can be created and written. A folder the lock created is removed again if
/// it is still empty when the lock is dropped (the command failed before writing anything).
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    dir: PathBuf,
    created: bool,
    _file: fs::File,
}

impl Lock {
    /// Take the lock on `dir` (created if missing) for `command`, or fail at once with
    /// [`Error::Locked`] if another process holds it.
    pub fn acquire(dir: &Path, command: &str) -> Result<Lock> {
        if dir.exists() && !dir.is_dir() {
            return Err(Error::CreateDir {
                path: dir.to_path_buf(),
                reason: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "a file with that name exists"),
            });
        }
        let created = !dir.exists();
        fs::create_dir_all(dir).map_err(|e| Error::CreateDir {
            path: dir.to_path_buf(),
            reason: e,
        })?;
        let path = dir.join(LOCK_FILE);
        let fail = |e: std::io::Error| {
            if created {
                let _ = fs::remove_dir(dir);
            }
            Error::Write {
                path: path.clone(),
                reason: e,
            }
        };
        for _ in 0..16 {
            // Never open a lock file through a link someone else placed there.
            if fs::symlink_metadata(&path).is_ok_and(|m| !m.is_file()) {
                fs::remove_file(&path).map_err(fail)?;
            }
            let mut file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(fail)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    use std::io::Read;
                    let _ = (&mut file).take(4096).read_to_string(&mut holder);
                    let holder = holder.split_whitespace().collect::<Vec<_>>().join(" ");
                    return Err(Error::Locked {
                        path: dir.to_path_buf(),
                        holder: if holder.is_empty() {
                            "a process that is just starting".into()
                        } else {
                            holder
                        },
                    });
                }
                Err(fs::TryLockError::Error(e)) => return Err(fail(e)),
            }
            // The holder before us may have removed the file after we opened it: then our
            // lock is on a file nobody else will find. Lock the file at the path instead.
            if !same_file(&file, &path) {
                continue;
            }
            file.set_len(0).map_err(fail)?;
            let line = format!("pid {} command {}\n", std::process::id(), command);
            file.write_all(line.as_bytes()).map_err(fail)?;
            file.flush().map_err(fail)?;
            return Ok(Lock {
                path,
                dir: dir.to_path_buf(),
                created,
                _file: file,
            });
        }
        Err(fail(std::io::Error::other(
            "the lock file keeps being replaced by another process",
        )))
    }
}

#[cfg(unix)]
fn same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_file: &fs::File, path: &Path) -> bool {
    path.exists()
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still locked, so nobody can take a lock on the old file after this.
        let _ = fs::remove_file(&self.path);
        if self.created {
            let _ = fs::remove_dir(&self.dir); // only succeeds if the folder is empty
        }
    }
}

/// `s` quoted for a POSIX shell where needed.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The command line of this process, for manifests and lock files.
pub fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

/// Check that `dir` may receive this run's results, without changing anything. The caller
/// holds the folder's [`Lock`].
pub fn check_dir(dir: &Path, sc: &Scenario, force: bool) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::CreateDir {
            path: dir.to_path_buf(),
            reason: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "a file with that name exists"),
        });
    }
    if force || !dir.exists() {
        return Ok(());
    }
    let mut entries = contents(dir)?;
    // A run with checkpoints killed before its start was recorded leaves only that.
    if crate::checkpoint::is_unstarted(dir) {
        entries.retain(|e| e != crate::checkpoint::DIR);
    }
    if entries.is_empty() {
        return Ok(());
    }
    let manifest = fs::read_to_string(dir.join("manifest.json")).ok();
    let previous = manifest
        .as_deref()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
    let remedy = "Pass --force to replace them, or choose another folder with --out".to_string();
    if previous.is_none() && crate::checkpoint::is_checkpointed(dir) {
        return Err(Error::OutputExists {
            path: dir.to_path_buf(),
            what: "an unfinished run with checkpoints".into(),
            remedy: format!(
                "Resume it with `ruralgov run --resume {}`, pass --force to start over, or choose another folder with --out",
                shell_quote(&dir.display().to_string())
            ),
        });
    }
    match previous {
        Some(m) if m.get("fingerprint").and_then(|f| f.as_str()) == Some(fingerprint(sc).as_str()) => Ok(()),
        Some(m) if m.get("kind").and_then(|k| k.as_str()) == Some("sweep") => Err(Error::OutputExists {
            path: dir.to_path_buf(),
            what: "the results of a sweep".into(),
            remedy: "Choose another folder with --out".into(),
        }),
        Some(m) => Err(Error::OutputExists {
            path: dir.to_path_buf(),
            what: format!(
                "results of a different run (scenario \"{}\", seed {})",
                m.get("scenario_name").and_then(|x| x.as_str()).unwrap_or("?"),
                m.get("seed").map(|x| x.to_string()).unwrap_or_else(|| "?".into())
            ),
            remedy,
        }),
        None => Err(Error::OutputExists {
            path: dir.to_path_buf(),
            what: format!(
                "{} {} that {} not ruralgov results",
                entries.len(),
                if entries.len() == 1 { "file" } else { "files" },
                if entries.len() == 1 { "is" } else { "are" }
            ),
            remedy,
        }),
    }
}

/// Remove the file `path`; a file that is not there is not an error.
pub(crate) fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::Write {
            path: path.to_path_buf(),
            reason: e,
        }),
    }
}

/// Remove what `plot` and `report` derived from earlier results in `dir`: after new results
/// are written they would describe the old ones. Only files ruralgov wrote are removed: the
/// chart files listed in `charts/.ruralgov-charts.json` (then the folder, if that leaves it
/// empty) and a `report.html` that ruralgov generated. A user's own files stay.
pub fn remove_derived(dir: &Path) -> Result<()> {
    let remove = remove_if_present;
    let charts = dir.join("charts");
    let record = charts.join(CHARTS_RECORD);
    if let Ok(text) = fs::read_to_string(&record) {
        let names: Vec<String> = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("files").cloned())
            .and_then(|f| serde_json::from_value(f).ok())
            .unwrap_or_default();
        for n in names.iter().filter(|n| is_plain_name(n)) {
            remove(&charts.join(n))?;
        }
        remove(&record)?;
        let _ = fs::remove_dir(&charts); // only if empty
    }
    let report = dir.join("report.html");
    if is_generated_report(&report) {
        remove(&report)?;
    }
    Ok(())
}

/// A file name without any folder part (a record can only name files beside it).
fn is_plain_name(n: &str) -> bool {
    !n.is_empty() && n != "." && n != ".." && !n.contains(['/', '\\'])
}

/// Whether `path` is a report written by `ruralgov report` (its generator tag in the head).
pub fn is_generated_report(path: &Path) -> bool {
    use std::io::Read;
    let Ok(f) = fs::File::open(path) else { return false };
    let mut head = Vec::new();
    if f.take(2048).read_to_end(&mut head).is_err() {
        return false;
    }
    String::from_utf8_lossy(&head).contains("<meta name=\"generator\" content=\"ruralgov")
}

/// A file written under its temporary name, complete and synced, not yet in place.
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
}

impl Staged {
    /// Put the file in place (an atomic rename over any old file of that name).
    pub fn commit(self) -> Result<PathBuf> {
        let Staged { tmp, path } = self;
        fs::rename(&tmp, &path).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Error::Write {
                path: path.clone(),
                reason: e,
            }
        })?;
        Ok(path)
    }

    /// Throw the temporary file away.
    pub fn discard(self) {
        let _ = fs::remove_file(&self.tmp);
    }
}

/// Write `dir/.name.partial` completely (flushed and synced) without touching `dir/name`.
///
/// The temporary file is created exclusively: anything already under that name (a leftover
/// of a killed process, or a link someone placed there) is removed first, never written
/// through. On failure the temporary file is removed.
pub fn stage(dir: &Path, name: &str, body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<Staged> {
    stage_with(dir, name, true, body)
}

fn stage_with(
    dir: &Path,
    name: &str,
    sync: bool,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<Staged> {
    let tmp = dir.join(format!(".{name}.partial"));
    let path = dir.join(name);
    let result = (|| {
        if fs::symlink_metadata(&tmp).is_ok() {
            fs::remove_file(&tmp)?;
        }
        let file = fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        body(&mut w)?;
        w.flush()?;
        if sync {
            w.get_ref().sync_all()?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(Staged { tmp, path }),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(Error::Write { path, reason: e })
        }
    }
}

/// Write `dir/name` atomically: the body goes to `.name.partial`, which is synced and renamed
/// when complete (and removed on failure), so a crash never leaves a half file under the real
/// name.
pub fn write_atomic(
    dir: &Path,
    name: &str,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<PathBuf> {
    stage(dir, name, body)?.commit()
}

/// [`write_atomic`] of the bytes `bytes` to the file `path`.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    write_atomic(dir, &name, |w| w.write_all(bytes))
}

/// [`write_file`] without syncing to disk: for files whose damage is detected by a checksum
/// and which are then simply made again (a sweep's per-run records). An interrupted process
/// never leaves them half written (the rename is atomic); only a power failure can, and the
/// checksum catches that.
pub fn write_file_unsynced(path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    stage_with(dir, &name, false, |w| w.write_all(bytes))?.commit()
}

/// Rows as an aligned text table for the terminal: the first `left` columns left-aligned,
/// the rest right-aligned, a rule under the header.
pub fn aligned_table(rows: &[Vec<String>], left: usize) -> String {
    let Some(first) = rows.first() else {
        return String::new();
    };
    let widths: Vec<usize> = (0..first.len())
        .map(|c| {
            rows.iter()
                .map(|l| l.get(c).map_or(0, |x| x.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for (i, l) in rows.iter().enumerate() {
        let cells: Vec<String> = l
            .iter()
            .enumerate()
            .map(|(c, x)| {
                if c < left {
                    format!("{x:<w$}", w = widths[c])
                } else {
                    format!("{x:>w$}", w = widths[c])
                }
            })
            .collect();
        s.push_str(cells.join("  ").trim_end());
        s.push('\n');
        if i == 0 {
            s.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len().max(1) - 1)));
            s.push('\n');
        }
    }
    s
}

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
    header.extend(Metrics::COLUMNS.iter().map(|c| c.name));
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
    /// Which files the tables are written as.
    pub format: crate::columnar::Format,
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

/// Write every output of a run into `dir`. The caller holds the folder's [`Lock`] and
/// checked it with [`check_dir`] before running.
///
/// Every new file is first written completely under its temporary name; only when all of
/// them (the manifest included) are complete is the old manifest removed and are the files
/// renamed into place, the manifest last. A full disk or any other failure while writing
/// leaves the earlier results exactly as they were; a crash while renaming leaves a folder
/// without a manifest, which no command takes for complete results.
pub fn write_all(dir: &Path, sc: &Scenario, out: &RunOutput, info: &RunInfo) -> Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).map_err(|e| Error::CreateDir {
        path: dir.to_path_buf(),
        reason: e,
    })?;
    let mut staged: Vec<Staged> = Vec::new();
    let result = stage_run(dir, sc, out, info, &mut staged);
    if let Err(e) = result {
        for s in staged {
            s.discard();
        }
        return Err(e);
    }
    let manifest = staged
        .pop()
        .ok_or_else(|| Error::render("manifest.json", "nothing staged"))?;
    let old_manifest = dir.join("manifest.json");
    if old_manifest.exists() {
        fs::remove_file(&old_manifest).map_err(|e| Error::Write {
            path: old_manifest.clone(),
            reason: e,
        })?;
    }
    remove_derived(dir)?;
    let mut written = Vec::new();
    for s in staged {
        written.push(s.commit()?);
    }
    // A table an earlier run wrote that this one does not (villages when no longer asked for,
    // the CSV or Parquet copy of another --format) would describe the earlier results.
    let now: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    for table in FILES.iter().filter(|f| f.ends_with(".csv")) {
        for name in [table.to_string(), crate::columnar::parquet_name(table)] {
            let path = dir.join(&name);
            if !now.contains(&name) && path.exists() {
                fs::remove_file(&path).map_err(|e| Error::Write { path, reason: e })?;
            }
        }
    }
    written.push(manifest.commit()?);
    Ok(written)
}

/// The tables of a run as CSV bytes, by file name, in the order they are written: exactly
/// what `ruralgov run` writes (the Python package reads these same bytes).
pub fn tables(sc: &Scenario, out: &RunOutput) -> Result<Vec<(&'static str, Vec<u8>)>> {
    let mut tables = Vec::new();
    let mut add = |name: &'static str, body: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut bytes = Vec::new();
        body(&mut bytes).map_err(|e| Error::render(name, e))?;
        tables.push((name, bytes));
        Ok::<(), Error>(())
    };
    add("metrics.csv", &|w| write_metrics(w, &out.metrics))?;
    if sc.output.villages {
        add("villages.csv", &|w| write_rows(w, &out.villages))?;
    }
    add("pyramid.csv", &|w| write_rows(w, &out.pyramid))?;
    add("distributions.csv", &|w| write_rows(w, &out.distributions))?;
    Ok(tables)
}

/// The manifest of a run (`manifest.json`): what ran, with which inputs and settings, on what,
/// how long it took; `outputs` lists the files of the run folder.
pub fn manifest(sc: &Scenario, out: &RunOutput, info: &RunInfo, outputs: &[&str]) -> serde_json::Value {
    let deps: serde_json::Map<String, serde_json::Value> = env!("RURALGOV_DEPS")
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let files: Vec<String> = info.files.iter().map(|p| p.display().to_string()).collect();
    json!({
        "kind": "run",
        "ruralgov_version": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("RURALGOV_GIT_COMMIT"),
        "command": info.command,
        "working_directory": std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default(),
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
        "format": info.format.name(),
        "platform": format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        "scenario": sc,
    })
}

/// Stage every file of a run, the manifest last.
fn stage_run(dir: &Path, sc: &Scenario, out: &RunOutput, info: &RunInfo, staged: &mut Vec<Staged>) -> Result<()> {
    let mut outputs: Vec<String> = Vec::new();
    for (name, bytes) in &tables(sc, out)? {
        if info.format.csv() {
            staged.push(stage(dir, name, |w| w.write_all(bytes))?);
            outputs.push(name.to_string());
        }
        if info.format.parquet() {
            let pq = crate::columnar::parquet_name(name);
            let data = crate::columnar::to_parquet(name, bytes)?;
            staged.push(stage(dir, &pq, |w| w.write_all(&data))?);
            outputs.push(pq);
        }
    }
    outputs.push("manifest.json".into());
    let outputs: Vec<&str> = outputs.iter().map(String::as_str).collect();
    let manifest = manifest(sc, out, info, &outputs);
    staged.push(stage(dir, "manifest.json", |w| {
        serde_json::to_writer_pretty(&mut *w, &manifest).map_err(std::io::Error::other)?;
        writeln!(w)
    })?);
    Ok(())
}
