//! Running a plan: parallel across runs, resumable, shardable, in constant memory.
//!
//! The folder's layout and the run records are in [`super::folder`]. A sweep records the
//! plan in `.sweep/plan.json` (a re-run with a changed experiment is refused unless
//! `--restart`), then simulates every pending run of its shard and records each as it
//! finishes. Killing a sweep at any moment loses at most the runs in flight; running the same
//! command again skips finished runs (and re-runs any whose record is damaged). The final
//! outputs (`runs.csv`, `model.csv`, `villages.csv` when asked for, `summary.csv`,
//! `sensitivity.csv` for Morris and Sobol designs, `manifest.json`) are assembled from the
//! per-run files in run order, so they are byte-identical whether or not the sweep was
//! interrupted, sharded or run with a different number of jobs.
//!
//! Execution: `jobs` worker threads take pending runs in plan order from a shared counter,
//! one run at a time each; each worker owns one rayon pool (of `jobs / pending` threads when
//! there are fewer runs than jobs) and reuses it for all its runs. So at most `jobs` runs are
//! in memory at once, whatever the number of runs, and no run is ever started on the stack of
//! another (a pool inside a pool's worker would steal further runs onto its stack).

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::folder::{self, Recorded};
use super::plan::{describe_changes, Plan};
use super::spec::Method;
use super::{sensitivity, stats};
use crate::error::{Error, Result};
use crate::output::{num, write_file};

/// Sweep options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Output folder.
    pub out: PathBuf,
    /// Runs in parallel.
    pub jobs: usize,
    /// Run only runs with `run_id % n == i` (0-based `i`).
    pub shard: Option<(u32, u32)>,
    /// Discard a previous sweep (of any plan) in `out`.
    pub restart: bool,
    /// Skip the memory estimate (`--no-memory-check`).
    pub no_memory_check: bool,
    /// The command line, for the manifest.
    pub command: String,
    /// Which files the final tables are written as.
    pub format: crate::columnar::Format,
}

/// What a sweep did.
#[derive(Debug, Clone)]
pub struct Report {
    /// Runs in the plan.
    pub total: usize,
    /// Runs in this shard (all runs without sharding).
    pub mine: usize,
    /// Runs found finished and skipped.
    pub skipped: usize,
    /// Runs simulated now.
    pub ran: usize,
    /// Run records found damaged (file and why); those runs were simulated again.
    pub damaged: Vec<(PathBuf, String)>,
    /// Final outputs written (empty for a shard).
    pub written: Vec<PathBuf>,
}

/// An experiment file loaded and planned, with its output folder locked: what `ruralgov sweep`
/// and the Python package's `sweep` do before simulating.
#[derive(Debug)]
pub struct Prepared {
    /// The plan.
    pub plan: Plan,
    /// The options (the output folder defaults to `results/<experiment name>`).
    pub opts: Options,
    _lock: crate::output::Lock,
}

impl Prepared {
    /// Load and plan the experiment at `path` and lock its output folder (`out`, or
    /// `results/<name>`). `jobs` is checked against the machine's limits. One argument per
    /// flag of `ruralgov sweep`.
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        path: &Path,
        out: Option<PathBuf>,
        jobs: usize,
        shard: Option<(u32, u32)>,
        restart: bool,
        no_memory_check: bool,
        command: String,
        format: crate::columnar::Format,
    ) -> Result<Prepared> {
        let jobs = crate::limits::threads("--jobs", jobs)?;
        let loaded = super::spec::load(path)?;
        let plan = Plan::build(&loaded)?;
        let out = out.unwrap_or_else(|| PathBuf::from("results").join(&loaded.experiment.name));
        let lock = crate::output::Lock::acquire(&out, &command)?;
        Ok(Prepared {
            plan,
            opts: Options {
                out,
                jobs,
                shard,
                restart,
                no_memory_check,
                command,
                format,
            },
            _lock: lock,
        })
    }

    /// The experiment's name.
    pub fn name(&self) -> &str {
        &self.plan.experiment.name
    }

    /// Run the sweep ([`sweep`]), calling `progress(done, total)` as runs finish.
    pub fn run(&self, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<Report> {
        sweep(&self.plan, &self.opts, progress)
    }

    /// Run the sweep until done or until `cancel` becomes true ([`sweep_until`]).
    pub fn run_until(&self, progress: &(dyn Fn(usize, usize) + Sync), cancel: &AtomicBool) -> Result<Report> {
        sweep_until(&self.plan, &self.opts, progress, cancel)
    }
}

