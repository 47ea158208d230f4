//! Calibration to national data (docs/validation.md, section 4): the calibrated scenario
//! `scenarios/china_2000_2020.toml`, run with ten seeds, reproduces each target within two
//! percentage points.

use rayon::prelude::*;
use ruralgov::experiment::stats;
use ruralgov::model::observe::Metrics;
use ruralgov::scenario::Scenario;

use crate::util::scenario;

/// Mean of a metric over the recorded months of the given years.
fn mean_over(rows: &[Metrics], years: &[i32], f: impl Fn(&Metrics) -> f64) -> f64 {
    let sel: Vec<f64> = rows.iter().filter(|m| years.contains(&m.year)).map(f).collect();
    stats::mean(&sel)
}

#[test]
fn calibrated_region_reproduces_census_targets_within_two_points() {
    let sc = Scenario::load(&scenario("china_2000_2020"), &[]).unwrap().value;
    let runs: Vec<(f64, f64, f64)> = (1..=10u64)
        .into_par_iter()
        .map(|seed| {
            let mut s = sc.clone();
            s.run.seed = seed;
            let out = ruralgov::sim::run(&s, 1, |_, _| {}).unwrap();
            (
                mean_over(&out.metrics, &[2020], |m| m.share_60_plus_all_ages),
                mean_over(&out.metrics, &[2020], |m| m.migrant_share),
                mean_over(&out.metrics, &[2008, 2009, 2010], |m| m.turnout),
            )
        })
        .collect();
    let targets = [
        (
            "share of rural residents aged 60+ in 2020",
            0.2381,
            runs.iter().map(|r| r.0).collect::<Vec<_>>(),
        ),
        (
            "share of registered adults away in 2020",
            0.275,
            runs.iter().map(|r| r.1).collect(),
        ),
        ("election turnout 2008-10", 0.887, runs.iter().map(|r| r.2).collect()),
    ];
    for (name, target, xs) in targets {
        let s = stats::summary(&xs, 0.95).unwrap();
        println!(
            "{name}: target {target:.4}, model {:.4} [{:.4}, {:.4}] (n = {})",
            s.mean, s.ci_low, s.ci_high, s.n
        );
        assert!(
            (s.mean - target).abs() < 0.02,
            "{name}: model mean {:.4} (95% CI [{:.4}, {:.4}]) is more than 2 points from the target {target}",
            s.mean,
            s.ci_low,
            s.ci_high
        );
    }
}
