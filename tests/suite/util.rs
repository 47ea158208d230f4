//! Helpers shared by the integration tests: running the binary, writing temporary scenario
//! files, snapshotting folders and reading CSV output.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `ruralgov` binary built by Cargo for this test run.
pub const BIN: &str = env!("CARGO_BIN_EXE_ruralgov");

/// The crate root (where `scenarios/` and `docs/` live).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Absolute path of a bundled scenario, e.g. `scenario("legal")`.
pub fn scenario(name: &str) -> PathBuf {
    root().join("scenarios").join(format!("{name}.toml"))
}

/// Absolute path of `scenarios/tiny.toml`.
pub fn tiny() -> PathBuf {
    scenario("tiny")
}

/// Every bundled scenario, sorted by file name.
pub fn bundled_scenarios() -> Vec<PathBuf> {
    let mut all: Vec<PathBuf> = fs::read_dir(root().join("scenarios"))
        .expect("read scenarios/")
        .map(|e| e.expect("read scenarios/ entry").path())
        .filter(|p| p.extension() == Some(OsStr::new("toml")))
        .collect();
    all.sort();
    assert!(
        !all.is_empty(),
        "no scenarios found in {}",
        root().join("scenarios").display()
    );
    all
}

/// What a finished `ruralgov` process left behind.
#[derive(Debug)]
pub struct Output {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
    /// The command line, for failure messages.
    pub command: String,
}