/// Prepare the sweep folder (the caller holds its lock): check or record the plan. Returns,
/// per run, its state.
fn prepare(plan: &Plan, opts: &Options) -> Result<Vec<Recorded>> {
    let out = &opts.out;
    let plan_path = folder::plan_path(out);
    let description = plan.description();
    if opts.restart && plan_path.exists() {
        // Only a ruralgov sweep is discarded: its work area and the outputs it wrote.
        let work = folder::work(out);
        fs::remove_dir_all(&work).map_err(|e| Error::Write { path: work, reason: e })?;
        crate::output::remove_derived(out)?;
        for f in folder::OUTPUTS {
            let p = out.join(f);
            if p.exists() {
                fs::remove_file(&p).map_err(|e| Error::Write { path: p, reason: e })?;
            }
        }
    }
    if plan_path.exists() {
        let old: serde_json::Value = fs::read_to_string(&plan_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null);
        if old.get("fingerprint") != description.get("fingerprint") {
            let changes = describe_changes(&old, &description);
            let shown: Vec<&str> = changes.iter().take(8).map(String::as_str).collect();
            return Err(Error::OutputExists {
                path: out.clone(),
                what: format!(
                    "a sweep of a different plan (changed: {}{})",
                    if shown.is_empty() {
                        "the program version".to_string()
                    } else {
                        shown.join("; ")
                    },
                    if changes.len() > 8 {
                        format!("; and {} more", changes.len() - 8)
                    } else {
                        String::new()
                    }
                ),
                remedy: "Re-run with --restart to discard the earlier runs, or choose another folder with --out".into(),
            });
        }
    } else {
        crate::output::refuse_foreign(out, "sweep")?;
        fs::create_dir_all(folder::runs_dir(out)).map_err(|e| Error::CreateDir {
            path: out.clone(),
            reason: e,
        })?;
        let text = serde_json::to_string_pretty(&description).map_err(|e| Error::render("plan.json", e))?;
        write_file(&plan_path, text.as_bytes())?;
    }
    fs::create_dir_all(folder::runs_dir(out)).map_err(|e| Error::CreateDir {
        path: out.clone(),
        reason: e,
    })?;
    Ok(plan.runs.iter().map(|r| folder::read_run(out, plan, r)).collect())
}

