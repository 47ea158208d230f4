//! Process 3, value dynamics: bounded-confidence influence (Deffuant et al. 2000) on
//! `market` and `civic` along the procedural clan-clustered small-world network, with
//! heterogeneous confidence bounds (each villager's own, fixed for life; Lorenz 2010),
//! optional negative influence beyond a rejection bound (Jager and Amblard 2005), and noise:
//! now and then a villager's view is redrawn at random (Pineda, Toral and Hernandez-Garcia
//! 2009), which keeps opinions diverse. Then `civic` erodes in proportion to `market`
//! ("vulgar culture"), is renewed by community life in proportion to the share of the
//! village's registered adults who still live in it, and decays among migrants.

use crate::model::agents::{residence, AgentsMut};
use crate::model::rng::{monthly, stream, Events, Keyed, Network, Phase, Traits};
use crate::model::{StepCtx, Village};
use crate::scenario::Mixing;

/// A villager's confidence bound: the bound of their trait level (fixed for life), from the
/// step's table of the 256 levels ([`StepCtx::bounds`]).
#[inline(always)]
pub fn bound(ctx: &StepCtx, traits: &Traits, i: usize, age: u16) -> f32 {
    ctx.bounds[traits.level(i, age) as usize]
}

/// The convergence rate and the rejection bound of an encounter (infinite when negative
/// influence is off, `values.rejection_bound = 1`).
#[inline]
pub fn encounter(vals: &crate::scenario::Values) -> (f32, f32) {
    let reject = if vals.rejection_bound >= 1.0 {
        f32::INFINITY
    } else {
        vals.rejection_bound as f32
    };
    (vals.convergence as f32, reject)
}

/// One side of an encounter: `x` moves toward `other` by `mu` of the distance when closer
/// than its own bound `eps`, away from it when farther than `reject` (written with selects).
#[inline(always)]
pub fn respond(x: f32, other: f32, eps: f32, reject: f32, mu: f32) -> f32 {
    let d = other - x;
    // The step's factor by selects (no branch to mispredict): `mu` toward, `-mu` away (the
    // product is exactly `-(mu d)`), else 0 (and `x + 0 d` is `x` for `x` in [0, 1]).
    let s = if d.abs() > reject { -mu } else { 0.0 };
    let s = if d.abs() < eps { mu } else { s };
    (x + s * d).clamp(0.0, 1.0)
}

