//! The plan of an experiment: every run, fully resolved before anything is simulated.
//!
//! Runs are ordered arm by arm, then design point by design point, then replicate by
//! replicate; `run_id` is the position in that order. Replicate `r` uses the same seed in
//! every arm and point (common random numbers), so differences between arms are paired.
//! Every run's scenario is resolved and validated up front, so a bad factor value or an
//! impossible budget is reported before any time is spent simulating.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::sampling;
use super::spec::{replicate_seed, Experiment, Factor, Loaded, Method};
use crate::error::{Error, Result};
use crate::scenario::{PolicyPath, Scenario, ScenarioError};

/// One run of the plan.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RunSpec {
    /// Position in the plan.
    pub run_id: u32,
    /// Arm index.
    pub arm: usize,
    /// Design point index.
    pub point: usize,
    /// Replicate index.
    pub replicate: u32,
    /// Seed of the run.
    pub seed: u64,
    /// Equal-budget scale applied to path intensities (1 without a budget).
    pub scale: f64,
    /// Mean path spending per village per year after scaling, yuan.
    pub spend: f64,
}

/// A resolved experiment.
///
/// Only each arm's scenario is kept; a run's scenario is built when it runs
/// ([`Plan::scenario`]), so a plan of any size takes memory for its run list only. Every
/// (arm, design point) scenario is nevertheless built and validated once when the plan is
/// made, so a bad factor value or an impossible budget is reported before anything runs.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The experiment.
    pub experiment: Experiment,
    /// The experiment file as given, if the plan was built from one.
    pub file: Option<PathBuf>,
    /// Arm names.
    pub arms: Vec<String>,
    /// Each arm's resolved scenario before factors and budget.
    pub arm_scenarios: Vec<Scenario>,
    /// Factor keys.
    pub factors: Vec<String>,
    /// Design points (factor values, whole numbers for whole-number settings), one per point;
    /// a single empty point without factors.
    pub points: Vec<Vec<f64>>,
    /// Runs in order.
    pub runs: Vec<RunSpec>,
    /// Fingerprint of everything that determines the results.
    pub fingerprint: String,
    /// Each arm as loaded (to apply factors without reading files again); empty for a plan
    /// rebuilt from its description, which can assemble outputs but not run.
    arm_loaded: Vec<crate::scenario::Loaded<Scenario>>,
}

/// Mean spending per village per year on the four paths over the run, yuan.
pub fn spend_per_village_year(sc: &Scenario) -> f64 {
    let steps = sc.steps().max(1);
    let p = &sc.paths;
    let mut total = 0.0;
    for s in 0..steps {
        let t = sc.run.start_year as f64 + s as f64 / 12.0;
        total += PolicyPath::ALL
            .iter()
            .map(|&k| p.intensity(k).at(t) * p.cost(k))
            .sum::<f64>();
    }
    total / steps as f64
}

fn scale_paths(sc: &mut Scenario, f: f64) {
    for k in PolicyPath::ALL {
        let s = sc.paths.intensity_mut(k);
        *s = s.scaled(f);
    }
}

/// The first path whose scaled intensity exceeds 2, with its key and maximum.
fn check_intensity(sc: &Scenario) -> Option<(String, f64)> {
    PolicyPath::ALL
        .iter()
        .map(|&k| (format!("paths.{}.intensity", k.key()), sc.paths.intensity(k).max()))
        .find(|(_, m)| *m > 2.0)
}

/// `key=value` override strings from a `set` table; a quoted key with dots
/// (`"paths.legal.intensity" = 1`) and nested tables (`paths.legal.intensity = 1`) both name
/// the dotted path.
pub fn set_strings(table: &toml::Table) -> Vec<String> {
    fn walk(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
        for (k, v) in t {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match v {
                toml::Value::Table(sub) => walk(&path, sub, out),
                other => out.push(format!("{path}={other}")),
            }
        }
    }
    let mut out = Vec::new();
    walk("", table, &mut out);
    out
}

