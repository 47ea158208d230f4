//! Bayesian history matching in waves (Vernon, Goldstein and Bower 2010; Andrianakis et al.
//! 2015): rule out the parameter values at which the model cannot match the data, given the
//! observation error, the model discrepancy, the seed noise of a single run and the
//! emulators' own uncertainty.
//!
//! Wave `w`:
//! 1. **Design.** Wave 1: a Latin hypercube over the parameters' ranges (on each parameter's
//!    scale). Later waves: uniform candidates in the ranges, kept where every earlier wave's
//!    emulators find them not implausible, then `points` of them chosen far apart (greedy
//!    maximin). The share of candidates kept estimates the share of the original space not
//!    yet ruled out.
//! 2. **Runs.** The design goes to the sweep machinery as an experiment
//!    (`wave-W/experiment.toml` with `[parameters] from = "design.csv"`), each point with
//!    `replications` common-random-number seeds; the runs are parallel, resumable and
//!    identical however they were run.
//! 3. **Emulators.** One Gaussian-process emulator per target on the points' mean outputs
//!    ([`super::emulator`]); the seed variance of a single run (pooled over the wave's points)
//!    divided by the replications is the known noise of each mean. Leave-one-out checks go
//!    to `wave-W/loo.csv`.
//! 4. **Implausibility.** For target `t` at `x`:
//!    `I_t(x) = |z_t - E[f_t(x)]| / sqrt(Var_em(x) + sd_t^2 + discrepancy_t^2 + Var_seed_t)`,
//!    and `I(x) = max_t I_t(x)`; `x` is ruled out where `I(x) > cutoff`. `Var_seed` enters
//!    because the world is one realisation of a stochastic process, not its mean.
//!
//! After the last wave: `retained.csv` holds the last wave's design points whose *simulated*
//! implausibility (the runs' mean in place of the emulator's, with the mean's seed variance
//! in place of the emulator's) is within the cut-off; they are the parameter sets experiments
//! use (`[parameters] from`). `nroy.csv` samples the space the emulators leave, `best.toml`
//! is the retained set with the smallest implausibility as a scenario, and `fit.csv` compares
//! every target with what the retained sets simulate.
//!
//! Everything is deterministic: designs come from seeded generators, emulator fits from a
//! fixed start, candidates are screened in parallel but kept in order, so a calibration
//! killed at any point and started again ends with byte-identical files.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::emulator::Emulator;
use super::{Calibration, Loaded};
use crate::error::{Error, Result};
use crate::experiment::folder::RunsTable;
use crate::experiment::spec::{Experiment, Parameters};
use crate::experiment::{plan::Plan, spec, stats, sweep};
use crate::output::{num, write_file, Lock};

/// Calibration options (the flags of `ruralgov calibrate`).
#[derive(Debug, Clone)]
pub struct Options {
    /// Output folder.
    pub out: PathBuf,
    /// Runs in parallel.
    pub jobs: usize,
    /// Discard an earlier calibration in the folder.
    pub restart: bool,
    /// Skip the memory estimate.
    pub no_memory_check: bool,
    /// The command line, for the manifest.
    pub command: String,
    /// Run only shard `I` of `N` of every wave's runs (`--shard I/N`): several processes,
    /// perhaps on several machines sharing the folder, each run one shard. Each wave's shards
    /// go to `wave-W/shard-I-of-N/`; when all are finished they are taken into
    /// `wave-W/sweep/` and the next wave is designed.
    pub shard: Option<(u32, u32)>,
    /// How long a shard waits for the other shards of a wave before giving up (zero: do not
    /// wait; run this shard's part of the first unfinished wave and stop).
    pub wait: std::time::Duration,
}

/// What a calibration reports while it works.
#[derive(Debug, Clone)]
pub enum Progress {
    /// A wave's runs start (`runs` in all, some perhaps already finished).
    Wave {
        /// Wave number (from 1).
        wave: u32,
        /// Design points.
        points: usize,
        /// Runs.
        runs: usize,
    },
    /// Runs of the current wave finished so far.
    Runs {
        /// Finished.
        done: usize,
        /// In the wave.
        total: usize,
    },
    /// A line for the user.
    Message(String),
}

/// One wave's summary (a row of `waves.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct Wave {
    /// Wave number.
    pub wave: u32,
    /// Design points run.
    pub points: usize,
    /// Runs.
    pub runs: usize,
    /// Candidates screened to draw the design (0 for wave 1).
    pub candidates: usize,
    /// Share of the original parameter space not ruled out before this wave (1 for wave 1).
    pub space_left: f64,
    /// Design points whose simulated implausibility is within the cut-off.
    pub points_within: usize,
    /// Smallest simulated implausibility of a design point.
    pub min_implausibility: f64,
    /// Per target: share of leave-one-out standardised errors within 2 (about 0.95 for an
    /// honest emulator); NaN where no emulator could be fitted.
    pub loo_within_2: Vec<f64>,
}

