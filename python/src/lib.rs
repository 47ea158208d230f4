//! The native part of the `ruralgov` Python package: scenarios, runs, sweeps and comparisons
//! through the same library calls as the command line. Tables cross into Python as the exact
//! CSV bytes `ruralgov run` writes (one declaration of every column, in the library); the
//! Python layer (`ruralgov/__init__.py`) turns them into DataFrames.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::create_exception;
use pyo3::exceptions::{PyFileExistsError, PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use ruralgov::error::Error;
use ruralgov::output::RunInfo;
use ruralgov::scenario::load::Loaded;
use ruralgov::scenario::{Scenario as Resolved, ScenarioError as LibScenarioError};

create_exception!(
    _ruralgov,
    ScenarioError,
    PyValueError,
    "A scenario, experiment or setting is wrong. `file`, `line` and `key` say where (None where unknown); the message is the command line's."
);

/// A library error as the Python exception a user would expect.
fn to_py(py: Python<'_>, e: Error) -> PyErr {
    match e {
        Error::Scenario(s) => scenario_error(py, &s),
        // The command line's flag is the keyword argument here.
        Error::TooLarge { .. } => PyValueError::new_err(e.to_string().replace("--no-memory-check", "allow_large=True")),
        Error::Option { .. } => PyValueError::new_err(e.to_string()),
        Error::OutputExists { .. } => PyFileExistsError::new_err(e.to_string()),
        Error::CreateDir { .. } | Error::Write { .. } | Error::Read { .. } => PyOSError::new_err(e.to_string()),
        _ => PyRuntimeError::new_err(e.to_string()),
    }
}

/// A `ScenarioError` carrying the file, line and key of the library's error.
fn scenario_error(py: Python<'_>, s: &LibScenarioError) -> PyErr {
    let err = ScenarioError::new_err(s.to_string());
    let value = err.value(py);
    // Setting an attribute on a fresh exception cannot fail in practice; if it did, the
    // message still says everything.
    let _ = value.setattr("file", s.file.clone());
    let _ = value.setattr("line", s.line);
    let _ = value.setattr("key", s.key.clone());
    let _ = value.setattr("message", s.message.clone());
    err
}

/// A Python value as the right-hand side of a `--set` override (TOML).
fn toml_literal(v: &Bound<'_, PyAny>) -> PyResult<String> {
    fn value(v: &Bound<'_, PyAny>) -> PyResult<toml::Value> {
        if v.is_instance_of::<PyBool>() {
            Ok(toml::Value::Boolean(v.extract()?))
        } else if v.is_instance_of::<PyInt>() {
            let i: i64 = v
                .extract()
                .map_err(|_| PyValueError::new_err(format!("{v} does not fit a 64-bit integer")))?;
            Ok(toml::Value::Integer(i))
        } else if v.is_instance_of::<PyFloat>() {
            Ok(toml::Value::Float(v.extract()?))
        } else if v.is_instance_of::<PyString>() {
            Ok(toml::Value::String(v.extract()?))
        } else if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
            let items: Vec<Bound<'_, PyAny>> = v.try_iter()?.collect::<PyResult<_>>()?;
            Ok(toml::Value::Array(items.iter().map(value).collect::<PyResult<_>>()?))
        } else if let Ok(x) = v.extract::<f64>() {
            // numpy scalars and other numbers.
            Ok(toml::Value::Float(x))
        } else {
            Err(PyValueError::new_err(format!(
                "cannot set a scenario value from {} (use a bool, int, float, str, or a list of them)",
                v.get_type().name()?
            )))
        }
    }
    Ok(value(v)?.to_string())
}

/// A resolved scenario: a file (with what it extends) and any overrides, validated exactly
/// as the command line validates them. Immutable: `set` returns a new scenario.
#[pyclass(name = "Scenario", module = "ruralgov._ruralgov", frozen)]
#[derive(Clone)]
struct PyScenario {
    loaded: Loaded<Resolved>,
    sets: Vec<String>,
    value: Resolved,
}

#[pymethods]
impl PyScenario {
    /// Load a scenario file, following `extends`, with optional `--set`-style overrides
    /// ("section.key=value").
    #[staticmethod]
    #[pyo3(signature = (path, sets = None))]
    fn load(py: Python<'_>, path: PathBuf, sets: Option<Vec<String>>) -> PyResult<Self> {
        let sets = sets.unwrap_or_default();
        let loaded = Resolved::load(&path, &sets).map_err(|e| scenario_error(py, &e))?;
        let value = loaded.value.clone();
        Ok(PyScenario { loaded, sets, value })
    }

