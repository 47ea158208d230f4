//! Paired comparisons of arms against a baseline arm, from a sweep's `runs.csv`.
//!
//! Runs of two arms with the same design point and replicate share their seed (common random
//! numbers), so the difference of a metric between them is one paired observation; the mean
//! difference gets a paired t confidence interval (and a percentile bootstrap interval on
//! request). With an equal budget, the effect per 100,000 yuan of path spending per village
//! per year is reported too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::stats;
use crate::error::{Error, Result};

/// One line of `compare.csv`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
    /// Extra path spending of the arm over the baseline, yuan per village per year.
    pub extra_spend: f64,
    /// Difference per 100,000 yuan of extra spending per village per year (empty if none).
    pub per_100k_yuan: Option<f64>,
}

/// A `runs.csv` read back.
#[derive(Debug, Clone)]
pub struct Runs {
    /// Arms in order of first appearance.
    pub arms: Vec<String>,
    /// Metric labels.
    pub metrics: Vec<String>,
    /// Per run: arm, point, replicate, spend, metric values.
    pub rows: Vec<(String, u32, u32, f64, Vec<f64>)>,
}

/// Read `DIR/runs.csv`.
pub fn read_runs(dir: &Path) -> Result<Runs> {
    let path = dir.join("runs.csv");
    let bad = |what: String| Error::Usage(format!("{}: {what}", path.display()));
    let mut r = csv::Reader::from_path(&path)
        .map_err(|e| bad(format!("cannot read ({e}); is this a finished sweep folder?")))?;
    let headers = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(format!("no column {name}")))
    };
    let (arm, point, rep, spend) = (
        col("arm")?,
        col("point")?,
        col("replicate")?,
        col("spend_per_village_year")?,
    );
    let metrics: Vec<String> = headers.iter().skip(spend + 1).map(String::from).collect();
    let mut arms: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let num = |i: usize| rec.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(f64::NAN);
        let a = rec.get(arm).unwrap_or("").to_string();
        if !arms.contains(&a) {
            arms.push(a.clone());
        }
        let values = (spend + 1..rec.len()).map(num).collect();
        rows.push((a, num(point) as u32, num(rep) as u32, num(spend), values));
    }
    Ok(Runs { arms, metrics, rows })
}

/// Compare every arm with `baseline` (default: the first arm).
pub fn compare(dir: &Path, baseline: Option<&str>, bootstrap: usize) -> Result<Vec<Row>> {
    let runs = read_runs(dir)?;
    let base = match baseline {
        Some(b) if runs.arms.iter().any(|a| a == b) => b.to_string(),
        Some(b) => {
            return Err(Error::Usage(format!(
                "--baseline {b}: no such arm in {}; the arms are: {}",
                dir.display(),
                runs.arms.join(", ")
            )))
        }
        None => runs
            .arms
            .first()
            .cloned()
            .ok_or_else(|| Error::Usage(format!("{}: no runs", dir.display())))?,
    };
    let index: BTreeMap<(&str, u32, u32), usize> = runs
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| ((r.0.as_str(), r.1, r.2), i))
        .collect();
    let mut out = Vec::new();
    for arm in runs.arms.iter().filter(|a| **a != base) {
        for (mi, metric) in runs.metrics.iter().enumerate() {
            let (mut xs, mut ys, mut spend) = (Vec::new(), Vec::new(), Vec::new());
            for r in runs.rows.iter().filter(|r| &r.0 == arm) {
                if let Some(&bi) = index.get(&(base.as_str(), r.1, r.2)) {
                    let b = &runs.rows[bi];
                    xs.push(b.4[mi]);
                    ys.push(r.4[mi]);
                    spend.push(r.3 - b.3);
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
                baseline: base.clone(),
                metric: metric.clone(),
                n: diffs.len(),
                baseline_mean: stats::mean(&xs),
                arm_mean: stats::mean(&ys),
                difference: diff,
                ci_low: s.as_ref().map_or(f64::NAN, |s| s.ci_low),
                ci_high: s.as_ref().map_or(f64::NAN, |s| s.ci_high),
                boot_low,
                boot_high,
                extra_spend: extra,
                per_100k_yuan: (extra.abs() > 1e-9).then(|| diff / extra * 100_000.0),
            });
        }
    }
    Ok(out)
}

/// Write `compare.csv` into `dir`.
pub fn write(dir: &Path, rows: &[Row]) -> Result<PathBuf> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)
            .map_err(|e| Error::Usage(format!("cannot format CSV: {e}")))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Usage(format!("cannot format CSV: {e}")))?;
    let p = dir.join("compare.csv");
    super::sweep::write_atomic(&p, &bytes)?;
    Ok(p)
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
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|c| lines.iter().map(|l| l[c].len()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for (i, l) in lines.iter().enumerate() {
        let cells: Vec<String> = l
            .iter()
            .enumerate()
            .map(|(c, x)| {
                if c < 2 {
                    format!("{x:<w$}", w = widths[c])
                } else {
                    format!("{x:>w$}", w = widths[c])
                }
            })
            .collect();
        s.push_str(cells.join("  ").trim_end());
        s.push('\n');
        if i == 0 {
            s.push_str(&"-".repeat(widths.iter().sum::<usize>() + 2 * (widths.len() - 1)));
            s.push('\n');
        }
    }
    s
}
