//! Reading a results folder: a single run (`metrics.csv`, `pyramid.csv`, `distributions.csv`,
//! `manifest.json`) or a sweep (`runs.csv`, `model.csv`, `compare.csv`, `sensitivity.csv`,
//! `manifest.json`, `.sweep/plan.json`).
//!
//! Only the file that makes a folder what it is must be readable (`metrics.csv` of a run,
//! `runs.csv` of a sweep); every other file is optional, and when it is missing or unreadable
//! the reason is kept so that the chart needing it can say why it was not drawn.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::experiment::compare;
use crate::experiment::folder::RunsTable;

/// A results folder read back.
pub(crate) struct Folder {
    /// The folder as given.
    pub dir: PathBuf,
    /// A run or a sweep.
    pub kind: Kind,
    /// `manifest.json`, parsed.
    pub manifest: Option<serde_json::Value>,
    /// Why there is no manifest.
    pub manifest_missing: Option<String>,
}

/// What a folder holds.
pub(crate) enum Kind {
    /// One run of one scenario.
    Run(Run),
    /// A sweep of an experiment.
    Sweep(Box<Sweep>),
    /// A calibration (`ruralgov calibrate`).
    Calibration(Box<Calibration>),
}

/// A time series of quantiles: (time, median, 2.5%, 97.5%) per recorded month.
pub(crate) type Band = Vec<(f64, f64, f64, f64)>;

/// A finished calibration read back (`waves.csv`, `implausibility.csv`, `retained.csv`,
/// `nroy.csv`, `fit.csv`, the manifest, and the last wave's runs).
pub(crate) struct Calibration {
    /// The calibration as recorded in the manifest.
    pub spec: crate::calibration::Calibration,
    /// Per wave: (wave, points, space left before it, points within the cut-off).
    pub waves: Vec<(u32, usize, f64, usize)>,
    /// Every design point: (wave, maximum simulated implausibility).
    pub design: Vec<(u32, f64)>,
    /// Retained sets (parameter values), or why they cannot be read.
    pub retained: std::result::Result<Vec<Vec<f64>>, String>,
    /// The sample of the space left (parameter values), or why it cannot be read.
    pub nroy: std::result::Result<Vec<Vec<f64>>, String>,
    /// Per target: time series of the retained sets' runs (time, median, 2.5%, 97.5%), or why
    /// there are none.
    pub predictive: std::result::Result<Vec<Band>, String>,
    /// `fit.csv` per target: (retained sets' mean, min, max), NaN where unknown.
    pub fit: Vec<(f64, f64, f64)>,
}

/// A single run.
pub(crate) struct Run {
    /// `metrics.csv`.
    pub metrics: TimeTable,
    /// `pyramid.csv`, or why it cannot be read.
    pub pyramid: std::result::Result<Vec<PyramidRow>, String>,
    /// `distributions.csv`, or why it cannot be read.
    pub distributions: std::result::Result<Vec<HistRow>, String>,
}

/// Columns of `metrics.csv` over time.
pub(crate) struct TimeTable {
    /// Calendar year of each row.
    pub year: Vec<i32>,
    /// Month of each row.
    pub month: Vec<u32>,
    /// Column name -> values by row (NaN where unreadable).
    pub columns: BTreeMap<String, Vec<f64>>,
}

/// Time of a recorded month on a continuous year axis (the middle of the month).
pub(crate) fn time(year: i32, month: u32) -> f64 {
    year as f64 + (month as f64 - 0.5) / 12.0
}

impl TimeTable {
    /// Row times on a continuous year axis.
    pub fn x(&self) -> Vec<f64> {
        self.year.iter().zip(&self.month).map(|(&y, &m)| time(y, m)).collect()
    }
}

/// One row of `pyramid.csv`.
pub(crate) struct PyramidRow {
    /// `start` or `end`.
    pub when: String,
    /// Year of the census.
    pub year: i32,
    /// Lower bound of the age group.
    pub age_from: i64,
    /// Label of the age group.
    pub group: String,
    /// Women (else men).
    pub female: bool,
    /// Residents.
    pub residents: f64,
    /// Migrants.
    pub migrants: f64,
}

