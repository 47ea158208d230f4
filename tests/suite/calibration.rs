//! The bundled calibrated scenario against its calibration (docs/calibration.md):
//! `scenarios/china_2000_2020.toml` is the best point of
//! `scenarios/calibration/china_2000_2020.toml`, so with ten seeds the model's mean of every
//! target lies within the calibration's own cut-off of the observed value, counting the
//! observation's uncertainty and the model discrepancy but not the seed noise (ten seeds
//! average most of it away).

use rayon::prelude::*;
use ruralgov::experiment::stats;
use ruralgov::scenario::Scenario;

use crate::util::{root, scenario};

#[test]
fn calibrated_region_reproduces_its_calibration_targets() {
    let cal = ruralgov::calibration::load(&root().join("scenarios/calibration/china_2000_2020.toml")).unwrap();
    let sc = Scenario::load(&scenario("china_2000_2020"), &[]).unwrap().value;
    let targets = &cal.calibration.target;
    let runs: Vec<Vec<f64>> = (1..=10u64)
        .into_par_iter()
        .map(|seed| {
            let mut s = sc.clone();
            s.run.seed = seed;
            let out = ruralgov::sim::run(&s, 1, |_, _| {}).unwrap();
            targets.iter().map(|t| t.metric_spec().reduce(&out.metrics)).collect()
        })
        .collect();
    for (i, t) in targets.iter().enumerate() {
        let xs: Vec<f64> = runs.iter().map(|r| r[i]).collect();
        let s = stats::summary(&xs, 0.95).unwrap();
        let tolerance = cal.calibration.method.cutoff * (t.sd.powi(2) + t.discrepancy.powi(2)).sqrt();
        println!(
            "{}: observed {:.4}, model {:.4} [{:.4}, {:.4}] (n = {}), allowed +-{:.4}",
            t.name, t.value, s.mean, s.ci_low, s.ci_high, s.n, tolerance
        );
        assert!(
            (s.mean - t.value).abs() <= tolerance,
            "{}: model mean {:.4} (95% CI [{:.4}, {:.4}]) is more than {:.4} from the observed {}",
            t.name,
            s.mean,
            s.ci_low,
            s.ci_high,
            tolerance,
            t.value
        );
    }
}
