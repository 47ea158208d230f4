//! The library's error type. Every variant is a user-facing problem with a one-paragraph
//! message; the binary maps all of them to exit code 2.

use std::path::PathBuf;

use crate::scenario::ScenarioError;

/// Errors from running or writing a simulation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario file or an override is wrong.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The output folder cannot be created.
    #[error("cannot create the output folder {}: {reason}", path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The operating system's reason.
        reason: std::io::Error,
    },
    /// An output file cannot be written.
    #[error("cannot write {}: {reason}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        reason: std::io::Error,
    },
    /// The output folder holds results of a different run.
    #[error(
        "the output folder {} already holds {what}; nothing was changed. Pass --force to replace them, or choose another folder with --out",
        path.display()
    )]
    OutputExists {
        /// The folder.
        path: PathBuf,
        /// What it holds.
        what: String,
    },
    /// A command-line option has an invalid value.
    #[error("{0}")]
    Usage(String),
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
