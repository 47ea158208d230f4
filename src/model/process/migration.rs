//! Process 4, migration and return, with income and wealth.
//!
//! Leaving is a proportional hazard (annual rate `leave_base x exp(linear predictor)`) in the
//! log expected urban-rural wage gap (Harris and Todaro 1970; the expected urban wage is the
//! urban wage times the employment probability, computed region-wide each month), age,
//! education and `market`, held back by `civic`, resident ties and local service quality.
//! Return is a hazard rising with age, service quality and order, falling with the wage gap,
//! and raised by urban downturns. Party members who leave become "flowing" members: they stay
//! members but no longer take part in the branch.

use crate::model::agents::{flag, residence, AgentsMut};
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
                }
            }
        } else {
            a.wealth[i] = (a.wealth[i] as f64 * keep + e.saving_rate * ctx.expected_urban_wage * premium) as f32;
            a.away[i] = a.away[i].saturating_add(1);
            let lin = return_const + m.return_age_effect * (years - 40.0) / 10.0;
            if chance(&mut rng, monthly(m.return_base * lin.exp())) {
                a.residence[i] = residence::RESIDENT;
                a.flags[i] |= flag::RETURNED;
                a.away[i] = 0;
                v.stats.returns += 1;
            }
        }
    }
}
