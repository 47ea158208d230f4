//! The charts: which ones a folder gets ([`build`]), and drawing each of them with plotters on
//! any backend (PNG through a supersampled bitmap, SVG as text).
//!
//! A chart is first described as data ([`Chart`]), independent of the backend, so the same
//! description gives the PNG, the SVG file and the SVG inlined in the report.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_backend::{BackendColor, BackendCoord, DrawingErrorKind};

use super::data::{self, Folder, Kind, Model, Run, Sensitivity, Sweep};
use super::style::{self, size, Theme};
use super::Skipped;
use crate::error::{Error, Result};
use crate::experiment::stats;

/// Observables drawn over time, in this order.
pub(crate) const KEY: [&str; 10] = [
    "governance_index",
    "trust_branch",
    "market_mean",
    "civic_mean",
    "elite_capture",
    "order",
    "residents",
    "migrants",
    "share_60_plus",
    "party_mean_age",
];

/// A chart, described independently of the backend.
pub(crate) struct Chart {
    /// File stem, e.g. `timeseries_governance_index`.
    pub name: String,
    /// Title drawn on the chart.
    pub title: String,
    /// Line under the title (what is shown, how many runs).
    pub subtitle: String,
    /// A sentence or two for the report: how to read the chart.
    pub caption: String,
    /// What to draw.
    pub body: Body,
}

/// What a chart draws.
pub(crate) enum Body {
    /// Lines over years, with optional bands.
    Lines { unit: String, lines: Vec<Line> },
    /// Paired differences against the baseline arm, one panel per metric.
    Differences {
        arms: Vec<(String, RGBColor)>,
        panels: Vec<DiffPanel>,
    },
    /// Age pyramids.
    Pyramid {
        groups: Vec<String>,
        panels: Vec<PyramidPanel>,
    },
    /// Yearly histograms of values as colour strips.
    Distributions { panels: Vec<DistPanel> },
    /// Mean of a metric over a two-factor grid.
    Heatmap(Heatmap),
    /// Morris mu*-sigma scatter.
    Morris {
        points: Vec<(String, f64, f64)>,
        unit: String,
        colour: RGBColor,
    },
    /// Every design point's largest implausibility, by wave, with the cut-off.
    Implausibility { waves: Vec<Vec<f64>>, cutoff: f64 },
    /// Pairs of parameters: the space left (grey) and the retained sets (coloured), each
    /// parameter on its prior range.
    Pairs {
        names: Vec<String>,
        ranges: Vec<String>,
        nroy: Vec<Vec<f64>>,
        retained: Vec<Vec<f64>>,
    },
    /// Sobol indices with intervals.
    Sobol {
        factors: Vec<String>,
        first: Vec<(f64, f64, f64)>,
        total: Vec<(f64, f64, f64)>,
    },
}

/// One line of a time-series chart.
pub(crate) struct Line {
    pub label: String,
    pub colour: RGBColor,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub low: Vec<f64>,
    pub high: Vec<f64>,
}

/// One panel of the differences chart.
pub(crate) struct DiffPanel {
    pub title: String,
    pub desc: String,
    /// (arm row, difference, low, high).
    pub rows: Vec<(usize, f64, f64, f64)>,
}

/// One age pyramid.
pub(crate) struct PyramidPanel {
    pub title: String,
    /// By age group (youngest first): (residents, migrants).
    pub men: Vec<(f64, f64)>,
    pub women: Vec<(f64, f64)>,
}

/// Histograms of one variable over the years.
pub(crate) struct DistPanel {
    pub title: String,
    pub years: Vec<i32>,
    /// Bin edges.
    pub bins: Vec<(f64, f64)>,
    /// Share of residents per year and bin.
    pub shares: Vec<Vec<f64>>,
    /// Mean value per year (from bin midpoints).
    pub means: Vec<f64>,
}

/// A two-factor grid.
pub(crate) struct Heatmap {
    pub x_key: String,
    pub y_key: String,
    pub xs: Vec<f64>,
    pub ys: Vec<f64>,
    /// `cells[i][j]`: mean at `xs[i]`, `ys[j]` (NaN if not run).
    pub cells: Vec<Vec<f64>>,
    pub unit: String,
}

fn doc(name: &str) -> String {
    crate::model::observe::Metrics::column(name)
        .map(|c| c.doc.to_string())
        .unwrap_or_default()
}

fn safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Every chart that makes sense for the folder, and the ones that were not drawn, with why.
pub(crate) fn build(f: &Folder) -> (Vec<Chart>, Vec<Skipped>) {
    let mut charts = Vec::new();
    let mut skipped = Vec::new();
    let skip = |skipped: &mut Vec<Skipped>, chart: &str, reason: String| {
        skipped.push(Skipped {
            chart: chart.to_string(),
            reason,
        })
    };
    match &f.kind {
        Kind::Run(run) => {
            let who = f
                .manifest
                .as_ref()
                .map(|m| {
                    format!(
                        "scenario {}, seed {}",
                        m.get("scenario_name").and_then(|x| x.as_str()).unwrap_or("?"),
                        m.get("seed").map(|x| x.to_string()).unwrap_or_else(|| "?".into())
                    )
                })
                .unwrap_or_else(|| "one run".into());
            for name in KEY {
                match run_line(run, name) {
                    Some(line) => {
                        let (title, unit) = style::metric(name);
                        charts.push(Chart {
                            name: format!("timeseries_{name}"),
                            caption: format!("{title} over time, one run ({who}). {}", doc(name)),
                            title,
                            subtitle: who.clone(),
                            body: Body::Lines {
                                unit,
                                lines: vec![line],
                            },
                        })
                    }
                    None => skip(
                        &mut skipped,
                        &format!("timeseries_{name}"),
                        format!("metrics.csv has no finite values of {name}"),
                    ),
                }
            }
            match &run.pyramid {
                Ok(rows) => match pyramid(rows) {
                    Some(c) => charts.push(c),
                    None => skip(&mut skipped, "pyramid", "pyramid.csv has no start or end census".into()),
                },
                Err(e) => skip(&mut skipped, "pyramid", e.clone()),
            }
            match &run.distributions {
                Ok(rows) => match distributions(rows) {
                    Some(c) => charts.push(c),
                    None => skip(
                        &mut skipped,
                        "distributions",
                        "distributions.csv has no market or civic histograms".into(),
                    ),
                },
                Err(e) => skip(&mut skipped, "distributions", e.clone()),
            }
            skip(
                &mut skipped,
                "differences, heatmap, morris, sobol",
                "one run has no arms, replications or design; these charts are drawn for sweeps (`ruralgov sweep`)"
                    .into(),
            );
        }
        Kind::Calibration(c) => calibration(c, &mut charts, &mut skipped),
        Kind::Sweep(s) => {
            match &s.model {
                Ok(model) => {
                    for name in KEY {
                        match sweep_lines(s, model, name) {
                            Some((lines, how)) => {
                                let (title, unit) = style::metric(name);
                                charts.push(Chart {
                                    name: format!("timeseries_{name}"),
                                    caption: format!("{title} over time in every arm: {how}. {}", doc(name)),
                                    title,
                                    subtitle: how.clone(),
                                    body: Body::Lines { unit, lines },
                                });
                            }
                            None => skip(
                                &mut skipped,
                                &format!("timeseries_{name}"),
                                format!("model.csv has no finite values of {name}"),
                            ),
                        }
                    }
                }
                Err(e) => skip(&mut skipped, "timeseries", e.clone()),
            }
            match &s.compare {
                Ok(rows) if !rows.is_empty() => charts.extend(differences(s, rows)),
                Ok(_) => skip(&mut skipped, "differences", "no comparisons".into()),
                Err(e) => skip(&mut skipped, "differences", e.clone()),
            }
            if s.method == "factorial" && s.factors.len() == 2 {
                charts.extend(heatmaps(s));
            } else {
                skip(
                    &mut skipped,
                    "heatmap",
                    format!(
                        "drawn for a factorial design with two factors; this sweep is a {} design with {} factor{}",
                        s.method,
                        s.factors.len(),
                        if s.factors.len() == 1 { "" } else { "s" }
                    ),
                );
            }
            match (&s.sensitivity, s.method.as_str()) {
                (Ok(Sensitivity::Morris(rows)), _) => {
                    charts.extend(morris(s, rows));
                    skip(&mut skipped, "sobol", "this is a Morris design".into());
                }
                (Ok(Sensitivity::Sobol(rows)), _) => {
                    charts.extend(sobol(s, rows));
                    skip(&mut skipped, "morris", "this is a Sobol design".into());
                }
                (Err(e), "morris" | "sobol") => skip(&mut skipped, "morris, sobol", e.clone()),
                (Err(_), m) => skip(
                    &mut skipped,
                    "morris, sobol",
                    format!("drawn for Morris and Sobol designs; this sweep is a {m} design"),
                ),
            }
            skip(
                &mut skipped,
                "pyramid, distributions",
                "a sweep keeps no pyramid.csv or distributions.csv; run one scenario with `ruralgov run` for these"
                    .into(),
            );
        }
    }
    (charts, skipped)
}

