//! Process 10, trust: each villager's trust in the branch and in the government moves toward
//! what they experienced this month. Every good experience (a fair settlement, being listened
//! to, help from the platform, the branch siding with them) moves trust a step toward 1, every
//! bad one (an unfair or unresolved dispute, unmet need, capture seen, being overruled) a step
//! toward 0; and residents' trust relaxes slowly toward what the village shows everyone
//! (service quality and order for the branch, service quality and freedom from formalism for
//! the government) seen through the villager's own disposition to trust: a personal offset
//! fixed for life (`values.trust_disposition`), so villagers who see the same village keep
//! different levels of trust.

use crate::model::agents::{residence, AgentsMut};
use crate::model::rng::Traits;
use crate::model::{StepCtx, Village};

crate::kernel! {
    /// Run trust updating for one village (no randomness).
    pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
        let (env_b, env_g) = environment(v);
        let traits = Traits::new(ctx.sc.run.seed, v.id, ctx.trait_stamp);
        let spread = ctx.sc.values.trust_disposition as f32;
        // Step per experience, and the monthly relaxation of residents (a quarter for migrants).
        let step = ctx.sc.values.trust_step as f32;
        let relax_res = ctx.sc.values.trust_relax as f32;
        let relax_mig = relax_res * 0.25;
        let n = a.len();
        let (res, ages) = (&a.residence[..n], &a.age[..n]);
        let (tb, tg) = (&mut a.trust_branch[..n], &mut a.trust_gov[..n]);
        let (eb, eg) = (&a.exp_branch[..n], &a.exp_gov[..n]);
        // In blocks of slots: the dispositions, then each trust; branch-free over all slots
        // (vacant slots keep their value), so the loops vectorise.
        const BLOCK: usize = 256;
        let mut off = [0.0f32; BLOCK];
        for start in (0..n).step_by(BLOCK) {
            let end = (start + BLOCK).min(n);
            let len = end - start;
            for (k, (o, &age)) in off[..len].iter_mut().zip(&ages[start..end]).enumerate() {
                *o = spread * traits.disposition(start + k, age);
            }
            let res = &res[start..end];
            for (trust, exp, env) in [
                (&mut tb[start..end], &eb[start..end], env_b),
                (&mut tg[start..end], &eg[start..end], env_g),
            ] {
                for (((t, &e), &r), &o) in trust.iter_mut().zip(exp).zip(res).zip(&off[..len]) {
                    let relax = if r == residence::RESIDENT { relax_res } else { relax_mig };
                    let u = update(*t, (env + o).clamp(0.0, 1.0), relax, step, e);
                    *t = if r == residence::VACANT { *t } else { u };
                }
            }
        }
    }
}

/// What the village shows everyone: (for the branch) service quality and order, (for the
/// government) service quality and freedom from formalism.
#[inline]
pub fn environment(v: &Village) -> (f32, f32) {
    let q = v.service_quality;
    (0.5 * q + 0.5 * v.order, 0.6 * q + 0.4 * (1.0 - v.formalism))
}

