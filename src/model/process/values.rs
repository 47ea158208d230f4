//! Process 3, value dynamics: bounded-confidence influence (Deffuant-Weisbuch) on `market`
//! and `civic` along the procedural clan-clustered small-world network, and the slow erosion
//! of `civic` by benefit orientation ("vulgar culture") and by life away from the village.

use crate::model::agents::{residence, AgentsMut};
use crate::model::rng::{chance, stream, Network, Phase};
use crate::model::{StepCtx, Village};
use crate::scenario::Mixing;
use rand::Rng;

use super::deffuant;

/// Run value dynamics for one village.
pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
    let sc = ctx.sc;
    let vals = &sc.values;
    let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Values);
    let net = Network::new(sc.run.seed, v.id, a.len(), vals.ties, vals.rewire);
    let (eps, mu) = (vals.confidence_bound as f32, vals.convergence as f32);
    if vals.ties > 0 {
        for i in 0..a.len() {
            if a.residence[i] != residence::RESIDENT || !chance(&mut rng, vals.interaction_rate) {
                continue;
            }
            let j = match vals.mixing {
                Mixing::Network => net.random_tie(i, &mut rng),
                Mixing::Random => rng.random_range(0..a.len()),
            };
            if j == i || a.residence[j] != residence::RESIDENT {
                continue;
            }
            deffuant(a.market, i, j, eps, mu);
            deffuant(a.civic, i, j, eps, mu);
        }
    }
    let erosion = (vals.civic_erosion / 12.0) as f32;
    let away = (vals.migrant_civic_decay / 12.0) as f32;
    for i in 0..a.len() {
        let r = a.residence[i];
        if r == residence::VACANT {
            continue;
        }
        let c = a.civic[i];
        let mut d = erosion * a.market[i] * c;
        if r == residence::MIGRANT {
            d += away * c;
        }
        a.civic[i] = (c - d).clamp(0.0, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{mean, residents, run_months, sd, with_village, world};
    use crate::model::World;

    /// A world without `civic` erosion, so only bounded-confidence influence moves values.
    fn influence_only(eps: f64) -> World {
        let mut w = world(400);
        w.scenario.values.confidence_bound = eps;
        w.scenario.values.civic_erosion = 0.0;
        w.scenario.values.migrant_civic_decay = 0.0;
        w
    }

    #[test]
    fn tiny_confidence_bound_changes_nothing_between_distant_values() {
        let mut w = influence_only(0.01);
        with_village(&mut w, 0, |_, a| {
            for i in 0..a.len() {
                // Values at least 0.05 apart: every pair is beyond the bound.
                a.market[i] = (i % 20) as f32 * 0.05;
                a.civic[i] = ((i + 7) % 20) as f32 * 0.05;
            }
        });
        let (m0, c0) = (w.agents.market.clone(), w.agents.civic.clone());
        run_months(&mut w, 1..13, |c, v, a| run(c, v, a));
        assert_eq!(w.agents.market, m0);
        assert_eq!(w.agents.civic, c0);
    }

    #[test]
    fn wide_confidence_bound_shrinks_the_spread_of_market() {
        let spread_after = |eps: f64| {
            let mut w = influence_only(eps);
            let before = with_village(&mut w, 0, |_, a| sd(a.market, &residents(a)));
            run_months(&mut w, 1..13, |c, v, a| run(c, v, a));
            let after = with_village(&mut w, 0, |_, a| sd(a.market, &residents(a)));
            (before, after)
        };
        let (before, wide) = spread_after(1.0);
        let (_, none) = spread_after(0.0);
        assert!(before > 0.08, "initial spread {before}");
        assert!(
            (none - before).abs() < 1e-9,
            "no influence with a zero bound: {none} vs {before}"
        );
        assert!(wide < 0.6 * before, "spread {before} -> {wide}");
    }

    #[test]
    fn influence_preserves_the_mean_of_market() {
        let mut w = influence_only(1.0);
        let before = with_village(&mut w, 0, |_, a| mean(a.market, &residents(a)));
        run_months(&mut w, 1..7, |c, v, a| run(c, v, a));
        let after = with_village(&mut w, 0, |_, a| mean(a.market, &residents(a)));
        // Pairwise symmetric moves keep the sum (up to clamping and float rounding).
        assert!((after - before).abs() < 1e-3, "mean {before} -> {after}");
    }

    #[test]
    fn civic_erodes_faster_with_high_market() {
        let drop = |market: f32| {
            let mut w = world(300);
            w.scenario.values.interaction_rate = 0.0;
            let before = with_village(&mut w, 0, |_, a| {
                let r = residents(a);
                for i in 0..a.len() {
                    a.market[i] = market;
                }
                mean(a.civic, &r)
            });
            run_months(&mut w, 1..13, |c, v, a| run(c, v, a));
            before - with_village(&mut w, 0, |_, a| mean(a.civic, &residents(a)))
        };
        let (high, low) = (drop(0.9), drop(0.1));
        assert!(low > 0.0, "some erosion at market 0.1: {low}");
        // Erosion is proportional to market: 9 times faster at 0.9 than at 0.1.
        assert!(high > 5.0 * low, "high {high} vs low {low}");
        // About 0.03 x 0.9 x civic in a year.
        assert!((0.005..0.03).contains(&high), "yearly erosion at 0.9: {high}");
    }

    #[test]
    fn migrants_lose_civic_faster_than_residents() {
        let mut w = world(300);
        w.scenario.values.interaction_rate = 0.0;
        let (res, mig) = with_village(&mut w, 0, |_, a| {
            let r = residents(a);
            for &i in &r {
                a.civic[i] = 0.6;
                a.market[i] = 0.3;
            }
            let (res, mig) = (r[0], r[1]);
            a.residence[mig] = residence::MIGRANT;
            (res, mig)
        });
        run_months(&mut w, 1..13, |c, v, a| run(c, v, a));
        let (cr, cm) = (w.agents.civic[res], w.agents.civic[mig]);
        assert!(cr < 0.6 && cm < cr, "resident {cr}, migrant {cm}");
    }
}
