//! Process 4, migration and return, with income and wealth.
//!
//! Leaving is a proportional hazard (annual rate `leave_base x exp(linear predictor)`) in the
//! log expected urban-rural wage gap (Harris and Todaro 1970; the expected urban wage is the
//! urban wage times the employment probability, computed region-wide each month), age,
//! education and `market`, held back by `civic`, resident ties and local service quality.
//! Return is a hazard rising with age, service quality and order, falling with the wage gap,
//! raised by urban downturns, and falling with years away (migrants settle in the city). Party members who leave become "flowing" members: they stay
//! members but no longer take part in the branch.

use crate::model::agents::{flag, residence, role, AgentsMut};
use crate::model::rng::{chance, monthly, stream, Network, Phase};
use crate::model::{StepCtx, Village, NONE};

/// Run migration for one village.
pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
    let sc = ctx.sc;
    let m = &sc.migration;
    let e = &sc.economy;
    let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Migration);
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
    for i in 0..a.len() {
        let r = a.residence[i];
        if r == residence::VACANT {
            continue;
        }
        let edu = a.edu[i] as f64;
        let premium = 1.0 + e.education_premium * edu;
        let years = a.age[i] as f64 / 12.0;
        if r == residence::RESIDENT {
            a.wealth[i] = (a.wealth[i] as f64 * keep + e.saving_rate * ctx.rural_wage * premium) as f32;
            if a.age[i] < min_age || a.age[i] > max_age {
                continue;
            }
            let ties = net.ties();
            let share = if ties == 0 {
                0.5
            } else {
                (0..ties)
                    .filter(|&k| a.residence[net.tie(i, k)] == residence::RESIDENT)
                    .count() as f64
                    / ties as f64
            };
            let lin = leave_const
                + m.age_effect * (years - 25.0).max(0.0) / 10.0
                + m.education_effect * (edu - 2.0)
                + m.market_effect * (a.market[i] as f64 - 0.5)
                + m.civic_effect * (a.civic[i] as f64 - 0.5)
                + m.ties_effect * (share - 0.5);
            if chance(&mut rng, monthly(m.leave_base * lin.exp())) {
                a.residence[i] = residence::MIGRANT;
                a.away[i] = 0;
                v.stats.outflow += 1;
                if v.committee.director == i as u32 {
                    v.committee.director = NONE;
                    if v.branch.secretary != i as u32 && a.role[i] == role::CADRE {
                        a.role[i] = role::ORDINARY;
                    }
                }
                if v.branch.secretary == i as u32 {
                    // A departing secretary leaves the post at once; process 11 names a successor.
                    v.branch.secretary = NONE;
                    a.role[i] = role::ORDINARY;
                }
            }
        } else {
            a.wealth[i] = (a.wealth[i] as f64 * keep + e.saving_rate * ctx.expected_urban_wage * premium) as f32;
            a.away[i] = a.away[i].saturating_add(1);
            let lin =
                return_const + m.return_age_effect * (years - 40.0) / 10.0 + m.settle_effect * a.away[i] as f64 / 12.0;
            if chance(&mut rng, monthly(m.return_base * lin.exp())) {
                a.residence[i] = residence::RESIDENT;
                a.flags[i] |= flag::RETURNED;
                a.away[i] = 0;
                v.stats.returns += 1;
            }
        }
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
