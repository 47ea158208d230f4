//! Run checkpoints: the whole state of a run in progress, saved at year ends, so a run killed
//! at any moment (a node failure, a job's time limit, `kill -9`) continues from its latest
//! checkpoint and ends with the very files an uninterrupted run writes (`docs/checkpoints.md`).
//!
//! A run with `--checkpoint-every YEARS` records in `DIR/checkpoints/` the fully resolved
//! scenario (`scenario.toml`) and its settings (`run.json`) before its first month, then
//! writes `step-NNNNNN.ckpt` (months done, burn-in included) every `YEARS` simulated years. A
//! checkpoint holds a [`sim::Run`](crate::sim::Run): the villager columns, the village tables,
//! the labour market, the step counter and the repack count (the [`World`]), and every row
//! recorded so far. Random numbers need no state: every draw is keyed by the seed, the
//! village, the step and the phase (`src/model/rng.rs`). The format depends on nothing but the
//! state, so a checkpoint written at one thread count is resumed at any other.
//!
//! # Format (version [`FORMAT`])
//!
//! All integers little-endian; a string is a `u16` byte length and UTF-8 bytes.
//!
//! | field | bytes |
//! |---|---|
//! | magic `RGOVCKPT` | 8 |
//! | format version (`u32`) | 4 |
//! | ruralgov version (string) | 2 + n |
//! | git commit of the build (string) | 2 + n |
//! | run fingerprint ([`output::fingerprint`]: scenario, seed, version and commit; string) | 2 + n |
//! | scenario name (string) | 2 + n |
//! | months done, burn-in included (`u32`) | 4 |
//! | months of the whole run (`u32`) | 4 |
//! | XXH3-64 of the header above (`u64`) | 8 |
//! | tables: `u64` length, then postcard of (labour market, repacks, villages, recorded rows, wall seconds) | 8 + n |
//! | slots (`u64`), columns (`u32`), then each villager column in [`Agents::COLUMNS`] order as raw values | 12 + 32 per slot |
//! | XXH3-64 of the body (everything after the header's checksum) | 8 |
//!
//! The first three fields keep their place in every format, so any ruralgov can say which
//! version wrote a checkpoint it cannot read. A checkpoint is refused, naming the file and
//! the reason, when its checksums fail (damage), when another ruralgov version or build wrote
//! it, or when it belongs to another scenario than the one recorded in the folder. Each is
//! written to a temporary name, synced and renamed (and the folder synced), and the two
//! newest are kept: if the newest is damaged, the run resumes from the one before, with a
//! warning.

use std::fs;
use std::hash::Hasher;
use std::io::{BufReader, Read, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use twox_hash::XxHash3_64;

use crate::error::{Error, Result};
use crate::model::agents::Agents;
use crate::model::{LabourMarket, Village, Vitals, World};
use crate::output;
use crate::output::remove_if_present as remove;
use crate::scenario::Scenario;
use crate::sim::{Recorded, Run, RunOutput};

/// Folder of a run folder that holds its checkpoints.
pub const DIR: &str = "checkpoints";
/// The resolved scenario of a run with checkpoints, in its checkpoints folder.
pub const SCENARIO_FILE: &str = "scenario.toml";
/// The settings of a run with checkpoints ([`Setup`]), in its checkpoints folder.
pub const SETUP_FILE: &str = "run.json";
/// The first bytes of every checkpoint.
pub const MAGIC: [u8; 8] = *b"RGOVCKPT";
/// Version of the checkpoint format this ruralgov writes and reads.
pub const FORMAT: u32 = 1;
/// Checkpoints kept: the newest and the one before (in case the newest is damaged).
pub const KEEP: usize = 2;

/// Longest string of a header, bytes (a damaged length is caught before allocating).
const MAX_STRING: usize = 4096;

/// The settings a run with checkpoints records to be resumed with (`checkpoints/run.json`);
/// the scenario itself is in `checkpoints/scenario.toml`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setup {
    /// Years between checkpoints.
    pub every_years: u32,
    /// Table files (`--format`: csv, parquet or both).
    pub format: String,
    /// Scenario files read, base first (for the manifest).
    pub files: Vec<PathBuf>,
    /// `--set` overrides (for the manifest).
    pub sets: Vec<String>,
    /// The command line that started the run (for the manifest).
    pub command: String,
}

/// A 64-bit checksum (XXH3) of `bytes`, as a checkpoint stores it.
pub fn checksum(bytes: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(bytes)
}

