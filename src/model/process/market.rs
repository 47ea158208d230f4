//! Process 2, market exposure: each villager's `market` relaxes toward the benefit
//! orientation of the economy they live in: the region's market exposure for residents, the
//! city's (`values.migrant_exposure`) for migrants, a little more for the young. With the
//! exposure constant, `market` has a rest point; a rising exposure drives it up.

use crate::model::agents::{residence, AgentsMut};
use crate::model::rng::monthly;
use crate::model::{StepCtx, Village};

/// Run market exposure for one village (no randomness).
pub fn run(ctx: &StepCtx, _v: &mut Village, a: &mut AgentsMut) {
    let vals = &ctx.sc.values;
    let rate = monthly(vals.market_drift) as f32;
    let (home, city) = (ctx.exposure as f32, vals.migrant_exposure as f32);
    let young_plus = vals.young_exposure as f32;
    let young = (vals.young_age * 12.0) as u16;
    // Branch-free over all slots (vacant slots keep their value), so the loop vectorises.
    let (res, age) = (&*a.residence, &*a.age);
    for ((m, &r), &age) in a.market.iter_mut().zip(res).zip(age) {
        let target = if r == residence::MIGRANT { city } else { home } + if age < young { young_plus } else { 0.0 };
        let moved = (*m + rate * (target.min(1.0) - *m)).clamp(0.0, 1.0);
        *m = if r == residence::VACANT { *m } else { moved };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{ctx, occupied, with_village, world};

    /// Market drift of one month for four villagers with `market` 0.3: resident and migrant,
    /// young (20) and old (50), at exposure `exposure`. Returns the changes in that order.
    fn drift(exposure: f64) -> [f32; 4] {
        let mut w = world(200);
        let sc = w.scenario.clone();
        let mut c = ctx(&sc, 1);
        c.exposure = exposure;
        with_village(&mut w, 0, |v, a| {
            let s = occupied(a);
            let picks = [
                (s[0], residence::RESIDENT, 20),
                (s[1], residence::MIGRANT, 20),
                (s[2], residence::RESIDENT, 50),
                (s[3], residence::MIGRANT, 50),
            ];
            for &(i, r, years) in &picks {
                a.residence[i] = r;
                a.age[i] = years * 12;
                a.market[i] = 0.3;
            }
            run(&c, v, a);
            picks.map(|(i, _, _)| a.market[i] - 0.3)
        })
    }

    #[test]
    fn drift_raises_market_faster_for_migrants_and_the_young() {
        let [young_res, young_mig, old_res, old_mig] = drift(1.0);
        assert!(old_res > 0.0);
        // The documented factors: migrants x2.5, the young x1.5.
        let close = |x: f32, y: f32| (x - y).abs() < 1e-3 * y.abs();
        assert!(close(old_mig, 2.5 * old_res), "migrant {old_mig} vs resident {old_res}");
        assert!(close(young_res, 1.5 * old_res), "young {young_res} vs old {old_res}");
        assert!(close(young_mig, 3.75 * old_res), "young migrant {young_mig}");
        // One month at full exposure: drift 0.04 / 12 of the distance to 1.
        assert!(close(old_res, 0.04 / 12.0 * 0.7), "resident drift {old_res}");
    }

    #[test]
    fn drift_scales_with_exposure() {
        let half = drift(0.5);
        let full = drift(1.0);
        for k in 0..4 {
            assert!(
                (full[k] - 2.0 * half[k]).abs() < 1e-3 * full[k],
                "{k}: {full:?} vs {half:?}"
            );
        }
    }

    #[test]
    fn zero_exposure_leaves_market_unchanged() {
        let mut w = world(200);
        let before = w.agents.market.clone();
        let sc = w.scenario.clone();
        let mut c = ctx(&sc, 1);
        c.exposure = 0.0;
        with_village(&mut w, 0, |v, a| run(&c, v, a));
        assert_eq!(w.agents.market, before);
        assert_eq!(drift(0.0), [0.0; 4]);
    }

    #[test]
    fn drift_moves_toward_one_never_past_it_and_skips_vacant_slots() {
        let mut w = world(200);
        let sc = w.scenario.clone();
        let mut c = ctx(&sc, 1);
        c.exposure = 1.0;
        let before = w.agents.market.clone();
        with_village(&mut w, 0, |v, a| {
            let vacant = (0..a.len())
                .find(|&i| a.residence[i] == residence::VACANT)
                .expect("room");
            a.market[vacant] = 0.5;
            a.market[occupied(a)[0]] = 1.0;
            for _ in 0..120 {
                run(&c, v, a);
            }
            assert_eq!(a.market[vacant], 0.5);
            assert_eq!(a.market[occupied(a)[0]], 1.0);
            for i in occupied(a) {
                assert!(a.market[i] >= before[i] && a.market[i] <= 1.0);
            }
        });
    }
}
