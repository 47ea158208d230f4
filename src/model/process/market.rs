//! Process 2, market exposure: each villager's `market` relaxes toward the benefit
//! orientation of the economy they live in: the region's market exposure for residents, the
//! city's (`values.migrant_exposure`) for migrants, a little more for the young. With the
//! exposure constant, `market` has a rest point; a rising exposure drives it up.

use crate::model::agents::{residence, AgentsMut};
use crate::model::rng::monthly;
use crate::model::{StepCtx, Village};

crate::kernel! {
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
    fn market_relaxes_toward_the_exposure_each_villager_lives_in() {
        let sc = crate::model::process::testkit::scenario(200);
        let rate = monthly(sc.values.market_drift) as f32;
        let (city, young) = (sc.values.migrant_exposure as f32, sc.values.young_exposure as f32);
        let [young_res, young_mig, old_res, old_mig] = drift(0.5);
        let close = |x: f32, y: f32| (x - y).abs() < 1e-5;
        // From 0.3 toward 0.5 at home, toward the city's exposure away, plus the young's.
        assert!(close(old_res, rate * (0.5 - 0.3)), "resident {old_res}");
        assert!(close(old_mig, rate * (city - 0.3)), "migrant {old_mig}");
        assert!(close(young_res, rate * (0.5 + young - 0.3)), "young {young_res}");
        assert!(
            close(young_mig, rate * ((city + young).min(1.0) - 0.3)),
            "young migrant {young_mig}"
        );
    }

    #[test]
    fn market_has_a_rest_point_at_the_exposure() {
        // At an exposure equal to their value, old residents do not move; below it they fall.
        let [_, _, at, _] = drift(0.3);
        assert_eq!(at, 0.0);
        let [_, _, below, _] = drift(0.1);
        assert!(below < 0.0, "market falls toward a lower exposure: {below}");
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