/// File name of the checkpoint taken after `step` months (burn-in included).
pub fn file_name(step: u32) -> String {
    format!("step-{step:06}.ckpt")
}

/// The months done of a checkpoint file name, if it is one.
fn step_of(name: &str) -> Option<u32> {
    name.strip_prefix("step-")?.strip_suffix(".ckpt")?.parse().ok()
}

/// The checkpoint files in `dir/checkpoints`, newest (most months done) first.
pub fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    let folder = dir.join(DIR);
    let entries = match fs::read_dir(&folder) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::Read {
                path: folder,
                reason: e,
            })
        }
    };
    let mut found: Vec<(u32, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| step_of(&e.file_name().to_string_lossy()).map(|s| (s, e.path())))
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

/// Whether `dir` holds a run with checkpoints (finished or not).
pub fn is_checkpointed(dir: &Path) -> bool {
    dir.join(DIR).join(SETUP_FILE).is_file()
}

/// Whether `dir/checkpoints` is what a run killed before its start was recorded leaves: no
/// settings file and no checkpoint, only the scenario or staged files. Such a folder holds
/// nothing to resume, and the same command may simply start again.
pub fn is_unstarted(dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(dir.join(DIR)) else {
        return false;
    };
    entries.filter_map(|e| e.ok()).all(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name == SCENARIO_FILE || output::is_own_leftover(&name)
    })
}

/// Record the scenario and settings of a run with checkpoints in `dir/checkpoints`, removing
/// any checkpoint of an earlier run there. The caller holds the folder's lock.
///
/// The scenario is written as resolved TOML and read back at once: a scenario that would not
/// come back the same is refused here, before any month is simulated.
pub fn prepare(dir: &Path, sc: &Scenario, setup: &Setup) -> Result<()> {
    clear(dir)?;
    let folder = dir.join(DIR);
    fs::create_dir_all(&folder).map_err(|e| Error::CreateDir {
        path: folder.clone(),
        reason: e,
    })?;
    let path = output::write_file(&folder.join(SCENARIO_FILE), sc.to_toml().as_bytes())?;
    let back = Scenario::load(&path, &[])?.value;
    if output::fingerprint(&back) != output::fingerprint(sc) {
        return Err(Error::render(
            path.display().to_string(),
            "the scenario does not read back as the same scenario, so the run could not be resumed; run it without --checkpoint-every",
        ));
    }
    let json = serde_json::to_vec_pretty(setup).map_err(|e| Error::render(SETUP_FILE, e))?;
    output::write_file(&folder.join(SETUP_FILE), &json)?;
    sync_dir(&folder);
    Ok(())
}

/// What `dir/checkpoints` records of a run: its scenario (loaded from `scenario.toml`) and
/// settings.
#[derive(Debug)]
pub struct Resumable {
    /// The scenario, as loaded from `checkpoints/scenario.toml`.
    pub loaded: crate::scenario::Loaded<Scenario>,
    /// The settings.
    pub setup: Setup,
}

/// Read what `dir` records of a run with checkpoints (its scenario and settings).
pub fn open(dir: &Path) -> Result<Resumable> {
    let folder = dir.join(DIR);
    let setup_path = folder.join(SETUP_FILE);
    if !setup_path.is_file() {
        return Err(Error::folder(
            dir,
            format!(
                "holds no run with checkpoints (no {DIR}/{SETUP_FILE}); start one with `ruralgov run SCENARIO --out {} --checkpoint-every YEARS`",
                output::shell_quote(&dir.display().to_string())
            ),
        ));
    }
    let text = fs::read(&setup_path).map_err(|e| Error::Read {
        path: setup_path.clone(),
        reason: e,
    })?;
    let setup: Setup = serde_json::from_slice(&text).map_err(|e| {
        Error::damaged(
            &setup_path,
            None,
            format!("it is not the settings file of a run with checkpoints ({e})"),
        )
    })?;
    if setup.every_years == 0 {
        return Err(Error::damaged(&setup_path, None, "every_years must be at least 1"));
    }
    let loaded = Scenario::load(&folder.join(SCENARIO_FILE), &[])?;
    Ok(Resumable { loaded, setup })
}

