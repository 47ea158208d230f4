//! Running a plan: parallel across runs, resumable, shardable.
//!
//! A sweep folder holds a hidden `.sweep/` work area:
//!
//! - `.sweep/plan.json`: what determines the results (experiment, resolved arm scenarios,
//!   program version); a re-run with a changed experiment is refused unless `--restart`;
//! - `.sweep/runs/NNNNNN.csv`: the `model.csv` rows of a finished run, and
//!   `.sweep/runs/NNNNNN.json`: its summary values. Both are written under temporary names
//!   and renamed, the JSON last: a run counts as finished only when its JSON exists.
//!
//! Killing a sweep at any moment loses at most the runs in flight; running the same command
//! again skips finished runs. The final outputs (`runs.csv`, `model.csv`, `summary.csv`,
//! `sensitivity.csv` for Morris and Sobol designs, `manifest.json`) are assembled from the
//! per-run files in run order, so they are byte-identical whether or not the sweep was
//! interrupted, sharded or run with a different number of jobs.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use super::plan::{describe_changes, Plan};
use super::spec::Method;
use super::{sensitivity, stats};
use crate::error::{Error, Result};
use crate::model::observe::Metrics;

/// Sweep options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Output folder.
    pub out: PathBuf,
    /// Runs in parallel.
    pub jobs: usize,
    /// Run only runs with `run_id % n == i` (0-based `i`).
    pub shard: Option<(u32, u32)>,
    /// Discard a previous partial sweep in `out`.
    pub restart: bool,
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
    /// Final outputs written (empty for a shard).
    pub written: Vec<PathBuf>,
}

fn work(out: &Path) -> PathBuf {
    out.join(".sweep")
}

fn run_file(out: &Path, id: u32, ext: &str) -> PathBuf {
    work(out).join("runs").join(format!("{id:06}.{ext}"))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Write {
        path: path.to_path_buf(),
        reason: e,
    }
}

/// Write `bytes` to `path` atomically (temporary name, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    crate::output::write_atomic(dir, &name, |w| w.write_all(bytes)).map(|_| ())
}

/// Header of `model.csv`.
pub fn model_header() -> String {
    let mut h = vec!["run_id", "step", "year", "month"];
    h.extend(Metrics::COLUMNS.iter().map(|(n, _)| *n));
    h.join(",") + "\n"
}

fn model_rows(run_id: u32, rows: &[Metrics]) -> String {
    let mut s = String::new();
    for m in rows {
        s.push_str(&format!("{run_id},{},{},{}", m.step, m.year, m.month));
        for v in m.values() {
            s.push(',');
            s.push_str(&crate::output::num(v));
        }
        s.push('\n');
    }
    s
}