/// One row of `distributions.csv`.
pub(crate) struct HistRow {
    /// Year.
    pub year: i32,
    /// `market` or `civic`.
    pub variable: String,
    /// Lower edge of the bin.
    pub lower: f64,
    /// Upper edge of the bin.
    pub upper: f64,
    /// Residents in the bin.
    pub residents: f64,
}

/// A sweep.
pub(crate) struct Sweep {
    /// Arms in the experiment's order.
    pub arms: Vec<String>,
    /// Factor keys.
    pub factors: Vec<String>,
    /// Summarised metric labels (columns of `runs.csv`).
    pub metrics: Vec<String>,
    /// Every run.
    pub runs: Vec<RunRow>,
    /// Design points.
    pub points: usize,
    /// `factorial`, `lhs`, `morris` or `sobol`.
    pub method: String,
    /// The experiment as recorded (manifest or plan), if readable.
    pub experiment: Option<serde_json::Value>,
    /// Key columns of `model.csv`, or why they cannot be read.
    pub model: std::result::Result<Model, String>,
    /// Paired comparisons (from `compare.csv`, or computed), or why there are none.
    pub compare: std::result::Result<Vec<compare::Row>, String>,
    /// Whether `compare` came from `compare.csv` (else it was computed now).
    pub compare_from_file: bool,
    /// `sensitivity.csv`, or why there is none.
    pub sensitivity: std::result::Result<Sensitivity, String>,
}

/// One row of `runs.csv`.
pub(crate) struct RunRow {
    /// Run id.
    pub run_id: u32,
    /// Arm index.
    pub arm: usize,
    /// Design point.
    pub point: usize,
    /// Factor values of the point.
    pub factors: Vec<f64>,
    /// Summarised metric values.
    pub values: Vec<f64>,
}

/// Key columns of `model.csv`, per run.
pub(crate) struct Model {
    /// Column names kept.
    pub columns: Vec<String>,
    /// Run id -> rows of (year, month, values in `columns` order).
    pub runs: BTreeMap<u32, Vec<(i32, u32, Vec<f64>)>>,
}

/// `sensitivity.csv`.
pub(crate) enum Sensitivity {
    /// Morris elementary effects.
    Morris(Vec<MorrisRow>),
    /// Sobol indices.
    Sobol(Vec<SobolRow>),
}

/// A Morris row.
pub(crate) struct MorrisRow {
    /// Arm.
    pub arm: String,
    /// Metric label.
    pub metric: String,
    /// Factor key.
    pub factor: String,
    /// Mean elementary effect.
    pub mu: f64,
    /// Mean absolute elementary effect.
    pub mu_star: f64,
    /// Standard deviation of the elementary effects.
    pub sigma: f64,
    /// Share of variance that is seed noise.
    pub noise_share: f64,
}

/// A Sobol row.
pub(crate) struct SobolRow {
    /// Arm.
    pub arm: String,
    /// Metric label.
    pub metric: String,
    /// Factor key.
    pub factor: String,
    /// First-order index and its interval.
    pub first: (f64, f64, f64),
    /// Total index and its interval.
    pub total: (f64, f64, f64),
    /// Share of variance that is seed noise.
    pub noise_share: f64,
}

/// A CSV file read whole.
struct Csv {
    name: String,
    header: Vec<String>,
    rows: Vec<csv::StringRecord>,
}

impl Csv {
    fn read(path: &Path) -> std::result::Result<Csv, String> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !path.exists() {
            return Err(format!("{name} is missing"));
        }
        let mut r = csv::Reader::from_path(path).map_err(|e| format!("{name} cannot be read ({e})"))?;
        let header: Vec<String> = r
            .headers()
            .map_err(|e| format!("{name} cannot be read ({e})"))?
            .iter()
            .map(String::from)
            .collect();
        let mut rows = Vec::new();
        for rec in r.records() {
            rows.push(rec.map_err(|e| format!("{name} is damaged ({e})"))?);
        }
        Ok(Csv { name, header, rows })
    }

    fn col(&self, name: &str) -> std::result::Result<usize, String> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("{} has no column {name}", self.name))
    }
}

