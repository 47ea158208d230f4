//! The library's error type. Every variant is a user-facing problem with a one-paragraph
//! message; the binary maps all of them to exit code 2.
//!
//! The variants say what kind of problem it is (a file that cannot be read is not one that
//! cannot be written; a damaged file names its row and column), so callers and tests can
//! match on them instead of on message text.

use std::path::PathBuf;

use crate::scenario::ScenarioError;

/// Errors from running, writing or reading back a simulation or an experiment.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario, experiment file or an override is wrong.
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
    /// An input or results file cannot be read.
    #[error("cannot read {}: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        reason: std::io::Error,
    },
    /// The output folder holds something a new result must not silently replace.
    #[error("the output folder {} already holds {what}; nothing was changed. {remedy}", path.display())]
    OutputExists {
        /// The folder.
        path: PathBuf,
        /// What it holds.
        what: String,
        /// What the user can do (names only flags the command has).
        remedy: String,
    },
    /// Another ruralgov process is writing the folder.
    #[error(
        "another ruralgov process is writing {} ({holder}); nothing was changed. Wait for it to finish, or choose another folder with --out",
        path.display()
    )]
    Locked {
        /// The folder.
        path: PathBuf,
        /// Who holds the lock (process id and command, as recorded in the lock file).
        holder: String,
    },
    /// A results file is damaged or was edited: its contents are not what ruralgov wrote.
    #[error("{} is damaged{}: {problem}", path.display(), at.as_ref().map(|a| format!(" ({a})")).unwrap_or_default())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// Where in the file (`row 3, column "seed"`), if known.
        at: Option<String>,
        /// What is wrong and what to do.
        problem: String,
    },
    /// A folder is not what the command needs (not results, not a sweep, not finished).
    #[error("{}: {problem}", path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What it is or lacks, and what to do.
        problem: String,
    },
    /// An experiment cannot be turned into a plan (an arm's scenario, a design, a budget).
    #[error("{}: {problem}", path.display())]
    Experiment {
        /// The experiment file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// What was asked for would exceed the machine (memory, runs, threads).
    #[error("{what} {needs}, more than {limit}; nothing was run. {remedy}")]
    TooLarge {
        /// What was asked for.
        what: String,
        /// The estimate, e.g. "needs about 2.2 TB of memory".
        needs: String,
        /// The limit, e.g. "this machine's 24.0 GB".
        limit: String,
        /// How to proceed.
        remedy: String,
    },
    /// A command-line option has an invalid value.
    #[error("{flag} {value}: {expected}")]
    Option {
        /// The option, e.g. `--threads`.
        flag: String,
        /// The value given.
        value: String,
        /// What was expected.
        expected: String,
    },
    /// The caller stopped a run before it finished (Ctrl-C in Python); nothing was written.
    #[error("the run was stopped at month {done} of {total}; nothing was written")]
    Interrupted {
        /// Months simulated.
        done: u32,
        /// Months in the run.
        total: u32,
    },
    /// The caller stopped a sweep (Ctrl-C in Python); its finished runs are recorded.
    #[error("the sweep was stopped with {done} of {total} runs finished; they are kept, and running the same sweep again resumes from there")]
    SweepStopped {
        /// Runs finished (in this shard).
        done: usize,
        /// Runs in the sweep (in this shard).
        total: usize,
    },
    /// A chart or table cannot be drawn or formatted (an internal failure of a library).
    #[error("cannot produce {what}: {reason}")]
    Render {
        /// The chart or file.
        what: String,
        /// The library's reason.
        reason: String,
    },
}

impl Error {
    /// An invalid command-line value.
    pub fn option(flag: &str, value: impl std::fmt::Display, expected: impl Into<String>) -> Error {
        Error::Option {
            flag: flag.to_string(),
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    /// A folder that is not what the command needs.
    pub fn folder(path: impl Into<PathBuf>, problem: impl Into<String>) -> Error {
        Error::Folder {
            path: path.into(),
            problem: problem.into(),
        }
    }

    /// A damaged file, with where in it.
    pub fn damaged(path: impl Into<PathBuf>, at: Option<String>, problem: impl Into<String>) -> Error {
        Error::Damaged {
            path: path.into(),
            at,
            problem: problem.into(),
        }
    }

    /// A failure to draw or format `what`.
    pub fn render(what: impl Into<String>, reason: impl std::fmt::Display) -> Error {
        Error::Render {
            what: what.into(),
            reason: reason.to_string(),
        }
    }
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
