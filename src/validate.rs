//! `ruralgov validate`: check an input file by what it is.
//!
//! A file is a *calibration* if its top level has `[[target]]` or `[[parameter]]`; an
//! *experiment* if it has any of the keys only experiments have (`base`, `replications`,
//! `[[arm]]`, `[[factor]]`, `[[metric]]`, `[sampling]`, `[budget]`, `[parameters]`);
//! otherwise it is a *scenario*. A calibration is loaded as `calibrate` loads it (its base
//! scenario and both ends of every parameter's range checked). A scenario is loaded exactly as `run` loads it; an experiment
//! is loaded and planned exactly as `sweep` plans it (every arm's scenario and every design
//! point resolved and validated), so a file that validates also runs.

use std::path::Path;

use crate::error::Result;
use crate::experiment::{plan::Plan, spec};
use crate::scenario::Scenario;

/// What a validated file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A scenario (`ruralgov run`).
    Scenario,
    /// An experiment (`ruralgov sweep`).
    Experiment,
    /// A calibration (`ruralgov calibrate`).
    Calibration,
}

impl Kind {
    /// Lower-case name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Scenario => "scenario",
            Kind::Experiment => "experiment",
            Kind::Calibration => "calibration",
        }
    }
}

/// Top-level keys that only experiment files have.
const EXPERIMENT_KEYS: [&str; 8] = [
    "base",
    "replications",
    "arm",
    "factor",
    "metric",
    "sampling",
    "budget",
    "parameters",
];

/// Top-level keys that only calibration files have.
const CALIBRATION_KEYS: [&str; 3] = ["target", "parameter", "method"];

/// Guess what `path` is from its top-level keys (a scenario if it cannot be parsed: loading
/// it then reports the syntax error with its line).
pub fn kind_of(path: &Path) -> Kind {
    let Ok(text) = crate::scenario::load::read_input(path) else {
        return Kind::Scenario;
    };
    match text.parse::<toml::Table>() {
        Ok(t) if CALIBRATION_KEYS.iter().any(|k| t.contains_key(*k)) => Kind::Calibration,
        Ok(t) if EXPERIMENT_KEYS.iter().any(|k| t.contains_key(*k)) => Kind::Experiment,
        _ => Kind::Scenario,
    }
}

/// Check one file as what it is; returns its kind.
pub fn file(path: &Path) -> Result<Kind> {
    let kind = kind_of(path);
    match kind {
        Kind::Scenario => {
            Scenario::load(path, &[])?;
        }
        Kind::Experiment => {
            let loaded = spec::load(path)?;
            Plan::build(&loaded)?;
        }
        Kind::Calibration => {
            crate::calibration::load(path)?;
        }
    }
    Ok(kind)
}
