//! Sensitivity analysis of Morris and Sobol designs, per arm and metric.
//!
//! Each design point is run with several replications (seeds). Indices are computed on the
//! mean over replications at each point, and the share of the output variance that is seed
//! noise (variance within points over total variance) is reported beside them, so a
//! parameter's apparent importance can be told apart from simulation noise.
//!
//! With several arms, the paired effect of every arm against the first (`legal-baseline`:
//! the arm's value minus the first arm's in the same design point and replicate, common random
//! numbers) is analysed as well: which parameters decide a path's *effect*, not only the
//! level of an outcome, and how much of the effect's spread is seed noise.

use std::fmt::Write as _;
use std::path::Path;

use super::folder::RunsTable;
use super::plan::Plan;
use super::sampling;
use super::spec::{Experiment, Factor, Method};
use crate::error::{Error, Result};

fn num(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x}")
    }
}

/// Values of one arm and metric grouped by design point: `[point][replicate]`.
fn by_point(points: usize, rows: impl Iterator<Item = (usize, f64)>) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new(); points];
    for (p, v) in rows {
        if let Some(slot) = out.get_mut(p) {
            slot.push(v);
        }
    }
    out
}

/// The `sensitivity.csv` text for an experiment whose per-point replicate values are given
/// as `values[arm][metric][point][replicate]`.
pub fn render(
    e: &Experiment,
    arms: &[String],
    labels: &[String],
    design: &[Vec<f64>],
    values: &[Vec<Vec<Vec<f64>>>],
) -> Result<String> {
    let bounds: Vec<(f64, f64)> = e.factor.iter().map(Factor::bounds).collect();
    let k = bounds.len();
    // Whole-number settings run at rounded design values (Plan::build).
    let whole: Vec<bool> = e
        .factor
        .iter()
        .map(|f| crate::scenario::load::is_integer_setting::<crate::scenario::Scenario>(&f.key) == Some(true))
        .collect();
    let s = &e.sampling;
    let (arms, values) = with_paired_effects(arms, values);
    let (arms, values) = (&arms[..], &values[..]);
    let mut text = String::new();
    let header = match s.method {
        Method::Morris => "arm,metric,factor,mu,mu_star,sigma,noise_share\n",
        _ => "arm,metric,factor,first,first_low,first_high,total,total_low,total_high,noise_share\n",
    };
    text.push_str(header);
    for (ai, arm) in arms.iter().enumerate() {
        for (mi, label) in labels.iter().enumerate() {
            let reps = &values[ai][mi];
            let means: Vec<f64> = reps.iter().map(|r| super::stats::mean(r)).collect();
            let noise = sampling::variance_decomposition(reps).map(|d| d.2).unwrap_or(f64::NAN);
            match s.method {
                Method::Morris => {
                    let idx = sampling::morris_indices(
                        &bounds,
                        &whole,
                        design,
                        &means,
                        s.trajectories as usize,
                        s.levels as usize,
                    )
                    .map_err(|e| Error::render(format!("the Morris indices of {label}"), e))?;
                    for (f, ix) in e.factor.iter().zip(idx) {
                        let _ = writeln!(
                            text,
                            "{arm},{label},{},{},{},{},{}",
                            f.key,
                            num(ix.mu),
                            num(ix.mu_star),
                            num(ix.sigma),
                            num(noise)
                        );
                    }
                }
                Method::Sobol => {
                    let idx = sampling::sobol_indices(&means, k, s.samples as usize, s.bootstrap as usize, s.seed)
                        .map_err(|e| Error::render(format!("the Sobol indices of {label}"), e))?;
                    for (f, ix) in e.factor.iter().zip(idx) {
                        let _ = writeln!(
                            text,
                            "{arm},{label},{},{},{},{},{},{},{},{}",
                            f.key,
                            num(ix.first),
                            num(ix.first_ci.0),
                            num(ix.first_ci.1),
                            num(ix.total),
                            num(ix.total_ci.0),
                            num(ix.total_ci.1),
                            num(noise)
                        );
                    }
                }
                _ => {}
            }
        }
    }
    Ok(text)
}