/// What a calibration did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The waves run.
    pub waves: Vec<Wave>,
    /// Share of the original space the last wave's emulators leave.
    pub space_left: f64,
    /// Parameter sets retained.
    pub retained: usize,
    /// Why the waves stopped early, if they did.
    pub stopped: Option<String>,
    /// With `--shard`: the calibration is not finished because other shards of a wave are
    /// not (what is missing and what to run); nothing final was written.
    pub waiting: Option<String>,
    /// Files written.
    pub written: Vec<PathBuf>,
}

/// Final output files (removed with `--restart`).
pub const OUTPUTS: [&str; 7] = [
    "waves.csv",
    "implausibility.csv",
    "retained.csv",
    "nroy.csv",
    "fit.csv",
    "best.toml",
    "manifest.json",
];

const STATE: &str = ".calibration.json";
const MAX_BATCHES: usize = 50;

/// One wave's emulators: per target, the emulator (if it could be fitted) and the seed
/// variance of a single run.
struct WaveModel {
    emulators: Vec<Option<Emulator>>,
    seed_var: Vec<f64>,
}

/// The simulated results of a wave's design points.
struct WaveRuns {
    /// Parameter values of each point (as run).
    values: Vec<Vec<f64>>,
    /// Unit-cube coordinates of each point.
    unit: Vec<Vec<f64>>,
    /// Per point, per target: the runs' values.
    outputs: Vec<Vec<Vec<f64>>>,
}

impl WaveRuns {
    fn mean(&self, p: usize, t: usize) -> f64 {
        stats::mean(&self.outputs[p][t])
    }
}

fn fingerprint(loaded: &Loaded) -> Result<String> {
    let cal = &loaded.calibration;
    let base = loaded.base_scenario()?;
    let text = format!(
        "{}\n{}\n{}\n{}",
        toml::to_string(cal).unwrap_or_else(|e| format!("{cal:?} {e}")),
        serde_json::to_string(&base).unwrap_or_default(),
        env!("CARGO_PKG_VERSION"),
        env!("RURALGOV_GIT_COMMIT")
    );
    Ok(crate::model::rng::hash_text(&text, 0xCA11_B0A7_1000_0001))
}

/// Check or record the calibration's state file; discard an earlier one with `restart`.
fn prepare(loaded: &Loaded, opts: &Options) -> Result<()> {
    let out = &opts.out;
    let state = out.join(STATE);
    let fp = fingerprint(loaded)?;
    let wave_dirs = || subfolders(out, "wave-");
    if opts.restart && state.exists() {
        crate::output::remove_derived(out)?;
        for d in wave_dirs() {
            fs::remove_dir_all(&d).map_err(|e| Error::Write { path: d, reason: e })?;
        }
        for f in OUTPUTS.iter().chain(&[STATE]) {
            let p = out.join(f);
            if p.exists() {
                fs::remove_file(&p).map_err(|e| Error::Write { path: p, reason: e })?;
            }
        }
    }
    if state.exists() {
        let old: serde_json::Value = fs::read_to_string(&state)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null);
        if old.get("fingerprint").and_then(|f| f.as_str()) != Some(fp.as_str()) {
            return Err(Error::OutputExists {
                path: out.clone(),
                what: "a calibration of a different file, base scenario or program version".into(),
                remedy: "Re-run with --restart to discard it, or choose another folder with --out".into(),
            });
        }
        return Ok(());
    }
    crate::output::refuse_foreign(out, "calibration")?;
    let text = serde_json::json!({
        "fingerprint": fp,
        "calibration_file": loaded.path.display().to_string(),
    });
    write_file(
        &state,
        serde_json::to_string_pretty(&text).unwrap_or_default().as_bytes(),
    )?;
    Ok(())
}