/// The charts of a calibration: implausibility by wave, the pairs of the retained space, and
/// the retained sets' runs against every target.
fn calibration(c: &data::Calibration, charts: &mut Vec<Chart>, skipped: &mut Vec<Skipped>) {
    let cal = &c.spec;
    let cutoff = cal.method.cutoff;
    let nw = c.waves.len();
    let waves: Vec<Vec<f64>> = (1..=nw as u32)
        .map(|w| c.design.iter().filter(|d| d.0 == w).map(|d| d.1).collect())
        .collect();
    if waves.iter().any(|w| !w.is_empty()) {
        let within: Vec<String> = c
            .waves
            .iter()
            .map(|w| format!("wave {}: {} of {}", w.0, w.3, w.1))
            .collect();
        charts.push(Chart {
            name: "calibration_implausibility".into(),
            title: "Implausibility of the design points, by wave".into(),
            subtitle: format!("within the cut-off {cutoff}: {}", within.join(", ")),
            caption: format!(
                "Each dot is one design point: the largest over the targets of |observed - simulated mean| / sd, where the sd counts the observation's uncertainty, the model discrepancy and the seed noise. Points above the dashed cut-off ({cutoff}) cannot match the data; later waves sample only the space the earlier waves' emulators left, so their points fall below it. Values above {} are drawn at the top.",
                4.0 * cutoff
            ),
            body: Body::Implausibility { waves, cutoff },
        });
    } else {
        skipped.push(Skipped {
            chart: "calibration_implausibility".into(),
            reason: "implausibility.csv is missing or empty".into(),
        });
    }
    let to_unit = |sets: &[Vec<f64>]| -> Vec<Vec<f64>> {
        sets.iter()
            .map(|v| cal.parameter.iter().zip(v).map(|(p, x)| p.to_unit(*x)).collect())
            .collect()
    };
    match (&c.retained, &c.nroy) {
        (Ok(retained), nroy) if cal.parameter.len() >= 2 => {
            let nroy = nroy.as_ref().map(|n| to_unit(n)).unwrap_or_default();
            charts.push(Chart {
                name: "calibration_pairs".into(),
                title: "The parameter space the data leave".into(),
                subtitle: format!(
                    "{} retained sets (coloured) and {} samples of the space not ruled out (grey), each axis the prior range",
                    retained.len(),
                    nroy.len()
                ),
                caption: "Every pair of free parameters, each on its prior range (log scale where the calibration says so). Grey: samples of the space the emulators of every wave leave; coloured: the last wave's parameter sets that passed the cut-off when simulated, the sets experiments use. A cloud filling its panel means the targets do not constrain that pair; a diagonal band means they constrain a combination.".into(),
                body: Body::Pairs {
                    names: cal.parameter.iter().map(|p| p.key.clone()).collect(),
                    ranges: cal
                        .parameter
                        .iter()
                        .map(|p| {
                            format!(
                                "{} to {}{}",
                                p.range.first().copied().unwrap_or(f64::NAN),
                                p.range.get(1).copied().unwrap_or(f64::NAN),
                                if p.scale == crate::calibration::Scale::Log { " (log)" } else { "" }
                            )
                        })
                        .collect(),
                    nroy,
                    retained: to_unit(retained),
                },
            });
        }
        (Err(e), _) => skipped.push(Skipped {
            chart: "calibration_pairs".into(),
            reason: e.clone(),
        }),
        _ => skipped.push(Skipped {
            chart: "calibration_pairs".into(),
            reason: "a pairs plot needs at least two free parameters".into(),
        }),
    }
    match &c.predictive {
        Ok(series) => {
            for (t, (target, s)) in cal.target.iter().zip(series).enumerate() {
                let name = format!("calibration_fit_{}", safe(&target.name));
                if s.is_empty() {
                    skipped.push(Skipped {
                        chart: name,
                        reason: format!("the last wave's model.csv has no column {}", target.metric),
                    });
                    continue;
                }
                let (title, unit) = style::metric(&target.metric);
                let growth = target.stat == crate::experiment::spec::Stat::Growth;
                let sd = (target.sd.powi(2) + target.discrepancy.powi(2)).sqrt();
                let mut lines = vec![Line {
                    label: "retained sets, 95%".into(),
                    colour: style::SINGLE,
                    x: s.iter().map(|p| p.0).collect(),
                    y: s.iter().map(|p| p.1).collect(),
                    low: s.iter().map(|p| p.2).collect(),
                    high: s.iter().map(|p| p.3).collect(),
                }];
                if target.from != 0 && target.to != 0 {
                    let x = vec![target.from as f64, target.to as f64];
                    lines.push(Line {
                        label: "observed ±2 sd".into(),
                        colour: style::PALETTE[1],
                        x,
                        y: vec![target.value; 2],
                        low: vec![target.value - 2.0 * sd; 2],
                        high: vec![target.value + 2.0 * sd; 2],
                    });
                }
                let (m, lo, hi) = c.fit.get(t).copied().unwrap_or((f64::NAN, f64::NAN, f64::NAN));
                charts.push(Chart {
                    name,
                    title: if growth {
                        format!("{title}: change since the first year")
                    } else {
                        title.clone()
                    },
                    subtitle: format!(
                        "target {}: observed {}, retained sets {} [{}, {}]",
                        target.name,
                        crate::output::num(target.value),
                        fmt_short(m),
                        fmt_short(lo),
                        fmt_short(hi)
                    ),
                    caption: format!(
                        "Posterior-predictive check of the target {} ({}): the runs of every retained parameter set of the last wave (median and 95% of runs at each month){}; the observed value over its window with +-2 sd of its uncertainty (observation {} and model discrepancy {}). Source: {}.",
                        target.name,
                        target.metric_spec().label(),
                        if growth { ", each run relative to its own first year" } else { "" },
                        crate::output::num(target.sd),
                        crate::output::num(target.discrepancy),
                        target.source
                    ),
                    body: Body::Lines {
                        unit: if growth { "relative change".into() } else { unit },
                        lines,
                    },
                });
            }
        }
        Err(e) => skipped.push(Skipped {
            chart: "calibration_fit".into(),
            reason: e.clone(),
        }),
    }
}

fn fmt_short(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "-".into()
    }
}

fn unit_phrase(unit: &str) -> String {
    if unit.is_empty() {
        "no unit".into()
    } else {
        format!("unit: {unit}")
    }
}

fn run_line(run: &Run, name: &str) -> Option<Line> {
    let y = run.metrics.columns.get(name)?;
    if !y.iter().any(|v| v.is_finite()) {
        return None;
    }
    Some(Line {
        label: String::new(),
        colour: style::SINGLE,
        x: run.metrics.x(),
        y: y.clone(),
        low: vec![f64::NAN; y.len()],
        high: vec![f64::NAN; y.len()],
    })
}

fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (h - lo as f64)
}

/// Each arm's mean over time with its band, and a phrase saying what the band is.
fn sweep_lines(s: &Sweep, model: &Model, name: &str) -> Option<(Vec<Line>, String)> {
    let col = model.columns.iter().position(|c| c == name)?;
    let mut lines = Vec::new();
    let mut per_arm = Vec::new();
    for (ai, arm) in s.arms.iter().enumerate() {
        let mut by_time: BTreeMap<(i32, u32), Vec<f64>> = BTreeMap::new();
        let mut runs = 0;
        for r in s.runs.iter().filter(|r| r.arm == ai) {
            if let Some(rows) = model.runs.get(&r.run_id) {
                runs += 1;
                for (y, m, v) in rows {
                    if let Some(x) = v.get(col).copied().filter(|x| x.is_finite()) {
                        by_time.entry((*y, *m)).or_default().push(x);
                    }
                }
            }
        }
        per_arm.push(runs);
        let mut line = Line {
            label: arm.clone(),
            colour: style::arm_colour(ai),
            x: Vec::new(),
            y: Vec::new(),
            low: Vec::new(),
            high: Vec::new(),
        };
        for ((y, m), mut xs) in by_time {
            line.x.push(data::time(y, m));
            if s.points <= 1 {
                let sm = stats::summary(&xs, 0.95);
                line.y.push(sm.map_or(f64::NAN, |v| v.mean));
                line.low.push(sm.map_or(f64::NAN, |v| v.ci_low));
                line.high.push(sm.map_or(f64::NAN, |v| v.ci_high));
            } else {
                xs.sort_by(f64::total_cmp);
                line.y.push(stats::mean(&xs));
                let band = xs.len() >= 2;
                line.low.push(if band { quantile(&xs, 0.05) } else { f64::NAN });
                line.high.push(if band { quantile(&xs, 0.95) } else { f64::NAN });
            }
        }
        if line.y.iter().any(|v| v.is_finite()) {
            lines.push(line);
        }
    }
    if lines.is_empty() {
        return None;
    }
    let (lo, hi) = (
        per_arm.iter().copied().min().unwrap_or(0),
        per_arm.iter().copied().max().unwrap_or(0),
    );
    let count = if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}–{hi}")
    };
    let how = if s.points <= 1 {
        if hi <= 1 {
            "one replication per arm (no band)".to_string()
        } else {
            format!("mean of {count} replications per arm, band: 95% CI of the mean")
        }
    } else {
        format!(
            "mean of {count} runs per arm over {} design points, band: 5th–95th percentile of runs",
            s.points
        )
    };
    Some((lines, how))
}

fn differences(s: &Sweep, rows: &[crate::experiment::compare::Row]) -> Vec<Chart> {
    let baseline = rows.first().map(|r| r.baseline.clone()).unwrap_or_default();
    let mut arms: Vec<String> = Vec::new();
    for r in rows {
        if !arms.contains(&r.arm) {
            arms.push(r.arm.clone());
        }
    }
    arms.sort_by_key(|a| s.arms.iter().position(|x| x == a).unwrap_or(usize::MAX));
    let mut metrics: Vec<String> = Vec::new();
    for r in rows {
        if !metrics.contains(&r.metric) {
            metrics.push(r.metric.clone());
        }
    }
    let arm_list: Vec<(String, RGBColor)> = arms
        .iter()
        .map(|a| {
            let i = s.arms.iter().position(|x| x == a).unwrap_or(0);
            (a.clone(), style::arm_colour(i))
        })
        .collect();
    let n = rows.iter().map(|r| r.n).max().unwrap_or(0);
    let chunks: Vec<&[String]> = metrics.chunks(6).collect();
    let total = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(k, ms)| {
            let panels = ms
                .iter()
                .map(|m| {
                    let (_, title, how, unit) = style::label(m);
                    DiffPanel {
                        title,
                        desc: [how, unit].into_iter().filter(|x| !x.is_empty()).collect::<Vec<_>>().join(", "),
                        rows: rows
                            .iter()
                            .filter(|r| &r.metric == m)
                            .filter_map(|r| {
                                arms.iter()
                                    .position(|a| *a == r.arm)
                                    .map(|i| (i, r.difference, r.ci_low, r.ci_high))
                            })
                            .collect(),
                    }
                })
                .collect();
            Chart {
                name: if k == 0 {
                    "differences".to_string()
                } else {
                    format!("differences_{}", k + 1)
                },
                title: if total > 1 {
                    format!("Differences from {baseline} ({}/{total})", k + 1)
                } else {
                    format!("Differences from {baseline}")
                },
                subtitle: format!(
                    "arm − {baseline}: mean of {n} paired replications; whiskers: 95% CI (hidden when narrower than the dot)"
                ),
                caption: format!(
                    "Each arm minus the baseline arm ({baseline}), paired by replicate (common random numbers): the dot is the mean difference, the whiskers its 95% paired t interval. An interval that does not cross the dashed zero line is a difference the replications can tell apart from noise."
                ),
                body: Body::Differences {
                    arms: arm_list.clone(),
                    panels,
                },
            }
        })
        .collect()
}