impl Plan {
    /// Resolve an experiment into its plan.
    pub fn build(loaded: &Loaded) -> Result<Plan> {
        let e = &loaded.experiment;
        let resolve = |p: &str| -> PathBuf { loaded.dir.join(p) };
        let common = set_strings(&e.set);
        let mut arms = Vec::new();
        let mut arm_files: Vec<(PathBuf, Vec<String>)> = Vec::new();
        if e.arm.is_empty() {
            arms.push("base".to_string());
            arm_files.push((resolve(&e.base), common.clone()));
        }
        for a in &e.arm {
            let file = if a.scenario.is_empty() {
                resolve(&e.base)
            } else {
                resolve(&a.scenario)
            };
            let mut sets = common.clone();
            sets.extend(set_strings(&a.set));
            arms.push(a.name.clone());
            arm_files.push((file, sets));
        }
        let mut arm_loaded = Vec::new();
        for (name, (file, sets)) in arms.iter().zip(&arm_files) {
            let sc = Scenario::load(file, sets).map_err(|err| arm_error(&loaded.path, name, err))?;
            arm_loaded.push(sc);
        }
        let arm_scenarios: Vec<Scenario> = arm_loaded.iter().map(|l| l.value.clone()).collect();
        check_windows(loaded, &arms, &arm_scenarios)?;

        let from_file = if e.parameters.from.is_empty() {
            None
        } else {
            Some(read_parameter_sets(&resolve(&e.parameters.from), e.parameters.draws)?)
        };
        let mut factors: Vec<String> = match &from_file {
            Some(sets) => sets.keys.clone(),
            None => Vec::new(),
        };
        for f in &e.factor {
            if factors.contains(&f.key) {
                return Err(Error::Experiment {
                    path: loaded.path.clone(),
                    problem: format!(
                        "factor \"{}\" is also a column of parameters.from ({}); a parameter comes either from the file or from a range, not both",
                        f.key, e.parameters.from
                    ),
                });
            }
            factors.push(f.key.clone());
        }
        let whole: Vec<bool> = factors
            .iter()
            .map(|k| crate::scenario::load::is_integer_setting::<Scenario>(k) == Some(true))
            .collect();
        let bounds: Vec<(f64, f64)> = e.factor.iter().map(Factor::bounds).collect();
        let s = &e.sampling;
        let design_err = |err: sampling::SamplingError| Error::Experiment {
            path: loaded.path.clone(),
            problem: format!("sampling: {err}"),
        };
        let mut points: Vec<Vec<f64>> = if let Some(sets) = &from_file {
            let n = if e.factor.is_empty() {
                sets.rows.len()
            } else {
                s.samples as usize
            };
            let runs = (n as u64)
                .saturating_mul(arms.len() as u64)
                .saturating_mul(e.replications as u64);
            if n as u64 > crate::limits::MAX_POINTS || runs > crate::limits::MAX_RUNS {
                return Err(Error::Experiment {
                    path: loaded.path.clone(),
                    problem: format!(
                        "parameters.from: {n} parameter sets x {} arms x {} replications = {runs} runs, more than an experiment may have ({} points, {} runs); use draws = N (or fewer sampling.samples) to take fewer sets",
                        arms.len(),
                        e.replications,
                        crate::limits::MAX_POINTS,
                        crate::limits::MAX_RUNS
                    ),
                });
            }
            if e.factor.is_empty() {
                sets.rows.clone()
            } else {
                // Each point completes the file's row i mod n with the i-th draw of the factors.
                let draws = sampling::latin_hypercube(&bounds, n, s.seed).map_err(design_err)?;
                draws
                    .into_iter()
                    .enumerate()
                    .map(|(i, d)| {
                        let mut row = sets.rows[i % sets.rows.len()].clone();
                        row.extend(d);
                        row
                    })
                    .collect()
            }
        } else if factors.is_empty() {
            vec![Vec::new()]
        } else {
            match s.method {
                Method::Factorial => {
                    let levels: Vec<Vec<f64>> = e.factor.iter().map(|f| f.values.clone()).collect();
                    sampling::full_factorial(&levels)
                }
                Method::Lhs => sampling::latin_hypercube(&bounds, s.samples as usize, s.seed).map_err(design_err)?,
                Method::Morris => sampling::morris_design(&bounds, s.trajectories as usize, s.levels as usize, s.seed)
                    .map_err(design_err)?,
                Method::Sobol => sampling::saltelli_design(&bounds, s.samples as usize, s.seed).map_err(design_err)?,
            }
        };
        // A whole-number setting takes the design's value rounded; the point records what ran.
        for p in &mut points {
            for (x, w) in p.iter_mut().zip(&whole) {
                if *w {
                    *x = x.round();
                }
            }
        }

        let mut plan = Plan {
            experiment: e.clone(),
            file: Some(loaded.path.clone()),
            arms,
            arm_scenarios,
            factors,
            points,
            runs: Vec::new(),
            fingerprint: String::new(),
            arm_loaded,
        };
        let mut runs = Vec::new();
        for ai in 0..plan.arms.len() {
            for pi in 0..plan.points.len() {
                let mut base = plan
                    .point_scenario(ai, pi)
                    .map_err(|err| arm_error(&loaded.path, &plan.arms[ai], err))?;
                let mut scale = 1.0;
                let raw = spend_per_village_year(&base);
                if e.budget.per_village_per_year > 0.0 && raw > 0.0 {
                    scale = e.budget.per_village_per_year / raw;
                    scale_paths(&mut base, scale);
                    if let Some((key, max)) = check_intensity(&base) {
                        return Err(Error::Experiment {
                            path: loaded.path.clone(),
                            problem: format!(
                                "arm \"{}\": the budget of {} yuan per village per year needs {key} scaled by {scale:.3} to {max:.3}, above the maximum intensity 2; lower the budget or the arm's intensities",
                                plan.arms[ai], e.budget.per_village_per_year
                            ),
                        });
                    }
                }
                let spend = spend_per_village_year(&base);
                for r in 0..e.replications {
                    runs.push(RunSpec {
                        run_id: runs.len() as u32,
                        arm: ai,
                        point: pi,
                        replicate: r,
                        seed: replicate_seed(e.seed, r),
                        scale,
                        spend,
                    });
                }
            }
        }
        plan.runs = runs;

        let mut text = toml::to_string(e).unwrap_or_else(|err| format!("{e:?} {err}"));
        for (name, sc) in plan.arms.iter().zip(&plan.arm_scenarios) {
            let json = serde_json::to_string(sc).unwrap_or_default();
            text.push_str(&format!("\n# arm {name}\n{json}"));
        }
        if let Some(sets) = &from_file {
            // The sets themselves determine the results, not only the file's name.
            text.push_str(&format!("\n# parameter sets {}", sets.digest));
        }
        text.push_str(&format!(
            "\n{}\n{}",
            env!("CARGO_PKG_VERSION"),
            env!("RURALGOV_GIT_COMMIT")
        ));
        plan.fingerprint = crate::model::rng::hash_text(&text, 0x1357_9BDF_2468_ACE0);
        Ok(plan)
    }