    /// A new scenario with `key` set to `value`, validated as `--set key=value` would be.
    /// `set("key=value")` (one string) is the command line's form.
    #[pyo3(signature = (key, value = None))]
    fn set(&self, py: Python<'_>, key: &str, value: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let set = match value {
            Some(v) => format!("{key}={}", toml_literal(v)?),
            None => key.to_string(),
        };
        let mut sets = self.sets.clone();
        sets.push(set);
        let value = self.loaded.with_sets(&sets).map_err(|e| scenario_error(py, &e))?;
        Ok(PyScenario {
            loaded: self.loaded.clone(),
            sets,
            value,
        })
    }

    /// The resolved scenario as TOML (what `ruralgov show` prints).
    fn show(&self) -> String {
        self.value.to_toml()
    }

    /// The resolved scenario as JSON text (every setting, nested by section).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.value).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// The settings that differ from `other`: (key, value here, value there) with values as
    /// TOML text, None where a setting is absent.
    fn diff(&self, other: &PyScenario) -> Vec<(String, Option<String>, Option<String>)> {
        ruralgov::scenario::diff(&self.value, &other.value)
            .into_iter()
            .map(|d| (d.key, d.a.map(|v| v.to_string()), d.b.map(|v| v.to_string())))
            .collect()
    }

    /// The scenario's name.
    #[getter]
    fn name(&self) -> String {
        self.value.name.clone()
    }

    /// The scenario's seed.
    #[getter]
    fn seed(&self) -> u64 {
        self.value.run.seed
    }

    /// The files read, base first.
    #[getter]
    fn files(&self) -> Vec<PathBuf> {
        self.loaded.files.clone()
    }

    /// The overrides applied, in order, as "key=value".
    #[getter]
    fn overrides(&self) -> Vec<String> {
        self.sets.clone()
    }

    fn __repr__(&self) -> String {
        let sc = &self.value;
        format!(
            "Scenario(name={:?}, villages={}, {}-{}, seed={}, overrides={})",
            sc.name,
            sc.region.villages,
            sc.run.start_year,
            sc.run.end_year,
            sc.run.seed,
            self.sets.len()
        )
    }
}

/// Run a scenario and return its tables (CSV bytes, exactly as `ruralgov run` writes them)
/// and its manifest (JSON text). The GIL is released while the model runs; the run checks for
/// Ctrl-C after every month and stops with KeyboardInterrupt.
#[pyfunction]
#[pyo3(signature = (scenario, seed = None, threads = None, allow_large = false, progress = None))]
fn run_tables<'py>(
    py: Python<'py>,
    scenario: &PyScenario,
    seed: Option<u64>,
    threads: Option<usize>,
    allow_large: bool,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut sc = scenario.value.clone();
    if let Some(s) = seed {
        ruralgov::scenario::check_seed(s).map_err(|e| scenario_error(py, &e))?;
        sc.run.seed = s;
    }
    let threads = ruralgov::limits::threads("threads", threads.unwrap_or_else(ruralgov::limits::cores))
        .map_err(|e| to_py(py, e))?;
    ruralgov::sim::check_memory(&sc, allow_large).map_err(|e| to_py(py, e))?;
    let pool = ruralgov::sim::pool(threads).map_err(|e| to_py(py, e))?;
    let mut stopped: Option<PyErr> = None;
    let result = py.detach(|| {
        ruralgov::sim::run_until(&pool, &sc, |done, total| {
            Python::attach(|py| {
                let checked = py.check_signals().and_then(|()| match &progress {
                    Some(f) => f.call1(py, (done, total)).map(|_| ()),
                    None => Ok(()),
                });
                match checked {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(e) => {
                        stopped = Some(e);
                        ControlFlow::Break(())
                    }
                }
            })
        })
    });
    if let Some(e) = stopped {
        return Err(e);
    }
    let out = result.map_err(|e| to_py(py, e))?;
    let tables = ruralgov::output::tables(&sc, &out).map_err(|e| to_py(py, e))?;
    let names: Vec<&str> = tables.iter().map(|(n, _)| *n).collect();
    let info = RunInfo {
        files: &scenario.loaded.files,
        sets: &scenario.sets,
        threads,
        command: format!("python: ruralgov.run({:?}, seed={})", sc.name, sc.run.seed),
        format: ruralgov::columnar::Format::Csv,
    };
    let manifest = ruralgov::output::manifest(&sc, &out, &info, &names);
    let d = PyDict::new(py);
    for (name, bytes) in &tables {
        d.set_item(*name, PyBytes::new(py, bytes))?;
    }
    d.set_item("manifest.json", manifest.to_string())?;
    Ok(d)
}

