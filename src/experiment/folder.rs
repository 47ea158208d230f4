//! The layout of a sweep folder, in one place: where each file lives, how a finished run is
//! recorded and checked, and the one typed reader of `runs.csv`.
//!
//! ```text
//! DIR/.sweep/plan.json           what determines the results (experiment, arms, runs)
//! DIR/.sweep/runs/NNNNNN.csv     the model.csv rows of finished run NNNNNN
//! DIR/.sweep/runs/NNNNNN.vil     its villages.csv rows (when the scenario asks for them)
//! DIR/.sweep/runs/NNNNNN.json    its record: run key, seed, summary values, checksums
//! DIR/runs.csv, model.csv, villages.csv, summary.csv, sensitivity.csv, manifest.json
//! DIR/compare.csv                written by `ruralgov compare`
//! ```
//!
//! A run counts as finished only when its record exists and checks out: the record names the
//! run's id and its run key (a hash of the plan's fingerprint, the run id and the seed, so a
//! record copied from another run or another plan does not pass), carries a checksum of its
//! row files and one of itself. A record that fails any check is *damaged*: it is reported by
//! name and the run is simulated again; it is never used, and never a reason to discard the
//! other runs.

use std::fs;
use std::path::{Path, PathBuf};

use super::plan::{Plan, RunSpec};
use crate::error::{Error, Result};
use crate::model::observe::Metrics;
use crate::model::rng::hash_bytes;
use crate::output::num;
use crate::sim::VillageRow;

/// The hidden work area of a sweep folder.
pub fn work(out: &Path) -> PathBuf {
    out.join(".sweep")
}

/// The recorded plan.
pub fn plan_path(out: &Path) -> PathBuf {
    work(out).join("plan.json")
}

/// The plan description recorded in a sweep folder.
pub fn recorded_plan(dir: &Path) -> Result<serde_json::Value> {
    let p = plan_path(dir);
    let text = std::fs::read_to_string(&p)
        .map_err(|e| Error::folder(dir, format!("not a sweep folder (cannot read {}: {e})", p.display())))?;
    serde_json::from_str(&text).map_err(|e| Error::damaged(&p, None, e.to_string()))
}

/// The folder of per-run files.
pub fn runs_dir(out: &Path) -> PathBuf {
    work(out).join("runs")
}

/// A per-run file: `csv` (model rows), `vil` (village rows) or `json` (the record).
pub fn run_file(out: &Path, id: u32, ext: &str) -> PathBuf {
    runs_dir(out).join(format!("{id:06}.{ext}"))
}

/// Files a finished sweep (and `compare`) writes into its folder, besides `.sweep/`.
pub const OUTPUTS: [&str; 13] = [
    "runs.csv",
    "model.csv",
    "villages.csv",
    "summary.csv",
    "sensitivity.csv",
    "manifest.json",
    "compare.csv",
    "ranking.csv",
    "runs.parquet",
    "model.parquet",
    "villages.parquet",
    "summary.parquet",
    "sensitivity.parquet",
];

/// The sweep tables other commands read back (`compare`, `sensitivity`, `report`): written
/// as CSV whatever the `--format`.
pub const READ_BACK: [&str; 3] = ["runs.csv", "summary.csv", "sensitivity.csv"];

/// Seeds of the checksums (arbitrary constants, fixed forever).
const KEY_SEED: u64 = 0x5EED_F01D_E400_0001;
const FILE_SEED: u64 = 0x5EED_F01D_E400_0002;
const RECORD_SEED: u64 = 0x5EED_F01D_E400_0003;

/// The key of a run: its plan's fingerprint, id and seed, hashed.
pub fn run_key(plan: &Plan, spec: &RunSpec) -> String {
    let text = format!("{}\n{}\n{}", plan.fingerprint, spec.run_id, spec.seed);
    hash_bytes(text.as_bytes(), KEY_SEED)
}

/// Header of `model.csv`: the run's identifiers, then the `metrics.csv` columns.
pub fn model_header() -> String {
    let mut h = vec!["run_id", "arm", "point", "replicate", "step", "year", "month"];
    h.extend(Metrics::COLUMNS.iter().map(|c| c.name));
    h.join(",") + "\n"
}

