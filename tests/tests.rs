//! Integration tests of `ruralgov`: the command line (good and bad input, output folders),
//! determinism across thread counts and seeds, and the model's accounting invariants.
//!
//! One test crate: `cargo test --test tests`. The module files live in `tests/suite/` rather
//! than directly in `tests/`, because Cargo compiles every `tests/*.rs` file as a test crate of
//! its own unless `Cargo.toml` sets `autotests = false`.
//!
//! Everything that runs the model uses `scenarios/tiny.toml` (or a temporary scenario that
//! extends it), so the suite takes seconds in a debug build.

#[path = "suite/bad_input.rs"]
mod bad_input;
#[path = "suite/calibrate.rs"]
mod calibrate;
#[path = "suite/calibration.rs"]
mod calibration;
#[path = "suite/checkpoint.rs"]
mod checkpoint;
#[path = "suite/cli.rs"]
mod cli;
#[path = "suite/determinism.rs"]
mod determinism;
#[path = "suite/experiments.rs"]
mod experiments;
#[path = "suite/invariants.rs"]
mod invariants;
#[path = "suite/output_folder.rs"]
mod output_folder;
#[cfg(feature = "parquet")]
#[path = "suite/parquet.rs"]
mod parquet;
#[path = "suite/reliability.rs"]
mod reliability;
#[path = "suite/report.rs"]
mod report;
#[cfg(feature = "serve")]
#[path = "suite/serve.rs"]
mod serve;
#[cfg(unix)]
#[path = "suite/slurm.rs"]
mod slurm;
#[path = "suite/structure.rs"]
mod structure;
#[path = "suite/user_defects.rs"]
mod user_defects;
#[path = "suite/util.rs"]
mod util;
#[path = "suite/validation.rs"]
mod validation;
