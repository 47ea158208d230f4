//! Experiment files: a base scenario, arms, factors, replications, metrics and a budget.
//!
//! ```toml
//! name = "paths"
//! description = "The four paths against no path, 20 paired replications."
//! base = "../baseline.toml"
//! seed = 2026
//! replications = 20
//!
//! [[arm]]
//! name = "baseline"
//!
//! [[arm]]
//! name = "legal"
//! scenario = "../legal.toml"
//!
//! [[arm]]
//! name = "legal_strong"
//! set = { "paths.legal.intensity" = 1.5 }
//!
//! [[metric]]
//! name = "governance_index"
//! stat = "mean"
//! from = 2025
//! to = 2030
//! ```
//!
//! Loading is as strict as for scenarios (same loader): unknown keys, wrong types and
//! out-of-range values name the file, line and key.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::observe::Metrics;
use crate::scenario::{ScenarioError, Validate, Validator};

/// An experiment file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Experiment {
    /// Short name (default output folder `results/<name>/`).
    pub name: String,
    /// Which question the experiment answers and how long it takes.
    pub description: String,
    /// Base scenario, relative to the experiment file.
    pub base: String,
    /// Experiment seed; replicate `r` runs with seed `replicate_seed(seed, r)` in every arm.
    pub seed: u64,
    /// Replications per arm and design point.
    pub replications: u32,
    /// Overrides applied to every run (`"key" = value`), e.g. a smaller region.
    pub set: toml::Table,
    /// Arms: named scenarios or overrides of the base. Empty means one arm, the base.
    pub arm: Vec<Arm>,
    /// Factors varied by the design.
    pub factor: Vec<Factor>,
    /// How factor values are chosen.
    pub sampling: Sampling,
    /// Metrics to summarise.
    pub metric: Vec<MetricSpec>,
    /// Equal-budget scaling of path intensities.
    pub budget: Budget,
    /// Parameter sets read from a file (a calibration's `retained.csv`) instead of factors.
    pub parameters: Parameters,
}

/// `[parameters]`: design points read from a CSV file, one parameter set per row, for
/// example the sets a calibration retained (`ruralgov calibrate` writes `retained.csv`).
/// Every column whose name is a dotted scenario key (`migration.leave_base`) is a
/// parameter; other columns (`set`, `max_implausibility`, ...) are ignored. Each row is a
/// design point, crossed with the arms and the replications (common random numbers), so
/// `compare` can separate parameter uncertainty from seed noise.
///
/// With `[[factor]]` ranges as well (and `sampling.method = "lhs"`), the design has
/// `sampling.samples` points: point `i` takes the file's row `i mod n` (of its `n` sets) and
/// the `i`-th Latin-hypercube draw of the factors over their ranges. That is how parameters
/// the calibration fixed (its retained sets) and parameters only a prior range describes
/// (guessed efficacies) enter one uncertainty interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Parameters {
    /// CSV file of parameter sets, relative to the experiment file; empty = none.
    pub from: String,
    /// Use only the first `draws` rows (0 = all).
    pub draws: u32,
}

impl Default for Experiment {
    fn default() -> Self {
        Experiment {
            name: "experiment".into(),
            description: String::new(),
            base: String::new(),
            seed: 1,
            replications: 10,
            set: toml::Table::new(),
            arm: Vec::new(),
            factor: Vec::new(),
            sampling: Sampling::default(),
            metric: Vec::new(),
            budget: Budget::default(),
            parameters: Parameters::default(),
        }
    }
}

/// One arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Arm {
    /// Arm name (unique; used in outputs).
    pub name: String,
    /// Scenario file of this arm, relative to the experiment file; empty means the base.
    pub scenario: String,
    /// Overrides of this arm (`"paths.legal.intensity" = 1`).
    pub set: toml::Table,
}

/// One factor of the design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Factor {
    /// Dotted scenario key the factor sets (a number).
    pub key: String,
    /// Explicit values (full factorial).
    pub values: Vec<f64>,
    /// `[low, high]` range (Latin hypercube, Morris, Sobol).
    pub range: Vec<f64>,
    /// Why these values or this range (a prior range's reason or source).
    pub reason: String,
}

impl Factor {
    /// The `(low, high)` bounds of `range` (0 and 1 where missing; validation requires both).
    pub fn bounds(&self) -> (f64, f64) {
        (
            self.range.first().copied().unwrap_or(0.0),
            self.range.get(1).copied().unwrap_or(1.0),
        )
    }
}

/// Sampling method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Every combination of the factors' `values`.
    #[default]
    Factorial,
    /// Latin hypercube over the factors' ranges.
    Lhs,
    /// Morris elementary-effects trajectories.
    Morris,
    /// Saltelli design for Sobol indices.
    Sobol,
}

/// `[sampling]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sampling {
    /// Method.
    pub method: Method,
    /// Points for `lhs`; base sample size N for `sobol` (N x (k + 2) points).
    pub samples: u32,
    /// Trajectories for `morris`.
    pub trajectories: u32,
    /// Grid levels for `morris` (even).
    pub levels: u32,
    /// Seed of the design.
    pub seed: u64,
    /// Bootstrap resamples for Sobol confidence intervals.
    pub bootstrap: u32,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            method: Method::Factorial,
            samples: 16,
            trajectories: 10,
            levels: 4,
            seed: 1,
            bootstrap: 500,
        }
    }
}