fn pyramid(rows: &[data::PyramidRow]) -> Option<Chart> {
    let mut groups: Vec<(i64, String)> = Vec::new();
    for r in rows {
        if !groups.iter().any(|(a, _)| *a == r.age_from) {
            groups.push((r.age_from, r.group.clone()));
        }
    }
    groups.sort();
    let mut panels = Vec::new();
    for when in ["start", "end"] {
        let sel: Vec<&data::PyramidRow> = rows.iter().filter(|r| r.when == when).collect();
        let Some(year) = sel.first().map(|r| r.year) else {
            continue;
        };
        let mut men = vec![(0.0, 0.0); groups.len()];
        let mut women = vec![(0.0, 0.0); groups.len()];
        for r in sel {
            if let Some(g) = groups.iter().position(|(a, _)| *a == r.age_from) {
                let slot = if r.female { &mut women[g] } else { &mut men[g] };
                let f = |x: f64| if x.is_finite() { x.max(0.0) } else { 0.0 };
                slot.0 += f(r.residents);
                slot.1 += f(r.migrants);
            }
        }
        let label = if when == "start" {
            format!("Start, {year}")
        } else {
            format!("End, {year}")
        };
        panels.push(PyramidPanel {
            title: label,
            men,
            women,
        });
    }
    if panels.is_empty() {
        return None;
    }
    Some(Chart {
        name: "pyramid".into(),
        title: "Age pyramid of registered adults".into(),
        subtitle: "residents in the villages and migrants away in the city, by sex and five-year age group; persons"
            .into(),
        caption: "Registered adults by age group and sex at the start and at the end of the run, split into residents (living in the villages) and migrants (away in the city). Both panels share one scale, so the hollowing out and ageing of the villages shows as a shift of the bars."
            .into(),
        body: Body::Pyramid {
            groups: groups.into_iter().map(|(_, g)| g).collect(),
            panels,
        },
    })
}

fn distributions(rows: &[data::HistRow]) -> Option<Chart> {
    let mut panels = Vec::new();
    for (var, title) in [
        ("market", "market: benefit orientation"),
        ("civic", "civic: public spirit"),
    ] {
        let sel: Vec<&data::HistRow> = rows.iter().filter(|r| r.variable == var).collect();
        let mut years: Vec<i32> = sel.iter().map(|r| r.year).collect();
        years.sort();
        years.dedup();
        let mut bins: Vec<(f64, f64)> = Vec::new();
        for r in &sel {
            if r.lower.is_finite() && r.upper.is_finite() && !bins.iter().any(|b| b.0 == r.lower) {
                bins.push((r.lower, r.upper));
            }
        }
        bins.sort_by(|a, b| a.0.total_cmp(&b.0));
        if years.is_empty() || bins.is_empty() {
            continue;
        }
        let mut shares = Vec::new();
        let mut means = Vec::new();
        for y in &years {
            let mut counts = vec![0.0; bins.len()];
            for r in sel.iter().filter(|r| r.year == *y) {
                if let Some(b) = bins.iter().position(|b| b.0 == r.lower) {
                    if r.residents.is_finite() {
                        counts[b] += r.residents.max(0.0);
                    }
                }
            }
            let total: f64 = counts.iter().sum();
            if total > 0.0 {
                means.push(
                    counts
                        .iter()
                        .zip(&bins)
                        .map(|(c, b)| c * 0.5 * (b.0 + b.1))
                        .sum::<f64>()
                        / total,
                );
                shares.push(counts.iter().map(|c| c / total).collect());
            } else {
                means.push(f64::NAN);
                shares.push(vec![f64::NAN; bins.len()]);
            }
        }
        panels.push(DistPanel {
            title: title.into(),
            years,
            bins,
            shares,
            means,
        });
    }
    if panels.is_empty() {
        return None;
    }
    let first = panels
        .iter()
        .filter_map(|p| p.years.first())
        .min()
        .copied()
        .unwrap_or(0);
    Some(Chart {
        name: "distributions".into(),
        title: "How residents' values change".into(),
        subtitle: format!(
            "share of residents in each value bin (square-root colour scale), one strip per year ({first}: initial state); white line: mean"
        ),
        caption: "Each vertical strip is the histogram of residents' values at the end of a year, coloured by the share of residents in each bin (the first strip is the initial state). The white line is the mean. Market orientation drifting up and public spirit eroding show as the bright band moving."
            .into(),
        body: Body::Distributions { panels },
    })
}

fn heatmaps(s: &Sweep) -> Vec<Chart> {
    let mut out = Vec::new();
    if s.factors.len() != 2 {
        return out;
    }
    let uniq = |k: usize| {
        let mut v: Vec<f64> = s
            .runs
            .iter()
            .filter_map(|r| r.factors.get(k).copied())
            .filter(|x| x.is_finite())
            .collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let (xs, ys) = (uniq(0), uniq(1));
    if xs.is_empty() || ys.is_empty() {
        return out;
    }
    for (ai, arm) in s.arms.iter().enumerate() {
        for (mi, m) in s.metrics.iter().enumerate() {
            let mut cells = vec![vec![f64::NAN; ys.len()]; xs.len()];
            let mut reps = 0;
            for (i, x) in xs.iter().enumerate() {
                for (j, y) in ys.iter().enumerate() {
                    let vals: Vec<f64> = s
                        .runs
                        .iter()
                        .filter(|r| r.arm == ai && r.factors.first() == Some(x) && r.factors.get(1) == Some(y))
                        .filter_map(|r| r.values.get(mi).copied())
                        .filter(|v| v.is_finite())
                        .collect();
                    reps = reps.max(vals.len());
                    if !vals.is_empty() {
                        cells[i][j] = stats::mean(&vals);
                    }
                }
            }
            let (_, title, how, unit) = style::label(m);
            let arm_part = if s.arms.len() > 1 {
                format!("arm {arm}, ")
            } else {
                String::new()
            };
            out.push(Chart {
                name: if s.arms.len() > 1 {
                    format!("heatmap_{}_{}", safe(arm), safe(m))
                } else {
                    format!("heatmap_{}", safe(m))
                },
                title: format!("{title} ({how}) by two factors"),
                subtitle: format!("{arm_part}mean of {reps} replications per cell; {}", unit_phrase(&unit)),
                caption: format!(
                    "Mean {} ({how}) at every combination of {} (across) and {} (up), over the replications of each cell; brighter is higher.",
                    title.to_lowercase(),
                    s.factors[0],
                    s.factors[1]
                ),
                body: Body::Heatmap(Heatmap {
                    x_key: s.factors[0].clone(),
                    y_key: s.factors[1].clone(),
                    xs: xs.clone(),
                    ys: ys.clone(),
                    cells,
                    unit,
                }),
            });
        }
    }
    out
}

fn groups<T>(rows: &[T], key: impl Fn(&T) -> (String, String)) -> Vec<((String, String), Vec<&T>)> {
    let mut out: Vec<((String, String), Vec<&T>)> = Vec::new();
    for r in rows {
        let k = key(r);
        match out.iter_mut().find(|(g, _)| *g == k) {
            Some((_, v)) => v.push(r),
            None => out.push((k, vec![r])),
        }
    }
    out
}

fn noise_phrase(noise: f64) -> String {
    if noise.is_finite() {
        format!("seed noise: {:.0}% of the variance", 100.0 * noise)
    } else {
        "seed noise: not estimable".into()
    }
}

fn morris(s: &Sweep, rows: &[data::MorrisRow]) -> Vec<Chart> {
    let trajectories = s
        .experiment
        .as_ref()
        .and_then(|e| e.pointer("/sampling/trajectories"))
        .and_then(|x| x.as_u64());
    groups(rows, |r| (r.arm.clone(), r.metric.clone()))
        .into_iter()
        .map(|((arm, metric), rs)| {
            let (_, title, how, unit) = style::label(&metric);
            let ai = s.arms.iter().position(|a| *a == arm).unwrap_or(0);
            let noise = rs.first().map_or(f64::NAN, |r| r.noise_share);
            let top = rs
                .iter()
                .filter(|r| r.mu_star.is_finite())
                .max_by(|a, b| a.mu_star.total_cmp(&b.mu_star))
                .map(|r| format!(" Here the most influential factor is {}.", r.factor))
                .unwrap_or_default();
            Chart {
                name: if s.arms.len() > 1 {
                    format!("morris_{}_{}", safe(&arm), safe(&metric))
                } else {
                    format!("morris_{}", safe(&metric))
                },
                title: format!("Morris screening: {} ({how})", title.to_lowercase()),
                subtitle: format!(
                    "{}{}; {}",
                    if s.arms.len() > 1 { format!("arm {arm}, ") } else { String::new() },
                    trajectories.map_or("elementary effects".to_string(), |t| format!("{t} trajectories")),
                    noise_phrase(noise)
                ),
                caption: format!(
                    "Each dot is a factor: μ* (across) is its mean absolute elementary effect on {} ({how}) over its full range, σ (up) the spread of its effects. Factors far to the right matter; factors above the dashed line σ = μ* act non-linearly or through interactions.{top}",
                    title.to_lowercase()
                ),
                body: Body::Morris {
                    points: rs.iter().map(|r| (r.factor.clone(), r.mu_star, r.sigma)).collect(),
                    unit,
                    colour: style::arm_colour(ai),
                },
            }
        })
        .collect()
}

fn sobol(s: &Sweep, rows: &[data::SobolRow]) -> Vec<Chart> {
    let samples = s
        .experiment
        .as_ref()
        .and_then(|e| e.pointer("/sampling/samples"))
        .and_then(|x| x.as_u64());
    groups(rows, |r| (r.arm.clone(), r.metric.clone()))
        .into_iter()
        .map(|((arm, metric), rs)| {
            let (_, title, how, _) = style::label(&metric);
            let noise = rs.first().map_or(f64::NAN, |r| r.noise_share);
            Chart {
                name: if s.arms.len() > 1 {
                    format!("sobol_{}_{}", safe(&arm), safe(&metric))
                } else {
                    format!("sobol_{}", safe(&metric))
                },
                title: format!("Sobol indices: {} ({how})", title.to_lowercase()),
                subtitle: format!(
                    "{}{}95% bootstrap CIs; {}",
                    if s.arms.len() > 1 { format!("arm {arm}, ") } else { String::new() },
                    samples.map_or(String::new(), |n| format!("N = {n}, ")),
                    noise_phrase(noise)
                ),
                caption: format!(
                    "Share of the variance of {} ({how}) explained by each factor alone (first order) and with all its interactions (total), with 95% bootstrap intervals. A total index well above the first-order one means the factor acts through interactions.",
                    title.to_lowercase()
                ),
                body: Body::Sobol {
                    factors: rs.iter().map(|r| r.factor.clone()).collect(),
                    first: rs.iter().map(|r| r.first).collect(),
                    total: rs.iter().map(|r| r.total).collect(),
                },
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Rendering

/// The chart as a standalone SVG document of `width` x `height`.
pub(crate) fn svg(c: &Chart, width: u32, height: u32) -> Result<String> {
    let t = Theme::new(width, height, 1);
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (t.width, t.height)).into_drawing_area();
        draw(&root, &t, c).map_err(|e| Error::render(format!("the chart {}", c.name), e))?;
        root.present()
            .map_err(|e| Error::render(format!("the chart {}", c.name), e))?;
    }
    Ok(text)
}

/// PNGs are drawn twice as large and averaged down (anti-aliasing), up to this many pixels;
/// larger charts are drawn once, at their size, to bound memory.
const SUPERSAMPLE_UP_TO: u64 = 4_000_000;

/// Write the chart as a PNG of `width` x `height` to `path` (atomically).
pub(crate) fn png(c: &Chart, width: u32, height: u32, path: &Path) -> Result<()> {
    let k = if width as u64 * height as u64 <= SUPERSAMPLE_UP_TO {
        2
    } else {
        1
    };
    let t = Theme::new(width, height, k);
    let mut big = vec![255u8; t.width as usize * t.height as usize * 3];
    {
        let root = Aligned(BitMapBackend::with_buffer(&mut big, (t.width, t.height))).into_drawing_area();
        draw(&root, &t, c).map_err(|e| Error::render(format!("the chart {}", c.name), e))?;
        root.present()
            .map_err(|e| Error::render(format!("the chart {}", c.name), e))?;
    }
    let small = if k == 1 {
        big
    } else {
        downsample(&big, t.width as usize, k as usize, width as usize, height as usize)
    };
    let img = image::RgbImage::from_raw(width, height, small)
        .ok_or_else(|| Error::render(format!("the chart {}", c.name), "the bitmap has the wrong size"))?;
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|e| Error::Write {
            path: path.to_path_buf(),
            reason: std::io::Error::other(e.to_string()),
        })?;
    crate::output::write_file(path, bytes.get_ref()).map(|_| ())
}

/// A bitmap backend whose text sits where SVG text sits. plotters' bitmap text (ab_glyph)
/// places the baseline about 0.1 of the font size too high for every vertical anchor, so
/// labels float above their ticks and legend swatches; this shifts each text down along its
/// own vertical direction (so rotated axis titles move sideways) and delegates the rest.
struct Aligned<B>(B);

impl<B: DrawingBackend> DrawingBackend for Aligned<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: plotters_backend::BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: plotters_backend::BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: plotters_backend::BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }

    fn draw_text<TStyle: plotters_backend::BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        let k = match style.anchor().v_pos {
            VPos::Top => 0.113,
            VPos::Center => 0.123,
            VPos::Bottom => 0.086,
        };
        let (dx, dy) = style.transform().transform(0, (style.size() * k).round() as i32);
        self.0.draw_text(text, style, (pos.0 + dx, pos.1 + dy))
    }

    fn estimate_text_size<TStyle: plotters_backend::BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> std::result::Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        self.0.estimate_text_size(text, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> std::result::Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }
}

