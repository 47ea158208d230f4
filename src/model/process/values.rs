//! Process 3, value dynamics: bounded-confidence influence (Deffuant-Weisbuch) on `market`
//! and `civic` along the procedural clan-clustered small-world network, and the slow erosion
//! of `civic` by benefit orientation ("vulgar culture") and by life away from the village.

use crate::model::agents::{residence, AgentsMut};
use crate::model::rng::{Keyed, Network, Phase};
use crate::model::{StepCtx, Village};
use crate::scenario::Mixing;

/// The bounded-confidence exchange between `i` and `j` if `go` (see [`super::deffuant`]),
/// written with selects: whether a pair interacts and is within the bound is not predictable.
#[inline(always)]
fn exchange(x: &mut [f32], i: usize, j: usize, go: bool, eps: f32, mu: f32) {
    let (xi, xj) = (x[i], x[j]);
    let d = xj - xi;
    let go = go & (d.abs() < eps);
    let ni = (xi + mu * d).clamp(0.0, 1.0);
    let nj = (xj - mu * d).clamp(0.0, 1.0);
    x[i] = if go { ni } else { xi };
    x[j] = if go { nj } else { xj };
}

/// Run value dynamics for one village.
pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
    let sc = ctx.sc;
    let vals = &sc.values;
    let net = Network::new(sc.run.seed, v.id, a.len(), vals.ties, vals.rewire);
    let (eps, mu) = (vals.confidence_bound as f32, vals.convergence as f32);
    if vals.ties > 0 {
        // One keyed draw per resident: its high half against the interaction probability, its
        // low half picks the tie.
        let draws = Keyed::new(sc.run.seed, v.id, ctx.step, Phase::Values);
        let meet = (vals.interaction_rate.clamp(0.0, 1.0) * 4_294_967_296.0) as u64;
        let n = a.len();
        let ties = vals.ties as u64;
        let res = &a.residence[..n];
        let (market, civic) = (&mut a.market[..n], &mut a.civic[..n]);
        // Blocks of slots: first, without branches, the residents who interact and the tie
        // each picks (this reads only residence, which the exchanges do not change); then the
        // exchanges in slot order, each applied with selects when the partner is a resident.
        const BLOCK: usize = 256;
        let (mut who, mut pick) = ([0u32; BLOCK], [0u32; BLOCK]);
        for start in (0..n).step_by(BLOCK) {
            let end = (start + BLOCK).min(n);
            let mut m = 0;
            for (i, &r) in res.iter().enumerate().take(end).skip(start) {
                let x = draws.u64(i);
                who[m] = i as u32;
                pick[m] = (x & 0xFFFF_FFFF) as u32;
                m += ((r == residence::RESIDENT) & ((x >> 32) < meet)) as usize;
            }
            for (&i, &low) in who[..m].iter().zip(&pick[..m]) {
                let i = i as usize;
                let low = low as u64;
                let j = match vals.mixing {
                    Mixing::Network => net.tie(i, ((low * ties) >> 32) as u32),
                    Mixing::Random => ((low * n as u64) >> 32) as usize,
                }
                .min(n - 1);
                let go = (j != i) & (res[j] == residence::RESIDENT);
                exchange(market, i, j, go, eps, mu);
                exchange(civic, i, j, go, eps, mu);
            }
        }
    }
    // Erosion: branch-free over all slots (vacant slots keep their value), so it vectorises.
    let erosion = (vals.civic_erosion / 12.0) as f32;
    let away = (vals.migrant_civic_decay / 12.0) as f32;
    for ((c, &m), &r) in a.civic.iter_mut().zip(&*a.market).zip(&*a.residence) {
        let d = erosion * m * *c + if r == residence::MIGRANT { away * *c } else { 0.0 };
        let eroded = (*c - d).clamp(0.0, 1.0);
        *c = if r == residence::VACANT { *c } else { eroded };
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