fn num(rec: &csv::StringRecord, i: usize) -> f64 {
    rec.get(i)
        .and_then(|s| s.trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

fn text(rec: &csv::StringRecord, i: usize) -> String {
    rec.get(i).unwrap_or("").to_string()
}

/// Read a results folder. `wanted` are the `model.csv` columns to keep for a sweep.
pub(crate) fn load(dir: &Path, wanted: &[&str]) -> Result<Folder> {
    if !dir.exists() {
        return Err(Error::folder(
            dir,
            "no such folder; give a folder written by `ruralgov run` or `ruralgov sweep`",
        ));
    }
    if !dir.is_dir() {
        return Err(Error::folder(
            dir,
            "this is a file, not a results folder; give a folder written by `ruralgov run` or `ruralgov sweep`",
        ));
    }
    let (manifest, manifest_missing) = match std::fs::read_to_string(dir.join("manifest.json")) {
        Ok(t) => match serde_json::from_str::<serde_json::Value>(&t) {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(format!("manifest.json is damaged ({e})"))),
        },
        Err(_) => (None, Some("manifest.json is missing".to_string())),
    };
    if dir.join(".calibration.json").exists() {
        if manifest.is_none() {
            return Err(Error::folder(
                dir,
                "the calibration is not finished (there is no manifest.json yet); run the same `ruralgov calibrate` command again to finish it",
            ));
        }
        return Ok(Folder {
            dir: dir.to_path_buf(),
            kind: Kind::Calibration(Box::new(load_calibration(dir, manifest.as_ref())?)),
            manifest,
            manifest_missing,
        });
    }
    let is_sweep = dir.join("runs.csv").exists()
        || manifest.as_ref().and_then(|m| m.get("kind")).and_then(|k| k.as_str()) == Some("sweep");
    let kind = if is_sweep {
        Kind::Sweep(Box::new(load_sweep(dir, manifest.as_ref(), wanted)?))
    } else if dir.join("metrics.csv").exists() {
        Kind::Run(load_run(dir)?)
    } else if dir.join(".sweep").exists() {
        return Err(Error::folder(
            dir,
            "the sweep is not finished (there is no runs.csv yet); run the same `ruralgov sweep` command again to finish it, or `ruralgov merge` its shards",
        ));
    } else {
        return Err(Error::folder(
            dir,
            "not a ruralgov results folder: it has neither metrics.csv (a run) nor runs.csv (a sweep)",
        ));
    };
    Ok(Folder {
        dir: dir.to_path_buf(),
        kind,
        manifest,
        manifest_missing,
    })
}

fn load_calibration(dir: &Path, manifest: Option<&serde_json::Value>) -> Result<Calibration> {
    let spec: crate::calibration::Calibration = manifest
        .and_then(|m| m.get("calibration"))
        .cloned()
        .and_then(|c| serde_json::from_value(c).ok())
        .ok_or_else(|| Error::damaged(dir.join("manifest.json"), None, "it records no readable calibration"))?;
    let damaged = |name: &str, e: String| Error::damaged(dir.join(name), None, e);
    let w = Csv::read(&dir.join("waves.csv")).map_err(|e| damaged("waves.csv", e))?;
    let (wc, pc, sc, ic) = (
        w.col("wave").map_err(|e| damaged("waves.csv", e))?,
        w.col("points").map_err(|e| damaged("waves.csv", e))?,
        w.col("space_left").map_err(|e| damaged("waves.csv", e))?,
        w.col("points_within").map_err(|e| damaged("waves.csv", e))?,
    );
    let waves = w
        .rows
        .iter()
        .map(|r| (num(r, wc) as u32, num(r, pc) as usize, num(r, sc), num(r, ic) as usize))
        .collect();
    let design = match Csv::read(&dir.join("implausibility.csv")) {
        Ok(c) => match (c.col("wave"), c.col("max_implausibility")) {
            (Ok(wc), Ok(mc)) => c.rows.iter().map(|r| (num(r, wc) as u32, num(r, mc))).collect(),
            _ => Vec::new(),
        },
        Err(_) => Vec::new(),
    };
    let keys: Vec<String> = spec.parameter.iter().map(|p| p.key.clone()).collect();
    let sets = |name: &str| -> std::result::Result<(Vec<Vec<f64>>, Csv), String> {
        let c = Csv::read(&dir.join(name))?;
        let cols = keys
            .iter()
            .map(|k| c.col(k))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let rows = c
            .rows
            .iter()
            .map(|r| cols.iter().map(|&i| num(r, i)).collect())
            .collect();
        Ok((rows, c))
    };
    let retained_csv = sets("retained.csv");
    let retained = retained_csv.as_ref().map(|(r, _)| r.clone()).map_err(Clone::clone);
    let nroy = sets("nroy.csv").map(|(r, _)| r);
    let mut fit = vec![(f64::NAN, f64::NAN, f64::NAN); spec.target.len()];
    if let Ok(c) = Csv::read(&dir.join("fit.csv")) {
        if let (Ok(tc), Ok(mc), Ok(lc), Ok(hc)) =
            (c.col("target"), c.col("set_mean"), c.col("set_min"), c.col("set_max"))
        {
            for r in &c.rows {
                if let Some(t) = spec.target.iter().position(|t| t.name == text(r, tc)) {
                    fit[t] = (num(r, mc), num(r, lc), num(r, hc));
                }
            }
        }
    }
    let predictive = match &retained_csv {
        Ok((_, c)) => predictive(dir, &spec, c),
        Err(e) => Err(e.clone()),
    };
    Ok(Calibration {
        spec,
        waves,
        design,
        retained,
        nroy,
        predictive,
        fit,
    })
}

/// The retained sets' runs of the last wave, per target: median and 95% range over runs at
/// every recorded month (for a `growth` target, relative to each run's first year).
fn predictive(
    dir: &Path,
    spec: &crate::calibration::Calibration,
    retained: &Csv,
) -> std::result::Result<Vec<Band>, String> {
    let (wc, pc) = (retained.col("wave")?, retained.col("point")?);
    let Some(wave) = retained.rows.first().map(|r| num(r, wc) as u32) else {
        return Err("no parameter set was retained".into());
    };
    let points: std::collections::BTreeSet<usize> = retained.rows.iter().map(|r| num(r, pc) as usize).collect();
    let sweep = dir.join(format!("wave-{wave}")).join("sweep");
    let runs = RunsTable::read(&sweep).map_err(|e| e.to_string())?;
    let keep: std::collections::BTreeSet<u32> = runs
        .rows
        .iter()
        .filter(|r| points.contains(&r.point))
        .map(|r| r.run_id)
        .collect();
    let wanted: Vec<&str> = spec.target.iter().map(|t| t.metric.as_str()).collect();
    let model = read_model(&sweep.join("model.csv"), &wanted)?;
    let mut out = Vec::new();
    for t in &spec.target {
        let Some(col) = model.columns.iter().position(|c| *c == t.metric) else {
            out.push(Vec::new());
            continue;
        };
        // time -> values over runs
        let mut by_time: BTreeMap<(i32, u32), Vec<f64>> = BTreeMap::new();
        for (id, rows) in &model.runs {
            if !keep.contains(id) {
                continue;
            }
            let scale = if t.stat == crate::experiment::spec::Stat::Growth {
                let first = rows.first().map_or(0, |r| r.0);
                let v: Vec<f64> = rows.iter().filter(|r| r.0 == first).map(|r| r.2[col]).collect();
                Some(v.iter().sum::<f64>() / v.len().max(1) as f64)
            } else {
                None
            };
            for (y, m, v) in rows {
                let x = match scale {
                    Some(s) => v[col] / s - 1.0,
                    None => v[col],
                };
                by_time.entry((*y, *m)).or_default().push(x);
            }
        }
        out.push(
            by_time
                .into_iter()
                .map(|((y, m), v)| {
                    (
                        time(y, m),
                        crate::experiment::stats::quantile(&v, 0.5),
                        crate::experiment::stats::quantile(&v, 0.025),
                        crate::experiment::stats::quantile(&v, 0.975),
                    )
                })
                .collect(),
        );
    }
    Ok(out)
}

fn load_run(dir: &Path) -> Result<Run> {
    let path = dir.join("metrics.csv");
    let bad = |e: String| Error::damaged(&path, None, e);
    let c = Csv::read(&path).map_err(bad)?;
    let (yi, mi) = (c.col("year").map_err(bad)?, c.col("month").map_err(bad)?);
    let mut columns = BTreeMap::new();
    for (i, h) in c.header.iter().enumerate() {
        if ["step", "year", "month"].contains(&h.as_str()) {
            continue;
        }
        columns.insert(h.clone(), c.rows.iter().map(|r| num(r, i)).collect());
    }
    let mut year = Vec::new();
    let mut month = Vec::new();
    for r in &c.rows {
        year.push(num(r, yi) as i32);
        month.push(num(r, mi).clamp(1.0, 12.0) as u32);
    }
    if year.is_empty() {
        return Err(bad("no rows".into()));
    }
    let metrics = TimeTable { year, month, columns };
    Ok(Run {
        metrics,
        pyramid: read_pyramid(&dir.join("pyramid.csv")),
        distributions: read_distributions(&dir.join("distributions.csv")),
    })
}

fn read_pyramid(path: &Path) -> std::result::Result<Vec<PyramidRow>, String> {
    let c = Csv::read(path)?;
    let cols = ["when", "year", "age_from", "age_group", "sex", "residents", "migrants"]
        .iter()
        .map(|n| c.col(n))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let rows: Vec<PyramidRow> = c
        .rows
        .iter()
        .map(|r| PyramidRow {
            when: text(r, cols[0]),
            year: num(r, cols[1]) as i32,
            age_from: num(r, cols[2]) as i64,
            group: text(r, cols[3]),
            female: text(r, cols[4]) == "female",
            residents: num(r, cols[5]),
            migrants: num(r, cols[6]),
        })
        .collect();
    if rows.is_empty() {
        return Err("pyramid.csv has no rows".into());
    }
    Ok(rows)
}

fn read_distributions(path: &Path) -> std::result::Result<Vec<HistRow>, String> {
    let c = Csv::read(path)?;
    let cols = ["year", "variable", "lower", "upper", "residents"]
        .iter()
        .map(|n| c.col(n))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let rows: Vec<HistRow> = c
        .rows
        .iter()
        .map(|r| HistRow {
            year: num(r, cols[0]) as i32,
            variable: text(r, cols[1]),
            lower: num(r, cols[2]),
            upper: num(r, cols[3]),
            residents: num(r, cols[4]),
        })
        .collect();
    if rows.is_empty() {
        return Err("distributions.csv has no rows".into());
    }
    Ok(rows)
}

fn load_sweep(dir: &Path, manifest: Option<&serde_json::Value>, wanted: &[&str]) -> Result<Sweep> {
    let table = RunsTable::read(dir)?;
    // Arms in the experiment's order (the manifest's), then any others as they appear.
    let mut arms: Vec<String> = manifest
        .and_then(|m| m.get("arms"))
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect())
        .unwrap_or_default();
    for a in &table.arms {
        if !arms.contains(a) {
            arms.push(a.clone());
        }
    }
    let runs: Vec<RunRow> = table
        .rows
        .iter()
        .map(|r| RunRow {
            run_id: r.run_id,
            arm: arms.iter().position(|a| *a == table.arms[r.arm]).unwrap_or(0),
            point: r.point,
            factors: r.factors.clone(),
            values: r.values.clone(),
        })
        .collect();
    let (factors, metrics) = (table.factors, table.metrics);
    let points = runs.iter().map(|r| r.point + 1).max().unwrap_or(1);
    let experiment = manifest.and_then(|m| m.get("experiment")).cloned().or_else(|| {
        crate::experiment::folder::recorded_plan(dir)
            .ok()
            .and_then(|p| p.get("experiment").cloned())
    });
    let method = experiment
        .as_ref()
        .and_then(|e| e.pointer("/sampling/method"))
        .and_then(|m| m.as_str())
        .unwrap_or("factorial")
        .to_string();
    let (compare, compare_from_file) = if arms.len() < 2 {
        (
            Err("the sweep has one arm, so there is nothing to compare".to_string()),
            false,
        )
    } else if dir.join("compare.csv").exists() {
        (read_compare(&dir.join("compare.csv")), true)
    } else {
        (compare::compare(dir, None, 0).map_err(|e| e.to_string()), false)
    };
    Ok(Sweep {
        arms,
        factors,
        metrics,
        runs,
        points,
        method,
        experiment,
        model: read_model(&dir.join("model.csv"), wanted),
        compare,
        compare_from_file,
        sensitivity: read_sensitivity(&dir.join("sensitivity.csv")),
    })
}