crate::kernel! {
    /// Run value dynamics for one village.
    pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
        let sc = ctx.sc;
        let vals = &sc.values;
        let net = Network::new(sc.run.seed, v.id, a.len(), vals.ties, vals.rewire);
        let (mu, reject) = encounter(vals);
        let traits = Traits::new(sc.run.seed, v.id, ctx.trait_stamp);
        if vals.ties > 0 {
            // One keyed draw per resident: its high half against the interaction probability, its
            // low half picks the tie.
            let draws = Keyed::new(sc.run.seed, v.id, ctx.step, Phase::Values);
            let meet = (vals.interaction_rate.clamp(0.0, 1.0) * 4_294_967_296.0) as u64;
            let n = a.len();
            let ties = vals.ties as u64;
            let res = &a.residence[..n];
            let ages = &a.age[..n];
            let (market, civic) = (&mut a.market[..n], &mut a.civic[..n]);
            // Blocks of slots: first, without branches, the residents who interact and the tie
            // each picks (this reads only residence, which the exchanges do not change); then the
            // exchanges in slot order, each side responding with its own bound.
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
                    if j == i || res[j] != residence::RESIDENT {
                        continue;
                    }
                    let (ei, ej) = (bound(ctx, &traits, i, ages[i]), bound(ctx, &traits, j, ages[j]));
                    for x in [&mut *market, &mut *civic] {
                        let (xi, xj) = (x[i], x[j]);
                        x[i] = respond(xi, xj, ei, reject, mu);
                        x[j] = respond(xj, xi, ej, reject, mu);
                    }
                }
            }
        }
        // Noise: a resident's `market` or `civic` redrawn uniformly (skip-ahead over the slots,
        // each event picking the value).
        if vals.noise > 0.0 {
            let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Values);
            let mut events = Events::new(vals.noise.min(1.0), a.len());
            while let Some(i) = events.next(&mut rng) {
                if a.residence[i] == residence::RESIDENT {
                    let x = rng.u64();
                    let u = (x >> 40) as f32 * (1.0 / 16_777_216.0);
                    if x & 1 == 0 {
                        a.market[i] = u;
                    } else {
                        a.civic[i] = u;
                    }
                }
            }
        }
        // Erosion and renewal of `civic`: branch-free over all slots (vacant slots keep their
        // value), so it vectorises. Community life renews in proportion to the share of the
        // village's registered adults who live in it.
        let residents = a.residence.iter().filter(|&&r| r == residence::RESIDENT).count();
        let community = (residents as f64 / v.alive.max(1) as f64) as f32;
        let erosion = monthly(vals.civic_erosion) as f32;
        let renewal = monthly(vals.civic_renewal) as f32 * community;
        let away = monthly(vals.migrant_civic_decay) as f32;
        for ((c, &m), &r) in a.civic.iter_mut().zip(&*a.market).zip(&*a.residence) {
            let home = r == residence::RESIDENT;
            let d = erosion * m * *c + if home { -renewal * (1.0 - *c) } else { away * *c };
            let moved = (*c - d).clamp(0.0, 1.0);
            *c = if r == residence::VACANT { *c } else { moved };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{mean, residents, run_months, sd, with_village, world};
    use crate::model::World;

    /// A world where only bounded-confidence influence moves values: no erosion, renewal or
    /// noise, and one bound for everybody.
    fn influence_only(eps: f64) -> World {
        let mut w = quiet(400);
        w.scenario.values.confidence_bound = eps;
        w
    }

    /// A world without noise, renewal, erosion or heterogeneous bounds.
    fn quiet(adults: u32) -> World {
        let mut w = world(adults);
        let v = &mut w.scenario.values;
        v.civic_erosion = 0.0;
        v.civic_renewal = 0.0;
        v.migrant_civic_decay = 0.0;
        v.noise = 0.0;
        v.bound_spread = 0.0;
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
            let mut w = quiet(300);
            w.scenario.values.civic_erosion = 0.04;
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
        // About 0.04 x 0.9 x civic in a year.
        assert!((0.01..0.04).contains(&high), "yearly erosion at 0.9: {high}");
    }

    #[test]
    fn migrants_lose_civic_faster_than_residents() {
        let mut w = world(300);
        w.scenario.values.interaction_rate = 0.0;
        w.scenario.values.noise = 0.0;
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
        // Residents' civic is renewed by village life, migrants' decays away from it.
        assert!(cm < 0.6 && cm < cr - 0.03, "resident {cr}, migrant {cm}");
    }

    #[test]
    fn noise_keeps_values_apart_where_influence_would_merge_them() {
        let spread_after = |noise: f64| {
            let mut w = influence_only(1.0);
            w.scenario.values.noise = noise;
            run_months(&mut w, 1..37, |c, v, a| run(c, v, a));
            with_village(&mut w, 0, |_, a| sd(a.market, &residents(a)))
        };
        let (none, noisy) = (spread_after(0.0), spread_after(0.01));
        assert!(none < 0.03, "consensus without noise: sd {none}");
        assert!(noisy > 2.0 * none, "noise keeps diversity: sd {noisy} vs {none}");
    }

    #[test]
    fn heterogeneous_bounds_let_the_open_minded_reach_farther() {
        // Two camps 0.4 apart with a median bound of 0.3: nobody meets across with one bound;
        // with spread bounds some open-minded villagers do.
        let gap_after = |spread: f64| {
            let mut w = influence_only(0.3);
            w.scenario.values.bound_spread = spread;
            with_village(&mut w, 0, |_, a| {
                for i in 0..a.len() {
                    a.market[i] = if i % 2 == 0 { 0.3 } else { 0.7 };
                }
            });
            run_months(&mut w, 1..13, |c, v, a| run(c, v, a));
            with_village(&mut w, 0, |_, a| {
                let r = residents(a);
                let (lo, hi): (Vec<usize>, Vec<usize>) = r.iter().partition(|&&i| i % 2 == 0);
                mean(a.market, &hi) - mean(a.market, &lo)
            })
        };
        let (fixed, spread) = (gap_after(0.0), gap_after(0.8));
        assert!((fixed - 0.4).abs() < 1e-6, "one bound: the camps stay apart ({fixed})");
        assert!(
            spread < fixed - 0.02,
            "spread bounds: the camps move together ({spread})"
        );
    }

    #[test]
    fn community_renews_civic_and_an_emptied_village_renews_less() {
        let civic_after = |emptied: bool| {
            let mut w = quiet(400);
            w.scenario.values.civic_renewal = 0.2;
            w.scenario.values.interaction_rate = 0.0;
            with_village(&mut w, 0, |_, a| {
                for i in 0..a.len() {
                    a.civic[i] = 0.4;
                    if emptied && i % 4 != 0 && a.residence[i] != residence::VACANT {
                        a.residence[i] = residence::MIGRANT;
                    }
                }
            });
            run_months(&mut w, 1..13, |c, v, a| run(c, v, a));
            with_village(&mut w, 0, |_, a| mean(a.civic, &residents(a)))
        };
        let (full, emptied) = (civic_after(false), civic_after(true));
        assert!(full > 0.45, "renewal raises civic: {full}");
        assert!(
            emptied < full - 0.02,
            "an emptied village renews less: {emptied} vs {full}"
        );
    }

    #[test]
    fn repulsion_beyond_the_rejection_bound_pushes_values_apart() {
        assert_eq!(respond(0.2, 0.9, 0.3, f32::INFINITY, 0.5), 0.2);
        assert!(respond(0.2, 0.9, 0.3, 0.5, 0.5) < 0.2);
        assert!((respond(0.4, 0.5, 0.3, 0.5, 0.5) - 0.45).abs() < 1e-6);
    }
}
