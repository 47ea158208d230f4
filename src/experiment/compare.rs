//! Paired comparisons of arms against a baseline arm, from a sweep's `runs.csv`.
//!
//! Runs of two arms with the same design point and replicate share their seed (common random
//! numbers), so the difference of a metric between them is one paired observation; the mean
//! difference gets a paired t confidence interval (and a percentile bootstrap interval on
//! request). With an equal budget, the effect per 100,000 yuan of path spending per village
//! per year is reported too.
//!
//! When the sweep's design points are parameter sets (`[parameters] from`, for example the
//! sets a calibration retained), each set is a draw of the parameters and the replicates are
//! seeds within it. Then the effect of an arm has two sources of uncertainty, and `compare`
//! reports both: per set `p` the mean paired difference over its replicates `d_p`; the 2.5%
//! and 97.5% quantiles of the `d_p` (`param_low`, `param_high`: what the effect may be, given
//! what the calibration could not rule out); and the split of a paired run's variance into a
//! parameter part, `max(0, var_p(d_p) - s_w^2 / R)`, and a seed part, the pooled within-set
//! variance `s_w^2` (`param_share`). Over the same sets it gives the probability that each
//! arm's effect is the largest (`p_first`) and, in `ranking.csv`, that one arm's effect beats
//! another's.

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
    /// Parameter sets the difference is averaged over (0: the design points are not
    /// parameter sets, and the columns below are empty).
    pub sets: usize,
    /// 2.5% quantile over parameter sets of the set's mean difference.
    pub param_low: Option<f64>,
    /// 97.5% quantile over parameter sets of the set's mean difference.
    pub param_high: Option<f64>,
    /// Standard deviation of a paired run's difference that comes from the parameters.
    pub param_sd: Option<f64>,
    /// Standard deviation of a paired run's difference that comes from seeds (within sets).
    pub seed_sd: Option<f64>,
    /// Share of a paired run's variance that comes from the parameters.
    pub param_share: Option<f64>,
    /// `param_low` per 100,000 yuan of the set's extra spending.
    pub per_100k_low: Option<f64>,
    /// `param_high` per 100,000 yuan of the set's extra spending.
    pub per_100k_high: Option<f64>,
    /// Probability over parameter sets that this arm's difference is the largest of all arms'.
    pub p_first: Option<f64>,
}

/// One line of `ranking.csv`: the probability, over parameter sets, that `arm`'s difference
/// from the baseline in `metric` is larger than `versus`'s.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rank {
    /// Metric label.
    pub metric: String,
    /// The arm.
    pub arm: String,
    /// The other arm.
    pub versus: String,
    /// Share of parameter sets in which `arm`'s mean difference exceeds `versus`'s.
    pub probability: f64,
    /// The same per 100,000 yuan of extra spending (empty when either arm spends nothing extra).
    pub probability_per_100k: Option<f64>,
}

/// Per set, the mean paired difference and the mean extra spend.
struct PerSet {
    diff: BTreeMap<usize, Vec<f64>>,
    spend: BTreeMap<usize, Vec<f64>>,
}

impl PerSet {
    fn means(&self) -> BTreeMap<usize, f64> {
        self.diff.iter().map(|(p, d)| (*p, stats::mean(d))).collect()
    }
    fn per_100k(&self) -> BTreeMap<usize, f64> {
        self.diff
            .iter()
            .filter_map(|(p, d)| {
                let s = stats::mean(&self.spend[p]);
                (s.abs() > 1e-9).then(|| (*p, stats::mean(d) / s * 100_000.0))
            })
            .collect()
    }
}

/// Where each (arm, point, replicate) run is in `runs.rows`.
fn run_index(runs: &RunsTable) -> BTreeMap<(usize, usize, u32), usize> {
    runs.rows
        .iter()
        .enumerate()
        .map(|(i, r)| ((r.arm, r.point, r.replicate), i))
        .collect()
}

/// The pairs of arm `ai` with the baseline `base` in metric `mi`: baseline values, arm
/// values, extra spending, and the same grouped by design point.
struct Pairs {
    xs: Vec<f64>,
    ys: Vec<f64>,
    spend: Vec<f64>,
    per: PerSet,
}