fn downsample(big: &[u8], big_w: usize, k: usize, w: usize, h: usize) -> Vec<u8> {
    let mut out = vec![0u8; w * h * 3];
    let n = (k * k) as u32;
    let mut acc = vec![0u32; w * 3];
    for (y, out_row) in out.chunks_exact_mut(w * 3).enumerate().take(h) {
        acc.iter_mut().for_each(|a| *a = 0);
        for dy in 0..k {
            let start = (y * k + dy) * big_w * 3;
            let Some(row) = big.get(start..start + big_w * 3) else {
                continue;
            };
            for (a, block) in acc.chunks_exact_mut(3).zip(row.chunks_exact(3 * k)) {
                for px in block.chunks_exact(3) {
                    a[0] += px[0] as u32;
                    a[1] += px[1] as u32;
                    a[2] += px[2] as u32;
                }
            }
        }
        for (o, a) in out_row.iter_mut().zip(&acc) {
            *o = ((a + n / 2) / n) as u8;
        }
    }
    out
}

type Area<DB> = DrawingArea<DB, Shift>;
type R<T> = std::result::Result<T, String>;
type Ctx<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn de<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

fn draw<DB: DrawingBackend>(root: &Area<DB>, t: &Theme, c: &Chart) -> R<()> {
    root.fill(&WHITE).map_err(de)?;
    let body = header(root, t, &c.title, &c.subtitle)?;
    match &c.body {
        Body::Lines { unit, lines } => draw_lines(root, &body, t, unit, lines),
        Body::Differences { arms, panels } => draw_differences(root, &body, t, arms, panels),
        Body::Pyramid { groups, panels } => draw_pyramid(root, &body, t, groups, panels),
        Body::Distributions { panels } => draw_distributions(&body, t, panels),
        Body::Heatmap(h) => draw_heatmap(root, &body, t, h),
        Body::Morris { points, unit, colour } => draw_morris(root, &body, t, points, unit, *colour),
        Body::Sobol { factors, first, total } => draw_sobol(root, &body, t, factors, first, total),
        Body::Implausibility { waves, cutoff } => draw_implausibility(&body, t, waves, *cutoff),
        Body::Pairs {
            names,
            ranges,
            nroy,
            retained,
        } => draw_pairs(&body, t, names, ranges, nroy, retained),
    }
}

fn anchored<'a>(style: TextStyle<'a>, h: HPos, v: VPos) -> TextStyle<'a> {
    style.pos(Pos::new(h, v))
}

/// Shrink a font until `text` fits in `max_w` pixels.
fn fit<DB: DrawingBackend>(
    area: &Area<DB>,
    text: &str,
    max_w: i32,
    mut make: impl FnMut(f64) -> TextStyle<'static>,
    size0: f64,
) -> TextStyle<'static> {
    let mut s = size0;
    loop {
        let style = make(s);
        let w = area
            .estimate_text_size(text, &style)
            .map(|(w, _)| w as i32)
            .unwrap_or(0);
        if w <= max_w || s <= size0 * 0.55 {
            return style;
        }
        s *= 0.92;
    }
}

fn header<DB: DrawingBackend>(root: &Area<DB>, t: &Theme, title: &str, subtitle: &str) -> R<Area<DB>> {
    let (w, _) = root.dim_in_pixel();
    let avail = w as i32 - t.px(80.0);
    let (head, body) = root.split_vertically(t.px(if subtitle.is_empty() { 100.0 } else { 150.0 }));
    let ts = fit(&head, title, avail, |s| t.bold(s), size::TITLE);
    head.draw(&Text::new(
        title.to_string(),
        (t.px(40.0), t.px(24.0)),
        anchored(ts, HPos::Left, VPos::Top),
    ))
    .map_err(de)?;
    if !subtitle.is_empty() {
        let ss = fit(
            &head,
            subtitle,
            avail,
            |s| t.font(s).color(&style::MUTED),
            size::SUBTITLE,
        );
        head.draw(&Text::new(
            subtitle.to_string(),
            (t.px(40.0), t.px(90.0)),
            anchored(ss, HPos::Left, VPos::Top),
        ))
        .map_err(de)?;
    }
    Ok(body.margin(0, t.px(16.0), t.px(16.0), t.px(24.0)))
}

/// Lowest and highest finite value, padded by `pad` of the span on each side; a flat or
/// single value gets a small span around it.
fn span(values: impl Iterator<Item = f64>, pad: f64) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() || !hi.is_finite() || !(hi - lo).is_finite() {
        return None;
    }
    if hi - lo <= 1e-12 * hi.abs().max(lo.abs()).max(1e-300) {
        let d = if lo.abs() > 0.0 { lo.abs() * 0.05 } else { 0.5 };
        return Some((lo - d, hi + d));
    }
    let d = (hi - lo) * pad;
    Some((lo - d, hi + d))
}