/// Remove `dir/checkpoints` (checkpoints, scenario, settings and staged leftovers; anything
/// else in it stays, and so does the folder then). Called when a run's outputs are written.
pub fn clear(dir: &Path) -> Result<()> {
    let folder = dir.join(DIR);
    let Ok(entries) = fs::read_dir(&folder) else {
        return Ok(());
    };
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if step_of(&name).is_some() || name == SCENARIO_FILE || name == SETUP_FILE || output::is_own_leftover(&name) {
            remove(&e.path())?;
        }
    }
    let _ = fs::remove_dir(&folder); // only if empty
    Ok(())
}

/// Make a rename in `folder` durable (best effort; a no-op where folders cannot be synced).
fn sync_dir(folder: &Path) {
    if let Ok(f) = fs::File::open(folder) {
        let _ = f.sync_all();
    }
}

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hash: XxHash3_64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.write(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes and counts what it reads.
struct Hashed<R> {
    inner: R,
    hash: XxHash3_64,
    read: u64,
}

impl<R: Read> Read for Hashed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.write(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    let b = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(b.len() as u16).to_le_bytes());
    out.extend_from_slice(b);
}

/// The header of a checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Format version.
    pub format: u32,
    /// ruralgov version that wrote it.
    pub version: String,
    /// Git commit of the build that wrote it.
    pub commit: String,
    /// Fingerprint of the run ([`output::fingerprint`]).
    pub fingerprint: String,
    /// Scenario name.
    pub scenario: String,
    /// Months done, burn-in included.
    pub step: u32,
    /// Months of the whole run.
    pub total: u32,
}

impl Header {
    fn of(run: &Run) -> Header {
        Header {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION").into(),
            commit: env!("RURALGOV_GIT_COMMIT").into(),
            fingerprint: output::fingerprint(&run.world.scenario),
            scenario: run.world.scenario.name.clone(),
            step: run.world.step,
            total: run.total_months(),
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&MAGIC);
        b.extend_from_slice(&self.format.to_le_bytes());
        put_str(&mut b, &self.version);
        put_str(&mut b, &self.commit);
        put_str(&mut b, &self.fingerprint);
        put_str(&mut b, &self.scenario);
        b.extend_from_slice(&self.step.to_le_bytes());
        b.extend_from_slice(&self.total.to_le_bytes());
        let sum = checksum(&b);
        b.extend_from_slice(&sum.to_le_bytes());
        b
    }
}

/// Write the checkpoint of `run` into `dir/checkpoints` atomically (temporary name, synced,
/// renamed, folder synced) and remove all but the [`KEEP`] newest. Returns its path.
pub fn write(dir: &Path, run: &Run) -> Result<PathBuf> {
    let folder = dir.join(DIR);
    fs::create_dir_all(&folder).map_err(|e| Error::CreateDir {
        path: folder.clone(),
        reason: e,
    })?;
    let name = file_name(run.world.step);
    let w = &run.world;
    let tables = postcard::to_allocvec(&(&w.labour, w.repacks, &w.villages, &run.recorded, run.wall_seconds()))
        .map_err(|e| Error::render(name.clone(), e))?;
    let path = output::stage(&folder, &name, |out| {
        out.write_all(&Header::of(run).to_bytes())?;
        let mut h = Hashing {
            inner: &mut *out,
            hash: XxHash3_64::default(),
        };
        h.write_all(&(tables.len() as u64).to_le_bytes())?;
        h.write_all(&tables)?;
        h.write_all(&(w.agents.len() as u64).to_le_bytes())?;
        h.write_all(&(Agents::COLUMNS.len() as u32).to_le_bytes())?;
        w.agents.write_le(&mut h)?;
        let sum = h.hash.finish();
        out.write_all(&sum.to_le_bytes())
    })?
    .commit()?;
    sync_dir(&folder);
    for old in list(dir)?.into_iter().skip(KEEP) {
        remove(&old)?;
    }
    Ok(path)
}

/// Why a checkpoint file cannot be used.
#[derive(Debug)]
enum Unusable {
    /// It is damaged: resuming may fall back to an older one.
    Damaged(Error),
    /// It belongs to another build or scenario: resuming must stop.
    Refused(Error),
}

fn damaged(path: &Path, problem: impl Into<String>) -> Unusable {
    Unusable::Damaged(Error::damaged(path, None, problem))
}