/// The `model.csv` rows of one run.
pub fn model_rows(plan: &Plan, spec: &RunSpec, rows: &[Metrics]) -> String {
    let mut s = String::new();
    let arm = &plan.arms[spec.arm];
    for m in rows {
        s.push_str(&format!(
            "{},{arm},{},{},{},{},{}",
            spec.run_id, spec.point, spec.replicate, m.step, m.year, m.month
        ));
        for v in m.values() {
            s.push(',');
            s.push_str(&num(v));
        }
        s.push('\n');
    }
    s
}

/// Header of a sweep's `villages.csv`: the run's identifiers, then the run's columns.
pub fn villages_header() -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.serialize(VillageRow::default());
    let bytes = w.into_inner().unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    format!(
        "run_id,arm,point,replicate,{}\n",
        text.lines().next().unwrap_or_default()
    )
}

/// The `villages.csv` rows of one run.
pub fn village_rows(plan: &Plan, spec: &RunSpec, rows: &[VillageRow]) -> String {
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    for r in rows {
        let _ = w.serialize(r);
    }
    let bytes = w.into_inner().unwrap_or_default();
    let prefix = format!(
        "{},{},{},{},",
        spec.run_id, plan.arms[spec.arm], spec.point, spec.replicate
    );
    let mut s = String::with_capacity(bytes.len() + rows.len() * prefix.len());
    for line in String::from_utf8_lossy(&bytes).lines() {
        s.push_str(&prefix);
        s.push_str(line);
        s.push('\n');
    }
    s
}

/// Record a finished run: its row files first, its record last (each written atomically),
/// so a run is finished exactly when its record exists.
pub fn write_run(
    out: &Path,
    plan: &Plan,
    spec: &RunSpec,
    model: &str,
    villages: Option<&str>,
    values: &[f64],
) -> Result<()> {
    crate::output::write_file_unsynced(&run_file(out, spec.run_id, "csv"), model.as_bytes())?;
    let villages_hash = match villages {
        Some(v) => {
            crate::output::write_file_unsynced(&run_file(out, spec.run_id, "vil"), v.as_bytes())?;
            Some(hash_bytes(v.as_bytes(), FILE_SEED))
        }
        None => None,
    };
    let body = serde_json::json!({
        "run_id": spec.run_id,
        "key": run_key(plan, spec),
        "seed": spec.seed,
        "values": values,
        "model_hash": hash_bytes(model.as_bytes(), FILE_SEED),
        "villages_hash": villages_hash,
    });
    let text = body.to_string();
    let record = serde_json::json!({ "record": body, "hash": hash_bytes(text.as_bytes(), RECORD_SEED) });
    crate::output::write_file_unsynced(&run_file(out, spec.run_id, "json"), record.to_string().as_bytes())?;
    Ok(())
}

/// The state of a run's record.
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// No record: the run has not finished.
    Missing,
    /// A record that checks out, with the run's summary values.
    Finished(Vec<f64>),
    /// A record (or a row file) that does not check out, and why.
    Damaged(String),
}

/// Read and check the record of `spec` in `out`.
pub fn read_run(out: &Path, plan: &Plan, spec: &RunSpec) -> Recorded {
    let path = run_file(out, spec.run_id, "json");
    let text = match fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Recorded::Missing,
        Err(e) => return Recorded::Damaged(format!("cannot be read ({e})")),
    };
    match check_record(out, plan, spec, &text) {
        Ok(values) => Recorded::Finished(values),
        Err(why) => Recorded::Damaged(why),
    }
}