/// Run (the pending part of) a plan into `opts.out`, which the caller has locked.
pub fn sweep(plan: &Plan, opts: &Options, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<Report> {
    sweep_until(plan, opts, progress, &AtomicBool::new(false))
}

/// Check a `--shard I/N`: `0 <= I < N`.
pub fn check_shard(shard: Option<(u32, u32)>) -> Result<()> {
    match shard {
        Some((i, n)) if n == 0 || i >= n => Err(Error::option(
            "--shard",
            format!("{i}/{n}"),
            "expected I/N with 0 <= I < N",
        )),
        _ => Ok(()),
    }
}

/// [`sweep`], stopped when `cancel` becomes true (the Python package sets it on Ctrl-C):
/// the runs in flight stop within a month of simulation, finished runs stay recorded, and the
/// result is [`Error::SweepStopped`]; the same sweep run again resumes from there.
pub fn sweep_until(
    plan: &Plan,
    opts: &Options,
    progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &AtomicBool,
) -> Result<Report> {
    let jobs = crate::limits::threads("--jobs", opts.jobs)?;
    check_shard(opts.shard)?;
    if !plan.can_run() {
        return Err(Error::folder(
            &opts.out,
            "this plan was read back from a folder and cannot run",
        ));
    }
    let states = prepare(plan, opts)?;
    let mine: Vec<usize> = (0..plan.runs.len())
        .filter(|&k| opts.shard.is_none_or(|(i, n)| plan.runs[k].run_id % n == i))
        .collect();
    let mut damaged = Vec::new();
    let mut pending = Vec::new();
    for &k in &mine {
        match &states[k] {
            Recorded::Finished(_) => {}
            Recorded::Missing => pending.push(k),
            Recorded::Damaged(why) => {
                damaged.push((folder::run_file(&opts.out, plan.runs[k].run_id, "json"), why.clone()));
                folder::remove_run(&opts.out, plan.runs[k].run_id);
                pending.push(k);
            }
        }
    }
    let skipped = mine.len() - pending.len();
    let workers = jobs.min(pending.len()).max(1);
    let inner = (jobs / pending.len().max(1)).max(1);
    // The largest run in memory at once, times the runs in flight.
    if let Some(&k) = pending.iter().max_by_key(|&&k| {
        let sc = &plan.arm_scenarios[plan.runs[k].arm];
        crate::sim::estimate_bytes(sc)
    }) {
        let sc = plan.scenario(k)?;
        crate::limits::memory(
            &format!(
                "this sweep ({workers} runs at once, the largest like run {})",
                plan.runs[k].run_id
            ),
            crate::sim::estimate_bytes(&sc).saturating_mul(workers as u64),
            opts.no_memory_check,
        )?;
    }

    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(skipped);
    let stop = AtomicBool::new(false);
    let failures: Mutex<Vec<(usize, Error)>> = Mutex::new(Vec::new());
    let total = mine.len();
    progress(skipped, total);
    let metrics = &plan.experiment.metric;
    let worker = || -> Result<()> {
        let pool = crate::sim::pool(inner)?;
        loop {
            let i = next.fetch_add(1, Ordering::SeqCst);
            if i >= pending.len() || stop.load(Ordering::SeqCst) || cancel.load(Ordering::SeqCst) {
                return Ok(());
            }
            let k = pending[i];
            let spec = &plan.runs[k];
            let result = (|| -> Result<()> {
                let sc = plan.scenario(k)?;
                let out = crate::sim::run_until(&pool, &sc, |_, _| {
                    if cancel.load(Ordering::SeqCst) {
                        std::ops::ControlFlow::Break(())
                    } else {
                        std::ops::ControlFlow::Continue(())
                    }
                })?;
                let model = folder::model_rows(plan, spec, &out.metrics);
                let villages = sc
                    .output
                    .villages
                    .then(|| folder::village_rows(plan, spec, &out.villages));
                let values: Vec<f64> = metrics.iter().map(|m| m.reduce(&out.metrics)).collect();
                folder::write_run(&opts.out, plan, spec, &model, villages.as_deref(), &values)
            })();
            if let Err(e) = result {
                stop.store(true, Ordering::SeqCst);
                if let Ok(mut f) = failures.lock() {
                    f.push((i, e));
                }
                return Ok(());
            }
            let d = done.fetch_add(1, Ordering::SeqCst) + 1;
            progress(d, total);
        }
    };
    let started: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers).map(|_| s.spawn(worker)).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::render("a sweep run", "a worker thread panicked")))
            })
            .collect()
    });
    if let Some(e) = started.into_iter().find_map(|r| r.err()) {
        return Err(e);
    }
    if cancel.load(Ordering::SeqCst) {
        return Err(Error::SweepStopped {
            done: done.load(Ordering::SeqCst),
            total,
        });
    }
    let mut failures = failures.into_inner().unwrap_or_default();
    failures.sort_by_key(|(i, _)| *i);
    if let Some((_, e)) = failures.into_iter().next() {
        return Err(e);
    }
    let mut written = Vec::new();
    if opts.shard.is_none() {
        written = assemble(plan, &opts.out, &opts.command, opts.format)?;
    }
    Ok(Report {
        total: plan.runs.len(),
        mine: mine.len(),
        skipped,
        ran: pending.len(),
        damaged,
        written,
    })
}