fn segments(x: &[f64], y: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for (a, b) in x.iter().zip(y) {
        if a.is_finite() && b.is_finite() {
            if let Some(last) = out.last_mut() {
                last.push((*a, *b));
            }
        } else if out.last().is_some_and(|s| !s.is_empty()) {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

#[allow(clippy::too_many_arguments)]
fn mesh<DB: DrawingBackend>(
    chart: &mut Ctx<'_, DB>,
    t: &Theme,
    small: bool,
    x_desc: &str,
    y_desc: &str,
    xfmt: &dyn Fn(&f64) -> String,
    yfmt: &dyn Fn(&f64) -> String,
    labels: (usize, usize),
) -> R<()> {
    let (desc, tick) = if small {
        (size::SMALL, size::SMALL)
    } else {
        (size::AXIS, size::TICK)
    };
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style(t.font(desc))
        .label_style(t.font(tick))
        .x_label_formatter(xfmt)
        .y_label_formatter(yfmt)
        .x_labels(labels.0)
        .y_labels(labels.1)
        .light_line_style(TRANSPARENT)
        .bold_line_style(style::GRID.stroke_width(t.px(1.5).max(1) as u32))
        .axis_style(style::AXIS.stroke_width(t.px(2.0).max(1) as u32))
        .set_all_tick_mark_size(t.px(8.0))
        .x_label_offset(0)
        .draw()
        .map_err(de)
}

#[derive(Clone, Copy)]
enum Mark {
    Line,
    Box,
}

fn legend<DB: DrawingBackend>(area: &Area<DB>, t: &Theme, title: &str, items: &[(String, RGBColor, Mark)]) -> R<()> {
    let (w, _) = area.dim_in_pixel();
    let mut y = t.px(30.0);
    if !title.is_empty() {
        area.draw(&Text::new(
            title.to_string(),
            (t.px(16.0), y),
            anchored(t.bold(size::LEGEND), HPos::Left, VPos::Center),
        ))
        .map_err(de)?;
        y += t.px(56.0);
    }
    for (label, colour, mark) in items {
        let (x0, x1) = (t.px(16.0), t.px(70.0));
        match mark {
            Mark::Line => {
                area.draw(&Rectangle::new(
                    [(x0, y - t.px(12.0)), (x1, y + t.px(12.0))],
                    colour.mix(0.2).filled(),
                ))
                .map_err(de)?;
                area.draw(&PathElement::new(
                    vec![(x0, y), (x1, y)],
                    colour.stroke_width(t.px(5.0).max(1) as u32),
                ))
                .map_err(de)?;
            }
            Mark::Box => {
                area.draw(&Rectangle::new(
                    [(x0, y - t.px(14.0)), (x1, y + t.px(14.0))],
                    colour.filled(),
                ))
                .map_err(de)?;
            }
        }
        let style = fit(area, label, w as i32 - t.px(90.0), |s| t.font(s), size::LEGEND);
        area.draw(&Text::new(
            label.clone(),
            (t.px(84.0), y),
            anchored(style, HPos::Left, VPos::Center),
        ))
        .map_err(de)?;
        y += t.px(54.0);
    }
    Ok(())
}

/// The tick positions plotters draws on `lo..hi` with at most `labels` labels (the mesh asks
/// its coordinate for exactly these key points).
fn ticks(lo: f64, hi: f64, labels: usize) -> Vec<f64> {
    RangedCoordf64::from(lo..hi).key_points(labels)
}

/// A formatter for the ticks of `lo..hi` (at most `labels`): as many decimals as it takes for
/// every tick label to be distinct and to show the step exactly (0.05 apart reads 0.05, 0.10,
/// never 0.1, 0.1).
fn tick_fmt(lo: f64, hi: f64, labels: usize, year: bool) -> impl Fn(&f64) -> String {
    let d = style::tick_decimals(&ticks(lo, hi, labels));
    move |x: &f64| {
        if year {
            format!("{x:.d$}")
        } else {
            style::number(*x, d)
        }
    }
}

fn year_fmt(lo: f64, hi: f64, labels: usize) -> impl Fn(&f64) -> String {
    tick_fmt(lo, hi, labels, true)
}

fn value_fmt(lo: f64, hi: f64, labels: usize) -> impl Fn(&f64) -> String {
    tick_fmt(lo, hi, labels, false)
}

fn draw_lines<DB: DrawingBackend>(_root: &Area<DB>, body: &Area<DB>, t: &Theme, unit: &str, lines: &[Line]) -> R<()> {
    let multi = lines.len() > 1;
    let (w, _) = body.dim_in_pixel();
    let (plot, legend_area) = if multi {
        let (a, b) = body.split_horizontally(w as i32 - t.px(330.0));
        (a, Some(b))
    } else {
        (body.clone(), None)
    };
    let xr = span(lines.iter().flat_map(|l| l.x.iter().copied()), 0.0).ok_or("no finite times")?;
    let yr = span(
        lines.iter().flat_map(|l| {
            l.y.iter()
                .chain(l.low.iter())
                .chain(l.high.iter())
                .copied()
                .collect::<Vec<_>>()
        }),
        0.06,
    )
    .ok_or("no finite values")?;
    let mut chart = ChartBuilder::on(&plot)
        .margin_top(t.px(10.0))
        .margin_right(t.px(36.0))
        .x_label_area_size(t.px(105.0))
        .y_label_area_size(t.px(175.0))
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)
        .map_err(de)?;
    let (xf, yf) = (year_fmt(xr.0, xr.1, 10), value_fmt(yr.0, yr.1, 8));
    mesh(&mut chart, t, false, "year", unit, &xf, &yf, (10, 8))?;
    // Bands that coincide exactly with an earlier arm's (common random numbers, before a path
    // starts) are drawn once, not stacked into a darker, muddier band.
    let mut seen: std::collections::HashSet<(u64, u64, u64)> = std::collections::HashSet::new();
    for l in lines {
        let key = |i: usize| {
            (
                l.x[i].to_bits(),
                l.low.get(i).copied().unwrap_or(f64::NAN).to_bits(),
                l.high.get(i).copied().unwrap_or(f64::NAN).to_bits(),
            )
        };
        let dup: Vec<bool> = (0..l.x.len()).map(|i| seen.contains(&key(i))).collect();
        let keep = |i: usize| !dup[i] || (i > 0 && !dup[i - 1]) || dup.get(i + 1).is_some_and(|d| !d);
        let mut band: Vec<(f64, f64, f64)> = Vec::new();
        let mut flush = |band: &mut Vec<(f64, f64, f64)>| -> R<()> {
            if band.len() >= 2 {
                let mut pts: Vec<(f64, f64)> = band.iter().map(|p| (p.0, p.2)).collect();
                pts.extend(band.iter().rev().map(|p| (p.0, p.1)));
                // Light enough that six overlapping bands stay apart (alpha 0.10 each).
                chart
                    .draw_series(std::iter::once(Polygon::new(pts, l.colour.mix(0.10).filled())))
                    .map_err(de)?;
            }
            band.clear();
            Ok(())
        };
        for i in 0..l.x.len() {
            let (x, lo, hi) = (
                l.x[i],
                l.low.get(i).copied().unwrap_or(f64::NAN),
                l.high.get(i).copied().unwrap_or(f64::NAN),
            );
            if x.is_finite() && lo.is_finite() && hi.is_finite() && keep(i) {
                band.push((x, lo, hi));
            } else {
                flush(&mut band)?;
            }
        }
        flush(&mut band)?;
        seen.extend((0..l.x.len()).map(key));
    }
    let stroke = t.px(4.0).max(1) as u32;
    // An arm whose mean equals the first arm's (the baseline) at every point, or never leaves
    // the baseline's 95% band, would hide under it: it is drawn dashed on top and marked in
    // the legend ("=" or "≈").
    let kind: Vec<Likeness> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                Likeness::Differs
            } else if same_series(l, &lines[0]) {
                Likeness::Equal
            } else if within_band(l, &lines[0]) {
                Likeness::WithinBand
            } else {
                Likeness::Differs
            }
        })
        .collect();
    let same: Vec<bool> = kind.iter().map(|k| *k != Likeness::Differs).collect();
    // The first arm (the baseline) last among the solid lines, so it stays visible where arms
    // coincide; dashed ones after it.
    for pass in [false, true] {
        for (l, _) in lines.iter().zip(&same).rev().filter(|(_, s)| **s == pass) {
            for seg in segments(&l.x, &l.y) {
                if seg.len() == 1 {
                    chart
                        .draw_series(std::iter::once(Circle::new(seg[0], t.px(6.0), l.colour.filled())))
                        .map_err(de)?;
                } else if pass {
                    chart
                        .draw_series(DashedLineSeries::new(
                            seg,
                            t.px(14.0),
                            t.px(12.0),
                            l.colour.stroke_width(stroke),
                        ))
                        .map_err(de)?;
                } else {
                    chart
                        .draw_series(LineSeries::new(seg, l.colour.stroke_width(stroke)))
                        .map_err(de)?;
                }
            }
        }
    }
    if let Some(area) = legend_area {
        let items: Vec<(String, RGBColor, Mark)> = lines
            .iter()
            .zip(&kind)
            .map(|(l, k)| {
                let label = match k {
                    Likeness::Equal => format!("{} (= {})", l.label, lines[0].label),
                    Likeness::WithinBand => format!("{} (≈ {})", l.label, lines[0].label),
                    Likeness::Differs => l.label.clone(),
                };
                (label, l.colour, Mark::Line)
            })
            .collect();
        legend(&area, t, "arm", &items)?;
    }
    Ok(())
}

/// How an arm's line relates to the baseline's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Likeness {
    /// The same value at every point.
    Equal,
    /// Inside the baseline's 95% band at every point.
    WithinBand,
    /// Leaves the band somewhere.
    Differs,
}

/// Whether `a`'s mean lies inside `b`'s band at every point where both are defined (and
/// `b` has a band of positive width somewhere).
fn within_band(a: &Line, b: &Line) -> bool {
    if a.x.len() != b.x.len() || a.y.len() != b.low.len() || b.low.len() != b.high.len() {
        return false;
    }
    let mut any_band = false;
    for ((&y, &lo), &hi) in a.y.iter().zip(&b.low).zip(&b.high) {
        if !(y.is_finite() && lo.is_finite() && hi.is_finite()) {
            continue;
        }
        any_band |= hi > lo;
        if y < lo || y > hi {
            return false;
        }
    }
    any_band
}

/// Whether two lines have the same values at every point (an arm that never differs from
/// the baseline).
fn same_series(a: &Line, b: &Line) -> bool {
    a.x.len() == b.x.len()
        && a.y.len() == b.y.len()
        && a.y
            .iter()
            .zip(&b.y)
            .all(|(p, q)| (p.is_nan() && q.is_nan()) || (p - q).abs() <= 1e-12 * p.abs().max(q.abs()).max(1e-300))
}

/// Pixel width of the longest of `labels` in `style`.
fn widest<DB: DrawingBackend>(area: &Area<DB>, labels: &[String], style: &TextStyle<'static>) -> i32 {
    labels
        .iter()
        .map(|l| area.estimate_text_size(l, style).map(|(w, _)| w as i32).unwrap_or(0))
        .max()
        .unwrap_or(0)
}