/// `to` relative to the folder `from` (both existing), for the wave experiments' `base`.
fn relative(from: &Path, to: &Path) -> Result<String> {
    let canon = |p: &Path| {
        fs::canonicalize(p).map_err(|e| Error::Read {
            path: p.to_path_buf(),
            reason: e,
        })
    };
    let (from, to) = (canon(from)?, canon(to)?);
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), a.len() - common).collect();
    parts.extend(b[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    Ok(parts.join("/"))
}

/// Write `path` unless it holds exactly `bytes` already; refuse a different file there (a
/// wave's design depends only on the calibration and the earlier waves, which the
/// fingerprint fixes).
fn write_same(path: &Path, bytes: &[u8]) -> Result<()> {
    match fs::read(path) {
        Ok(old) if old == bytes => Ok(()),
        Ok(_) => Err(Error::damaged(
            path,
            None,
            "it differs from what this calibration writes there (was it edited?); re-run with --restart",
        )),
        Err(_) => write_file(path, bytes).map(|_| ()),
    }
}

fn implausibility(cal: &Calibration, model: &WaveModel, u: &[f64]) -> f64 {
    let mut worst: f64 = 0.0;
    for (t, target) in cal.target.iter().enumerate() {
        let Some(em) = &model.emulators[t] else { continue };
        let (m, v) = em.predict(u);
        let var = v + target.sd.powi(2) + target.discrepancy.powi(2) + model.seed_var[t];
        worst = worst.max((target.value - m).abs() / var.sqrt());
    }
    worst
}

/// The largest implausibility over every wave's emulators (stops at the first wave that rules
/// `u` out, returning infinity).
fn implausibility_all(cal: &Calibration, models: &[WaveModel], u: &[f64]) -> f64 {
    let mut last = 0.0;
    for m in models {
        last = implausibility(cal, m, u);
        if last > cal.method.cutoff {
            return f64::INFINITY;
        }
    }
    last
}

/// Uniform candidates kept where no earlier wave rules them out: returns the kept points
/// (with their implausibility under the last wave) and how many were screened.
fn screen(
    cal: &Calibration,
    models: &[WaveModel],
    seed: u64,
    want: usize,
    pool: &rayon::ThreadPool,
) -> (Vec<(Vec<f64>, f64)>, usize) {
    let d = cal.parameter.len();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut kept = Vec::new();
    let mut tested = 0;
    for _ in 0..MAX_BATCHES {
        let cands: Vec<Vec<f64>> = (0..cal.method.candidates)
            .map(|_| (0..d).map(|_| rng.random::<f64>()).collect())
            .collect();
        tested += cands.len();
        let scores: Vec<f64> = pool.install(|| cands.par_iter().map(|u| implausibility_all(cal, models, u)).collect());
        kept.extend(cands.into_iter().zip(scores).filter(|(_, s)| *s <= cal.method.cutoff));
        if kept.len() >= want {
            break;
        }
    }
    (kept, tested)
}

/// Greedy maximin: `n` of `points`, each as far as possible from those already chosen.
fn maximin(points: &[Vec<f64>], n: usize) -> Vec<usize> {
    if points.len() <= n {
        return (0..points.len()).collect();
    }
    let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>();
    let mut chosen = vec![0];
    let mut nearest: Vec<f64> = points.iter().map(|p| dist(p, &points[0])).collect();
    while chosen.len() < n {
        let mut best = 0;
        for (i, d) in nearest.iter().enumerate() {
            if *d > nearest[best] {
                best = i;
            }
        }
        chosen.push(best);
        for (i, p) in points.iter().enumerate() {
            nearest[i] = nearest[i].min(dist(p, &points[best]));
        }
    }
    chosen
}

fn seed_for(cal: &Calibration, wave: u32, what: u64) -> u64 {
    crate::model::rng::mix(cal.seed ^ crate::model::rng::mix(0xCA11_0000 + ((wave as u64) << 8) + what))
}

fn is_integer(key: &str) -> bool {
    crate::scenario::load::is_integer_setting::<crate::scenario::Scenario>(key) == Some(true)
}

fn design_csv(cal: &Calibration, unit: &[Vec<f64>]) -> String {
    let mut s = String::from("set");
    for p in &cal.parameter {
        s.push(',');
        s.push_str(&p.key);
    }
    s.push('\n');
    for (i, u) in unit.iter().enumerate() {
        let _ = write!(s, "{i}");
        for (p, x) in cal.parameter.iter().zip(u) {
            let v = p.from_unit(*x);
            let v = if is_integer(&p.key) { v.round() } else { v };
            s.push(',');
            s.push_str(&format!("{v}"));
        }
        s.push('\n');
    }
    s
}

/// How often a shard looks whether the other shards of a wave have finished.
const POLL: std::time::Duration = std::time::Duration::from_secs(2);
/// How long a shard waits for a lock another shard holds briefly (to write a wave's shared
/// files or take the shards over) before giving up.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// With `--shard`, the lock on `dir` for a short critical section, waiting (bounded) while
/// another shard holds it; without `--shard` the caller holds the folder's lock already.
fn shard_lock(opts: &Options, dir: &Path) -> Result<Option<Lock>> {
    if opts.shard.is_none() {
        return Ok(None);
    }
    let start = std::time::Instant::now();
    loop {
        match Lock::acquire(dir, &opts.command) {
            Ok(l) => return Ok(Some(l)),
            Err(Error::Locked { .. }) if start.elapsed() < LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(200))
            }
            Err(e) => return Err(e),
        }
    }
}