impl Output {
    /// Assert exit code 0, printing the whole output otherwise.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert_eq!(self.code, Some(0), "expected success from {}\n{self}", self.command);
        self
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "command: {}\nexit code: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--------------",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// Run `ruralgov` with `args` in the crate root (so `scenarios/tiny.toml` resolves).
pub fn ruralgov<S: AsRef<OsStr>>(args: &[S]) -> Output {
    ruralgov_in(&root(), args)
}

/// Run `ruralgov` with `args` in the working directory `cwd`.
pub fn ruralgov_in<S: AsRef<OsStr>>(cwd: &Path, args: &[S]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    let command = std::iter::once("ruralgov".to_string())
        .chain(args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
    Output {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        command,
    }
}

/// `ruralgov run <tiny> --out <out> --quiet` plus `extra` arguments; must succeed.
pub fn run_tiny(out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec![
        "run".into(),
        tiny().display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--quiet".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = ruralgov(&args);
    o.assert_success();
    o
}

/// Write `text` to `dir/name` and return the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
    p
}

/// The line `extends = '<absolute path of tiny.toml>'` (a TOML literal string, so no escapes).
pub fn extends_tiny() -> String {
    format!("extends = '{}'\n", tiny().display())
}

/// Write a scenario that extends tiny by absolute path: line 1 is `extends`, `body` starts on
/// line 2.
pub fn tiny_child(dir: &Path, name: &str, body: &str) -> PathBuf {
    write(dir, name, &format!("{}{body}", extends_tiny()))
}

/// Every file and folder under `dir` (relative path -> contents; folders map to `None`).
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for e in entries {
            let p = e.expect("read folder entry").path();
            let rel = p.strip_prefix(base).expect("entry under base").to_path_buf();
            if p.is_dir() {
                out.insert(rel, None);
                walk(base, &p, out);
            } else {
                out.insert(rel, Some(fs::read(&p).unwrap_or_default()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Names of the entries directly in `dir` (empty if it does not exist).
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.expect("read folder entry").file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// Assert that a command failed the way every bad input must: exit code 2, nothing on stdout,
/// one paragraph on stderr without panic or backtrace text, containing each of `fragments`.
/// Returns stderr.
#[track_caller]
pub fn assert_clean_error(o: &Output, fragments: &[&str]) -> String {
    assert_eq!(o.code, Some(2), "expected exit code 2\n{o}");
    assert!(o.stdout.is_empty(), "expected nothing on stdout\n{o}");
    let err = o.stderr.trim();
    assert!(!err.is_empty(), "expected a message on stderr\n{o}");
    for bad in ["panicked", "RUST_BACKTRACE", "thread 'main'", "stack backtrace"] {
        assert!(
            !o.stderr.contains(bad),
            "stderr contains {bad:?}: a panic is not an error message\n{o}"
        );
    }
    assert!(
        !err.lines().any(|l| l.trim().is_empty()),
        "expected a single paragraph on stderr, found a blank line\n{o}"
    );
    for f in fragments {
        assert!(o.stderr.contains(f), "expected stderr to contain {f:?}\n{o}");
    }
    o.stderr.clone()
}

/// Assert that a failed run left nothing behind: the output folder `out` does not exist or is
/// empty, and nothing else under `dir` changed compared with `before` (taken with
/// [`snapshot`] before the run; `out` is excluded from the comparison).
#[track_caller]
pub fn assert_no_new_files(dir: &Path, before: &BTreeMap<PathBuf, Option<Vec<u8>>>, out: &Path) {
    let left = names_in(out);
    assert!(
        left.is_empty(),
        "the failed run left files in {}: {left:?}",
        out.display()
    );
    let rel_out = out.strip_prefix(dir).ok().map(Path::to_path_buf);
    let after: BTreeMap<_, _> = snapshot(dir)
        .into_iter()
        .filter(|(p, _)| rel_out.as_ref() != Some(p))
        .collect();
    let before: BTreeMap<_, _> = before
        .iter()
        .filter(|(p, _)| rel_out.as_ref() != Some(*p))
        .map(|(p, c)| (p.clone(), c.clone()))
        .collect();
    let added: Vec<_> = after.keys().filter(|p| !before.contains_key(*p)).collect();
    let removed: Vec<_> = before.keys().filter(|p| !after.contains_key(*p)).collect();
    let changed: Vec<_> = after
        .iter()
        .filter(|(p, c)| before.get(*p).is_some_and(|b| b != *c))
        .map(|(p, _)| p)
        .collect();
    assert!(
        added.is_empty() && removed.is_empty() && changed.is_empty(),
        "the failed run changed {}: added {added:?}, removed {removed:?}, changed {changed:?}",
        dir.display()
    );
}

/// A CSV file split into its header and rows (the outputs hold no quoted fields).
pub struct Csv {
    /// Column names.
    pub header: Vec<String>,
    /// Rows, each as many fields as the header.
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    /// Read and split `path`; every row must have as many fields as the header.
    pub fn read(path: &Path) -> Csv {
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap_or_default()
            .split(',')
            .map(str::to_string)
            .collect();
        let rows: Vec<Vec<String>> = lines.map(|l| l.split(',').map(str::to_string).collect()).collect();
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(
                r.len(),
                header.len(),
                "{} row {} has {} fields, header has {}",
                path.display(),
                i + 1,
                r.len(),
                header.len()
            );
        }
        Csv { header, rows }
    }

    /// Index of a column.
    pub fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name:?} in {:?}", self.header))
    }

    /// A column's values as numbers (empty cells as NaN).
    pub fn column(&self, name: &str) -> Vec<f64> {
        let c = self.col(name);
        self.rows
            .iter()
            .map(|r| {
                if r[c].is_empty() {
                    f64::NAN
                } else {
                    r[c].parse()
                        .unwrap_or_else(|_| panic!("column {name}: {:?} is not a number", r[c]))
                }
            })
            .collect()
    }
}

/// Run `ruralgov <args> --out <dir>/out` in `dir` and check that it was refused cleanly (see
/// [`assert_clean_error`], with `fragments`) and changed nothing: the output folder does not
/// exist or is empty afterwards, and nothing else under `dir` changed. Returns stderr.
#[track_caller]
pub fn run_refused(dir: &Path, args: &[String], fragments: &[&str]) -> String {
    let out = dir.join("out");
    let before = snapshot(dir);
    let mut all = args.to_vec();
    all.push("--out".into());
    all.push(out.display().to_string());
    let o = ruralgov_in(dir, &all);
    let err = assert_clean_error(&o, fragments);
    assert_no_new_files(dir, &before, &out);
    err
}

/// `path` as a `String` argument.
pub fn arg(path: &Path) -> String {
    path.display().to_string()
}