    /// The scenario of arm `arm` at design point `point`, before budget scaling and seed.
    fn point_scenario(&self, arm: usize, point: usize) -> std::result::Result<Scenario, ScenarioError> {
        let values = &self.points[point];
        if values.is_empty() {
            return Ok(self.arm_scenarios[arm].clone());
        }
        let loaded = self.arm_loaded.get(arm).ok_or_else(|| {
            ScenarioError::new(
                None,
                None,
                None,
                "this plan was read back from a sweep folder and cannot run",
            )
        })?;
        let sets: Vec<String> = self
            .factors
            .iter()
            .zip(values)
            .map(|(k, v)| {
                if v.fract() == 0.0 && crate::scenario::load::is_integer_setting::<Scenario>(k) == Some(true) {
                    format!("{k}={}", *v as i64)
                } else {
                    format!("{k}={}", toml::Value::Float(*v))
                }
            })
            .collect();
        loaded.with_sets(&sets)
    }

    /// The scenario of run `k` (position in [`Plan::runs`]): its arm and design point, the
    /// budget scaling and its seed.
    pub fn scenario(&self, k: usize) -> Result<Scenario> {
        let spec = &self.runs[k];
        let mut sc = self.point_scenario(spec.arm, spec.point).map_err(|err| {
            arm_error(
                self.file.as_deref().unwrap_or(Path::new("experiment")),
                &self.arms[spec.arm],
                err,
            )
        })?;
        if spec.scale != 1.0 {
            scale_paths(&mut sc, spec.scale);
        }
        sc.run.seed = spec.seed;
        Ok(sc)
    }

