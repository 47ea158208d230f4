//! Calibration: which parameter values are consistent with observed data, given every known
//! source of uncertainty (`ruralgov calibrate`, `docs/calibration.md`).
//!
//! A calibration file names a base scenario, the targets (a metric over a window of years,
//! the observed value, its uncertainty and its source), the free parameters (ranges and the
//! reason for them) and the method's settings:
//!
//! ```toml
//! name = "china_2000_2020"
//! description = "What is fitted to what."
//! base = "../china_2000_2020.toml"
//! seed = 2027
//! replications = 3
//!
//! [[target]]
//! name = "share_60_plus_2020"
//! metric = "share_60_plus_all_ages"
//! from = 2020
//! to = 2021
//! value = 0.2381
//! sd = 0.004
//! source = "7th population census (2020): 23.81% of rural residents aged 60+"
//!
//! [[parameter]]
//! key = "migration.leave_base"
//! range = [0.01, 0.12]
//! reason = "the leaving hazard is not observed; wide enough for the 2000-2020 outflow"
//!
//! [method]
//! waves = 3
//! points = 60
//! ```
//!
//! The method is Bayesian history matching in waves (Vernon, Goldstein and Bower 2010;
//! Andrianakis et al. 2015), in [`history_matching`], with Gaussian-process emulators
//! ([`emulator`]). Model runs go through the sweep machinery, one sweep per wave, so they are
//! parallel, resumable after a kill and identical however they were run.

pub mod emulator;
pub mod history_matching;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::experiment::spec::{MetricSpec, Stat};
use crate::model::observe::Metrics;
use crate::scenario::{ScenarioError, Validate, Validator};

/// A calibration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Calibration {
    /// Short name (default output folder `results/<name>/`).
    pub name: String,
    /// What is fitted to what, and how long it takes.
    pub description: String,
    /// Base scenario, relative to the calibration file.
    pub base: String,
    /// Overrides applied to every run (`"key" = value`), e.g. a smaller region.
    pub set: toml::Table,
    /// Calibration seed: the seeds of the replicates and of the designs derive from it.
    pub seed: u64,
    /// Replicated seeds per design point (common random numbers across points).
    pub replications: u32,
    /// Observed data to match.
    pub target: Vec<Target>,
    /// Free parameters.
    pub parameter: Vec<Parameter>,
    /// The method and its settings.
    pub method: MethodSettings,
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration {
            name: "calibration".into(),
            description: String::new(),
            base: String::new(),
            set: toml::Table::new(),
            seed: 1,
            replications: 3,
            target: Vec::new(),
            parameter: Vec::new(),
            method: MethodSettings::default(),
        }
    }
}

/// `[[target]]`: one observed number and how the model's counterpart is computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Target {
    /// Short name (letters, digits, '_').
    pub name: String,
    /// The `metrics.csv` column.
    pub metric: String,
    /// `mean` over the window, the value at the `end`, or `growth` (the window's mean
    /// relative to the first simulated year, minus 1).
    pub stat: Stat,
    /// First year of the window (inclusive).
    pub from: i32,
    /// End of the window (exclusive).
    pub to: i32,
    /// The observed value, in the metric's unit.
    pub value: f64,
    /// Standard deviation of the observation's error (sampling, measurement, definition).
    pub sd: f64,
    /// Standard deviation of the model discrepancy: how far the model's best point may be
    /// from reality because of what it leaves out (0 = none assumed).
    pub discrepancy: f64,
    /// Where the observed value comes from.
    pub source: String,
}

impl Target {
    /// The summary a sweep computes for this target.
    pub fn metric_spec(&self) -> MetricSpec {
        MetricSpec {
            name: self.metric.clone(),
            stat: self.stat,
            from: self.from,
            to: self.to,
        }
    }
}

/// How a parameter's range maps to the emulators' unit interval (and how designs spread).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Uniform on the range.
    #[default]
    Linear,
    /// Uniform in the logarithm (a positive range spanning orders of magnitude).
    Log,
}

/// `[[parameter]]`: a free parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Parameter {
    /// Dotted scenario key (a number).
    pub key: String,
    /// `[low, high]`: the prior range (uniform on the scale).
    pub range: Vec<f64>,
    /// `linear` or `log`.
    pub scale: Scale,
    /// Why this range.
    pub reason: String,
}

impl Parameter {
    fn bounds(&self) -> (f64, f64) {
        (
            self.range.first().copied().unwrap_or(0.0),
            self.range.get(1).copied().unwrap_or(1.0),
        )
    }

    /// Map a value to the unit interval.
    pub fn to_unit(&self, v: f64) -> f64 {
        let (lo, hi) = self.bounds();
        match self.scale {
            Scale::Linear => (v - lo) / (hi - lo),
            Scale::Log => (v.ln() - lo.ln()) / (hi.ln() - lo.ln()),
        }
    }

