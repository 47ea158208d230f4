//! Paired comparisons of arms against a baseline arm, from a sweep's `runs.csv`.
//!
//! Runs of two arms with the same design point and replicate share their seed (common random
//! numbers), so the difference of a metric between them is one paired observation; the mean
//! difference gets a paired t confidence interval (and a percentile bootstrap interval on
//! request). With an equal budget, the effect per 100,000 yuan of path spending per village
//! per year is reported too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::folder::RunsTable;
use super::stats;
use crate::error::{Error, Result};

/// One line of `compare.csv`.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
pub struct Row {
    /// Arm compared.
    pub arm: String,
    /// Baseline arm.
    pub baseline: String,
    /// Metric label (as in `runs.csv`).
    pub metric: String,
    /// Pairs.
    pub n: usize,
    /// Mean of the baseline arm.
    pub baseline_mean: f64,
    /// Mean of the arm.
    pub arm_mean: f64,
    /// Mean paired difference (arm - baseline).
    pub difference: f64,
    /// Lower bound of the 95% paired t interval.
    pub ci_low: f64,
    /// Upper bound of the 95% paired t interval.
    pub ci_high: f64,
    /// Lower bound of the 95% bootstrap interval (empty without `--bootstrap`).
    pub boot_low: Option<f64>,
    /// Upper bound of the 95% bootstrap interval.
    pub boot_high: Option<f64>,
    /// Bootstrap resamples behind `boot_low` and `boot_high` (0: none).
    pub bootstrap: usize,
    /// Extra path spending of the arm over the baseline, yuan per village per year.
    pub extra_spend: f64,
    /// Difference per 100,000 yuan of extra spending per village per year (empty if none).
    pub per_100k_yuan: Option<f64>,
}

/// Compare every arm with `baseline` (default: the first arm), with `bootstrap` percentile
/// bootstrap resamples (0 for none, at most [`crate::limits::MAX_BOOTSTRAP`]).
pub fn compare(dir: &Path, baseline: Option<&str>, bootstrap: usize) -> Result<Vec<Row>> {
    if bootstrap > crate::limits::MAX_BOOTSTRAP {
        return Err(Error::option(
            "--bootstrap",
            bootstrap,
            format!(
                "use at most {} resamples (10,000 already give stable 95% limits)",
                crate::limits::MAX_BOOTSTRAP
            ),
        ));
    }
    let runs = RunsTable::read(dir)?;
    if runs.arms.len() < 2 {
        return Err(Error::folder(
            dir,
            format!(
                "the sweep has one arm (\"{}\"), so there is nothing to compare it with; add a second [[arm]] to the experiment",
                runs.arms.first().map(String::as_str).unwrap_or("?")
            ),
        ));
    }
    let base = match baseline {
        Some(b) => runs.arms.iter().position(|a| a == b).ok_or_else(|| {
            Error::option(
                "--baseline",
                b,
                format!(
                    "no such arm in {}; the arms are: {}",
                    dir.display(),
                    runs.arms.join(", ")
                ),
            )
        })?,
        None => 0,
    };
    let index: BTreeMap<(usize, usize, u32), usize> = runs
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| ((r.arm, r.point, r.replicate), i))
        .collect();
    let mut out = Vec::new();
    for (ai, arm) in runs.arms.iter().enumerate().filter(|(a, _)| *a != base) {
        for (mi, metric) in runs.metrics.iter().enumerate() {
            let (mut xs, mut ys, mut spend) = (Vec::new(), Vec::new(), Vec::new());
            for r in runs.rows.iter().filter(|r| r.arm == ai) {
                if let Some(&bi) = index.get(&(base, r.point, r.replicate)) {
                    let b = &runs.rows[bi];
                    xs.push(b.values[mi]);
                    ys.push(r.values[mi]);
                    spend.push(r.spend - b.spend);
                }
            }
            let diffs: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| y - x).collect();
            let s = stats::paired(&xs, &ys, 0.95);
            let (boot_low, boot_high) = if bootstrap > 0 {
                match stats::bootstrap_mean_ci(&diffs, bootstrap, 0.95, 0xB007) {
                    Some((l, h)) => (Some(l), Some(h)),
                    None => (None, None),
                }
            } else {
                (None, None)
            };
            let extra = stats::mean(&spend);
            let diff = stats::mean(&diffs);
            out.push(Row {
                arm: arm.clone(),
                baseline: runs.arms[base].clone(),
                metric: metric.clone(),
                n: diffs.len(),
                baseline_mean: stats::mean(&xs),
                arm_mean: stats::mean(&ys),
                difference: diff,
                ci_low: s.as_ref().map_or(f64::NAN, |s| s.ci_low),
                ci_high: s.as_ref().map_or(f64::NAN, |s| s.ci_high),
                boot_low,
                boot_high,
                bootstrap,
                extra_spend: extra,
                per_100k_yuan: (extra.abs() > 1e-9).then(|| diff / extra * 100_000.0),
            });
        }
    }
    Ok(out)
}

/// Write `compare.csv` into `dir`.
pub fn write(dir: &Path, rows: &[Row]) -> Result<PathBuf> {
    crate::output::write_file(&dir.join("compare.csv"), &csv_bytes(rows)?)
}

/// The rows as the bytes of `compare.csv`.
pub fn csv_bytes(rows: &[Row]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| Error::render("compare.csv", e))?;
    }
    w.into_inner().map_err(|e| Error::render("compare.csv", e))
}

fn fmt(x: f64) -> String {
    if x.is_nan() {
        "-".into()
    } else if x.abs() >= 1000.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.4}")
    }
}

/// The comparison as an aligned text table.
pub fn render(rows: &[Row]) -> String {
    let mut lines = vec![vec![
        "arm".to_string(),
        "metric".into(),
        "n".into(),
        "baseline".into(),
        "arm".into(),
        "difference".into(),
        "95% CI".into(),
        "bootstrap CI".into(),
        "per 100k yuan".into(),
    ]];
    for r in rows {
        lines.push(vec![
            r.arm.clone(),
            r.metric.clone(),
            r.n.to_string(),
            fmt(r.baseline_mean),
            fmt(r.arm_mean),
            fmt(r.difference),
            format!("[{}, {}]", fmt(r.ci_low), fmt(r.ci_high)),
            match (r.boot_low, r.boot_high) {
                (Some(l), Some(h)) => format!("[{}, {}]", fmt(l), fmt(h)),
                _ => "-".into(),
            },
            r.per_100k_yuan.map(fmt).unwrap_or_else(|| "-".into()),
        ]);
    }
    crate::output::aligned_table(&lines, 2)
}