/// Read the summary values of every run; every run must be finished and check out.
fn read_values(plan: &Plan, out: &Path) -> Result<Vec<Vec<f64>>> {
    let mut all = Vec::with_capacity(plan.runs.len());
    let mut missing = Vec::new();
    for r in &plan.runs {
        match folder::read_run(out, plan, r) {
            Recorded::Finished(v) => all.push(v),
            Recorded::Missing => missing.push(r.run_id),
            Recorded::Damaged(why) => {
                return Err(Error::damaged(
                    folder::run_file(out, r.run_id, "json"),
                    None,
                    format!("{why}; run the same `ruralgov sweep` command again to simulate that run anew"),
                ))
            }
        }
    }
    if let Some(first) = missing.first() {
        return Err(Error::folder(
            out,
            format!(
                "{} of {} runs are not finished (first missing run {first}); run the sweep (or the missing shards) first",
                missing.len(),
                plan.runs.len()
            ),
        ));
    }
    Ok(all)
}

/// Concatenate the per-run row files (`ext`) under `header` into `name`, in run order,
/// through the atomic writer.
fn concatenate(plan: &Plan, out: &Path, name: &str, header: &str, ext: &str) -> Result<PathBuf> {
    crate::output::write_atomic(out, name, |w| {
        w.write_all(header.as_bytes())?;
        for r in &plan.runs {
            let bytes = fs::read(folder::run_file(out, r.run_id, ext))?;
            w.write_all(&bytes)?;
        }
        Ok(())
    })
}

/// Assemble the final outputs from the per-run files, the manifest last.
///
/// The manifest is the same for every way of reaching the same results (any jobs, shards,
/// interruptions, output folder); the command lines actually used are appended to
/// `.sweep/commands.log`.
pub fn assemble(plan: &Plan, out: &Path, command: &str, format: crate::columnar::Format) -> Result<Vec<PathBuf>> {
    let values = read_values(plan, out)?;
    log_command(out, command)?;
    let labels: Vec<String> = plan.experiment.metric.iter().map(|m| m.label()).collect();
    let mut written = Vec::new();
    let old_manifest = out.join("manifest.json");
    if old_manifest.exists() {
        fs::remove_file(&old_manifest).map_err(|e| Error::Write {
            path: old_manifest.clone(),
            reason: e,
        })?;
    }

    written.push(write_file(&out.join("runs.csv"), &folder::runs_csv(plan, &values)?)?);
    written.push(concatenate(plan, out, "model.csv", &folder::model_header(), "csv")?);
    let with_villages = plan
        .runs
        .iter()
        .any(|r| folder::run_file(out, r.run_id, "vil").exists());
    if with_villages {
        written.push(concatenate(
            plan,
            out,
            "villages.csv",
            &folder::villages_header(),
            "vil",
        )?);
    }

    // summary.csv: arm x point x metric.
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["arm".to_string(), "point".into()];
    header.extend(plan.factors.iter().cloned());
    header.extend(["metric", "n", "mean", "sd", "ci_low", "ci_high"].map(String::from));
    let csv_err = |e: csv::Error| Error::render("summary.csv", e);
    w.write_record(&header).map_err(csv_err)?;
    for (ai, arm) in plan.arms.iter().enumerate() {
        for (pi, point) in plan.points.iter().enumerate() {
            for (mi, label) in labels.iter().enumerate() {
                let xs: Vec<f64> = plan
                    .runs
                    .iter()
                    .zip(&values)
                    .filter(|(r, _)| r.arm == ai && r.point == pi)
                    .map(|(_, v)| v.get(mi).copied().unwrap_or(f64::NAN))
                    .collect();
                let s = stats::summary(&xs, 0.95);
                let mut row = vec![arm.clone(), pi.to_string()];
                row.extend(point.iter().map(|v| num(*v)));
                row.push(label.clone());
                row.push(xs.len().to_string());
                match s {
                    Some(s) => row.extend([num(s.mean), num(s.sd), num(s.ci_low), num(s.ci_high)]),
                    None => row.extend([num(stats::mean(&xs)), String::new(), String::new(), String::new()]),
                }
                w.write_record(&row).map_err(csv_err)?;
            }
        }
    }
    let bytes = w.into_inner().map_err(|e| Error::render("summary.csv", e))?;
    written.push(write_file(&out.join("summary.csv"), &bytes)?);

    if matches!(plan.experiment.sampling.method, Method::Morris | Method::Sobol) && !plan.factors.is_empty() {
        let text = sensitivity::table(plan, &values)?;
        written.push(write_file(&out.join("sensitivity.csv"), text.as_bytes())?);
    }

    let mut written = with_format(out, written, format)?;

    let deps: serde_json::Map<String, serde_json::Value> = env!("RURALGOV_DEPS")
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
        .collect();
    let outputs: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .chain(std::iter::once("manifest.json".to_string()))
        .collect();
    let description = plan.description();
    let manifest = serde_json::json!({
        "kind": "sweep",
        "ruralgov_version": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("RURALGOV_GIT_COMMIT"),
        "fingerprint": plan.fingerprint,
        "experiment_file": description.get("experiment_file").cloned(),
        "reproduce": description
            .get("experiment_file")
            .and_then(|f| f.as_str())
            .map(|f| format!("ruralgov sweep {} --out <this folder>", crate::output::shell_quote(f))),
        "experiment_name": plan.experiment.name,
        "runs": plan.runs.len(),
        "arms": plan.arms,
        "factors": plan.factors,
        "points": plan.points.len(),
        "replications": plan.experiment.replications,
        "seeds": "replicate r uses seed mix(experiment seed ^ mix(0x5EED0000 + r)) >> 11 in every arm and point",
        "metrics": labels,
        "outputs": outputs,
        "format": format.name(),
        "dependencies": deps,
        "platform": format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        "experiment": plan.experiment,
        "arm_scenarios": description.get("arms").cloned(),
    });
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| Error::render("manifest.json", e))? + "\n";
    written.push(write_file(&out.join("manifest.json"), text.as_bytes())?);
    Ok(written)
}