    /// Map a point of the unit interval to a value.
    pub fn from_unit(&self, u: f64) -> f64 {
        let (lo, hi) = self.bounds();
        match self.scale {
            Scale::Linear => lo + u * (hi - lo),
            Scale::Log => (lo.ln() + u * (hi.ln() - lo.ln())).exp(),
        }
    }
}

/// Calibration methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Bayesian history matching in waves with Gaussian-process emulators.
    #[default]
    HistoryMatching,
}

/// `[method]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MethodSettings {
    /// The method.
    pub name: Method,
    /// Waves of history matching.
    pub waves: u32,
    /// Design points per wave (each run `replications` times).
    pub points: u32,
    /// Implausibility cut-off (3: Pukelsheim's three-sigma rule).
    pub cutoff: f64,
    /// Candidate points screened by the emulators per batch when a wave's design is drawn.
    pub candidates: u32,
    /// Points of the non-implausible space sampled from the last wave's emulators
    /// (`nroy.csv`).
    pub nroy_samples: u32,
}

impl Default for MethodSettings {
    fn default() -> Self {
        MethodSettings {
            name: Method::HistoryMatching,
            waves: 3,
            points: 60,
            cutoff: 3.0,
            candidates: 20_000,
            nroy_samples: 1_000,
        }
    }
}

impl Validate for Calibration {
    fn validate(&self, v: &mut Validator) {
        crate::experiment::spec::check_name_and_base(
            v,
            &self.name,
            &self.base,
            "a calibration",
            "../china_2000_2020.toml",
        );
        v.range_int("replications", self.replications as i64, 2, 1000);
        if self.target.is_empty() {
            v.error(
                "target",
                "a calibration needs at least one [[target]] (metric, from, to, value, sd, source)",
            );
        }
        for (i, t) in self.target.iter().enumerate() {
            if !crate::scenario::is_valid_name(&t.name) {
                v.error(
                    format!("target[{i}].name"),
                    format!(
                        "target name \"{}\" must be non-empty and use only letters, digits, '_' and '-'",
                        t.name
                    ),
                );
            }
            if self.target[..i].iter().any(|u| u.name == t.name) {
                v.error(
                    format!("target[{i}].name"),
                    format!("target name \"{}\" is used twice", t.name),
                );
            }
            if self.target[..i].iter().any(|u| u.metric_spec() == t.metric_spec()) {
                v.error(
                    format!("target[{i}].metric"),
                    format!(
                        "target \"{}\" summarises the same metric over the same window as an earlier target",
                        t.name
                    ),
                );
            }
            if let Some(problem) = Metrics::unknown_column(&t.metric) {
                v.error(format!("target[{i}].metric"), problem);
            }
            if t.stat != Stat::End && (t.from == 0 || t.to == 0 || t.from >= t.to) {
                v.error(
                    format!("target[{i}].from"),
                    format!(
                        "target \"{}\" needs a window of years with from < to (got from = {}, to = {})",
                        t.name, t.from, t.to
                    ),
                );
            }
            v.range(&format!("target[{i}].value"), t.value, -1e12, 1e12);
            if !(t.sd.is_finite() && t.sd > 0.0) {
                v.error(
                    format!("target[{i}].sd"),
                    format!(
                        "target \"{}\" needs the observation's uncertainty as a standard deviation above 0 (got {})",
                        t.name, t.sd
                    ),
                );
            }
            v.range(&format!("target[{i}].discrepancy"), t.discrepancy, 0.0, 1e12);
            if t.source.trim().is_empty() {
                v.error(
                    format!("target[{i}].source"),
                    format!("target \"{}\" needs its source (source = \"...\")", t.name),
                );
            }
        }
        if self.parameter.is_empty() {
            v.error(
                "parameter",
                "a calibration needs at least one free [[parameter]] (key, range, reason)",
            );
        }
        for (i, p) in self.parameter.iter().enumerate() {
            if p.key.trim().is_empty() {
                v.error(
                    format!("parameter[{i}].key"),
                    "a parameter needs the scenario key it sets, e.g. key = \"migration.leave_base\"",
                );
            } else if crate::scenario::load::is_integer_setting::<crate::scenario::Scenario>(&p.key).is_none() {
                v.error(
                    format!("parameter[{i}].key"),
                    format!("\"{}\" is not a scenario setting", p.key),
                );
            }
            if self.parameter[..i].iter().any(|q| q.key == p.key) {
                v.error(
                    format!("parameter[{i}].key"),
                    format!("parameter \"{}\" is given twice", p.key),
                );
            }
            let ok = p.range.len() == 2 && p.range.iter().all(|x| x.is_finite()) && p.range[0] < p.range[1];
            if !ok {
                v.error(
                    format!("parameter[{i}].range"),
                    format!(
                        "parameter \"{}\" needs range = [low, high] with low < high, got {:?}",
                        p.key, p.range
                    ),
                );
            } else if p.scale == Scale::Log && p.range[0] <= 0.0 {
                v.error(
                    format!("parameter[{i}].scale"),
                    format!(
                        "parameter \"{}\": scale = \"log\" needs a positive range, got {:?}",
                        p.key, p.range
                    ),
                );
            }
            if p.reason.trim().is_empty() {
                v.error(
                    format!("parameter[{i}].reason"),
                    format!(
                        "parameter \"{}\" needs the reason for its range (reason = \"...\")",
                        p.key
                    ),
                );
            }
        }
        let m = &self.method;
        v.range_int("method.waves", m.waves as i64, 1, 20);
        v.range_int("method.points", m.points as i64, 4, 10_000);
        if (m.points as usize) < self.parameter.len() + 3 {
            v.error(
                "method.points",
                format!(
                    "{} points per wave are too few to emulate {} parameters (at least {} are needed; 10 per parameter is the usual rule)",
                    m.points,
                    self.parameter.len(),
                    self.parameter.len() + 3
                ),
            );
        }
        let runs = m.points as u64 * self.replications as u64 * m.waves as u64;
        if runs > crate::limits::MAX_RUNS {
            v.error(
                "method.points",
                format!(
                    "this calibration has {runs} runs, more than the {} allowed",
                    crate::limits::MAX_RUNS
                ),
            );
        }
        if !(m.cutoff.is_finite() && m.cutoff > 0.0 && m.cutoff <= 100.0) {
            v.error(
                "method.cutoff",
                format!("cutoff {} must be above 0 and at most 100 (3 is usual)", m.cutoff),
            );
        }
        v.range_int("method.candidates", m.candidates as i64, 100, 10_000_000);
        v.range_int("method.nroy_samples", m.nroy_samples as i64, 0, 1_000_000);
    }
}