fn draw_differences<DB: DrawingBackend>(
    root: &Area<DB>,
    body: &Area<DB>,
    t: &Theme,
    arms: &[(String, RGBColor)],
    panels: &[DiffPanel],
) -> R<()> {
    let label_style = t.font(size::LEGEND);
    let names: Vec<String> = arms.iter().map(|a| a.0.clone()).collect();
    let (w, _) = body.dim_in_pixel();
    let label_w = (widest(body, &names, &label_style) + t.px(40.0)).clamp(t.px(120.0), w as i32 / 3);
    let (_, grid) = body.split_horizontally(label_w);
    let n = panels.len().max(1);
    let cols = if n <= 3 {
        n
    } else if n == 4 {
        2
    } else {
        3
    };
    let rows = n.div_ceil(cols);
    let cells = grid.split_evenly((rows, cols));
    let na = arms.len().max(1) as f64;
    for (k, (p, cell)) in panels.iter().zip(cells.iter()).enumerate() {
        let xr = span(
            p.rows.iter().flat_map(|r| [r.1, r.2, r.3]).chain(std::iter::once(0.0)),
            0.12,
        )
        .unwrap_or((-1.0, 1.0));
        let (cw, _) = cell.dim_in_pixel();
        let caption = fit(cell, &p.title, cw as i32 - t.px(20.0), |s| t.bold(s), size::PANEL);
        let mut chart = ChartBuilder::on(cell)
            .caption(&p.title, caption)
            .margin(t.px(14.0))
            .margin_right(t.px(26.0))
            .x_label_area_size(t.px(88.0))
            .y_label_area_size(0)
            .build_cartesian_2d(xr.0..xr.1, 0.0..na)
            .map_err(de)?;
        let xf = value_fmt(xr.0, xr.1, 5);
        let none = |_: &f64| String::new();
        chart
            .configure_mesh()
            .x_desc(p.desc.as_str())
            .axis_desc_style(fit(cell, &p.desc, cw as i32 - t.px(40.0), |s| t.font(s), size::SMALL))
            .label_style(t.font(size::SMALL))
            .x_label_formatter(&xf)
            .y_label_formatter(&none)
            .x_labels(5)
            .y_labels(0)
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(style::GRID.stroke_width(t.px(1.5).max(1) as u32))
            .axis_style(style::AXIS.stroke_width(t.px(2.0).max(1) as u32))
            .set_all_tick_mark_size(t.px(7.0))
            .draw()
            .map_err(de)?;
        // A light rule per arm, the zero line, then whiskers and dots.
        for i in 0..arms.len() {
            let yc = na - i as f64 - 0.5;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(xr.0, yc), (xr.1, yc)],
                    style::GRID.stroke_width(t.px(1.0).max(1) as u32),
                )))
                .map_err(de)?;
        }
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.0, 0.0), (0.0, na)],
                t.px(10.0),
                t.px(7.0),
                BLACK.stroke_width(t.px(2.0).max(1) as u32),
            ))
            .map_err(de)?;
        for &(i, d, lo, hi) in &p.rows {
            let Some((_, colour)) = arms.get(i) else { continue };
            let yc = na - i as f64 - 0.5;
            let stroke = colour.stroke_width(t.px(4.0).max(1) as u32);
            if lo.is_finite() && hi.is_finite() {
                let cap = 0.16;
                for path in [
                    vec![(lo, yc), (hi, yc)],
                    vec![(lo, yc - cap), (lo, yc + cap)],
                    vec![(hi, yc - cap), (hi, yc + cap)],
                ] {
                    chart
                        .draw_series(std::iter::once(PathElement::new(path, stroke)))
                        .map_err(de)?;
                }
            }
            if d.is_finite() {
                chart
                    .draw_series(std::iter::once(Circle::new((d, yc), t.px(9.0), colour.filled())))
                    .map_err(de)?;
            }
        }
        if k % cols == 0 {
            for (i, (name, colour)) in arms.iter().enumerate() {
                let (_, py) = chart.backend_coord(&(xr.0, na - i as f64 - 0.5));
                let (bx, _) = cell.get_base_pixel();
                root.draw(&Circle::new((bx - t.px(4.0), py), t.px(9.0), colour.filled()))
                    .map_err(de)?;
                root.draw(&Text::new(
                    name.clone(),
                    (bx - t.px(22.0), py),
                    anchored(label_style.clone(), HPos::Right, VPos::Center),
                ))
                .map_err(de)?;
            }
        }
    }
    Ok(())
}

/// A darker shade of light palette colours so that text in them stays readable.
fn darker(c: RGBColor) -> RGBColor {
    let l = 0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64;
    if l > 150.0 {
        let f = 150.0 / l;
        RGBColor((c.0 as f64 * f) as u8, (c.1 as f64 * f) as u8, (c.2 as f64 * f) as u8)
    } else {
        c
    }
}

fn draw_pyramid<DB: DrawingBackend>(
    root: &Area<DB>,
    body: &Area<DB>,
    t: &Theme,
    groups: &[String],
    panels: &[PyramidPanel],
) -> R<()> {
    let (w, _) = body.dim_in_pixel();
    let (plots, legend_area) = body.split_horizontally(w as i32 - t.px(260.0));
    let cells = plots.split_evenly((1, panels.len().max(1)));
    let max = panels
        .iter()
        .flat_map(|p| p.men.iter().chain(p.women.iter()))
        .map(|(r, m)| r + m)
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.08;
    let ng = groups.len().max(1) as f64;
    let label_style = t.font(size::SMALL);
    let label_w = widest(body, groups, &label_style) + t.px(24.0);
    for (p, cell) in panels.iter().zip(cells.iter()) {
        let mut chart = ChartBuilder::on(cell)
            .caption(&p.title, t.bold(size::PANEL))
            .margin(t.px(10.0))
            .margin_right(t.px(30.0))
            .x_label_area_size(t.px(95.0))
            .y_label_area_size(label_w)
            .build_cartesian_2d(-max..max, 0.0..ng)
            .map_err(de)?;
        let d = style::tick_decimals(&ticks(-max, max, 5));
        let xf = move |x: &f64| style::number(x.abs(), d);
        let none = |_: &f64| String::new();
        chart
            .configure_mesh()
            .x_desc("persons")
            .axis_desc_style(t.font(size::AXIS))
            .label_style(t.font(size::SMALL))
            .x_label_formatter(&xf)
            .y_label_formatter(&none)
            .x_labels(5)
            .y_labels(0)
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(style::GRID.stroke_width(t.px(1.5).max(1) as u32))
            .axis_style(style::AXIS.stroke_width(t.px(2.0).max(1) as u32))
            .set_all_tick_mark_size(t.px(7.0))
            .draw()
            .map_err(de)?;
        for (g, ((mr, mm), (wr, wm))) in p.men.iter().zip(&p.women).enumerate() {
            let (y0, y1) = (g as f64 + 0.08, g as f64 + 0.92);
            let bars = [
                ((-mr, y0), (0.0, y1), style::RESIDENTS),
                ((-(mr + mm), y0), (-mr, y1), style::MIGRANTS),
                ((0.0, y0), (*wr, y1), style::RESIDENTS),
                ((*wr, y0), (wr + wm, y1), style::MIGRANTS),
            ];
            for (a, b, colour) in bars {
                if (b.0 - a.0).abs() > 0.0 {
                    chart
                        .draw_series(std::iter::once(Rectangle::new([a, b], colour.filled())))
                        .map_err(de)?;
                }
            }
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 0.0), (0.0, ng)],
                style::INK.stroke_width(t.px(2.0).max(1) as u32),
            )))
            .map_err(de)?;
        let top = ng - 0.5;
        for (x, text, h) in [(-max * 0.96, "men", HPos::Left), (max * 0.96, "women", HPos::Right)] {
            chart
                .draw_series(std::iter::once(Text::new(
                    text.to_string(),
                    (x, top),
                    anchored(t.bold(size::SMALL).color(&style::MUTED), h, VPos::Center),
                )))
                .map_err(de)?;
        }
        let (bx, _) = chart.backend_coord(&(-max, 0.0));
        for (g, label) in groups.iter().enumerate() {
            let (_, py) = chart.backend_coord(&(-max, g as f64 + 0.5));
            root.draw(&Text::new(
                label.clone(),
                (bx - t.px(10.0), py),
                anchored(label_style.clone(), HPos::Right, VPos::Center),
            ))
            .map_err(de)?;
        }
    }
    legend(
        &legend_area,
        t,
        "",
        &[
            ("residents".into(), style::RESIDENTS, Mark::Box),
            ("migrants".into(), style::MIGRANTS, Mark::Box),
        ],
    )
}

/// A vertical colour bar for values `lo..hi` with a title above it.
fn colour_bar<DB: DrawingBackend>(
    area: &Area<DB>,
    t: &Theme,
    title: &[&str],
    lo: f64,
    hi: f64,
    sqrt: bool,
    fmt: &dyn Fn(f64) -> String,
) -> R<()> {
    let (_, h) = area.dim_in_pixel();
    let mut y = t.px(20.0);
    for line in title {
        area.draw(&Text::new(
            line.to_string(),
            (t.px(10.0), y),
            anchored(t.font(size::SMALL), HPos::Left, VPos::Top),
        ))
        .map_err(de)?;
        y += t.px(34.0);
    }
    let (top, bottom) = (y + t.px(16.0), h as i32 - t.px(110.0));
    if bottom <= top {
        return Ok(());
    }
    let (x0, x1) = (t.px(14.0), t.px(54.0));
    let steps = 120;
    for i in 0..steps {
        let f = i as f64 / steps as f64;
        let ya = bottom - ((bottom - top) as f64 * (i + 1) as f64 / steps as f64) as i32;
        let yb = bottom - ((bottom - top) as f64 * f) as i32;
        area.draw(&Rectangle::new([(x0, ya), (x1, yb)], style::viridis(f).filled()))
            .map_err(de)?;
    }
    area.draw(&Rectangle::new([(x0, top), (x1, bottom)], style::AXIS.stroke_width(1)))
        .map_err(de)?;
    for k in 0..=4 {
        let f = k as f64 / 4.0;
        let yy = bottom - ((bottom - top) as f64 * f) as i32;
        area.draw(&PathElement::new(
            vec![(x1, yy), (x1 + t.px(8.0), yy)],
            style::AXIS.stroke_width(t.px(2.0).max(1) as u32),
        ))
        .map_err(de)?;
        let value = if sqrt {
            lo + (hi - lo) * f * f
        } else {
            lo + (hi - lo) * f
        };
        area.draw(&Text::new(
            fmt(value),
            (x1 + t.px(14.0), yy),
            anchored(t.font(size::SMALL), HPos::Left, VPos::Center),
        ))
        .map_err(de)?;
    }
    Ok(())
}

fn draw_distributions<DB: DrawingBackend>(body: &Area<DB>, t: &Theme, panels: &[DistPanel]) -> R<()> {
    let (w, _) = body.dim_in_pixel();
    let (plots, bar) = body.split_horizontally(w as i32 - t.px(200.0));
    let cells = plots.split_evenly((1, panels.len().max(1)));
    let max = panels
        .iter()
        .flat_map(|p| p.shares.iter().flatten())
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-9);
    for (p, cell) in panels.iter().zip(cells.iter()) {
        let (y0, y1) = (
            p.years.first().copied().unwrap_or(0) as f64 - 0.5,
            p.years.last().copied().unwrap_or(0) as f64 + 0.5,
        );
        let mut chart = ChartBuilder::on(cell)
            .caption(&p.title, t.bold(size::PANEL))
            .margin(t.px(10.0))
            .margin_right(t.px(30.0))
            .x_label_area_size(t.px(95.0))
            .y_label_area_size(t.px(140.0))
            .build_cartesian_2d(y0..y1, 0.0..1.0)
            .map_err(de)?;
        let xf = year_fmt(y0, y1, 7);
        let yf = value_fmt(0.0, 1.0, 6);
        chart
            .configure_mesh()
            .x_desc("year")
            .y_desc("value [0, 1]")
            .axis_desc_style(t.font(size::AXIS))
            .label_style(t.font(size::SMALL))
            .x_label_formatter(&xf)
            .y_label_formatter(&yf)
            .x_labels(7)
            .y_labels(6)
            .disable_mesh()
            .axis_style(style::AXIS.stroke_width(t.px(2.0).max(1) as u32))
            .set_all_tick_mark_size(t.px(7.0))
            .draw()
            .map_err(de)?;
        for (yi, year) in p.years.iter().enumerate() {
            for (bi, (lo, hi)) in p.bins.iter().enumerate() {
                let v = p.shares[yi].get(bi).copied().unwrap_or(f64::NAN);
                let colour = style::viridis((v / max).sqrt());
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(*year as f64 - 0.5, *lo), (*year as f64 + 0.5, *hi)],
                        colour.filled(),
                    )))
                    .map_err(de)?;
            }
        }
        let xs: Vec<f64> = p.years.iter().map(|y| *y as f64).collect();
        for seg in segments(&xs, &p.means) {
            chart
                .draw_series(LineSeries::new(
                    seg.clone(),
                    BLACK.stroke_width(t.px(8.0).max(1) as u32),
                ))
                .map_err(de)?;
            chart
                .draw_series(LineSeries::new(seg, WHITE.stroke_width(t.px(4.0).max(1) as u32)))
                .map_err(de)?;
        }
    }
    colour_bar(&bar, t, &["share of", "residents"], 0.0, max, true, &|v| {
        if v > 0.0 && v < 0.1 {
            format!("{:.1}%", 100.0 * v)
        } else {
            format!("{:.0}%", 100.0 * v)
        }
    })
}