/// The final CSV tables `written` in the format asked for: Parquet copies for `parquet` and
/// `both`; for `parquet` the large tables (`model`, `villages`) only as Parquet, the small ones
/// that `compare`, `sensitivity` and `report` read (`runs`, `summary`, `sensitivity`) in both.
/// A copy in a format no longer asked for (from an earlier assembly) is removed.
fn with_format(out: &Path, written: Vec<PathBuf>, format: crate::columnar::Format) -> Result<Vec<PathBuf>> {
    let mut kept = Vec::new();
    for path in written {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let pq = out.join(crate::columnar::parquet_name(&name));
        if format.parquet() {
            let bytes = fs::read(&path).map_err(|e| Error::Read {
                path: path.clone(),
                reason: e,
            })?;
            kept.push(write_file(&pq, &crate::columnar::to_parquet(&name, &bytes)?)?);
        } else if pq.exists() {
            fs::remove_file(&pq).map_err(|e| Error::Write { path: pq, reason: e })?;
        }
        if format.csv() || folder::READ_BACK.contains(&name.as_str()) {
            kept.push(path);
        } else {
            fs::remove_file(&path).map_err(|e| Error::Write { path, reason: e })?;
        }
    }
    Ok(kept)
}

/// Append `command` to the sweep's `.sweep/commands.log`.
fn log_command(out: &Path, command: &str) -> Result<()> {
    let path = folder::work(out).join("commands.log");
    let mut f = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| Error::Write {
            path: path.clone(),
            reason: e,
        })?;
    use std::io::Write as _;
    writeln!(f, "{command}").map_err(|e| Error::Write { path, reason: e })
}

/// What [`merge`] did.
#[derive(Debug, Clone)]
pub struct Merged {
    /// Final outputs written.
    pub written: Vec<PathBuf>,
    /// Run records in the shard folders that were damaged and not copied (file and why).
    pub damaged: Vec<(PathBuf, String)>,
}