fn read_u32(r: &mut impl Read) -> std::io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_u64(r: &mut impl Read) -> std::io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn read_str(r: &mut impl Read, raw: &mut Vec<u8>) -> std::io::Result<String> {
    let mut b = [0u8; 2];
    r.read_exact(&mut b)?;
    raw.extend_from_slice(&b);
    let n = u16::from_le_bytes(b) as usize;
    if n > MAX_STRING {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "a header string is too long",
        ));
    }
    let mut s = vec![0u8; n];
    r.read_exact(&mut s)?;
    raw.extend_from_slice(&s);
    String::from_utf8(s)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "a header string is not UTF-8"))
}

/// Read the header of `path`, checking magic, format, header checksum and build.
fn read_header(path: &Path, r: &mut impl Read) -> std::result::Result<Header, Unusable> {
    let short = |e: std::io::Error| {
        damaged(
            path,
            format!("its header cannot be read ({e}); it is not a whole checkpoint"),
        )
    };
    let mut raw = vec![0u8; 12];
    r.read_exact(&mut raw).map_err(short)?;
    if raw[..8] != MAGIC {
        return Err(damaged(path, "it is not a ruralgov checkpoint (wrong first bytes)"));
    }
    let format = u32::from_le_bytes([raw[8], raw[9], raw[10], raw[11]]);
    let version = read_str(r, &mut raw).map_err(short)?;
    let ours = env!("CARGO_PKG_VERSION");
    if format != FORMAT {
        return Err(Unusable::Refused(Error::damaged(
            path,
            None,
            format!(
                "it was written by ruralgov {version} in checkpoint format {format}; this is ruralgov {ours}, which reads format {FORMAT}. Resume it with the ruralgov that wrote it, or start the run again with --force"
            ),
        )));
    }
    let commit = read_str(r, &mut raw).map_err(short)?;
    let fingerprint = read_str(r, &mut raw).map_err(short)?;
    let scenario = read_str(r, &mut raw).map_err(short)?;
    let step = read_u32(r).map_err(short)?;
    let total = read_u32(r).map_err(short)?;
    raw.extend_from_slice(&step.to_le_bytes());
    raw.extend_from_slice(&total.to_le_bytes());
    let sum = read_u64(r).map_err(short)?;
    if sum != checksum(&raw) {
        return Err(damaged(
            path,
            "its header's checksum does not match (the file was damaged or edited)",
        ));
    }
    let our_commit = env!("RURALGOV_GIT_COMMIT");
    if version != ours || commit != our_commit {
        return Err(Unusable::Refused(Error::damaged(
            path,
            None,
            format!(
                "it was written by another ruralgov (version {version}, commit {commit}); this is ruralgov {ours} (commit {our_commit}), and a run resumed by another build would not give the results of either. Resume it with the ruralgov that wrote it, or start the run again with --force"
            ),
        )));
    }
    Ok(Header {
        format,
        version,
        commit,
        fingerprint,
        scenario,
        step,
        total,
    })
}