fn draw_heatmap<DB: DrawingBackend>(root: &Area<DB>, body: &Area<DB>, t: &Theme, h: &Heatmap) -> R<()> {
    let (w, _) = body.dim_in_pixel();
    let (plot, bar) = body.split_horizontally(w as i32 - t.px(260.0));
    let (nx, ny) = (h.xs.len().max(1) as f64, h.ys.len().max(1) as f64);
    let tick = t.font(size::TICK);
    let ylabels: Vec<String> = h.ys.iter().map(|v| style::short(*v)).collect();
    let ylw = widest(body, &ylabels, &tick) + t.px(90.0);
    let mut chart = ChartBuilder::on(&plot)
        .margin_top(t.px(10.0))
        .margin_right(t.px(30.0))
        .x_label_area_size(t.px(110.0))
        .y_label_area_size(ylw)
        .build_cartesian_2d(0.0..nx, 0.0..ny)
        .map_err(de)?;
    let none = |_: &f64| String::new();
    chart
        .configure_mesh()
        .x_desc(h.x_key.as_str())
        .y_desc(h.y_key.as_str())
        .axis_desc_style(t.font(size::AXIS))
        .label_style(t.font(size::TICK))
        .x_label_formatter(&none)
        .y_label_formatter(&none)
        .x_labels(0)
        .y_labels(0)
        .disable_mesh()
        .axis_style(style::AXIS.stroke_width(t.px(2.0).max(1) as u32))
        .draw()
        .map_err(de)?;
    let (lo, hi) = span(h.cells.iter().flatten().copied(), 0.0).unwrap_or((0.0, 1.0));
    let d = style::decimals_for(hi - lo, 4) + 1;
    let (pw, _) = chart.plotting_area().dim_in_pixel();
    let cell_w = pw as f64 / nx;
    for (i, col) in h.cells.iter().enumerate() {
        for (j, v) in col.iter().enumerate() {
            let colour = style::viridis((v - lo) / (hi - lo));
            let (x, y) = (i as f64, j as f64);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    colour.filled(),
                )))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    WHITE.stroke_width(t.px(2.0).max(1) as u32),
                )))
                .map_err(de)?;
            let text = if v.is_finite() {
                style::number(*v, d)
            } else {
                "not run".into()
            };
            let style = fit(root, &text, (cell_w * 0.9) as i32, |s| t.font(s), size::TICK);
            chart
                .draw_series(std::iter::once(Text::new(
                    text,
                    (x + 0.5, y + 0.5),
                    anchored(style.color(&style::ink_on(colour)), HPos::Center, VPos::Center),
                )))
                .map_err(de)?;
        }
    }
    for (i, v) in h.xs.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
        root.draw(&Text::new(
            style::short(*v),
            (px, py + t.px(14.0)),
            anchored(tick.clone(), HPos::Center, VPos::Top),
        ))
        .map_err(de)?;
    }
    for (j, label) in ylabels.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(0.0, j as f64 + 0.5));
        root.draw(&Text::new(
            label.clone(),
            (px - t.px(14.0), py),
            anchored(tick.clone(), HPos::Right, VPos::Center),
        ))
        .map_err(de)?;
    }
    let unit_lines: Vec<&str> = if h.unit.is_empty() {
        vec!["mean"]
    } else {
        vec!["mean,", h.unit.as_str()]
    };
    colour_bar(&bar, t, &unit_lines, lo, hi, false, &|v| style::number(v, d))
}

fn draw_implausibility<DB: DrawingBackend>(body: &Area<DB>, t: &Theme, waves: &[Vec<f64>], cutoff: f64) -> R<()> {
    let top = waves
        .iter()
        .flatten()
        .copied()
        .filter(|v| v.is_finite())
        .fold(cutoff, f64::max)
        .min(4.0 * cutoff)
        * 1.08;
    let n = waves.len() as f64;
    let mut chart = ChartBuilder::on(body)
        .margin_top(t.px(10.0))
        .margin_right(t.px(40.0))
        .x_label_area_size(t.px(105.0))
        .y_label_area_size(t.px(175.0))
        .build_cartesian_2d(0.5..n + 0.5, 0.0..top)
        .map_err(de)?;
    let xf = |x: &f64| {
        if (x - x.round()).abs() < 1e-9 && *x >= 1.0 {
            format!("wave {}", x.round() as i64)
        } else {
            String::new()
        }
    };
    let yf = value_fmt(0.0, top, 8);
    mesh(
        &mut chart,
        t,
        false,
        "wave",
        "largest implausibility over the targets",
        &xf,
        &yf,
        (waves.len().max(1), 8),
    )?;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(0.5, cutoff), (n + 0.5, cutoff)],
            t.px(14.0),
            t.px(9.0),
            style::PALETTE[5].stroke_width(t.px(3.0).max(1) as u32),
        ))
        .map_err(de)?;
    chart
        .draw_series(std::iter::once(Text::new(
            format!("cut-off {cutoff}"),
            (n + 0.45, cutoff),
            anchored(t.font(size::SMALL).color(&style::PALETTE[5]), HPos::Right, VPos::Bottom),
        )))
        .map_err(de)?;
    let r = t.px(7.0);
    for (w, values) in waves.iter().enumerate() {
        let k = values.len().max(1) as f64;
        for (i, v) in values.iter().enumerate() {
            if !v.is_finite() {
                continue;
            }
            // Spread the points of a wave across its column, in design order.
            let x = (w + 1) as f64 - 0.32 + 0.64 * (i as f64 + 0.5) / k;
            let y = v.min(top / 1.08);
            let colour = if *v <= cutoff { style::SINGLE } else { style::AXIS };
            chart
                .draw_series(std::iter::once(Circle::new((x, y), r, colour.mix(0.85).filled())))
                .map_err(de)?;
        }
    }
    Ok(())
}

fn draw_pairs<DB: DrawingBackend>(
    body: &Area<DB>,
    t: &Theme,
    names: &[String],
    ranges: &[String],
    nroy: &[Vec<f64>],
    retained: &[Vec<f64>],
) -> R<()> {
    let d = names.len();
    let (w, h) = body.dim_in_pixel();
    let side = (w.min(h) as i32).min(h as i32);
    let side_margin = (w as i32 - side).max(0) / 2;
    let grid = body.margin(0, 0, side_margin, side_margin);
    let cells = grid.split_evenly((d, d));
    let short = |k: &str| k.rsplit('.').next().unwrap_or(k).to_string();
    for (idx, cell) in cells.iter().enumerate() {
        let (row, col) = (idx / d, idx % d);
        let (cw, ch) = cell.dim_in_pixel();
        let (cw, ch) = (cw as i32, ch as i32);
        let pad = t.px(4.0);
        if row == col {
            cell.draw(&Rectangle::new(
                [(pad, pad), (cw - pad, ch - pad)],
                style::GRID.filled(),
            ))
            .map_err(de)?;
            let name = short(&names[row]);
            let style = fit(cell, &name, cw - 4 * pad, |s| t.bold(s), size::SMALL);
            cell.draw(&Text::new(
                name,
                (cw / 2, ch / 2 - t.px(10.0)),
                anchored(style, HPos::Center, VPos::Center),
            ))
            .map_err(de)?;
            let rs = fit(
                cell,
                &ranges[row],
                cw - 4 * pad,
                |s| t.font(s).color(&style::MUTED),
                size::SMALL * 0.8,
            );
            cell.draw(&Text::new(
                ranges[row].clone(),
                (cw / 2, ch / 2 + t.px(18.0)),
                anchored(rs, HPos::Center, VPos::Center),
            ))
            .map_err(de)?;
            continue;
        }
        if col > row {
            continue;
        }
        cell.draw(&Rectangle::new(
            [(pad, pad), (cw - pad, ch - pad)],
            style::GRID.stroke_width(1),
        ))
        .map_err(de)?;
        let at = |p: &[f64]| -> (i32, i32) {
            let x = pad + ((cw - 2 * pad) as f64 * p[col].clamp(0.0, 1.0)) as i32;
            let y = ch - pad - ((ch - 2 * pad) as f64 * p[row].clamp(0.0, 1.0)) as i32;
            (x, y)
        };
        let r_small = t.px(2.0).max(1);
        for p in nroy {
            cell.draw(&Circle::new(at(p), r_small, style::AXIS.mix(0.35).filled()))
                .map_err(de)?;
        }
        let r = t.px(3.5).max(1);
        for p in retained {
            cell.draw(&Circle::new(at(p), r, style::SINGLE.mix(0.9).filled()))
                .map_err(de)?;
        }
    }
    Ok(())
}