/// Run (or resume) the sweep of an experiment file into `out` (default `results/<name>`),
/// as `ruralgov sweep` does (one keyword argument per flag); returns the output folder. The
/// GIL is released while it runs; Ctrl-C stops it (KeyboardInterrupt) within a month of
/// simulation, keeping the finished runs, so the same call resumes.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (experiment, out = None, jobs = None, shard = None, restart = false, allow_large = false, format = "csv"))]
fn sweep(
    py: Python<'_>,
    experiment: PathBuf,
    out: Option<PathBuf>,
    jobs: Option<usize>,
    shard: Option<(u32, u32)>,
    restart: bool,
    allow_large: bool,
    format: &str,
) -> PyResult<PathBuf> {
    let command = format!("python: ruralgov.sweep({:?})", experiment.display().to_string());
    let cancel = AtomicBool::new(false);
    let mut interrupt: Option<PyErr> = None;
    let result = py.detach(|| {
        let prepared = ruralgov::experiment::sweep::Prepared::open(
            &experiment,
            out,
            jobs.unwrap_or_else(ruralgov::limits::cores),
            shard,
            restart,
            allow_large,
            command,
            format.parse()?,
        )?;
        // The sweep runs on a helper thread; this (the main) thread looks for Ctrl-C, which
        // Python delivers only to the main thread, and asks the sweep to stop.
        std::thread::scope(|s| {
            let handle = s.spawn(|| prepared.run_until(&|_, _| {}, &cancel));
            while !handle.is_finished() {
                std::thread::sleep(std::time::Duration::from_millis(50));
                if interrupt.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        interrupt = Some(e);
                        cancel.store(true, Ordering::SeqCst);
                    }
                }
            }
            handle
                .join()
                .unwrap_or_else(|_| Err(Error::render("the sweep", "its thread panicked")))
        })?;
        Ok::<PathBuf, Error>(prepared.opts.out.clone())
    });
    if let Some(e) = interrupt {
        return Err(e);
    }
    result.map_err(|e| to_py(py, e))
}

/// Compare the arms of a finished sweep folder with the baseline arm (paired differences
/// with bootstrap intervals, as `ruralgov compare`); returns the table as CSV bytes.
#[pyfunction]
#[pyo3(signature = (folder, baseline = None, bootstrap = 2000))]
fn compare_table<'py>(
    py: Python<'py>,
    folder: PathBuf,
    baseline: Option<String>,
    bootstrap: usize,
) -> PyResult<Bound<'py, PyBytes>> {
    let rows = py
        .detach(|| ruralgov::experiment::compare::compare(&folder, baseline.as_deref(), bootstrap))
        .map_err(|e| to_py(py, e))?;
    let bytes = ruralgov::experiment::compare::csv_bytes(&rows).map_err(|e| to_py(py, e))?;
    Ok(PyBytes::new(py, &bytes))
}

/// The Parquet copy of the CSV table `name` (e.g. "metrics.csv"), with the column types
/// `ruralgov run --format parquet` writes.
#[pyfunction]
fn to_parquet<'py>(py: Python<'py>, name: &str, csv: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let bytes = py
        .detach(|| ruralgov::columnar::to_parquet(name, csv))
        .map_err(|e| to_py(py, e))?;
    Ok(PyBytes::new(py, &bytes))
}

/// The library's version.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The native module.
#[pymodule]
fn _ruralgov(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyScenario>()?;
    m.add("ScenarioError", m.py().get_type::<ScenarioError>())?;
    m.add_function(wrap_pyfunction!(run_tables, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(compare_table, m)?)?;
    m.add_function(wrap_pyfunction!(to_parquet, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}