/// Which summary of a metric's time series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Stat {
    /// Mean over the recorded months of years `from <= year < to`.
    #[default]
    Mean,
    /// The value in the last recorded month.
    End,
    /// Relative change: the mean over the window divided by the mean over the first
    /// simulated year, minus 1 (e.g. the change of the resident population since the start).
    Growth,
}

/// `[[metric]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct MetricSpec {
    /// A `metrics.csv` column.
    pub name: String,
    /// `mean` over a window of years, or the value at the `end`.
    pub stat: Stat,
    /// First year of the window (inclusive); 0 = the first simulated year.
    pub from: i32,
    /// End of the window (exclusive); 0 = after the last simulated year.
    pub to: i32,
}

impl MetricSpec {
    /// Column label in summaries, e.g. `governance_index_mean_2025_2030` or `trust_branch_end`.
    pub fn label(&self) -> String {
        match self.stat {
            Stat::End => format!("{}_end", self.name),
            Stat::Growth => format!("{}_growth_{}_{}", self.name, self.from, self.to),
            Stat::Mean if self.from == 0 && self.to == 0 => format!("{}_mean", self.name),
            Stat::Mean => format!("{}_mean_{}_{}", self.name, self.from, self.to),
        }
    }

    /// Reduce a run's recorded metrics to one number.
    pub fn reduce(&self, rows: &[Metrics]) -> f64 {
        let value = |m: &Metrics| m.get(&self.name).unwrap_or(f64::NAN);
        let mean_over = |from: i32, to: i32| {
            let (mut sum, mut n) = (0.0, 0usize);
            for m in rows {
                if (from == 0 || m.year >= from) && (to == 0 || m.year < to) {
                    sum += value(m);
                    n += 1;
                }
            }
            if n == 0 {
                f64::NAN
            } else {
                sum / n as f64
            }
        };
        match self.stat {
            Stat::End => rows.last().map(value).unwrap_or(f64::NAN),
            Stat::Mean => mean_over(self.from, self.to),
            Stat::Growth => {
                let first = rows.first().map_or(0, |m| m.year);
                mean_over(self.from, self.to) / mean_over(first, first + 1) - 1.0
            }
        }
    }
}

/// `[budget]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Budget {
    /// Path spending per village per year, yuan; 0 = no equal-budget scaling.
    pub per_village_per_year: f64,
}

/// The checks every file that names an output folder and a base scenario shares (experiments
/// and calibrations): a usable name and a base scenario.
pub(crate) fn check_name_and_base(v: &mut Validator, name: &str, base: &str, what: &str, example: &str) {
    if !crate::scenario::is_valid_name(name) {
        v.error(
            "name",
            format!("name \"{name}\" must be non-empty and use only letters, digits, '_' and '-'"),
        );
    }
    if base.trim().is_empty() {
        v.error("base", format!("{what} needs a base scenario: base = \"{example}\""));
    }
}