fn read_model(path: &Path, wanted: &[&str]) -> std::result::Result<Model, String> {
    if !path.exists() {
        return Err("model.csv is missing".into());
    }
    let mut r = csv::Reader::from_path(path).map_err(|e| format!("model.csv cannot be read ({e})"))?;
    let header: Vec<String> = r
        .headers()
        .map_err(|e| format!("model.csv cannot be read ({e})"))?
        .iter()
        .map(String::from)
        .collect();
    let find = |n: &str| header.iter().position(|h| h == n);
    let (Some(id), Some(yi), Some(mi)) = (find("run_id"), find("year"), find("month")) else {
        return Err("model.csv has no run_id, year or month column".into());
    };
    let keep: Vec<(String, usize)> = wanted
        .iter()
        .filter_map(|w| find(w).map(|i| (w.to_string(), i)))
        .collect();
    let mut runs: BTreeMap<u32, Vec<(i32, u32, Vec<f64>)>> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| format!("model.csv is damaged ({e})"))?;
        let run = num(&rec, id);
        let (y, m) = (num(&rec, yi), num(&rec, mi));
        if !run.is_finite() || !y.is_finite() || !m.is_finite() {
            continue;
        }
        let values = keep.iter().map(|(_, i)| num(&rec, *i)).collect();
        runs.entry(run as u32)
            .or_default()
            .push((y as i32, m.clamp(1.0, 12.0) as u32, values));
    }
    if runs.is_empty() {
        return Err("model.csv has no rows".into());
    }
    Ok(Model {
        columns: keep.into_iter().map(|(n, _)| n).collect(),
        runs,
    })
}