/// Per-point replicate values of every arm and metric: `[arm][metric][point][replicate]`.
type Grouped = Vec<Vec<Vec<Vec<f64>>>>;

/// The arms followed by one pseudo-arm per further arm, `<arm>-<first arm>`, whose values are
/// the paired differences (same design point and replicate) from the first arm.
fn with_paired_effects(arms: &[String], values: &[Vec<Vec<Vec<f64>>>]) -> (Vec<String>, Grouped) {
    let mut names = arms.to_vec();
    let mut out = values.to_vec();
    if let Some(base) = values.first() {
        for (a, arm) in arms.iter().enumerate().skip(1) {
            names.push(format!("{arm}-{}", arms[0]));
            out.push(
                values[a]
                    .iter()
                    .zip(base)
                    .map(|(metric, base_metric)| {
                        metric
                            .iter()
                            .zip(base_metric)
                            .map(|(reps, base_reps)| reps.iter().zip(base_reps).map(|(x, b)| x - b).collect())
                            .collect()
                    })
                    .collect(),
            );
        }
    }
    (names, out)
}

/// `sensitivity.csv` for a finished plan (`values[run][metric]`).
pub fn table(plan: &Plan, values: &[Vec<f64>]) -> Result<String> {
    let labels: Vec<String> = plan.experiment.metric.iter().map(|m| m.label()).collect();
    let grouped: Vec<Vec<Vec<Vec<f64>>>> = (0..plan.arms.len())
        .map(|ai| {
            (0..labels.len())
                .map(|mi| {
                    by_point(
                        plan.points.len(),
                        plan.runs
                            .iter()
                            .zip(values)
                            .filter(|(r, _)| r.arm == ai)
                            .map(|(r, v)| (r.point, v.get(mi).copied().unwrap_or(f64::NAN))),
                    )
                })
                .collect()
        })
        .collect();
    render(&plan.experiment, &plan.arms, &labels, &plan.points, &grouped)
}

/// Recompute `sensitivity.csv` from a finished sweep folder (its recorded experiment and
/// `runs.csv`), write it (the caller holds the folder's lock) and return its text.
pub fn from_dir(dir: &Path) -> Result<String> {
    let recorded = super::folder::recorded_plan(dir)?;
    let e: Experiment = recorded
        .get("experiment")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| {
            Error::damaged(
                super::folder::plan_path(dir),
                None,
                "the recorded plan has no readable experiment",
            )
        })?;
    if !matches!(e.sampling.method, Method::Morris | Method::Sobol) || e.factor.is_empty() {
        return Err(Error::folder(
            dir,
            format!(
                "sensitivity analysis needs a morris or sobol design with factors; this sweep used a {:?} design",
                e.sampling.method
            )
            .to_lowercase(),
        ));
    }
    let runs = RunsTable::read(dir)?;
    let points = runs.points();
    let design = runs.design();
    let grouped: Vec<Vec<Vec<Vec<f64>>>> = (0..runs.arms.len())
        .map(|ai| {
            (0..runs.metrics.len())
                .map(|mi| {
                    by_point(
                        points,
                        runs.rows
                            .iter()
                            .filter(|r| r.arm == ai)
                            .map(|r| (r.point, r.values[mi])),
                    )
                })
                .collect()
        })
        .collect();
    let text = render(&e, &runs.arms, &runs.metrics, &design, &grouped)?;
    crate::output::write_file(&dir.join("sensitivity.csv"), text.as_bytes())?;
    Ok(text)
}

/// `sensitivity.csv` text as an aligned table for the terminal (numbers to four significant
/// digits), in the style of `compare`.
pub fn pretty(csv_text: &str) -> String {
    let rows: Vec<Vec<String>> = csv_text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            l.split(',')
                .enumerate()
                .map(|(c, x)| {
                    if i == 0 || c < 3 {
                        x.to_string()
                    } else {
                        match x.parse::<f64>() {
                            Ok(v) => format!("{v:.4}"),
                            Err(_) if x.is_empty() => "-".to_string(),
                            Err(_) => x.to_string(),
                        }
                    }
                })
                .collect()
        })
        .collect();
    crate::output::aligned_table(&rows, 3)
}