fn check_record(out: &Path, plan: &Plan, spec: &RunSpec, text: &[u8]) -> std::result::Result<Vec<f64>, String> {
    let v: serde_json::Value = serde_json::from_slice(text).map_err(|e| format!("is not valid JSON ({e})"))?;
    let body = v.get("record").ok_or("has no record")?;
    let hash = v.get("hash").and_then(|h| h.as_str()).ok_or("has no checksum")?;
    if hash_bytes(body.to_string().as_bytes(), RECORD_SEED) != hash {
        return Err("its checksum does not match its contents (it was edited or damaged)".into());
    }
    if body.get("run_id").and_then(|x| x.as_u64()) != Some(spec.run_id as u64) {
        return Err(format!("it is the record of another run, not of run {}", spec.run_id));
    }
    if body.get("key").and_then(|x| x.as_str()) != Some(run_key(plan, spec).as_str()) {
        return Err("it belongs to another plan or seed".into());
    }
    let values: Vec<f64> = body
        .get("values")
        .and_then(|x| x.as_array())
        .ok_or("has no values")?
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect();
    if values.len() != plan.experiment.metric.len() {
        return Err(format!(
            "has {} values for {} metrics",
            values.len(),
            plan.experiment.metric.len()
        ));
    }
    let check_file = |ext: &str, field: &str| -> std::result::Result<(), String> {
        let want = body.get(field).and_then(|x| x.as_str());
        let p = run_file(out, spec.run_id, ext);
        match (want, fs::read(&p)) {
            (None, _) => Ok(()),
            (Some(_), Err(e)) => Err(format!("its rows file {} cannot be read ({e})", p.display())),
            (Some(w), Ok(bytes)) if hash_bytes(&bytes, FILE_SEED) == w => Ok(()),
            (Some(_), Ok(_)) => Err(format!("its rows file {} was changed or damaged", p.display())),
        }
    };
    check_file("csv", "model_hash")?;
    check_file("vil", "villages_hash")?;
    Ok(values)
}

/// Remove a run's files (a damaged run, before it is simulated again).
pub fn remove_run(out: &Path, id: u32) {
    for ext in ["json", "csv", "vil"] {
        let _ = fs::remove_file(run_file(out, id, ext));
    }
}

/// Read a results file whole (only a regular file).
pub fn read_results(path: &Path) -> Result<Vec<u8>> {
    let meta = fs::metadata(path).map_err(|e| Error::Read {
        path: path.to_path_buf(),
        reason: e,
    })?;
    if !meta.is_file() {
        return Err(Error::damaged(path, None, "it is not a regular file"));
    }
    fs::read(path).map_err(|e| Error::Read {
        path: path.to_path_buf(),
        reason: e,
    })
}

/// `runs.csv`: one row per run with its identifiers, factor values, budget scaling and
/// summary values.
pub fn runs_csv(plan: &Plan, values: &[Vec<f64>]) -> Result<Vec<u8>> {
    let labels: Vec<String> = plan.experiment.metric.iter().map(|m| m.label()).collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["run_id", "arm", "point", "replicate", "seed"]
        .map(String::from)
        .to_vec();
    header.extend(plan.factors.iter().cloned());
    header.extend(["budget_scale".to_string(), "spend_per_village_year".into()]);
    header.extend(labels);
    let csv_err = |e: csv::Error| Error::render("runs.csv", e);
    w.write_record(&header).map_err(csv_err)?;
    for (r, vals) in plan.runs.iter().zip(values) {
        let mut row = vec![
            r.run_id.to_string(),
            plan.arms[r.arm].clone(),
            r.point.to_string(),
            r.replicate.to_string(),
            r.seed.to_string(),
        ];
        row.extend(plan.points[r.point].iter().map(|v| num(*v)));
        row.extend([num(r.scale), num(r.spend)]);
        row.extend(vals.iter().map(|v| num(*v)));
        w.write_record(&row).map_err(csv_err)?;
    }
    w.into_inner().map_err(|e| Error::render("runs.csv", e))
}

/// One row of `runs.csv`, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    /// Run id.
    pub run_id: u32,
    /// Index of the arm in [`RunsTable::arms`].
    pub arm: usize,
    /// Design point.
    pub point: usize,
    /// Replicate.
    pub replicate: u32,
    /// Seed.
    pub seed: u64,
    /// Factor values of the point.
    pub factors: Vec<f64>,
    /// Equal-budget scale.
    pub scale: f64,
    /// Path spending per village per year.
    pub spend: f64,
    /// Summary values (NaN where the cell is empty).
    pub values: Vec<f64>,
}

/// `runs.csv` read back, strictly: every identifier and factor cell must parse, a missing
/// column or a bad cell is an error naming the file, the row and the column.
#[derive(Debug, Clone)]
pub struct RunsTable {
    /// Arms in order of first appearance.
    pub arms: Vec<String>,
    /// Factor keys.
    pub factors: Vec<String>,
    /// Metric labels.
    pub metrics: Vec<String>,
    /// Every run, in file order.
    pub rows: Vec<RunRow>,
}