/// Prepare the sweep folder: check or record the plan. Returns the finished run ids.
fn prepare(plan: &Plan, opts: &Options) -> Result<Vec<bool>> {
    let out = &opts.out;
    let plan_path = work(out).join("plan.json");
    let description = plan.description();
    if opts.restart && work(out).exists() {
        fs::remove_dir_all(work(out)).map_err(io(&work(out)))?;
        crate::output::remove_derived(out)?;
        for f in [
            "runs.csv",
            "model.csv",
            "summary.csv",
            "sensitivity.csv",
            "manifest.json",
            "compare.csv",
        ] {
            let p = out.join(f);
            if p.exists() {
                fs::remove_file(&p).map_err(io(&p))?;
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
            return Err(Error::Usage(format!(
                "{} holds a sweep of a different plan; nothing was run. Changed: {}{}. Re-run with --restart to discard the earlier runs, or choose another --out",
                out.display(),
                if shown.is_empty() { "the program version".to_string() } else { shown.join("; ") },
                if changes.len() > 8 { format!("; and {} more", changes.len() - 8) } else { String::new() }
            )));
        }
    } else {
        if out.exists() && fs::read_dir(out).map_err(io(out))?.next().is_some() && !opts.restart {
            return Err(Error::OutputExists {
                path: out.clone(),
                what: "files that are not a ruralgov sweep".into(),
            });
        }
        fs::create_dir_all(work(out).join("runs")).map_err(|e| Error::CreateDir {
            path: out.clone(),
            reason: e,
        })?;
        let text = serde_json::to_string_pretty(&description).map_err(|e| Error::Usage(e.to_string()))?;
        write_atomic(&plan_path, text.as_bytes())?;
    }
    fs::create_dir_all(work(out).join("runs")).map_err(|e| Error::CreateDir {
        path: out.clone(),
        reason: e,
    })?;
    Ok(plan
        .runs
        .iter()
        .map(|r| run_file(out, r.run_id, "json").exists())
        .collect())
}

/// Run (the pending part of) a plan.
pub fn sweep(plan: &Plan, opts: &Options, progress: &(dyn Fn(usize, usize) + Sync)) -> Result<Report> {
    if opts.jobs == 0 {
        return Err(Error::Usage("--jobs must be at least 1".into()));
    }
    if let Some((i, n)) = opts.shard {
        if n == 0 || i >= n {
            return Err(Error::Usage(format!("--shard {i}/{n}: expected I/N with 0 <= I < N")));
        }
    }
    let finished = prepare(plan, opts)?;
    let mine: Vec<usize> = (0..plan.runs.len())
        .filter(|&k| opts.shard.is_none_or(|(i, n)| plan.runs[k].run_id % n == i))
        .collect();
    let pending: Vec<usize> = mine.iter().copied().filter(|&k| !finished[k]).collect();
    let skipped = mine.len() - pending.len();
    let inner = if pending.len() >= opts.jobs {
        1
    } else {
        (opts.jobs / pending.len().max(1)).max(1)
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {} worker threads: {e}", opts.jobs)))?;
    let done = AtomicUsize::new(skipped);
    let total = mine.len();
    progress(skipped, total);
    let metrics = &plan.experiment.metric;
    pool.install(|| {
        pending.par_iter().with_max_len(1).try_for_each(|&k| -> Result<()> {
            let spec = &plan.runs[k];
            let out = crate::sim::run(&plan.scenarios[k], inner, |_, _| {})?;
            let rows = model_rows(spec.run_id, &out.metrics);
            write_atomic(&run_file(&opts.out, spec.run_id, "csv"), rows.as_bytes())?;
            let values: Vec<f64> = metrics.iter().map(|m| m.reduce(&out.metrics)).collect();
            let json = serde_json::json!({ "run_id": spec.run_id, "values": values });
            write_atomic(&run_file(&opts.out, spec.run_id, "json"), json.to_string().as_bytes())?;
            let d = done.fetch_add(1, Ordering::SeqCst) + 1;
            progress(d, total);
            Ok(())
        })
    })?;
    let mut written = Vec::new();
    if opts.shard.is_none() {
        written = assemble(plan, &opts.out)?;
    }
    Ok(Report {
        total: plan.runs.len(),
        mine: mine.len(),
        skipped,
        ran: pending.len(),
        written,
    })
}

/// Read the summary values of every run (all must be finished).
fn read_values(plan: &Plan, out: &Path) -> Result<Vec<Vec<f64>>> {
    let mut all = Vec::with_capacity(plan.runs.len());
    for r in &plan.runs {
        let p = run_file(out, r.run_id, "json");
        let text = fs::read_to_string(&p).map_err(io(&p))?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Error::Usage(format!(
                "{} is damaged ({e}); re-run the sweep with --restart",
                p.display()
            ))
        })?;
        let values: Vec<f64> = v
            .get("values")
            .and_then(|x| x.as_array())
            .map(|a| a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
            .unwrap_or_default();
        all.push(values);
    }
    Ok(all)
}

/// Assemble the final outputs from the per-run files.
pub fn assemble(plan: &Plan, out: &Path) -> Result<Vec<PathBuf>> {
    let missing: Vec<u32> = plan
        .runs
        .iter()
        .filter(|r| !run_file(out, r.run_id, "json").exists())
        .map(|r| r.run_id)
        .collect();
    if !missing.is_empty() {
        return Err(Error::Usage(format!(
            "{}: {} of {} runs are not finished (first missing run {}); run the sweep (or the missing shards) first",
            out.display(),
            missing.len(),
            plan.runs.len(),
            missing[0]
        )));
    }
    let values = read_values(plan, out)?;
    let labels: Vec<String> = plan.experiment.metric.iter().map(|m| m.label()).collect();
    let mut written = Vec::new();

    // runs.csv
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "run_id".to_string(),
        "arm".into(),
        "point".into(),
        "replicate".into(),
        "seed".into(),
    ];
    header.extend(plan.factors.iter().cloned());
    header.extend(["budget_scale".to_string(), "spend_per_village_year".into()]);
    header.extend(labels.iter().cloned());
    let csv_err = |e: csv::Error| Error::Usage(format!("cannot format CSV: {e}"));
    w.write_record(&header).map_err(csv_err)?;
    for (r, vals) in plan.runs.iter().zip(&values) {
        let mut row = vec![
            r.run_id.to_string(),
            plan.arms[r.arm].clone(),
            r.point.to_string(),
            r.replicate.to_string(),
            r.seed.to_string(),
        ];
        row.extend(plan.points[r.point].iter().map(|v| crate::output::num(*v)));
        row.extend([crate::output::num(r.scale), crate::output::num(r.spend)]);
        row.extend(vals.iter().map(|v| crate::output::num(*v)));
        w.write_record(&row).map_err(csv_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Usage(format!("cannot format CSV: {e}")))?;
    let p = out.join("runs.csv");
    write_atomic(&p, &bytes)?;
    written.push(p);

    // model.csv: concatenation in run order.
    let p = out.join("model.csv");
    let tmp = out.join(".model.csv.partial");
    {
        let f = fs::File::create(&tmp).map_err(io(&tmp))?;
        let mut f = std::io::BufWriter::new(f);
        f.write_all(model_header().as_bytes()).map_err(io(&tmp))?;
        for r in &plan.runs {
            let src = run_file(out, r.run_id, "csv");
            let bytes = fs::read(&src).map_err(io(&src))?;
            f.write_all(&bytes).map_err(io(&tmp))?;
        }
        f.flush().map_err(io(&tmp))?;
    }
    fs::rename(&tmp, &p).map_err(io(&p))?;
    written.push(p);

    // summary.csv: arm x point x metric.
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["arm".to_string(), "point".into()];
    header.extend(plan.factors.iter().cloned());
    header.extend(["metric", "n", "mean", "sd", "ci_low", "ci_high"].map(String::from));
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
                row.extend(point.iter().map(|v| crate::output::num(*v)));
                row.push(label.clone());
                row.push(xs.len().to_string());
                match s {
                    Some(s) => row.extend([
                        crate::output::num(s.mean),
                        crate::output::num(s.sd),
                        crate::output::num(s.ci_low),
                        crate::output::num(s.ci_high),
                    ]),
                    None => row.extend([
                        crate::output::num(stats::mean(&xs)),
                        String::new(),
                        String::new(),
                        String::new(),
                    ]),
                }
                w.write_record(&row).map_err(csv_err)?;
            }
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Usage(format!("cannot format CSV: {e}")))?;
    let p = out.join("summary.csv");
    write_atomic(&p, &bytes)?;
    written.push(p);

    if matches!(plan.experiment.sampling.method, Method::Morris | Method::Sobol) && !plan.factors.is_empty() {
        let text = sensitivity::table(plan, &values)?;
        let p = out.join("sensitivity.csv");
        write_atomic(&p, text.as_bytes())?;
        written.push(p);
    }

    let deps: serde_json::Map<String, serde_json::Value> = env!("RURALGOV_DEPS")
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), serde_json::json!(v)))
        .collect();
    let manifest = serde_json::json!({
        "kind": "sweep",
        "ruralgov_version": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("RURALGOV_GIT_COMMIT"),
        "fingerprint": plan.fingerprint,
        "experiment_name": plan.experiment.name,
        "runs": plan.runs.len(),
        "arms": plan.arms,
        "factors": plan.factors,
        "points": plan.points.len(),
        "replications": plan.experiment.replications,
        "seeds": "replicate r uses seed mix(experiment seed ^ mix(0x5EED0000 + r)) in every arm and point",
        "metrics": labels,
        "dependencies": deps,
        "platform": format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        "experiment": plan.experiment,
        "arm_scenarios": plan.description().get("arms").cloned(),
    });
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| Error::Usage(e.to_string()))? + "\n";
    let p = out.join("manifest.json");
    write_atomic(&p, text.as_bytes())?;
    written.push(p);
    Ok(written)
}