fn read_compare(path: &Path) -> std::result::Result<Vec<compare::Row>, String> {
    let c = Csv::read(path)?;
    let names = [
        "arm",
        "baseline",
        "metric",
        "n",
        "baseline_mean",
        "arm_mean",
        "difference",
        "ci_low",
        "ci_high",
        "boot_low",
        "boot_high",
        "extra_spend",
        "per_100k_yuan",
    ];
    let cols = names
        .iter()
        .map(|n| c.col(n))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let opt = |r: &csv::StringRecord, i: usize| Some(num(r, i)).filter(|x| x.is_finite());
    let boot = c.col("bootstrap").ok();
    Ok(c.rows
        .iter()
        .map(|r| compare::Row {
            arm: text(r, cols[0]),
            baseline: text(r, cols[1]),
            metric: text(r, cols[2]),
            n: num(r, cols[3]).max(0.0) as usize,
            baseline_mean: num(r, cols[4]),
            arm_mean: num(r, cols[5]),
            difference: num(r, cols[6]),
            ci_low: num(r, cols[7]),
            ci_high: num(r, cols[8]),
            boot_low: opt(r, cols[9]),
            boot_high: opt(r, cols[10]),
            bootstrap: boot.map(|i| num(r, i).max(0.0) as usize).unwrap_or(0),
            extra_spend: num(r, cols[11]),
            per_100k_yuan: opt(r, cols[12]),
            ..compare::Row::default()
        })
        .collect())
}