impl RunsTable {
    /// Read `DIR/runs.csv`.
    pub fn read(dir: &Path) -> Result<RunsTable> {
        let path = dir.join("runs.csv");
        if !path.exists() {
            return Err(Error::folder(
                dir,
                if work(dir).exists() {
                    "the sweep is not finished (there is no runs.csv yet); run the same `ruralgov sweep` command again to finish it, or `ruralgov merge` its shards"
                } else {
                    "not a sweep folder: there is no runs.csv (give a folder written by `ruralgov sweep`)"
                },
            ));
        }
        let text = read_results(&path)?;
        let mut r = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_slice());
        let headers: Vec<String> = r
            .headers()
            .map_err(|e| Error::damaged(&path, Some("header".into()), e.to_string()))?
            .iter()
            .map(String::from)
            .collect();
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| Error::damaged(&path, Some("header".into()), format!("there is no column \"{name}\"")))
        };
        let fixed = ["run_id", "arm", "point", "replicate", "seed"];
        for (i, name) in fixed.iter().enumerate() {
            if col(name)? != i {
                return Err(Error::damaged(
                    &path,
                    Some("header".into()),
                    format!("column \"{name}\" must be column {}", i + 1),
                ));
            }
        }
        let scale = col("budget_scale")?;
        let spend = col("spend_per_village_year")?;
        if scale < fixed.len() || spend != scale + 1 {
            return Err(Error::damaged(
                &path,
                Some("header".into()),
                "budget_scale and spend_per_village_year must follow the factor columns".to_string(),
            ));
        }
        let factors = headers[fixed.len()..scale].to_vec();
        let metrics = headers[spend + 1..].to_vec();
        let mut arms: Vec<String> = Vec::new();
        let mut rows = Vec::new();
        for (i, rec) in r.records().enumerate() {
            let row = i + 2; // 1-based, after the header
            let rec = rec.map_err(|e| Error::damaged(&path, Some(format!("row {row}")), e.to_string()))?;
            let cell = |c: usize| rec.get(c).unwrap_or("");
            let bad = |c: usize, want: &str| {
                Error::damaged(
                    &path,
                    Some(format!("row {row}, column \"{}\"", headers[c])),
                    format!("\"{}\" is not {want}", cell(c)),
                )
            };
            let whole = |c: usize| cell(c).parse::<u64>().map_err(|_| bad(c, "a whole number"));
            let number = |c: usize| {
                cell(c)
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| bad(c, "a number"))
            };
            let value = |c: usize| {
                if cell(c).is_empty() {
                    Ok(f64::NAN)
                } else {
                    cell(c).parse::<f64>().map_err(|_| bad(c, "a number or empty"))
                }
            };
            let name = cell(1).to_string();
            if name.is_empty() {
                return Err(bad(1, "an arm name"));
            }
            let arm = match arms.iter().position(|a| *a == name) {
                Some(a) => a,
                None => {
                    arms.push(name);
                    arms.len() - 1
                }
            };
            rows.push(RunRow {
                run_id: u32::try_from(whole(0)?).map_err(|_| bad(0, "a run id"))?,
                arm,
                point: whole(2)? as usize,
                replicate: u32::try_from(whole(3)?).map_err(|_| bad(3, "a replicate number"))?,
                seed: whole(4)?,
                factors: (fixed.len()..scale).map(number).collect::<Result<_>>()?,
                scale: number(scale)?,
                spend: number(spend)?,
                values: (spend + 1..headers.len()).map(value).collect::<Result<_>>()?,
            });
        }
        if rows.is_empty() {
            return Err(Error::damaged(&path, None, "it has no runs"));
        }
        Ok(RunsTable {
            arms,
            factors,
            metrics,
            rows,
        })
    }

    /// Number of design points (largest point index plus one).
    pub fn points(&self) -> usize {
        self.rows.iter().map(|r| r.point + 1).max().unwrap_or(0)
    }

    /// The factor values of every design point (NaN for a point without runs).
    pub fn design(&self) -> Vec<Vec<f64>> {
        let mut design = vec![vec![f64::NAN; self.factors.len()]; self.points()];
        for r in &self.rows {
            design[r.point].clone_from(&r.factors);
        }
        design
    }
}