    /// Whether the plan can run (it was built from an experiment file, not read back).
    pub fn can_run(&self) -> bool {
        !self.arm_loaded.is_empty()
    }

    /// What determines the results, as JSON (stored in the sweep folder to detect changes and
    /// to assemble or merge outputs without the experiment's files).
    pub fn description(&self) -> serde_json::Value {
        let arms: BTreeMap<&str, &Scenario> = self.arms.iter().map(String::as_str).zip(&self.arm_scenarios).collect();
        serde_json::json!({
            "fingerprint": self.fingerprint,
            "ruralgov_version": env!("CARGO_PKG_VERSION"),
            "git_commit": env!("RURALGOV_GIT_COMMIT"),
            "experiment": self.experiment,
            "experiment_file": self.file.as_ref().map(|f| {
                std::fs::canonicalize(f).unwrap_or_else(|_| f.clone()).display().to_string()
            }),
            "arm_order": self.arms,
            "arms": arms,
            "factors": self.factors,
            "points": self.points,
            "runs": self.runs,
        })
    }

    /// Rebuild a plan (without per-run scenarios) from its recorded description.
    pub fn from_description(v: &serde_json::Value) -> Result<Plan> {
        fn field<T: serde::de::DeserializeOwned>(v: &serde_json::Value, key: &str) -> Result<T> {
            v.get(key)
                .cloned()
                .and_then(|x| serde_json::from_value(x).ok())
                .ok_or_else(|| {
                    Error::damaged(
                        "plan.json",
                        None,
                        format!("the recorded sweep plan has no readable \"{key}\""),
                    )
                })
        }
        let arms: Vec<String> = field(v, "arm_order")?;
        let by_name: BTreeMap<String, Scenario> = field(v, "arms")?;
        let arm_scenarios = arms
            .iter()
            .map(|a| {
                by_name
                    .get(a)
                    .cloned()
                    .ok_or_else(|| Error::damaged("plan.json", None, format!("the recorded plan lacks arm {a}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Plan {
            experiment: field(v, "experiment")?,
            file: v.get("experiment_file").and_then(|f| f.as_str()).map(PathBuf::from),
            arms,
            arm_scenarios,
            factors: field(v, "factors")?,
            points: field(v, "points")?,
            runs: field(v, "runs")?,
            fingerprint: field(v, "fingerprint")?,
            arm_loaded: Vec::new(),
        })
    }
}

/// Parameter sets read from a CSV file (`[parameters] from`).
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterSets {
    /// The scenario keys, in the file's column order.
    pub keys: Vec<String>,
    /// One row of values per set.
    pub rows: Vec<Vec<f64>>,
    /// A hash of the keys and values (part of a plan's fingerprint).
    pub digest: String,
}

/// Read parameter sets from `path`: every column whose name is a dotted scenario key that
/// takes a number is a parameter, other columns (`set`, `max_implausibility`, ...) are
/// ignored; `draws > 0` keeps the first `draws` rows. A cell that is not a number, a column
/// named like a key that is not one, or a file without a parameter column is an error naming
/// the file, line and column.
pub fn read_parameter_sets(path: &Path, draws: u32) -> Result<ParameterSets> {
    let shown = path.display().to_string();
    let err = |line: Option<usize>, key: Option<&str>, msg: String| -> Error {
        ScenarioError::new(Some(shown.clone()), line, key.map(str::to_string), msg).into()
    };
    let meta = std::fs::metadata(path).map_err(|e| Error::Read {
        path: path.to_path_buf(),
        reason: e,
    })?;
    if meta.len() > 64 * crate::limits::MAX_INPUT_BYTES {
        return Err(err(
            None,
            None,
            format!(
                "the file has {} bytes; a file of parameter sets may have at most {}",
                meta.len(),
                64 * crate::limits::MAX_INPUT_BYTES
            ),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::Read {
        path: path.to_path_buf(),
        reason: e,
    })?;
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(err(
            None,
            None,
            "the file is empty; expected a header row of scenario keys".into(),
        ));
    };
    let names: Vec<&str> = header.split(',').map(str::trim).collect();
    let mut columns = Vec::new();
    for (c, name) in names.iter().enumerate() {
        if !name.contains('.') {
            continue;
        }
        if crate::scenario::load::is_integer_setting::<Scenario>(name).is_none() {
            return Err(err(
                Some(1),
                Some(name),
                format!("column \"{name}\" is not a scenario setting"),
            ));
        }
        columns.push((c, name.to_string()));
    }
    if columns.is_empty() {
        return Err(err(
            Some(1),
            None,
            format!(
                "no column names a scenario setting (columns: {}); expected dotted keys such as migration.leave_base",
                names.join(", ")
            ),
        ));
    }
    let mut rows = Vec::new();
    for (i, line) in lines {
        if draws > 0 && rows.len() >= draws as usize {
            break;
        }
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != names.len() {
            return Err(err(
                Some(i + 1),
                None,
                format!("the row has {} cells, the header {}", cells.len(), names.len()),
            ));
        }
        let mut row = Vec::with_capacity(columns.len());
        for (c, key) in &columns {
            let v: f64 = cells[*c].parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(|| {
                err(
                    Some(i + 1),
                    Some(key),
                    format!("\"{}\" is not a finite number", cells[*c]),
                )
            })?;
            row.push(v);
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(err(None, None, "the file has a header but no parameter sets".into()));
    }
    let keys: Vec<String> = columns.into_iter().map(|(_, k)| k).collect();
    let mut canon = keys.join(",");
    for r in &rows {
        canon.push('\n');
        canon.push_str(&r.iter().map(|v| format!("{v:e}")).collect::<Vec<_>>().join(","));
    }
    Ok(ParameterSets {
        keys,
        rows,
        digest: crate::model::rng::hash_text(&canon, 0x5E75_0F5E_7500_0001),
    })
}

fn arm_error(path: &Path, arm: &str, err: ScenarioError) -> Error {
    let problem = if err.file.as_deref() == Some("--set") {
        // The override came from the experiment's `set` tables (or a factor), not the command line.
        let key = err.key.as_deref().unwrap_or("?");
        format!(
            "arm \"{arm}\": the setting \"{key}\" given in the experiment (set or factor): {}",
            err.message
        )
    } else {
        format!("arm \"{arm}\": {err}")
    };
    Error::Experiment {
        path: path.to_path_buf(),
        problem,
    }
}

/// Refuse a summary window that reaches outside an arm's simulated years: its label would
/// claim years the runs do not have.
fn check_windows(loaded: &Loaded, arms: &[String], scenarios: &[Scenario]) -> Result<()> {
    for (i, m) in loaded.experiment.metric.iter().enumerate() {
        for (arm, sc) in arms.iter().zip(scenarios) {
            let (first, end) = (sc.run.start_year, sc.run.end_year);
            let years = format!(
                "arm \"{arm}\" simulates {first} to {} (runs end in January {end})",
                end - 1
            );
            if m.from != 0 && (m.from < first || m.from >= end) {
                return Err(loaded
                    .source
                    .error_at(
                        &format!("metric[{i}].from"),
                        format!("the window starts in {}, outside the runs: {years}", m.from),
                    )
                    .into());
            }
            if m.to != 0 && (m.to > end || m.to <= first) {
                return Err(loaded
                    .source
                    .error_at(
                        &format!("metric[{i}].to"),
                        format!(
                            "the window [{}, {}) ends after the runs do: {years}; use to = {end} at most",
                            m.from, m.to
                        ),
                    )
                    .into());
            }
        }
    }
    Ok(())
}

/// Keys whose values differ between two plan descriptions, as "key: old -> new" lines.
pub fn describe_changes(old: &serde_json::Value, new: &serde_json::Value) -> Vec<String> {
    fn flat(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flat(&p, x, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flat("", old, &mut a);
    flat("", new, &mut b);
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        // The run list and design points follow from the experiment: naming the experiment
        // keys that changed is enough.
        .filter(|k| {
            a.get(*k) != b.get(*k) && k.as_str() != "fingerprint" && !k.starts_with("runs") && !k.starts_with("points")
        })
        .map(|k| {
            let show = |m: &BTreeMap<String, String>| m.get(k).cloned().unwrap_or_else(|| "(absent)".into());
            format!("{k}: {} -> {}", show(&a), show(&b))
        })
        .collect()
}