/// A loaded calibration with the folder its relative paths refer to.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The calibration.
    pub calibration: Calibration,
    /// The calibration file.
    pub path: PathBuf,
    /// Its folder.
    pub dir: PathBuf,
    /// The file as loaded (origins of every key, for errors found later).
    pub source: crate::scenario::Loaded<Calibration>,
}

/// Load a calibration file strictly, and check its base scenario and overrides.
pub fn load(path: &Path) -> Result<Loaded, crate::Error> {
    let loaded = crate::scenario::load::load::<Calibration>(path, &[])?;
    if !loaded.table.contains_key("name") {
        return Err(ScenarioError::new(
            Some(path.display().to_string()),
            None,
            Some("name".into()),
            "a calibration file needs a name (name = \"china_2000_2020\"); it names the default output folder",
        )
        .into());
    }
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let l = Loaded {
        calibration: loaded.value.clone(),
        path: path.to_path_buf(),
        dir,
        source: loaded,
    };
    let base_loaded = l.base_loaded()?;
    let base = &base_loaded.value;
    for (i, p) in l.calibration.parameter.iter().enumerate() {
        for end in &p.range {
            let set = if crate::scenario::load::is_integer_setting::<crate::scenario::Scenario>(&p.key) == Some(true) {
                format!("{}={}", p.key, end.round() as i64)
            } else {
                format!("{}={}", p.key, toml::Value::Float(*end))
            };
            if let Err(e) = base_loaded.with_sets(&[set]) {
                return Err(l
                    .source
                    .error_at(
                        &format!("parameter[{i}].range"),
                        format!("parameter \"{}\" at {end}: {}", p.key, e.message),
                    )
                    .into());
            }
        }
    }
    // Every target's window must lie inside the simulated years.
    for (i, t) in l.calibration.target.iter().enumerate() {
        let (first, end) = (base.run.start_year, base.run.end_year);
        if t.stat != Stat::End && (t.from < first || t.to > end) {
            return Err(l
                .source
                .error_at(
                    &format!("target[{i}].from"),
                    format!(
                        "target \"{}\": the window [{}, {}) reaches outside the runs, which simulate {first} to {} (end in January {end})",
                        t.name,
                        t.from,
                        t.to,
                        end - 1
                    ),
                )
                .into());
        }
    }
    Ok(l)
}

impl Loaded {
    /// The base scenario file.
    pub fn base_path(&self) -> PathBuf {
        self.dir.join(&self.calibration.base)
    }

    /// The base scenario with the calibration's overrides, checked.
    pub fn base_scenario(&self) -> Result<crate::scenario::Scenario, crate::Error> {
        self.base_loaded().map(|l| l.value)
    }

    /// The base scenario with the calibration's overrides, as loaded (to apply more overrides).
    fn base_loaded(&self) -> Result<crate::scenario::Loaded<crate::scenario::Scenario>, crate::Error> {
        let sets = crate::experiment::plan::set_strings(&self.calibration.set);
        crate::scenario::Scenario::load(&self.base_path(), &sets).map_err(|e| crate::Error::Experiment {
            path: self.path.clone(),
            problem: format!("the base scenario with the calibration's set: {e}"),
        })
    }
}
