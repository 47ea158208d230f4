//! Experiments: sweeps over arms, factors and replications with common random numbers,
//! equal-budget comparisons, paired confidence intervals and sensitivity analysis.
//!
//! See `docs/experiments.md` for the file format and the commands.

pub mod compare;
pub mod folder;
pub mod plan;
pub mod sampling;
pub mod sensitivity;
pub mod spec;
pub mod stats;
pub mod sweep;
