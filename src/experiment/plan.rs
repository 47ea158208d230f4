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
use crate::scenario::{Scenario, Schedule};

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
#[derive(Debug, Clone)]
pub struct Plan {
    /// The experiment.
    pub experiment: Experiment,
    /// Arm names.
    pub arms: Vec<String>,
    /// Each arm's resolved scenario before factors and budget.
    pub arm_scenarios: Vec<Scenario>,
    /// Factor keys.
    pub factors: Vec<String>,
    /// Design points (factor values), one per point; a single empty point without factors.
    pub points: Vec<Vec<f64>>,
    /// Runs in order.
    pub runs: Vec<RunSpec>,
    /// Each run's scenario, in run order.
    pub scenarios: Vec<Scenario>,
    /// Fingerprint of everything that determines the results.
    pub fingerprint: String,
}

/// Mean spending per village per year on the four paths over the run, yuan.
pub fn spend_per_village_year(sc: &Scenario) -> f64 {
    let steps = sc.steps().max(1);
    let p = &sc.paths;
    let mut total = 0.0;
    for s in 0..steps {
        let t = sc.run.start_year as f64 + s as f64 / 12.0;
        total += p.legal.intensity.at(t) * p.legal.cost
            + p.services.intensity.at(t) * p.services.cost
            + p.culture.intensity.at(t) * p.culture.cost
            + p.self_government.intensity.at(t) * p.self_government.cost;
    }
    total / steps as f64
}

fn scale_paths(sc: &mut Scenario, f: f64) {
    let p = &mut sc.paths;
    for s in [
        &mut p.legal.intensity,
        &mut p.services.intensity,
        &mut p.culture.intensity,
        &mut p.self_government.intensity,
    ] {
        *s = s.scaled(f);
    }
}

fn check_intensity(sc: &Scenario) -> Option<(&'static str, f64)> {
    let p = &sc.paths;
    [
        ("paths.legal.intensity", &p.legal.intensity),
        ("paths.services.intensity", &p.services.intensity),
        ("paths.culture.intensity", &p.culture.intensity),
        ("paths.self_government.intensity", &p.self_government.intensity),
    ]
    .into_iter()
    .map(|(k, s): (&'static str, &Schedule)| (k, s.max()))
    .find(|(_, m)| *m > 2.0)
}

/// `key=value` override strings from a `set` table; a quoted key with dots
/// (`"paths.legal.intensity" = 1`) and nested tables (`paths.legal.intensity = 1`) both name
/// the dotted path.
fn set_strings(table: &toml::Table) -> Vec<String> {
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
        let mut arm_scenarios = Vec::new();
        for (name, (file, sets)) in arms.iter().zip(&arm_files) {
            let sc = Scenario::load(file, sets).map_err(|err| arm_error(&loaded.path, name, err))?;
            arm_scenarios.push(sc.value);
        }

        let factors: Vec<String> = e.factor.iter().map(|f| f.key.clone()).collect();
        let bounds: Vec<(f64, f64)> = e.factor.iter().map(Factor::bounds).collect();
        let s = &e.sampling;
        let design_err =
            |err: sampling::SamplingError| Error::Usage(format!("{}: sampling: {err}", loaded.path.display()));
        let points: Vec<Vec<f64>> = if factors.is_empty() {
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

        let mut runs = Vec::new();
        let mut scenarios = Vec::new();
        for (ai, (name, (file, sets))) in arms.iter().zip(&arm_files).enumerate() {
            for (pi, point) in points.iter().enumerate() {
                let mut base = if point.is_empty() {
                    arm_scenarios[ai].clone()
                } else {
                    let mut sets = sets.clone();
                    sets.extend(
                        factors
                            .iter()
                            .zip(point)
                            .map(|(k, v)| format!("{k}={}", toml::Value::Float(*v))),
                    );
                    Scenario::load(file, &sets)
                        .map_err(|err| arm_error(&loaded.path, name, err))?
                        .value
                };
                let mut scale = 1.0;
                let raw = spend_per_village_year(&base);
                if e.budget.per_village_per_year > 0.0 && raw > 0.0 {
                    scale = e.budget.per_village_per_year / raw;
                    scale_paths(&mut base, scale);
                    if let Some((key, max)) = check_intensity(&base) {
                        return Err(Error::Usage(format!(
                            "{}: arm \"{name}\": the budget of {} yuan per village per year needs {key} scaled by {scale:.3} to {max:.3}, above the maximum intensity 2; lower the budget or the arm's intensities",
                            loaded.path.display(),
                            e.budget.per_village_per_year
                        )));
                    }
                }
                let spend = spend_per_village_year(&base);
                for r in 0..e.replications {
                    let seed = replicate_seed(e.seed, r);
                    let mut sc = base.clone();
                    sc.run.seed = seed;
                    runs.push(RunSpec {
                        run_id: runs.len() as u32,
                        arm: ai,
                        point: pi,
                        replicate: r,
                        seed,
                        scale,
                        spend,
                    });
                    scenarios.push(sc);
                }
            }
        }

        let mut text = toml::to_string(e).unwrap_or_default();
        for (name, sc) in arms.iter().zip(&arm_scenarios) {
            text.push_str(&format!("\n# arm {name}\n{}", sc.to_toml()));
        }
        text.push_str(&format!(
            "\n{}\n{}",
            env!("CARGO_PKG_VERSION"),
            env!("RURALGOV_GIT_COMMIT")
        ));
        let fingerprint = crate::model::rng::hash_text(&text, 0x1357_9BDF_2468_ACE0);
        Ok(Plan {
            experiment: e.clone(),
            arms,
            arm_scenarios,
            factors,
            points,
            runs,
            scenarios,
            fingerprint,
        })
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
                .ok_or_else(|| Error::Usage(format!("the recorded sweep plan has no readable \"{key}\"")))
        }
        let arms: Vec<String> = field(v, "arm_order")?;
        let by_name: BTreeMap<String, Scenario> = field(v, "arms")?;
        let arm_scenarios = arms
            .iter()
            .map(|a| {
                by_name
                    .get(a)
                    .cloned()
                    .ok_or_else(|| Error::Usage(format!("the recorded plan lacks arm {a}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Plan {
            experiment: field(v, "experiment")?,
            arms,
            arm_scenarios,
            factors: field(v, "factors")?,
            points: field(v, "points")?,
            runs: field(v, "runs")?,
            scenarios: Vec::new(),
            fingerprint: field(v, "fingerprint")?,
        })
    }
}

fn arm_error(path: &Path, arm: &str, err: crate::scenario::ScenarioError) -> Error {
    if err.file.as_deref() == Some("--set") {
        // The override came from the experiment's `set` tables (or a factor), not the command line.
        let key = err.key.as_deref().unwrap_or("?");
        return Error::Usage(format!(
            "{}: arm \"{arm}\": the setting \"{key}\" given in the experiment (set or factor): {}",
            path.display(),
            err.message
        ));
    }
    Error::Usage(format!("{}: arm \"{arm}\": {err}", path.display()))
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