/// Merge shard folders into `out` (which the caller has locked): copy every finished run
/// that checks out, then assemble. The result is byte-identical to an unsharded sweep of the
/// same plan.
pub fn merge(dirs: &[PathBuf], out: &Path, command: &str, format: crate::columnar::Format) -> Result<Merged> {
    let first = dirs
        .first()
        .ok_or_else(|| Error::option("merge", "", "give at least one shard folder"))?;
    let plan = Plan::from_description(&super::folder::recorded_plan(first)?)?;
    for d in dirs {
        let v = super::folder::recorded_plan(d)?;
        if v.get("fingerprint").and_then(|f| f.as_str()) != Some(plan.fingerprint.as_str()) {
            return Err(Error::folder(
                d,
                format!(
                    "it holds a sweep of a different plan than {}; only shards of one experiment can be merged",
                    first.display()
                ),
            ));
        }
    }
    let opts = Options {
        out: out.to_path_buf(),
        jobs: 1,
        shard: None,
        restart: false,
        no_memory_check: true,
        command: command.to_string(),
        format,
    };
    let states = prepare(&plan, &opts)?;
    let damaged = copy_finished(&plan, out, &states, dirs)?;
    let written = assemble(&plan, out, command, format)?;
    Ok(Merged { written, damaged })
}

/// Copy into `out` every run of `plan` that is not finished there (`states`, as [`prepare`]
/// found them) but is finished and checks out in one of `dirs`; returns the damaged records
/// found in `dirs` (file and why), which are not copied.
fn copy_finished(plan: &Plan, out: &Path, states: &[Recorded], dirs: &[PathBuf]) -> Result<Vec<(PathBuf, String)>> {
    let mut damaged = Vec::new();
    for (r, state) in plan.runs.iter().zip(states) {
        if matches!(state, Recorded::Finished(_)) {
            continue;
        }
        folder::remove_run(out, r.run_id);
        for d in dirs {
            match folder::read_run(d, plan, r) {
                Recorded::Missing => continue,
                Recorded::Damaged(why) => damaged.push((folder::run_file(d, r.run_id, "json"), why)),
                Recorded::Finished(_) => {
                    for ext in ["csv", "vil", "json"] {
                        let src = folder::run_file(d, r.run_id, ext);
                        if !src.exists() {
                            continue;
                        }
                        let bytes = fs::read(&src).map_err(|e| Error::Read { path: src, reason: e })?;
                        write_file(&folder::run_file(out, r.run_id, ext), &bytes)?;
                    }
                    break;
                }
            }
        }
    }
    Ok(damaged)
}

/// Take into the sweep folder `opts.out` (which the caller has locked) the finished runs of
/// the shard folders `dirs` of the same plan, so that [`sweep`] there runs only what no shard
/// finished. Shard folders of another plan are an error; a missing one is skipped.
pub fn adopt(plan: &Plan, opts: &Options, dirs: &[PathBuf]) -> Result<Vec<(PathBuf, String)>> {
    let states = prepare(plan, opts)?;
    let mut mine = Vec::new();
    for d in dirs {
        if !folder::plan_path(d).exists() {
            continue;
        }
        let v = folder::recorded_plan(d)?;
        if v.get("fingerprint").and_then(|f| f.as_str()) != Some(plan.fingerprint.as_str()) {
            return Err(Error::folder(
                d,
                "it holds a sweep of a different plan; only shards of the same plan can be taken over",
            ));
        }
        mine.push(d.clone());
    }
    copy_finished(plan, &opts.out, &states, &mine)
}

/// Whether the shard folder `dir` holds every run of shard `i` of `n` of `plan`, finished and
/// intact (a shard that is still running, or another plan's, is not complete).
pub fn shard_complete(plan: &Plan, dir: &Path, i: u32, n: u32) -> bool {
    let same_plan = folder::recorded_plan(dir)
        .ok()
        .and_then(|v| v.get("fingerprint").and_then(|f| f.as_str()).map(str::to_string))
        .is_some_and(|f| f == plan.fingerprint);
    same_plan
        && plan
            .runs
            .iter()
            .filter(|r| r.run_id % n == i)
            .all(|r| matches!(folder::read_run(dir, plan, r), Recorded::Finished(_)))
}