fn read_sensitivity(path: &Path) -> std::result::Result<Sensitivity, String> {
    if !path.exists() {
        return Err("sensitivity.csv is missing (it is written for Morris and Sobol designs)".into());
    }
    let c = Csv::read(path)?;
    let (arm, metric, factor) = (c.col("arm")?, c.col("metric")?, c.col("factor")?);
    let noise = c.col("noise_share")?;
    if c.header.iter().any(|h| h == "mu_star") {
        let (mu, mu_star, sigma) = (c.col("mu")?, c.col("mu_star")?, c.col("sigma")?);
        Ok(Sensitivity::Morris(
            c.rows
                .iter()
                .map(|r| MorrisRow {
                    arm: text(r, arm),
                    metric: text(r, metric),
                    factor: text(r, factor),
                    mu: num(r, mu),
                    mu_star: num(r, mu_star),
                    sigma: num(r, sigma),
                    noise_share: num(r, noise),
                })
                .collect(),
        ))
    } else {
        let cols = ["first", "first_low", "first_high", "total", "total_low", "total_high"]
            .iter()
            .map(|n| c.col(n))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Sensitivity::Sobol(
            c.rows
                .iter()
                .map(|r| SobolRow {
                    arm: text(r, arm),
                    metric: text(r, metric),
                    factor: text(r, factor),
                    first: (num(r, cols[0]), num(r, cols[1]), num(r, cols[2])),
                    total: (num(r, cols[3]), num(r, cols[4]), num(r, cols[5])),
                    noise_share: num(r, noise),
                })
                .collect(),
        ))
    }
}