/// Merge shard folders into `out`: copy every finished run, then assemble. The result is
/// byte-identical to an unsharded sweep of the same plan.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Vec<PathBuf>> {
    let first = dirs
        .first()
        .ok_or_else(|| Error::Usage("merge needs at least one shard folder".into()))?;
    let plan = Plan::from_description(&recorded_plan(first)?)?;
    for d in dirs {
        let v = recorded_plan(d)?;
        if v.get("fingerprint").and_then(|f| f.as_str()) != Some(plan.fingerprint.as_str()) {
            return Err(Error::Usage(format!(
                "{} holds a sweep of a different plan than {}; only shards of one experiment can be merged",
                d.display(),
                first.display()
            )));
        }
    }
    let opts = Options {
        out: out.to_path_buf(),
        jobs: 1,
        shard: None,
        restart: false,
    };
    prepare(&plan, &opts)?;
    for r in &plan.runs {
        if run_file(out, r.run_id, "json").exists() {
            continue;
        }
        if let Some(d) = dirs.iter().find(|d| run_file(d, r.run_id, "json").exists()) {
            for ext in ["csv", "json"] {
                let (src, dst) = (run_file(d, r.run_id, ext), run_file(out, r.run_id, ext));
                let bytes = fs::read(&src).map_err(io(&src))?;
                write_atomic(&dst, &bytes)?;
            }
        }
    }
    assemble(&plan, out)
}

/// The plan description recorded in a sweep folder.
pub fn recorded_plan(dir: &Path) -> Result<serde_json::Value> {
    let p = work(dir).join("plan.json");
    let text = fs::read_to_string(&p).map_err(|e| {
        Error::Usage(format!(
            "{} is not a sweep folder (cannot read {}: {e})",
            dir.display(),
            p.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| Error::Usage(format!("{} is damaged: {e}", p.display())))
}