/// One trust update: relaxation toward `env` by `relax`, then the month's experiences, each
/// moving trust `step` of the way toward 1 (good) or 0 (bad).
#[inline]
pub fn update(t: f32, env: f32, relax: f32, step: f32, events: i8) -> f32 {
    let t = t + relax * (env - t);
    let e = events.clamp(-4, 4) as f32;
    // Toward 1 by (1 - t) per good event, toward 0 by t per bad one (written with selects).
    let room = if e > 0.0 { 1.0 - t } else { t };
    (t + step * e * room).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{residents, run_months, with_village, world};

    /// The scenario defaults of the step and the relaxation.
    fn defaults() -> (f32, f32) {
        let v = crate::scenario::Scenario::default().values;
        (v.trust_step as f32, v.trust_relax as f32)
    }

    #[test]
    fn good_events_raise_trust_and_bad_events_lower_it() {
        let (step, _) = defaults();
        for t in [0.0f32, 0.2, 0.5, 0.9] {
            let good = update(t, t, 0.0, step, 1);
            let bad = update(t, t, 0.0, step, -1);
            if t < 1.0 {
                assert!(good > t, "{t} -> {good}");
            }
            if t > 0.0 {
                assert!(bad < t, "{t} -> {bad}");
            }
            assert!((good - (t + step * (1.0 - t))).abs() < 1e-6);
            assert!((bad - (t - step * t)).abs() < 1e-6);
        }
        // More events move further, in both directions.
        assert!(update(0.5, 0.5, 0.0, step, 3) > update(0.5, 0.5, 0.0, step, 1));
        assert!(update(0.5, 0.5, 0.0, step, -3) < update(0.5, 0.5, 0.0, step, -1));
    }

    #[test]
    fn trust_stays_in_the_unit_interval_and_events_saturate() {
        let (step, relax) = defaults();
        for k in 0..=20 {
            let t = k as f32 / 20.0;
            for env in [0.0f32, 0.3, 1.0] {
                let mut prev = -1.0f32;
                for e in i8::MIN..=i8::MAX {
                    let u = update(t, env, relax, step, e);
                    assert!((0.0..=1.0).contains(&u), "update({t}, {env}, {e}) = {u}");
                    assert!(u >= prev, "monotone in events");
                    prev = u;
                }
                // At most four events count each way.
                assert_eq!(update(t, env, relax, step, 100), update(t, env, relax, step, 4));
                assert_eq!(update(t, env, relax, step, -100), update(t, env, relax, step, -4));
            }
        }
        assert_eq!(update(1.0, 1.0, relax, step, 4), 1.0);
        assert_eq!(update(0.0, 0.0, relax, step, -4), 0.0);
    }

    #[test]
    fn without_events_trust_relaxes_toward_the_environment() {
        let (step, relax) = defaults();
        let u = update(0.2, 0.8, 0.1, step, 0);
        assert!((u - 0.26).abs() < 1e-6, "{u}");
        let mut t = 0.9f32;
        for _ in 0..2000 {
            t = update(t, 0.3, relax, step, 0);
        }
        assert!((t - 0.3).abs() < 1e-3, "converges to env: {t}");
    }

    #[test]
    fn residents_relax_faster_than_migrants_toward_what_the_village_shows() {
        let mut w = world(200);
        w.scenario.values.trust_disposition = 0.0;
        // A relaxation other than the default: the scenario's value is the one used.
        w.scenario.values.trust_relax = 0.08;
        let relax = 0.08f32;
        w.villages[0].service_quality = 1.0;
        w.villages[0].order = 1.0;
        w.villages[0].formalism = 0.0;
        let (res, mig) = with_village(&mut w, 0, |_, a| {
            let r = residents(a);
            let (res, mig) = (r[0], r[1]);
            a.residence[mig] = crate::model::agents::residence::MIGRANT;
            for i in [res, mig] {
                a.trust_branch[i] = 0.5;
                a.trust_gov[i] = 0.5;
                a.exp_branch[i] = 0;
                a.exp_gov[i] = 0;
            }
            (res, mig)
        });
        let vacant = with_village(&mut w, 0, |_, a| {
            let i = (0..a.len())
                .find(|&i| a.residence[i] == crate::model::agents::residence::VACANT)
                .expect("room");
            a.trust_branch[i] = 0.5;
            i
        });
        run_months(&mut w, 1..2, |c, v, a| run(c, v, a));
        let (tr, tm) = (w.agents.trust_branch[res] - 0.5, w.agents.trust_branch[mig] - 0.5);
        assert!((tr - relax * 0.5).abs() < 1e-6, "resident {tr}");
        assert!((tm - relax * 0.25 * 0.5).abs() < 1e-6, "migrant {tm}");
        assert!(w.agents.trust_gov[res] > 0.5);
        assert_eq!(w.agents.trust_branch[vacant], 0.5);
    }

    #[test]
    fn a_months_experiences_move_trust() {
        let mut w = world(200);
        w.scenario.values.trust_disposition = 0.0;
        // A step other than the default: the scenario's value is the one used.
        w.scenario.values.trust_step = 0.1;
        let step = 0.1f32;
        // An environment of exactly 0.5 for both, so only the events move trust.
        w.villages[0].service_quality = 0.5;
        w.villages[0].order = 0.5;
        w.villages[0].formalism = 0.5;
        let (good, bad) = with_village(&mut w, 0, |_, a| {
            let r = residents(a);
            let (good, bad) = (r[0], r[1]);
            for i in [good, bad] {
                a.trust_branch[i] = 0.5;
                a.trust_gov[i] = 0.5;
            }
            a.exp_branch[good] = 2;
            a.exp_gov[good] = 1;
            a.exp_branch[bad] = -2;
            a.exp_gov[bad] = -3;
            (good, bad)
        });
        run_months(&mut w, 1..2, |c, v, a| run(c, v, a));
        let t = &w.agents;
        let close = |x: f32, y: f32| (x - y).abs() < 1e-6;
        assert!(close(t.trust_branch[good], 0.5 + 2.0 * step * 0.5));
        assert!(close(t.trust_gov[good], 0.5 + step * 0.5));
        assert!(close(t.trust_branch[bad], 0.5 - 2.0 * step * 0.5));
        assert!(close(t.trust_gov[bad], 0.5 - 3.0 * step * 0.5));
    }

    /// Residents' trust after `months` without events, in a village showing 0.5, with
    /// dispositions of spread `spread`: (mean, sd).
    fn settled_trust(spread: f64, months: u32) -> (f64, f64) {
        let mut w = world(400);
        w.scenario.values.trust_disposition = spread;
        w.villages[0].service_quality = 0.5;
        w.villages[0].order = 0.5;
        w.villages[0].formalism = 0.5;
        with_village(&mut w, 0, |_, a| {
            for i in 0..a.len() {
                a.trust_branch[i] = 0.5;
                a.exp_branch[i] = 0;
            }
        });
        run_months(&mut w, 1..months + 1, |c, v, a| {
            run(c, v, a);
            a.exp_branch.fill(0);
            a.exp_gov.fill(0);
            // Villagers age with the step counter, so their traits stay their own.
            for age in a.age.iter_mut() {
                *age = age.saturating_add(1);
            }
        });
        let a = &w.agents;
        let xs: Vec<f64> = (0..a.len())
            .filter(|&i| a.residence[i] == residence::RESIDENT)
            .map(|i| a.trust_branch[i] as f64)
            .collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        (mean, var.sqrt())
    }

    #[test]
    fn dispositions_keep_trust_apart_among_villagers_who_see_the_same_village() {
        let (m0, sd0) = settled_trust(0.0, 600);
        let (m1, sd1) = settled_trust(0.15, 600);
        assert!(sd0 < 1e-4, "one disposition: one level of trust ({sd0})");
        assert!(
            (sd1 - 0.15).abs() < 0.03,
            "the spread of dispositions survives: sd {sd1}"
        );
        assert!((m0 - 0.5).abs() < 1e-3 && (m1 - 0.5).abs() < 0.03, "means {m0} {m1}");
    }
}