impl Validate for Experiment {
    fn validate(&self, v: &mut Validator) {
        check_name_and_base(v, &self.name, &self.base, "an experiment", "../baseline.toml");
        v.range_int("replications", self.replications as i64, 1, 100_000);
        let mut names: Vec<&str> = Vec::new();
        for (i, a) in self.arm.iter().enumerate() {
            if a.name.trim().is_empty()
                || !a
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                v.error(
                    format!("arm[{i}].name"),
                    format!(
                        "arm name \"{}\" must be non-empty and use only letters, digits, '_' and '-'",
                        a.name
                    ),
                );
            }
            if names.contains(&a.name.as_str()) {
                v.error(
                    format!("arm[{i}].name"),
                    format!("arm name \"{}\" is used twice", a.name),
                );
            }
            names.push(&a.name);
        }
        let s = &self.sampling;
        for (i, f) in self.factor.iter().enumerate() {
            if self.factor[..i].iter().any(|g| g.key == f.key) {
                v.error(
                    format!("factor[{i}].key"),
                    format!(
                        "factor \"{}\" is given twice; each setting can be one factor only",
                        f.key
                    ),
                );
            }
            if f.key.trim().is_empty() {
                v.error(
                    format!("factor[{i}].key"),
                    "a factor needs the scenario key it sets, e.g. key = \"paths.legal.intensity\"",
                );
            }
            match s.method {
                Method::Factorial => {
                    if f.values.is_empty() {
                        v.error(
                            format!("factor[{i}].values"),
                            format!("factor \"{}\" needs a list of values for a factorial design", f.key),
                        );
                    }
                }
                _ => {
                    if f.range.len() != 2 || f.range[0] >= f.range[1] || f.range.iter().any(|x| !x.is_finite()) {
                        v.error(
                            format!("factor[{i}].range"),
                            format!(
                                "factor \"{}\" needs range = [low, high] with low < high, got {:?}",
                                f.key, f.range
                            ),
                        );
                    }
                }
            }
        }
        if matches!(s.method, Method::Morris | Method::Sobol) && self.factor.is_empty() {
            v.error(
                "sampling.method",
                "morris and sobol designs need at least one [[factor]] with a range",
            );
        }
        v.range_int("sampling.samples", s.samples as i64, 1, 1_000_000);
        v.range_int("sampling.trajectories", s.trajectories as i64, 1, 100_000);
        v.range_int("sampling.levels", s.levels as i64, 2, 100);
        if !s.levels.is_multiple_of(2) {
            v.error("sampling.levels", format!("levels {} must be even", s.levels));
        }
        v.range_int("sampling.bootstrap", s.bootstrap as i64, 0, 100_000);
        let points = design_points(self);
        let runs = points
            .saturating_mul(self.arm.len().max(1) as u64)
            .saturating_mul(self.replications as u64);
        if points > crate::limits::MAX_POINTS {
            let key = match s.method {
                Method::Factorial => "factor",
                Method::Lhs | Method::Sobol => "sampling.samples",
                Method::Morris => "sampling.trajectories",
            };
            v.error(
                key,
                format!(
                    "this design has {points} points, more than the {} an experiment may have; use fewer samples, trajectories or factor values",
                    crate::limits::MAX_POINTS
                ),
            );
        } else if runs > crate::limits::MAX_RUNS {
            v.error(
                "replications",
                format!(
                    "this plan has {runs} runs ({} arms x {points} points x {} replications), more than the {} an experiment may have; split it with --shard over several experiments, or use fewer points or replications",
                    self.arm.len().max(1),
                    self.replications,
                    crate::limits::MAX_RUNS
                ),
            );
        }
        if self.metric.is_empty() {
            v.error(
                "metric",
                "an experiment needs at least one [[metric]] to summarise, e.g. name = \"governance_index\"",
            );
        }
        for (i, m) in self.metric.iter().enumerate() {
            if let Some(problem) = Metrics::unknown_column(&m.name) {
                v.error(format!("metric[{i}].name"), problem);
            }
            if m.from != 0 && m.to != 0 && m.from >= m.to {
                v.error(
                    format!("metric[{i}].to"),
                    format!("window [{}, {}) is empty: to must be after from", m.from, m.to),
                );
            }
        }
        for (i, m) in self.metric.iter().enumerate() {
            if m.stat == Stat::Growth && (m.from == 0 || m.to == 0) {
                v.error(
                    format!("metric[{i}].from"),
                    "stat = \"growth\" needs a window of years (from and to): the mean over it is compared with the first simulated year",
                );
            }
        }
        if !self.parameters.from.is_empty() && !self.factor.is_empty() && s.method != Method::Lhs {
            v.error(
                "sampling.method",
                "with parameters.from, [[factor]] ranges are drawn by Latin hypercube (sampling.method = \"lhs\"): each of sampling.samples points completes one parameter set from the file with one draw of the factors",
            );
        }
        v.range(
            "budget.per_village_per_year",
            self.budget.per_village_per_year,
            0.0,
            1e9,
        );
    }
}

/// A loaded experiment with the folder its relative paths refer to.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The experiment.
    pub experiment: Experiment,
    /// The experiment file.
    pub path: PathBuf,
    /// Its folder.
    pub dir: PathBuf,
    /// The file as loaded (origins of every key, for errors found when planning).
    pub source: crate::scenario::Loaded<Experiment>,
}

/// Load an experiment file strictly.
pub fn load(path: &Path) -> Result<Loaded, ScenarioError> {
    let loaded = crate::scenario::load::load::<Experiment>(path, &[])?;
    if !loaded.table.contains_key("name") {
        return Err(ScenarioError::new(
            Some(path.display().to_string()),
            None,
            Some("name".into()),
            "an experiment file needs a name (name = \"paths\"); it names the default output folder",
        ));
    }
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(Loaded {
        experiment: loaded.value.clone(),
        path: path.to_path_buf(),
        dir,
        source: loaded,
    })
}

/// The seed of replicate `r`: the same in every arm and design point (common random numbers).
/// Seeds have 53 bits, so they are exact in every output format and in R and pandas.
pub fn replicate_seed(experiment_seed: u64, r: u32) -> u64 {
    crate::model::rng::mix(experiment_seed ^ crate::model::rng::mix(0x5EED_0000 + r as u64)) >> 11
}

/// The number of design points an experiment's sampling gives (saturating), before anything
/// is built.
pub fn design_points(e: &Experiment) -> u64 {
    let k = e.factor.len() as u64;
    if k == 0 {
        return 1;
    }
    let s = &e.sampling;
    match s.method {
        Method::Factorial => e
            .factor
            .iter()
            .fold(1u64, |acc, f| acc.saturating_mul(f.values.len().max(1) as u64)),
        Method::Lhs => s.samples as u64,
        Method::Morris => (s.trajectories as u64).saturating_mul(k + 1),
        Method::Sobol => (s.samples as u64).saturating_mul(k + 2),
    }
}