fn pairs(runs: &RunsTable, index: &BTreeMap<(usize, usize, u32), usize>, base: usize, ai: usize, mi: usize) -> Pairs {
    let mut p = Pairs {
        xs: Vec::new(),
        ys: Vec::new(),
        spend: Vec::new(),
        per: PerSet {
            diff: BTreeMap::new(),
            spend: BTreeMap::new(),
        },
    };
    for r in runs.rows.iter().filter(|r| r.arm == ai) {
        if let Some(&bi) = index.get(&(base, r.point, r.replicate)) {
            let b = &runs.rows[bi];
            p.xs.push(b.values[mi]);
            p.ys.push(r.values[mi]);
            p.spend.push(r.spend - b.spend);
            p.per.diff.entry(r.point).or_default().push(r.values[mi] - b.values[mi]);
            p.per.spend.entry(r.point).or_default().push(r.spend - b.spend);
        }
    }
    p
}

/// Whether the sweep in `dir` took its design points from a file of parameter sets.
pub fn points_are_parameter_sets(dir: &Path) -> bool {
    super::folder::recorded_plan(dir)
        .ok()
        .and_then(|v| {
            v.pointer("/experiment/parameters/from")
                .and_then(|f| f.as_str())
                .map(|f| !f.is_empty())
        })
        .unwrap_or(false)
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
    let index = run_index(&runs);
    let sets = points_are_parameter_sets(dir) && runs.points() > 1;
    let mut out = Vec::new();
    // Per metric, per arm: the per-set means (for the ranking).
    let mut by_set: BTreeMap<(usize, usize), PerSet> = BTreeMap::new();
    for (ai, arm) in runs.arms.iter().enumerate().filter(|(a, _)| *a != base) {
        for (mi, metric) in runs.metrics.iter().enumerate() {
            let Pairs { xs, ys, spend, per } = pairs(&runs, &index, base, ai, mi);
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
            let mut row_sets = Row::default();
            if sets {
                let means: Vec<f64> = per.means().into_values().collect();
                let reps = per.diff.values().map(Vec::len).min().unwrap_or(0);
                let within: Vec<f64> = per
                    .diff
                    .values()
                    .map(|d| stats::sd(d).powi(2))
                    .filter(|v| v.is_finite())
                    .collect();
                let seed_var = if within.is_empty() {
                    f64::NAN
                } else {
                    stats::mean(&within)
                };
                let between = stats::sd(&means).powi(2);
                let param_var = if seed_var.is_finite() && reps > 0 {
                    (between - seed_var / reps as f64).max(0.0)
                } else {
                    between
                };
                let yuan: Vec<f64> = per.per_100k().into_values().collect();
                let finite = |x: f64| Some(x).filter(|x| x.is_finite());
                row_sets = Row {
                    sets: means.len(),
                    param_low: finite(stats::quantile(&means, 0.025)),
                    param_high: finite(stats::quantile(&means, 0.975)),
                    param_sd: finite(param_var.sqrt()),
                    seed_sd: finite(seed_var.sqrt()),
                    param_share: finite(param_var / (param_var + seed_var)),
                    per_100k_low: (!yuan.is_empty()).then(|| stats::quantile(&yuan, 0.025)),
                    per_100k_high: (!yuan.is_empty()).then(|| stats::quantile(&yuan, 0.975)),
                    ..Row::default()
                };
                by_set.insert((mi, ai), per);
            }
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
                ..row_sets
            });
        }
    }
    if sets {
        for row in &mut out {
            let mi = runs.metrics.iter().position(|m| *m == row.metric);
            let ai = runs.arms.iter().position(|a| *a == row.arm);
            if let (Some(mi), Some(ai)) = (mi, ai) {
                row.p_first = p_first(&by_set, mi, ai);
            }
        }
    }
    Ok(out)
}

/// The share of sets (present for every arm) in which arm `ai`'s mean difference in metric
/// `mi` is the largest; ties share the win equally.
fn p_first(by_set: &BTreeMap<(usize, usize), PerSet>, mi: usize, ai: usize) -> Option<f64> {
    let arms: Vec<(usize, BTreeMap<usize, f64>)> = by_set
        .iter()
        .filter(|((m, _), _)| *m == mi)
        .map(|((_, a), per)| (*a, per.means()))
        .collect();
    let mine = &arms.iter().find(|(a, _)| *a == ai)?.1;
    let (mut wins, mut n) = (0.0, 0usize);
    for (p, v) in mine {
        let all: Vec<f64> = arms.iter().filter_map(|(_, m)| m.get(p).copied()).collect();
        if all.len() != arms.len() {
            continue;
        }
        let best = all.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        if *v == best {
            wins += 1.0 / all.iter().filter(|x| **x == best).count() as f64;
        }
        n += 1;
    }
    (n > 0).then(|| wins / n as f64)
}

