//! Process 4, migration and return, with income and wealth.
//!
//! Leaving is a proportional hazard (annual rate `leave_base x exp(linear predictor)`) in the
//! log expected urban-rural wage gap (Harris and Todaro 1970; the expected urban wage is the
//! urban wage times the employment probability, computed region-wide each month), age,
//! education and `market`, held back by `civic`, resident ties and local service quality.
//! Return is a hazard rising with age, service quality and order, falling with the wage gap,
//! raised by urban downturns, and falling with years away. Migrants away long enough settle
//! in the city for good (`migration.settle_rate`, rising over the first five years away,
//! higher for the educated) and leave the village's registered population. Party members who
//! leave become "flowing" members: they stay members but no longer take part in the branch.
//! The rates of adults aged 20-45 (parents) are kept for the children's moves next month.

use crate::model::agents::{flag, residence, role, AgentsMut};
use crate::model::rng::{monthly, Keyed, Network, Phase};
use crate::model::{StepCtx, Village, NONE};

crate::kernel! {
    /// Run migration for one village.
    ///
    /// Each villager's hazard is `base x exp(lin)` with `lin` the linear predictor of the module
    /// documentation; the month's event happens when the villager's keyed uniform
    /// `u < 1 - exp(-hazard / 12)`. Because `1 - exp(-x) <= x`, a villager with
    /// `u >= hazard_max / 12` (every term of the predictor at its largest in the village this
    /// month) cannot move, and only the few others need the share of resident ties (six network
    /// look-ups) and the exact probability: the same outcome, evaluated for a few percent of
    /// villagers.
    pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
        let sc = ctx.sc;
        let m = &sc.migration;
        let e = &sc.economy;
        let net = Network::new(sc.run.seed, v.id, a.len(), sc.values.ties, sc.values.rewire);
        let gap = ctx.wage_gap;
        let q = v.service_quality as f64 - 0.5;
        let order = v.order as f64 - 0.5;
        let (min_age, max_age) = ((m.min_age * 12.0) as u16, (m.max_age * 12.0) as u16);
        let leave_const = m.wage_gap_effect * gap + m.services_effect * q;
        let return_const = m.return_services_effect * q
            + m.return_order_effect * order
            + m.return_gap_effect * gap
            + m.downturn_effect * ctx.downturn;
        let keep = 1.0 - e.wealth_depreciation / 12.0;
        // Monthly savings, `s0 + s1 x edu`: the saving rate times the wage (rural for residents,
        // the expected urban wage for migrants) times the education premium `1 + premium x edu`.
        let saving = |wage: f64| {
            let s0 = e.saving_rate * wage;
            (s0 as f32, (s0 * e.education_premium) as f32)
        };
        let (res_save, mig_save) = (saving(ctx.rural_wage), saving(ctx.expected_urban_wage));
        let ties = net.ties();
        // The tie term at its largest: share 1 for a positive effect, 0 for a negative one.
        let ties_max = if ties == 0 { 0.0 } else { 0.5 * m.ties_effect.abs() };

        // Settlement: the largest hazard is at education 4 and five years away or more.
        let settle_h = |edu: f64, away: u16| {
            let ramp = (away as f64 / 60.0).min(1.0);
            ctx.settle * (1.0 + m.settle_education_effect * (edu - 2.0)).max(0.0) * ramp
        };
        let p_settle_max = monthly(settle_h(0.0, 60).max(settle_h(4.0, 60)));
        let (parent_lo, parent_hi) = (20 * 12u16, 46 * 12u16);
        let (mut parents_home, mut parents_away) = (0u32, 0u32);
        let (mut parents_left, mut parents_back, mut parents_settled) = (0u32, 0u32, 0u32);
        let mut max_mc = f32::NEG_INFINITY;
        let mut max_edu = 0u8;
        let (me, ce) = (m.market_effect as f32, m.civic_effect as f32);
        let n = a.len();
        let (res, edus, ages) = (&a.residence[..n], &a.edu[..n], &a.age[..n]);
        let (market, civic) = (&a.market[..n], &a.civic[..n]);
        let (wealth, aways) = (&mut a.wealth[..n], &mut a.away[..n]);
        // Pass 1: savings and months away, in f32, with selects and 0/1 factors (a vacant slot's
        // wealth, 0, is kept exactly), so the loop vectorises.
        let keep = keep as f32;
        for i in 0..n {
            let r = res[i];
            let mig = r == residence::MIGRANT;
            let occupied = (r != residence::VACANT) as u32 as f32;
            let (s0, s1) = if mig { mig_save } else { res_save };
            let f = keep * occupied + (1.0 - occupied);
            wealth[i] = wealth[i] * f + (s0 + s1 * edus[i] as f32) * occupied;
            aways[i] = aways[i].saturating_add(mig as u16);
        }
        // Pass 2: the range of every villager-specific term of the two linear predictors, for
        // the bounds below, with `&` and selects (no branch to mispredict). The values term is
        // written to a block first, so its maximum is a reduction the compiler vectorises
        // (a masked running maximum would become a branch on who is of leaving age).
        const BLOCK: usize = 256;
        // The return predictor's villager terms likewise: `ret_lin(age, away) - ret_lin(0, 0)`,
        // `ra x age + rw x away` (months).
        let (ra, rw) = ((m.return_age_effect / 120.0) as f32, (m.settle_effect / 12.0) as f32);
        let mut max_ret = f32::NEG_INFINITY;
        let (mut terms, mut rterms) = ([f32::NEG_INFINITY; BLOCK], [f32::NEG_INFINITY; BLOCK]);
        for start in (0..n).step_by(BLOCK) {
            let end = (start + BLOCK).min(n);
            for (k, (t, rt)) in terms[..end - start].iter_mut().zip(&mut rterms[..end - start]).enumerate() {
                let i = start + k;
                let leaver = (res[i] == residence::RESIDENT) & (ages[i] >= min_age) & (ages[i] <= max_age);
                let mc = me * (market[i] - 0.5) + ce * (civic[i] - 0.5);
                *t = if leaver { mc } else { f32::NEG_INFINITY };
                let ret = ra * ages[i] as f32 + rw * aways[i] as f32;
                *rt = if res[i] == residence::MIGRANT { ret } else { f32::NEG_INFINITY };
            }
            max_mc = terms[..end - start].iter().fold(max_mc, |x, &t| x.max(t));
            max_ret = rterms[..end - start].iter().fold(max_ret, |x, &t| x.max(t));
        }
        // The integer terms in loops of one lane width each, so each vectorises.
        for i in 0..n {
            let (r, age) = (res[i], ages[i]);
            let leaver = (r == residence::RESIDENT) & (age >= min_age) & (age <= max_age);
            max_edu = max_edu.max(if leaver { edus[i] } else { 0 });
        }
        for i in 0..n {
            let (r, age) = (res[i], ages[i]);
            let parent = ((age >= parent_lo) & (age < parent_hi)) as u32;
            parents_home += parent & (r == residence::RESIDENT) as u32;
            parents_away += parent & (r == residence::MIGRANT) as u32;
        }

        // Largest leaving hazard: each term at its largest over the leaving ages, the education
        // levels present and the residents' values (the age term is piecewise linear with its
        // kink at 25, the others linear). The market-civic maximum was taken in f32: a margin of
        // 1e-4 covers the rounding.
        let age_term = |years: f64| m.age_effect * (years - 25.0).max(0.0) / 10.0;
        let edu_term = |edu: f64| m.education_effect * (edu - 2.0);
        let age_max = age_term(m.min_age)
            .max(age_term(m.max_age))
            .max(age_term(25.0f64.clamp(m.min_age, m.max_age.max(m.min_age))));
        let p_leave = if max_mc.is_finite() {
            let lin = leave_const + ties_max + age_max + edu_term(0.0).max(edu_term(max_edu as f64)) + max_mc as f64;
            (m.leave_base / 12.0 * (lin + 1e-4).exp()).min(1.0)
        } else {
            0.0
        };

        // Largest return hazard: the predictor's largest villager term over those away, taken in
        // f32 (the terms are at most a few hundred, so a margin of 1e-3 x (1 + |term|) covers
        // the rounding many times over).
        let ret_lin = |age: u16, away: u16| {
            return_const + m.return_age_effect * (age as f64 / 12.0 - 40.0) / 10.0 + m.settle_effect * away as f64 / 12.0
        };
        let p_return = if max_ret.is_finite() {
            let t = max_ret as f64;
            let lin = ret_lin(0, 0) + t + 1e-3 * (1.0 + t.abs());
            (m.return_base / 12.0 * lin.exp()).min(1.0)
        } else {
            0.0
        };

        // Pass 3: decisions, in slot order. Each villager's uniform is its keyed draw; a villager
        // moves when it is below their monthly probability. Because 1 - exp(-x) <= x, the bounds
        // above exceed every villager's probability, so only the few whose draw is below a bound
        // need the exact probability (and, for leaving, the share of resident ties: six network
        // look-ups). The outcome is exactly that of computing every villager's probability.
        let draws = Keyed::new(sc.run.seed, v.id, ctx.step, Phase::Migration);
        // u < p_any as an integer test on the 53 bits of the draw (exact: the left side is an
        // integer), so most slots cost a hash and a comparison. (A bound per slot by what it
        // can do, leaving or returning, was tried: the extra loads cost more than it saved.)
        let p_away = (p_return + p_settle_max).min(1.0);
        let p_any = p_leave.max(p_away);
        let below = (p_any * (1u64 << 53) as f64).ceil() as u64;
        let u53 = 1.0 / (1u64 << 53) as f64;
        for i in 0..a.len() {
            let bits = draws.u64(i) >> 11;
            if bits >= below {
                continue;
            }
            let u = bits as f64 * u53;
            let age = a.age[i];
            match a.residence[i] {
                residence::RESIDENT if u < p_leave && age >= min_age && age <= max_age => {
                    let share = if ties == 0 {
                        0.5
                    } else {
                        (0..ties)
                            .filter(|&k| a.residence[net.tie(i, k)] == residence::RESIDENT)
                            .count() as f64
                            / ties as f64
                    };
                    let lin = leave_const
                        + age_term(age as f64 / 12.0)
                        + edu_term(a.edu[i] as f64)
                        + m.market_effect * (a.market[i] as f64 - 0.5)
                        + m.civic_effect * (a.civic[i] as f64 - 0.5)
                        + m.ties_effect * (share - 0.5);
                    if u >= monthly(m.leave_base * lin.exp()) {
                        continue;
                    }
                    a.residence[i] = residence::MIGRANT;
                    a.away[i] = 0;
                    v.stats.outflow += 1;
                    parents_left += ((age >= parent_lo) & (age < parent_hi)) as u32;
                    if v.committee.director == i as u32 {
                        v.committee.director = NONE;
                        if v.branch.secretary != i as u32 && a.role[i] == role::CADRE {
                            a.role[i] = role::ORDINARY;
                        }
                    }
                    if v.branch.secretary == i as u32 {
                        // A departing secretary leaves the post at once; process 11 names a
                        // successor.
                        v.branch.secretary = NONE;
                        a.role[i] = role::ORDINARY;
                    }
                }
                // Those away at the start of the month have been away at least a month now:
                // they return, or settle in the city, or stay away.
                residence::MIGRANT if u < p_away && a.away[i] > 0 => {
                    let p_ret = monthly(m.return_base * ret_lin(age, a.away[i]).exp());
                    let parent = (age >= parent_lo) & (age < parent_hi);
                    if u < p_ret {
                        a.residence[i] = residence::RESIDENT;
                        a.flags[i] |= flag::RETURNED;
                        a.away[i] = 0;
                        v.stats.returns += 1;
                        parents_back += parent as u32;
                    } else if u < p_ret + monthly(settle_h(a.edu[i] as f64, a.away[i])) {
                        parents_settled += parent as u32;
                        super::demography::remove(v, a, i, true);
                    }
                }
                _ => {}
            }
        }
        let rate = |k: u32, of: u32| if of > 0 { k as f32 / of as f32 } else { 0.0 };
        v.parent_flows = [
            rate(parents_left, parents_home),
            rate(parents_back, parents_away),
            rate(parents_settled, parents_away),
        ];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::party::is_active;
    use crate::model::process::testkit::{occupied, residents, run_months, total, with_village, world};
    use crate::model::World;

    /// Residents who leave in two years, with wage gap `gap` and service quality `quality`.
    fn outflow(w: &World, gap: f64, quality: f32) -> u64 {
        let mut w = w.clone();
        w.villages[0].service_quality = quality;
        let stats = run_months(&mut w, 1..25, |c, v, a| {
            c.wage_gap = gap;
            run(c, v, a)
        });
        total(&stats, |s| s.outflow)
    }

    #[test]
    fn a_larger_wage_gap_raises_outflow() {
        let w = world(500);
        let (low, high) = (outflow(&w, 0.5, 0.5), outflow(&w, 2.0, 0.5));
        assert!(low >= 5, "outflow at gap 0.5: {low}");
        // exp(1.5) = 4.5 times the hazard.
        assert!(high > 2 * low, "gap 2: {high} vs gap 0.5: {low}");
    }

    #[test]
    fn better_services_lower_outflow() {
        let w = world(500);
        let (poor, good) = (outflow(&w, 1.5, 0.0), outflow(&w, 1.5, 1.0));
        // exp(-1) of the hazard at full quality.
        assert!(
            poor as f64 > 1.6 * good as f64,
            "quality 0: {poor} vs quality 1: {good}"
        );
    }

    #[test]
    fn a_downturn_raises_returns() {
        let mut w = world(500);
        with_village(&mut w, 0, |_, a| {
            for (k, i) in occupied(a).into_iter().enumerate() {
                if k % 2 == 0 {
                    a.residence[i] = residence::MIGRANT;
                }
            }
        });
        let returns = |downturn: f64| {
            let mut w = w.clone();
            let stats = run_months(&mut w, 1..13, |c, v, a| {
                c.wage_gap = 0.0;
                c.downturn = downturn;
                run(c, v, a)
            });
            total(&stats, |s| s.returns)
        };
        let (calm, crisis) = (returns(0.0), returns(1.0));
        assert!(calm >= 3, "returns without a downturn: {calm}");
        // exp(2) = 7.4 times the hazard.
        assert!(crisis > 3 * calm, "downturn: {crisis} vs calm: {calm}");
    }

    #[test]
    fn leavers_become_migrants_and_stop_counting_as_active_members() {
        let mut w = world(400);
        let sc = w.scenario.clone();
        let (min, max) = (
            (sc.migration.min_age * 12.0) as u16,
            (sc.migration.max_age * 12.0) as u16,
        );
        // Working-age residents, members among them, and the director made one of them.
        let (movers, stayers, members) = with_village(&mut w, 0, |v, a| {
            let r = residents(a);
            let movers: Vec<usize> = r.iter().copied().filter(|&i| (min..=max).contains(&a.age[i])).collect();
            let stayers: Vec<usize> = r.iter().copied().filter(|&i| a.age[i] > max).collect();
            for &i in movers.iter().take(10) {
                a.flags[i] |= flag::PARTY;
            }
            let members: Vec<usize> = movers.iter().copied().filter(|&i| is_active(&sc, a, i)).collect();
            v.committee.director = movers[0] as u32;
            (movers, stayers, members)
        });
        assert!(movers.len() > 100 && !stayers.is_empty() && members.len() >= 10);
        let stats = run_months(&mut w, 1..2, |c, v, a| {
            // A huge gap: every working-age resident leaves this month.
            c.wage_gap = 20.0;
            run(c, v, a)
        });
        assert_eq!(stats[0].outflow as usize, movers.len());
        with_village(&mut w, 0, |v, a| {
            for &i in &movers {
                assert_eq!(a.residence[i], residence::MIGRANT);
                assert_eq!(a.away[i], 0);
            }
            for &i in &stayers {
                assert_eq!(a.residence[i], residence::RESIDENT, "too old to leave");
            }
            for &i in &members {
                assert!(a.flags[i] & flag::PARTY != 0, "still a member (flowing)");
                assert!(!is_active(&sc, a, i), "a member away is not active");
            }
            assert_eq!(v.committee.director, NONE, "a director who leaves leaves the office");
        });
    }

    #[test]
    fn migrants_save_from_the_urban_wage_and_returners_are_marked() {
        let mut w = world(300);
        let (mig, res) = with_village(&mut w, 0, |_, a| {
            let r = residents(a);
            let (mig, res) = (r[0], r[1]);
            a.residence[mig] = residence::MIGRANT;
            a.away[mig] = 30;
            a.age[mig] = 40 * 12;
            // Past the leaving age, so the resident stays.
            a.age[res] = 60 * 12;
            for i in [mig, res] {
                a.edu[i] = 0;
                a.wealth[i] = 0.0;
                a.flags[i] &= !flag::RETURNED;
            }
            (mig, res)
        });
        let sc = w.scenario.clone();
        run_months(&mut w, 1..2, |c, v, a| {
            // A deep downturn: the migrant surely returns, after this month's urban earnings.
            c.downturn = 10.0;
            run(c, v, a);
            let s = sc.economy.saving_rate;
            assert!((a.wealth[mig] as f64 - s * c.expected_urban_wage).abs() < 1e-2);
            assert!((a.wealth[res] as f64 - s * c.rural_wage).abs() < 1e-2);
            assert!(c.expected_urban_wage > 1.5 * c.rural_wage);
            assert_eq!(a.residence[mig], residence::RESIDENT);
            assert!(a.flags[mig] & flag::RETURNED != 0);
            assert_eq!(a.away[mig], 0);
            assert_eq!(a.residence[res], residence::RESIDENT);
            assert!(v.stats.returns >= 1);
        });
    }
}
