//! Process 9, allocation and capture.
//!
//! State transfers arrive each month; whoever controls the villagers' committee allocates
//! them. The controller leaks a share to elites: its type's propensity, scaled by the
//! controller's own `market` value, reduced by supervision and rule of law, and raised by
//! unsupervised concentration of power (one-person rule). Leaked money becomes the
//! controller's wealth. Residents see capture with a probability rising with the leak and
//! with supervision (transparency); those who see it lose trust. Township pressure diverts
//! branch effort to formal tasks (formalism), which also wastes part of the funds. What is
//! left is next month's budget for building services. The committee's autonomy is the slow
//! average of decisions it really makes; administrative style and stance move toward targets
//! set by pressure and the paths.

use crate::model::rng::{chance, monthly, stream, Phase};
use crate::model::{Controller, StepCtx, Village, NONE};

use super::experience;
use crate::model::agents::{residence, AgentsMut};

/// Effort units of the branch per month.
pub const EFFORT_UNITS: u32 = 10;
/// Committee decisions per month.
pub const DECISIONS: u32 = 6;
/// Share of funds wasted per unit of formalism.
pub const FORMALISM_WASTE: f64 = 0.3;

/// Run allocation for one village.
pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
    let sc = ctx.sc;
    let g = &sc.governance;
    let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Allocation);
    let sup = ctx.supervision;
    v.supervision = sup as f32;
    let unsupervised = v.committee.concentration as f64 * (1.0 - sup);

    let funds = ctx.transfers / 12.0 * v.alive as f64;
    let d = v.committee.director;
    let director = (d != NONE && a.residence[d as usize] != residence::VACANT).then_some(d as usize);
    let controller_market = director.map(|i| a.market[i] as f64).unwrap_or(0.5);
    let propensity = match v.committee.controller {
        Controller::Branch => g.leak_branch,
        Controller::Economic => g.leak_economic,
        Controller::Clan => g.leak_clan,
        Controller::Bully => g.leak_bully,
    };
    let leak = (propensity
        * (0.5 + controller_market)
        * (1.0 - sup)
        * (1.0 - sc.paths.legal.capture_effect * ctx.legal).max(0.0)
        * (1.0 + unsupervised))
        .clamp(0.0, 0.9);
    let leaked = funds * leak;
    if let Some(i) = director {
        a.wealth[i] += leaked as f32;
    }
    v.leak = leak as f32;
    v.stats.funds = funds;
    v.stats.leaked = leaked;

    let p_formal = (ctx.pressure * (0.4 + 0.6 * v.branch.administrative as f64)).clamp(0.0, 1.0);
    let formal = (0..EFFORT_UNITS).filter(|_| chance(&mut rng, p_formal)).count() as u32;
    v.stats.formal_effort = formal;
    v.formalism = (v.formalism + 0.2 * (formal as f32 / EFFORT_UNITS as f32 - v.formalism)).clamp(0.0, 1.0);
    v.funds_for_services = (funds - leaked) * (1.0 - FORMALISM_WASTE * v.formalism as f64);

    let p_see = leak * (0.3 + 0.7 * sup);
    for i in 0..a.len() {
        if a.residence[i] == residence::RESIDENT && chance(&mut rng, p_see) {
            v.stats.saw_capture += 1;
            experience(a.exp_branch, i, -1);
            if chance(&mut rng, 0.5) {
                experience(a.exp_gov, i, -1);
            }
        }
    }

    let admin = v.branch.administrative as f64;
    let contested = if v.committee.contested { 0.6 } else { 1.0 };
    let p_own = ((1.0 - admin * ctx.pressure) * (1.0 - 0.6 * unsupervised) * contested
        + sc.paths.self_government.autonomy_effect * ctx.self_gov)
        .clamp(0.0, 1.0);
    let own = (0..DECISIONS).filter(|_| chance(&mut rng, p_own)).count() as u32;
    v.stats.decisions = DECISIONS;
    v.stats.own_decisions = own;
    v.committee.autonomy =
        (v.committee.autonomy + 0.05 * (own as f32 / DECISIONS as f32 - v.committee.autonomy)).clamp(0.0, 1.0);

    let rate = monthly(g.adjust_rate);
    let target_admin =
        (0.5 * g.administrative + 0.5 * ctx.pressure - 0.3 * ctx.self_gov - 0.2 * ctx.legal).clamp(0.0, 1.0);
    v.branch.administrative = (admin + rate * (target_admin - admin)).clamp(0.0, 1.0) as f32;
    let target_stance =
        (g.stance * (1.0 - 0.3 * ctx.pressure) + sc.paths.legal.stance_effect * ctx.legal).clamp(0.0, 1.0);
    let st = v.branch.stance as f64;
    v.branch.stance = (st + rate * (target_stance - st)).clamp(0.0, 1.0) as f32;
    v.stats.spend_self_gov = ctx.self_gov * sc.paths.self_government.cost / 12.0;
}