/// Pairwise ranking probabilities over parameter sets (`ranking.csv`), for a sweep whose
/// design points are parameter sets; empty otherwise.
pub fn ranking(dir: &Path, baseline: Option<&str>) -> Result<Vec<Rank>> {
    if !points_are_parameter_sets(dir) {
        return Ok(Vec::new());
    }
    let runs = RunsTable::read(dir)?;
    let base = match baseline {
        Some(b) => runs.arms.iter().position(|a| a == b).unwrap_or(0),
        None => 0,
    };
    let index = run_index(&runs);
    let share = |a: &BTreeMap<usize, f64>, b: &BTreeMap<usize, f64>| -> Option<f64> {
        let pairs: Vec<(f64, f64)> = a.iter().filter_map(|(p, x)| b.get(p).map(|y| (*x, *y))).collect();
        (!pairs.is_empty()).then(|| {
            pairs
                .iter()
                .map(|(x, y)| {
                    if x > y {
                        1.0
                    } else if x == y {
                        0.5
                    } else {
                        0.0
                    }
                })
                .sum::<f64>()
                / pairs.len() as f64
        })
    };
    let mut out = Vec::new();
    for (mi, metric) in runs.metrics.iter().enumerate() {
        let arms: Vec<(usize, PerSet)> = (0..runs.arms.len())
            .filter(|a| *a != base)
            .map(|a| (a, pairs(&runs, &index, base, a, mi).per))
            .collect();
        for (ai, pa) in &arms {
            for (bi, pb) in &arms {
                if ai == bi {
                    continue;
                }
                if let Some(probability) = share(&pa.means(), &pb.means()) {
                    out.push(Rank {
                        metric: metric.clone(),
                        arm: runs.arms[*ai].clone(),
                        versus: runs.arms[*bi].clone(),
                        probability,
                        probability_per_100k: share(&pa.per_100k(), &pb.per_100k()),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Write `ranking.csv` into `dir` (only when there are rows).
pub fn write_ranking(dir: &Path, rows: &[Rank]) -> Result<Option<PathBuf>> {
    if rows.is_empty() {
        return Ok(None);
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| Error::render("ranking.csv", e))?;
    }
    let bytes = w.into_inner().map_err(|e| Error::render("ranking.csv", e))?;
    crate::output::write_file(&dir.join("ranking.csv"), &bytes).map(Some)
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
    let sets = rows.iter().any(|r| r.sets > 0);
    let mut head = vec![
        "arm".to_string(),
        "metric".into(),
        "n".into(),
        "baseline".into(),
        "arm".into(),
        "difference".into(),
        "95% CI".into(),
        "bootstrap CI".into(),
        "per 100k yuan".into(),
    ];
    if sets {
        head.extend([
            "sets".to_string(),
            "over parameters 95%".into(),
            "param share".into(),
            "per 100k, parameters 95%".into(),
            "P(largest)".into(),
        ]);
    }
    let mut lines = vec![head];
    let range = |l: Option<f64>, h: Option<f64>| match (l, h) {
        (Some(l), Some(h)) => format!("[{}, {}]", fmt(l), fmt(h)),
        _ => "-".into(),
    };
    for r in rows {
        let mut line = vec![
            r.arm.clone(),
            r.metric.clone(),
            r.n.to_string(),
            fmt(r.baseline_mean),
            fmt(r.arm_mean),
            fmt(r.difference),
            format!("[{}, {}]", fmt(r.ci_low), fmt(r.ci_high)),
            range(r.boot_low, r.boot_high),
            r.per_100k_yuan.map(fmt).unwrap_or_else(|| "-".into()),
        ];
        if sets {
            line.extend([
                r.sets.to_string(),
                range(r.param_low, r.param_high),
                r.param_share.map(|x| format!("{:.2}", x)).unwrap_or_else(|| "-".into()),
                range(r.per_100k_low, r.per_100k_high),
                r.p_first.map(|x| format!("{:.2}", x)).unwrap_or_else(|| "-".into()),
            ]);
        }
        lines.push(line);
    }
    crate::output::aligned_table(&lines, 2)
}