fn draw_morris<DB: DrawingBackend>(
    root: &Area<DB>,
    body: &Area<DB>,
    t: &Theme,
    points: &[(String, f64, f64)],
    unit: &str,
    colour: RGBColor,
) -> R<()> {
    let mx = points
        .iter()
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let my = points
        .iter()
        .map(|p| p.2)
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max);
    let mx = if mx > 0.0 { mx * 1.25 } else { 1.0 };
    let my = if my > 0.0 { my * 1.2 } else { 1.0 };
    let x_desc = if unit.is_empty() {
        "μ*: mean |elementary effect| over the full range".to_string()
    } else {
        format!("μ*: mean |elementary effect| ({unit}, over the full range)")
    };
    let mut chart = ChartBuilder::on(body)
        .margin_top(t.px(10.0))
        .margin_right(t.px(40.0))
        .x_label_area_size(t.px(105.0))
        .y_label_area_size(t.px(175.0))
        .build_cartesian_2d(-0.025 * mx..mx, -0.03 * my..my)
        .map_err(de)?;
    let (xf, yf) = (value_fmt(-0.025 * mx, mx, 8), value_fmt(-0.03 * my, my, 7));
    mesh(
        &mut chart,
        t,
        false,
        &x_desc,
        "σ: sd of elementary effects",
        &xf,
        &yf,
        (8, 7),
    )?;
    let m = mx.min(my);
    chart
        .draw_series(DashedLineSeries::new(
            vec![(0.0, 0.0), (m, m)],
            t.px(12.0),
            t.px(8.0),
            style::AXIS.stroke_width(t.px(2.5).max(1) as u32),
        ))
        .map_err(de)?;
    chart
        .draw_series(std::iter::once(Text::new(
            "σ = μ*".to_string(),
            (m * 0.97, m * 0.97),
            anchored(t.font(size::SMALL).color(&style::MUTED), HPos::Right, VPos::Bottom),
        )))
        .map_err(de)?;
    let finite: Vec<&(String, f64, f64)> = points.iter().filter(|p| p.1.is_finite() && p.2.is_finite()).collect();
    let r = t.px(11.0);
    chart
        .draw_series(finite.iter().map(|p| Circle::new((p.1, p.2), r, colour.filled())))
        .map_err(de)?;
    // Labels: most influential first, each at the first free spot around its dot.
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    let mut taken: Vec<(i32, i32, i32, i32)> = finite
        .iter()
        .map(|p| {
            let (px, py) = chart.backend_coord(&(p.1, p.2));
            (px - r, py - r, px + r, py + r)
        })
        .collect();
    let mut order: Vec<&&(String, f64, f64)> = finite.iter().collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    let style = t.font(size::SMALL);
    for p in order {
        let (px, py) = chart.backend_coord(&(p.1, p.2));
        // The estimate covers the em box; glyphs reach about a quarter further (descenders).
        let (tw, th) = root
            .estimate_text_size(&p.0, &style)
            .map(|(a, b)| (a as i32 + t.px(4.0), (b as f64 * 1.25) as i32 + t.px(2.0)))
            .unwrap_or((0, 0));
        let gap = r + t.px(6.0);
        // Around the dot first, then further away (with a leader line).
        let mut candidates = vec![
            (px + gap, py - th / 2),
            (px - gap - tw, py - th / 2),
            (px - tw / 2, py - gap - th),
            (px - tw / 2, py + gap),
            (px + gap, py - gap - th),
            (px + gap, py + gap),
            (px - gap - tw, py - gap - th),
            (px - gap - tw, py + gap),
        ];
        for k in 1..=6 {
            let dy = k * (th + t.px(4.0));
            for (x, y) in [
                (px + 2 * gap, py - th / 2 - dy),
                (px + 2 * gap, py - th / 2 + dy),
                (px - 2 * gap - tw, py - th / 2 - dy),
                (px - 2 * gap - tw, py - th / 2 + dy),
            ] {
                candidates.push((x, y));
            }
        }
        let inside = |x: i32, y: i32| x >= xs.start && x + tw <= xs.end && y >= ys.start && y + th <= ys.end;
        let free = |x: i32, y: i32, taken: &[(i32, i32, i32, i32)]| {
            taken
                .iter()
                .all(|(a, b, c, d)| x + tw <= *a || x >= *c || y + th <= *b || y >= *d)
        };
        let found = candidates
            .iter()
            .enumerate()
            .find(|(_, &(x, y))| inside(x, y) && free(x, y, &taken))
            .map(|(i, &c)| (i, c));
        let (index, spot) = found
            .or_else(|| candidates.iter().copied().find(|&(x, y)| inside(x, y)).map(|c| (0, c)))
            .unwrap_or((0, candidates[0]));
        taken.push((spot.0, spot.1, spot.0 + tw, spot.1 + th));
        if index >= 4 {
            let ex = if spot.0 > px {
                spot.0 - t.px(3.0)
            } else {
                spot.0 + tw + t.px(3.0)
            };
            root.draw(&PathElement::new(
                vec![(px, py), (ex, spot.1 + th / 2)],
                style::AXIS.stroke_width(t.px(1.5).max(1) as u32),
            ))
            .map_err(de)?;
        }
        root.draw(&Text::new(
            p.0.clone(),
            spot,
            anchored(style.clone().color(&darker(colour)), HPos::Left, VPos::Top),
        ))
        .map_err(de)?;
    }
    Ok(())
}

fn draw_sobol<DB: DrawingBackend>(
    root: &Area<DB>,
    body: &Area<DB>,
    t: &Theme,
    factors: &[String],
    first: &[(f64, f64, f64)],
    total: &[(f64, f64, f64)],
) -> R<()> {
    let (first_c, total_c) = (style::PALETTE[4], style::PALETTE[1]);
    let (w, _) = body.dim_in_pixel();
    let (plot, legend_area) = body.split_horizontally(w as i32 - t.px(330.0));
    let tick = t.font(size::TICK);
    let lw = widest(body, factors, &tick) + t.px(30.0);
    let vals = first
        .iter()
        .chain(total)
        .flat_map(|v| [v.0, v.1, v.2])
        .chain([0.0, 0.1]);
    let xr = span(vals, 0.06).unwrap_or((0.0, 1.0));
    let nf = factors.len().max(1) as f64;
    let mut chart = ChartBuilder::on(&plot)
        .margin_top(t.px(10.0))
        .margin_right(t.px(36.0))
        .x_label_area_size(t.px(105.0))
        .y_label_area_size(lw)
        .build_cartesian_2d(xr.0..xr.1, 0.0..nf)
        .map_err(de)?;
    let xf = value_fmt(xr.0, xr.1, 8);
    let none = |_: &f64| String::new();
    chart
        .configure_mesh()
        .x_desc("Sobol index: share of the variance")
        .axis_desc_style(t.font(size::AXIS))
        .label_style(t.font(size::TICK))
        .x_label_formatter(&xf)
        .y_label_formatter(&none)
        .x_labels(8)
        .y_labels(0)
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(style::GRID.stroke_width(t.px(1.5).max(1) as u32))
        .axis_style(style::AXIS.stroke_width(t.px(2.0).max(1) as u32))
        .set_all_tick_mark_size(t.px(8.0))
        .draw()
        .map_err(de)?;
    for (k, name) in factors.iter().enumerate() {
        let yc = nf - k as f64 - 0.5;
        for (v, (a, b), colour) in [
            (first.get(k), (yc + 0.04, yc + 0.36), first_c),
            (total.get(k), (yc - 0.36, yc - 0.04), total_c),
        ] {
            let Some(&(x, lo, hi)) = v else { continue };
            if x.is_finite() {
                chart
                    .draw_series(std::iter::once(Rectangle::new([(0.0, a), (x, b)], colour.filled())))
                    .map_err(de)?;
            }
            if lo.is_finite() && hi.is_finite() {
                let mid = 0.5 * (a + b);
                let stroke = style::INK.stroke_width(t.px(3.0).max(1) as u32);
                for path in [
                    vec![(lo, mid), (hi, mid)],
                    vec![(lo, mid - 0.1), (lo, mid + 0.1)],
                    vec![(hi, mid - 0.1), (hi, mid + 0.1)],
                ] {
                    chart
                        .draw_series(std::iter::once(PathElement::new(path, stroke)))
                        .map_err(de)?;
                }
            }
        }
        let (px, py) = chart.backend_coord(&(xr.0, yc));
        root.draw(&Text::new(
            name.clone(),
            (px - t.px(14.0), py),
            anchored(tick.clone(), HPos::Right, VPos::Center),
        ))
        .map_err(de)?;
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (0.0, nf)],
            style::INK.stroke_width(t.px(2.0).max(1) as u32),
        )))
        .map_err(de)?;
    legend(
        &legend_area,
        t,
        "",
        &[
            ("first order".into(), first_c, Mark::Box),
            ("total".into(), total_c, Mark::Box),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(y: &[f64], half: f64) -> Line {
        Line {
            label: "arm".into(),
            colour: style::arm_colour(0),
            x: (0..y.len()).map(|k| k as f64).collect(),
            y: y.to_vec(),
            low: y.iter().map(|v| v - half).collect(),
            high: y.iter().map(|v| v + half).collect(),
        }
    }

    #[test]
    fn an_arm_inside_the_baseline_band_everywhere_is_told_apart_from_one_that_leaves_it() {
        let base = line(&[0.5, 0.6, 0.7], 0.01);
        assert!(within_band(&line(&[0.505, 0.595, 0.709], 0.01), &base));
        assert!(
            !within_band(&line(&[0.505, 0.62, 0.7], 0.01), &base),
            "leaves at the second point"
        );
        assert!(
            !within_band(&line(&[0.5, 0.6, 0.7], 0.01), &line(&[0.5, 0.6, 0.7], 0.0)),
            "no band"
        );
    }

    /// Labels of the ticks plotters draws on `lo..hi` with at most `n` labels.
    fn labels(lo: f64, hi: f64, n: usize) -> Vec<String> {
        let f = value_fmt(lo, hi, n);
        ticks(lo, hi, n).iter().map(&f).collect()
    }

    #[test]
    fn tick_labels_are_distinct_on_every_range() {
        // Ranges like those of the charts: value axes padded by 6%, spans over six decades.
        let mut bad = Vec::new();
        for k in 0..4000 {
            let lo = ((k * 7919) % 1000) as f64 / 997.0 - 0.3;
            let span = 10f64.powf(((k * 104_729) % 6000) as f64 / 1000.0 - 3.0);
            for n in [5, 6, 7, 8, 10] {
                let l = labels(lo, lo + span, n);
                let distinct = l.windows(2).all(|w| w[0] != w[1]);
                let same_decimals = l
                    .iter()
                    .map(|x| x.split_once('.').map_or(0, |(_, f)| f.len()))
                    .collect::<std::collections::BTreeSet<_>>()
                    .len()
                    <= 1;
                if !distinct || !same_decimals {
                    bad.push(format!("{lo}..{} n={n}: {l:?}", lo + span));
                }
            }
        }
        assert!(
            bad.is_empty(),
            "{} ranges with repeated tick labels, e.g. {:?}",
            bad.len(),
            &bad[..bad.len().min(3)]
        );
    }

    #[test]
    fn a_step_of_five_hundredths_is_written_with_two_decimals() {
        // The README's example: governance index from about 0.47 to 0.84.
        assert_eq!(
            labels(0.47, 0.84, 8),
            ["0.50", "0.55", "0.60", "0.65", "0.70", "0.75", "0.80"]
        );
    }
}