/// Read the checkpoint `path` of a run of `sc`, checking everything before it is used.
fn read_run(path: &Path, sc: &Scenario, scenario_file: &Path) -> std::result::Result<Run, Unusable> {
    let started = Instant::now();
    let file = fs::File::open(path).map_err(|e| {
        Unusable::Damaged(Error::Read {
            path: path.to_path_buf(),
            reason: e,
        })
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut r = BufReader::with_capacity(1 << 20, file);
    let header = read_header(path, &mut r)?;
    if header.fingerprint != output::fingerprint(sc) {
        return Err(Unusable::Refused(Error::damaged(
            path,
            None,
            format!(
                "it was written by a run of scenario \"{}\", and {} holds another scenario (other settings or seed: was it edited?). Start the run again with --force, or resume it with its own scenario",
                header.scenario,
                scenario_file.display()
            ),
        )));
    }
    let total = crate::model::burn_in_steps(sc) + sc.steps();
    if header.total != total || header.step == 0 || header.step >= total {
        return Err(damaged(
            path,
            format!(
                "it records month {} of {}, not a month of this run's {total}",
                header.step, header.total
            ),
        ));
    }
    let mut h = Hashed {
        inner: &mut r,
        hash: XxHash3_64::default(),
        read: 0,
    };
    let truncated = |e: std::io::Error| damaged(path, format!("it ends early or cannot be read ({e})"));
    let tables_len = read_u64(&mut h).map_err(truncated)?;
    if tables_len > size {
        return Err(damaged(
            path,
            "a length in it is larger than the file (the file was damaged)",
        ));
    }
    let mut tables = vec![0u8; tables_len as usize];
    h.read_exact(&mut tables).map_err(truncated)?;
    let slots = read_u64(&mut h).map_err(truncated)?;
    let columns = read_u32(&mut h).map_err(truncated)?;
    if slots.saturating_mul(Agents::BYTES_PER_SLOT as u64) > size || columns as usize != Agents::COLUMNS.len() {
        return Err(damaged(
            path,
            "its villager columns do not fit the file (the file was damaged)",
        ));
    }
    let agents = Agents::read_le(&mut h, slots as usize).map_err(truncated)?;
    let body_sum = h.hash.finish();
    let sum = read_u64(&mut r).map_err(truncated)?;
    if sum != body_sum {
        return Err(damaged(
            path,
            "its checksum does not match its contents (the file was damaged or edited)",
        ));
    }
    let mut rest = [0u8; 1];
    if r.read(&mut rest).map_err(truncated)? != 0 {
        return Err(damaged(path, "it has bytes after its checksum (the file was damaged)"));
    }
    type Tables = (LabourMarket, u32, Vec<Village>, Recorded, f64);
    let (labour, repacks, villages, mut recorded, wall): Tables = postcard::from_bytes(&tables)
        .map_err(|e| damaged(path, format!("its village tables cannot be decoded ({e})")))?;
    let caps: u64 = villages.iter().map(|v| v.cap as u64).sum();
    if villages.len() != sc.region.villages as usize || caps != slots {
        return Err(damaged(path, "its village tables do not match its villager columns"));
    }
    recorded.wall_seconds = wall;
    let world = World {
        scenario: sc.clone(),
        agents,
        villages,
        step: header.step,
        labour,
        repacks,
        vitals: Vitals::for_run(sc),
    };
    Ok(Run::resume(world, recorded, started))
}

/// Where a resumed run starts.
#[derive(Debug)]
pub struct Latest {
    /// The run, read back (or started afresh when no checkpoint was written yet).
    pub run: Run,
    /// The checkpoint it was read from (`None`: none was written yet).
    pub from: Option<PathBuf>,
    /// Checkpoints that were damaged and skipped, with the reason.
    pub skipped: Vec<Error>,
}

/// The run of `sc` (recorded in `dir`) from its newest usable checkpoint. A damaged
/// checkpoint is skipped for the one before (reported in [`Latest::skipped`]); one from
/// another build or scenario stops with its reason; when every checkpoint is damaged, the
/// newest one's reason is the error. A folder with no checkpoint yet starts the run from its
/// first month.
pub fn latest(pool: &rayon::ThreadPool, dir: &Path, sc: &Scenario) -> Result<Latest> {
    let scenario_file = dir.join(DIR).join(SCENARIO_FILE);
    let files = list(dir)?;
    if files.is_empty() {
        return Ok(Latest {
            run: Run::start(pool, sc)?,
            from: None,
            skipped: Vec::new(),
        });
    }
    let mut skipped = Vec::new();
    for path in files {
        match read_run(&path, sc, &scenario_file) {
            Ok(run) => {
                return Ok(Latest {
                    run,
                    from: Some(path),
                    skipped,
                })
            }
            Err(Unusable::Refused(e)) => return Err(e),
            Err(Unusable::Damaged(e)) => skipped.push(e),
        }
    }
    let mut reasons = skipped.into_iter();
    let first = reasons.next().map(|e| e.to_string()).unwrap_or_default();
    let others: Vec<String> = reasons.map(|e| e.to_string()).collect();
    Err(Error::folder(
        dir,
        format!(
            "no usable checkpoint: {first}{}{}. Nothing was changed; start the run again with --force",
            if others.is_empty() { "" } else { "; also " },
            others.join("; also ")
        ),
    ))
}

/// Read the checkpoint `path` of a run of `sc` (tests and tools; [`latest`] is what resuming
/// uses).
pub fn read(path: &Path, sc: &Scenario) -> Result<Run> {
    read_run(path, sc, Path::new(SCENARIO_FILE)).map_err(|u| match u {
        Unusable::Damaged(e) | Unusable::Refused(e) => e,
    })
}

/// Simulate what is left of `run`, saving a checkpoint into `dir` at the end of every
/// `every_years`-th simulated year (burn-in included; none after the last month), and calling
/// `progress(done, total)` after each recorded month.
pub fn complete(
    pool: &rayon::ThreadPool,
    run: Run,
    dir: &Path,
    every_years: u32,
    mut progress: impl FnMut(u32, u32),
) -> Result<RunOutput> {
    let months = every_years.max(1).saturating_mul(12);
    run.complete(
        pool,
        |done, total| {
            progress(done, total);
            ControlFlow::Continue(())
        },
        |r| {
            if r.world.step.is_multiple_of(months) {
                write(dir, r)?;
            }
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small villages that migrate, elect and grow out of their slots (repacking): the tiny
    /// scenario as the integration tests run it, with a one-year burn-in.
    fn small() -> Scenario {
        let sets: Vec<String> = [
            "run.end_year=2013",
            "run.burn_in_years=1",
            "region.villages=12",
            "population.tfr=8",
            "population.life_expectancy=78",
            "migration.settle_rate=0",
        ]
        .map(String::from)
        .to_vec();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/tiny.toml");
        Scenario::load(&path, &sets).unwrap().value
    }

    fn columns(a: &Agents) -> Vec<u8> {
        let mut b = Vec::new();
        a.write_le(&mut b).unwrap();
        b
    }

    /// A run read back from its checkpoint holds the same state and steps identically to the
    /// run that wrote it, to the same outputs.
    #[test]
    fn a_world_read_back_from_its_checkpoint_steps_identically() {
        let sc = small();
        let pool = crate::sim::pool(2).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut repacked = false;
        for months in [5, 12, 60, 110] {
            let mut run = Run::start(&pool, &sc).unwrap();
            for _ in 0..months {
                run.step(&pool);
            }
            let path = write(dir.path(), &run).unwrap();
            let back = read(&path, &sc).unwrap();
            assert_eq!(back.world.step, run.world.step);
            assert_eq!(back.world.villages, run.world.villages);
            assert_eq!(back.world.labour, run.world.labour);
            assert_eq!(back.world.repacks, run.world.repacks);
            repacked |= run.world.repacks > 0;
            assert_eq!(columns(&back.world.agents), columns(&run.world.agents));
            let (mut a, mut b) = (run.recorded.clone(), back.recorded.clone());
            (a.wall_seconds, b.wall_seconds) = (0.0, 0.0);
            assert_eq!(a, b);
            let one = run
                .complete(&pool, |_, _| ControlFlow::Continue(()), |_| Ok(()))
                .unwrap();
            let two = back
                .complete(&pool, |_, _| ControlFlow::Continue(()), |_| Ok(()))
                .unwrap();
            assert_eq!(one.metrics, two.metrics, "after {months} months");
            assert_eq!(one.villages, two.villages);
            assert_eq!(one.pyramid, two.pyramid);
            assert_eq!(one.distributions, two.distributions);
            assert_eq!((one.slots, one.repacks), (two.slots, two.repacks));
        }
        assert!(
            repacked,
            "no checkpoint was taken after a repack; make the villages grow faster"
        );
    }

    #[test]
    fn damage_another_build_and_another_scenario_are_told_apart() {
        let sc = small();
        let pool = crate::sim::pool(1).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut run = Run::start(&pool, &sc).unwrap();
        for _ in 0..14 {
            run.step(&pool);
        }
        let path = write(dir.path(), &run).unwrap();
        let good = fs::read(&path).unwrap();
        let expect = |bytes: &[u8], sc: &Scenario, fragment: &str| {
            fs::write(&path, bytes).unwrap();
            let e = read(&path, sc).expect_err("refused").to_string();
            assert!(e.contains(fragment) && e.contains("step-000014.ckpt"), "{e}");
        };
        // A flipped byte in the body, in the header; a truncated file; not a checkpoint.
        let mut b = good.clone();
        let n = b.len();
        b[n - 100] ^= 1;
        expect(&b, &sc, "checksum does not match its contents");
        let mut b = good.clone();
        b[14] ^= 1;
        expect(&b, &sc, "header's checksum");
        expect(&good[..good.len() / 2], &sc, "do not fit the file");
        expect(&good[..good.len() - 3], &sc, "ends early");
        expect(b"hello", &sc, "header cannot be read");
        expect(b"hello, this is not a checkpoint", &sc, "not a ruralgov checkpoint");
        // Another format.
        let mut b = good.clone();
        b[8] = 9;
        expect(&b, &sc, "checkpoint format 9");
        // Another scenario (seed).
        let mut other = sc.clone();
        other.run.seed += 1;
        expect(&good, &other, "holds another scenario");
        // Unchanged, it reads.
        fs::write(&path, &good).unwrap();
        assert!(read(&path, &sc).is_ok());
    }
}