/// The entries of `dir` whose names start with `prefix` (`wave-`, `shard-`), sorted.
fn subfolders(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(prefix))
                })
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// Run one wave's design through the sweep machinery and read back its results; `None` when
/// this process ran its shard and the other shards are not finished within `opts.wait`.
fn run_wave(
    loaded: &Loaded,
    opts: &Options,
    wave: u32,
    unit: &[Vec<f64>],
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Option<WaveRuns>> {
    let cal = &loaded.calibration;
    let dir = opts.out.join(format!("wave-{wave}"));
    fs::create_dir_all(&dir).map_err(|e| Error::CreateDir {
        path: dir.clone(),
        reason: e,
    })?;
    let shared = shard_lock(opts, &opts.out)?;
    write_same(&dir.join("design.csv"), design_csv(cal, unit).as_bytes())?;
    let experiment = Experiment {
        name: format!("{}-wave-{wave}", cal.name),
        description: format!(
            "Wave {wave} of the calibration \"{}\": {} design points x {} seeds (written by ruralgov calibrate).",
            cal.name,
            unit.len(),
            cal.replications
        ),
        base: relative(&dir, &loaded.base_path())?,
        seed: cal.seed,
        replications: cal.replications,
        set: cal.set.clone(),
        metric: cal.target.iter().map(super::Target::metric_spec).collect(),
        parameters: Parameters {
            from: "design.csv".into(),
            draws: 0,
        },
        ..Experiment::default()
    };
    let text = toml::to_string(&experiment).map_err(|e| Error::render("the wave's experiment.toml", e))?;
    let exp_path = dir.join("experiment.toml");
    write_same(&exp_path, text.as_bytes())?;
    drop(shared);
    let exp = spec::load(&exp_path)?;
    let plan = Plan::build(&exp)?;
    let sweep_dir = dir.join("sweep");
    let sopts = |out: PathBuf, shard: Option<(u32, u32)>| sweep::Options {
        out,
        jobs: opts.jobs,
        shard,
        restart: false,
        no_memory_check: opts.no_memory_check,
        command: opts.command.clone(),
        format: crate::columnar::Format::Csv,
    };
    // A wave is done when its sweep folder is assembled (its manifest is written last).
    if !sweep_dir.join("manifest.json").exists() {
        if let Some((i, n)) = opts.shard {
            let mine = dir.join(format!("shard-{i}-of-{n}"));
            {
                let _lock = Lock::acquire(&mine, &opts.command)?;
                let shard_runs = plan.runs.iter().filter(|r| r.run_id % n == i).count();
                progress(Progress::Wave {
                    wave,
                    points: plan.points.len(),
                    runs: shard_runs,
                });
                sweep::sweep(&plan, &sopts(mine.clone(), Some((i, n))), &|done, total| {
                    progress(Progress::Runs { done, total })
                })?;
            }
            let deadline = std::time::Instant::now() + opts.wait;
            let mut told = false;
            loop {
                let missing: Vec<u32> = (0..n)
                    .filter(|&j| !sweep::shard_complete(&plan, &dir.join(format!("shard-{j}-of-{n}")), j, n))
                    .collect();
                if missing.is_empty() {
                    break;
                }
                if std::time::Instant::now() >= deadline {
                    return Ok(None);
                }
                if !told {
                    progress(Progress::Message(format!(
                        "wave {wave}: shard {i}/{n} finished; waiting up to {} s for shard(s) {} of {n}",
                        opts.wait.as_secs(),
                        missing
                            .iter()
                            .map(|j| format!("{j}/{n}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                    told = true;
                }
                std::thread::sleep(POLL);
            }
        }
        // Take over what shards finished (all of it, after a sharded wave), run the rest.
        let _lock = match opts.shard {
            Some(_) => shard_lock(opts, &sweep_dir)?,
            None => Some(Lock::acquire(&sweep_dir, &opts.command)?),
        };
        if !sweep_dir.join("manifest.json").exists() {
            let all = sopts(sweep_dir.clone(), None);
            sweep::adopt(&plan, &all, &subfolders(&dir, "shard-"))?;
            if opts.shard.is_none() {
                progress(Progress::Wave {
                    wave,
                    points: plan.points.len(),
                    runs: plan.runs.len(),
                });
            }
            sweep::sweep(&plan, &all, &|done, total| progress(Progress::Runs { done, total }))?;
        }
    }
    let table = RunsTable::read(&sweep_dir)?;
    let nt = cal.target.len();
    let mut outputs = vec![vec![Vec::new(); nt]; plan.points.len()];
    for row in &table.rows {
        for (slot, v) in outputs[row.point].iter_mut().zip(&row.values) {
            slot.push(*v);
        }
    }
    let values = plan.points.clone();
    let unit = values
        .iter()
        .map(|v| cal.parameter.iter().zip(v).map(|(p, x)| p.to_unit(*x)).collect())
        .collect();
    Ok(Some(WaveRuns { values, unit, outputs }))
}

/// Pooled within-point variance of single runs, per target.
fn seed_variance(runs: &WaveRuns, t: usize) -> f64 {
    let vars: Vec<f64> = runs
        .outputs
        .iter()
        .map(|o| stats::sd(&o[t]).powi(2))
        .filter(|v| v.is_finite())
        .collect();
    if vars.is_empty() {
        0.0
    } else {
        stats::mean(&vars)
    }
}

/// Simulated implausibility of design point `p` per target.
fn simulated(cal: &Calibration, runs: &WaveRuns, model: &WaveModel, p: usize) -> Vec<f64> {
    let r = cal.replications as f64;
    cal.target
        .iter()
        .enumerate()
        .map(|(t, target)| {
            let var = model.seed_var[t] / r + target.sd.powi(2) + target.discrepancy.powi(2) + model.seed_var[t];
            (target.value - runs.mean(p, t)).abs() / var.sqrt()
        })
        .collect()
}

/// Run a calibration into `opts.out` (locked here).
pub fn run(loaded: &Loaded, opts: &Options, progress: &(dyn Fn(Progress) + Sync)) -> Result<Report> {
    let cal = &loaded.calibration;
    let jobs = crate::limits::threads("--jobs", opts.jobs)?;
    sweep::check_shard(opts.shard)?;
    // Unsharded, the whole folder is this process's; sharded, the processes share it and
    // lock it only while writing what they share.
    let _lock = match opts.shard {
        None => Some(Lock::acquire(&opts.out, &opts.command)?),
        Some(_) => None,
    };
    {
        let _shared = shard_lock(opts, &opts.out)?;
        prepare(loaded, opts)?;
    }
    let pool = crate::sim::pool(jobs)?;
    let d = cal.parameter.len();
    let m = &cal.method;
    let mut models: Vec<WaveModel> = Vec::new();
    let mut waves: Vec<Wave> = Vec::new();
    let mut all_runs: Vec<WaveRuns> = Vec::new();
    let mut implaus = String::from("wave,point");
    for p in &cal.parameter {
        let _ = write!(implaus, ",{}", p.key);
    }
    for t in &cal.target {
        let _ = write!(implaus, ",{}_mean,{}_implausibility", t.name, t.name);
    }
    implaus.push_str(",max_implausibility\n");
    let mut stopped = None;
    for wave in 1..=m.waves {
        let (unit, candidates, space_left) = if wave == 1 {
            let unit_box = vec![(0.0, 1.0); d];
            let design =
                crate::experiment::sampling::latin_hypercube(&unit_box, m.points as usize, seed_for(cal, 1, 1))
                    .map_err(|e| Error::Experiment {
                        path: loaded.path.clone(),
                        problem: format!("wave 1 design: {e}"),
                    })?;
            (design, 0, 1.0)
        } else {
            let (kept, tested) = screen(cal, &models, seed_for(cal, wave, 2), 10 * m.points as usize, &pool);
            let share = kept.len() as f64 / tested.max(1) as f64;
            let pts: Vec<Vec<f64>> = kept.into_iter().map(|(u, _)| u).collect();
            let chosen = maximin(&pts, m.points as usize);
            (
                chosen.into_iter().map(|i| pts[i].clone()).collect::<Vec<_>>(),
                tested,
                share,
            )
        };
        if unit.is_empty() {
            stopped = Some(format!(
                "before wave {wave}: none of the candidates screened is consistent with the targets (the model cannot reach them within the ranges, or the uncertainties are too small)"
            ));
            break;
        }
        progress(Progress::Message(format!(
            "wave {wave}: {} design points{}",
            unit.len(),
            if wave > 1 {
                format!(
                    " from the {:.3}% of the parameter space not ruled out ({candidates} candidates screened)",
                    100.0 * space_left
                )
            } else {
                String::new()
            }
        )));
        let Some(runs) = run_wave(loaded, opts, wave, &unit, progress)? else {
            let (i, n) = opts.shard.unwrap_or((0, 1));
            let why = format!(
                "wave {wave}: this shard ({i}/{n}) is finished, other shards of the wave are not{}; run them (the same command with --shard J/{n}), then run this command again, with or without --shard, to go on",
                if opts.wait.is_zero() {
                    String::new()
                } else {
                    format!(" after waiting {} s", opts.wait.as_secs())
                }
            );
            return Ok(Report {
                waves,
                space_left,
                retained: 0,
                stopped: None,
                waiting: Some(why),
                written: Vec::new(),
            });
        };
        let nt = cal.target.len();
        let seed_var: Vec<f64> = (0..nt).map(|t| seed_variance(&runs, t)).collect();
        let mut emulators = Vec::with_capacity(nt);
        let mut loo_within = Vec::with_capacity(nt);
        let mut loo_csv = String::from("target,point");
        for p in &cal.parameter {
            let _ = write!(loo_csv, ",{}", p.key);
        }
        loo_csv.push_str(",observed,predicted,sd,z\n");
        let mut em_csv = String::from("target,mean,sd,seed_sd,sigma2,tau2,noise");
        for p in &cal.parameter {
            let _ = write!(em_csv, ",length_{}", p.key);
        }
        em_csv.push_str(",loo_within_2,fitted\n");
        let mut fit_problem = None;
        for (t, target) in cal.target.iter().enumerate() {
            let y: Vec<f64> = (0..runs.unit.len()).map(|p| runs.mean(p, t)).collect();
            let fit = Emulator::fit(&runs.unit, &y, seed_var[t] / cal.replications as f64);
            match fit {
                Ok(em) => {
                    let checks = em.loo();
                    let within = checks.iter().filter(|c| c.z().abs() < 2.0).count() as f64 / checks.len() as f64;
                    for c in &checks {
                        let _ = write!(loo_csv, "{},{}", target.name, c.point);
                        for v in &runs.values[c.point] {
                            let _ = write!(loo_csv, ",{}", num(*v));
                        }
                        let _ = writeln!(
                            loo_csv,
                            ",{},{},{},{}",
                            num(c.observed),
                            num(c.mean),
                            num(c.sd),
                            num(c.z())
                        );
                    }
                    let (sigma2, tau2, noise, lengths) = em.hyper();
                    let _ = write!(
                        em_csv,
                        "{},{},{},{},{},{},{}",
                        target.name,
                        num(stats::mean(&y)),
                        num(stats::sd(&y)),
                        num(seed_var[t].sqrt()),
                        num(sigma2),
                        num(tau2),
                        num(noise)
                    );
                    for l in lengths {
                        let _ = write!(em_csv, ",{}", num(*l));
                    }
                    let _ = writeln!(em_csv, ",{},true", num(within));
                    loo_within.push(within);
                    emulators.push(Some(em));
                }
                Err(e) => {
                    fit_problem.get_or_insert_with(|| format!("wave {wave}, target \"{}\": {e}", target.name));
                    let _ = write!(
                        em_csv,
                        "{},{},{},{},,,",
                        target.name,
                        num(stats::mean(&y)),
                        num(stats::sd(&y)),
                        num(seed_var[t].sqrt())
                    );
                    for _ in 0..d {
                        em_csv.push(',');
                    }
                    em_csv.push_str(",false\n");
                    loo_within.push(f64::NAN);
                    emulators.push(None);
                }
            }
        }
        let dir = opts.out.join(format!("wave-{wave}"));
        {
            let _shared = shard_lock(opts, &opts.out)?;
            write_file(&dir.join("loo.csv"), loo_csv.as_bytes())?;
            write_file(&dir.join("emulators.csv"), em_csv.as_bytes())?;
        }
        let model = WaveModel { emulators, seed_var };
        let mut within = 0;
        let mut min_i = f64::INFINITY;
        for p in 0..runs.unit.len() {
            let per = simulated(cal, &runs, &model, p);
            let max = per.iter().cloned().fold(0.0, f64::max);
            min_i = min_i.min(max);
            if max <= m.cutoff {
                within += 1;
            }
            let _ = write!(implaus, "{wave},{p}");
            for v in &runs.values[p] {
                let _ = write!(implaus, ",{}", num(*v));
            }
            for (t, i) in per.iter().enumerate() {
                let _ = write!(implaus, ",{},{}", num(runs.mean(p, t)), num(*i));
            }
            let _ = writeln!(implaus, ",{}", num(max));
        }
        progress(Progress::Message(format!(
            "wave {wave}: {within} of {} design points within the cut-off {} (smallest implausibility {:.2}); leave-one-out errors within 2 sd: {}",
            runs.unit.len(),
            m.cutoff,
            min_i,
            cal.target
                .iter()
                .zip(&loo_within)
                .map(|(t, w)| format!("{} {:.0}%", t.name, 100.0 * w))
                .collect::<Vec<_>>()
                .join(", ")
        )));
        waves.push(Wave {
            wave,
            points: runs.unit.len(),
            runs: runs.unit.len() * cal.replications as usize,
            candidates,
            space_left,
            points_within: within,
            min_implausibility: min_i,
            loo_within_2: loo_within,
        });
        models.push(model);
        all_runs.push(runs);
        if let Some(problem) = fit_problem {
            stopped = Some(format!("after {problem}; no further wave can be designed"));
            break;
        }
    }
    let _shared = shard_lock(opts, &opts.out)?;
    finish(loaded, opts, &models, &waves, &all_runs, implaus, stopped, &pool)
}

#[allow(clippy::too_many_arguments)]
fn finish(
    loaded: &Loaded,
    opts: &Options,
    models: &[WaveModel],
    waves: &[Wave],
    all_runs: &[WaveRuns],
    implaus: String,
    stopped: Option<String>,
    pool: &rayon::ThreadPool,
) -> Result<Report> {
    let cal = &loaded.calibration;
    let m = &cal.method;
    let out = &opts.out;
    let mut written = Vec::new();

    // Space left by every wave's emulators, and a sample of it.
    let complete = models.iter().all(|w| w.emulators.iter().all(Option::is_some));
    let (nroy, tested) = if complete && !models.is_empty() && m.nroy_samples > 0 {
        screen(cal, models, seed_for(cal, 0, 3), m.nroy_samples as usize, pool)
    } else {
        (Vec::new(), 0)
    };
    let space_left = if tested > 0 {
        nroy.len() as f64 / tested as f64
    } else {
        f64::NAN
    };
    let mut nroy_csv = String::from("sample");
    for p in &cal.parameter {
        let _ = write!(nroy_csv, ",{}", p.key);
    }
    nroy_csv.push_str(",implausibility\n");
    for (i, (u, imp)) in nroy.iter().take(m.nroy_samples as usize).enumerate() {
        let _ = write!(nroy_csv, "{i}");
        for (p, x) in cal.parameter.iter().zip(u) {
            let _ = write!(nroy_csv, ",{}", num(p.from_unit(*x)));
        }
        let _ = writeln!(nroy_csv, ",{}", num(*imp));
    }

    // Retained sets: the last wave's points whose simulated implausibility passes.
    let mut retained: Vec<(usize, f64)> = Vec::new();
    if let (Some(runs), Some(model)) = (all_runs.last(), models.last()) {
        for p in 0..runs.unit.len() {
            let max = simulated(cal, runs, model, p).into_iter().fold(0.0, f64::max);
            if max <= m.cutoff {
                retained.push((p, max));
            }
        }
    }
    let last_wave = waves.last().map_or(0, |w| w.wave);
    let mut ret_csv = String::from("set,wave,point");
    for p in &cal.parameter {
        let _ = write!(ret_csv, ",{}", p.key);
    }
    for t in &cal.target {
        let _ = write!(ret_csv, ",{}_mean", t.name);
    }
    ret_csv.push_str(",max_implausibility\n");
    if let Some(runs) = all_runs.last() {
        for (i, (p, max)) in retained.iter().enumerate() {
            let _ = write!(ret_csv, "{i},{last_wave},{p}");
            for v in &runs.values[*p] {
                let _ = write!(ret_csv, ",{}", num(*v));
            }
            for t in 0..cal.target.len() {
                let _ = write!(ret_csv, ",{}", num(runs.mean(*p, t)));
            }
            let _ = writeln!(ret_csv, ",{}", num(*max));
        }
    }

    // Fit of every target: what the retained sets simulate.
    let mut fit_csv =
        String::from("target,metric,value,sd,discrepancy,sets,set_mean,set_min,set_max,run_q025,run_q975,source\n");
    for (t, target) in cal.target.iter().enumerate() {
        let (mut means, mut singles) = (Vec::new(), Vec::new());
        if let Some(runs) = all_runs.last() {
            for (p, _) in &retained {
                means.push(runs.mean(*p, t));
                singles.extend_from_slice(&runs.outputs[*p][t]);
            }
        }
        singles.sort_by(f64::total_cmp);
        let q = |f: f64| {
            if singles.is_empty() {
                f64::NAN
            } else {
                singles[((singles.len() - 1) as f64 * f).round() as usize]
            }
        };
        let min = means.iter().cloned().fold(f64::INFINITY, f64::min);
        let max = means.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let _ = writeln!(
            fit_csv,
            "{},{},{},{},{},{},{},{},{},{},{},\"{}\"",
            target.name,
            target.metric_spec().label(),
            num(target.value),
            num(target.sd),
            num(target.discrepancy),
            means.len(),
            num(if means.is_empty() {
                f64::NAN
            } else {
                stats::mean(&means)
            }),
            num(if means.is_empty() { f64::NAN } else { min }),
            num(if means.is_empty() { f64::NAN } else { max }),
            num(q(0.025)),
            num(q(0.975)),
            target.source.replace('"', "\"\"")
        );
    }

    // The best point as a scenario.
    let best = retained.iter().min_by(|a, b| a.1.total_cmp(&b.1)).copied();
    let mut best_toml = String::new();
    if let (Some((p, max)), Some(runs)) = (best, all_runs.last()) {
        let _ = writeln!(
            best_toml,
            "# The best point of the calibration \"{}\" (wave {last_wave}, point {p}, largest implausibility {:.3}),\n# written by ruralgov calibrate. Run it with: ruralgov run best.toml",
            cal.name, max
        );
        let _ = writeln!(
            best_toml,
            "extends = {}",
            toml::Value::String(relative(out, &loaded.base_path())?)
        );
        let _ = writeln!(best_toml, "name = \"{}_best\"", cal.name);
        let mut sets: Vec<String> = crate::experiment::plan::set_strings(&cal.set);
        for (param, v) in cal.parameter.iter().zip(&runs.values[p]) {
            sets.push(if is_integer(&param.key) {
                format!("{}={}", param.key, *v as i64)
            } else {
                format!("{}={}", param.key, toml::Value::Float(*v))
            });
        }
        for s in sets {
            if let Some((k, v)) = s.split_once('=') {
                let _ = writeln!(best_toml, "{k} = {v}");
            }
        }
    }

    let mut waves_csv = String::from("wave,points,runs,candidates,space_left,points_within,min_implausibility");
    for t in &cal.target {
        let _ = write!(waves_csv, ",loo_within_2_{}", t.name);
    }
    waves_csv.push('\n');
    for w in waves {
        let _ = write!(
            waves_csv,
            "{},{},{},{},{},{},{}",
            w.wave,
            w.points,
            w.runs,
            w.candidates,
            num(w.space_left),
            w.points_within,
            num(w.min_implausibility)
        );
        for l in &w.loo_within_2 {
            let _ = write!(waves_csv, ",{}", num(*l));
        }
        waves_csv.push('\n');
    }
    let manifest = serde_json::json!({
        "calibration": cal,
        "calibration_file": fs::canonicalize(&loaded.path).unwrap_or_else(|_| loaded.path.clone()).display().to_string(),
        "reproduce": format!("ruralgov calibrate {}", loaded.path.display()),
        "method": "Bayesian history matching with Gaussian-process emulators (docs/calibration.md)",
        "waves": waves.len(),
        "space_left": if space_left.is_finite() { serde_json::json!(space_left) } else { serde_json::Value::Null },
        "retained": retained.len(),
        "stopped": stopped,
        "ruralgov_version": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("RURALGOV_GIT_COMMIT"),
    });
    // The manifest last: a folder with a manifest is complete.
    let files: Vec<(&str, String)> = vec![
        ("waves.csv", waves_csv),
        ("implausibility.csv", implaus),
        ("retained.csv", ret_csv),
        ("nroy.csv", nroy_csv),
        ("fit.csv", fit_csv),
        ("best.toml", best_toml),
        (
            "manifest.json",
            serde_json::to_string_pretty(&manifest).map_err(|e| Error::render("manifest.json", e))?,
        ),
    ];
    // Charts and a report of an earlier finish describe other files: remove them.
    crate::output::remove_derived(out)?;
    let stale = out.join("manifest.json");
    if stale.exists() {
        fs::remove_file(&stale).map_err(|e| Error::Write { path: stale, reason: e })?;
    }
    for (name, text) in files {
        if name == "best.toml" && text.is_empty() {
            let p = out.join(name);
            if p.exists() {
                fs::remove_file(&p).map_err(|e| Error::Write { path: p, reason: e })?;
            }
            continue;
        }
        written.push(write_file(&out.join(name), text.as_bytes())?);
    }
    Ok(Report {
        waves: waves.to_vec(),
        space_left,
        retained: retained.len(),
        stopped,
        waiting: None,
        written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maximin_spreads_the_chosen_points() {
        let pts: Vec<Vec<f64>> = (0..101).map(|i| vec![i as f64 / 100.0]).collect();
        let mut chosen: Vec<f64> = maximin(&pts, 3).into_iter().map(|i| pts[i][0]).collect();
        chosen.sort_by(f64::total_cmp);
        assert_eq!(chosen, vec![0.0, 0.5, 1.0]);
        assert_eq!(maximin(&pts[..2], 5), vec![0, 1]);
    }

    #[test]
    fn relative_paths_climb_out_of_the_wave_folder() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("out/wave-1");
        fs::create_dir_all(&a).unwrap();
        fs::create_dir_all(dir.path().join("scenarios")).unwrap();
        let f = dir.path().join("scenarios/base.toml");
        fs::write(&f, "").unwrap();
        assert_eq!(relative(&a, &f).unwrap(), "../../scenarios/base.toml");
    }
}
