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

use crate::model::rng::{chance, monthly, stream, Events, Phase};
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
    let mut seen = Events::new(p_see, a.len());
    while let Some(i) = seen.next(&mut rng) {
        if a.residence[i] == residence::RESIDENT {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{residents, run_months, with_village, world};
    use crate::model::World;

    /// A village whose committee `controller` controls through a resident director with `market`
    /// 0.5, and no structural concentration of power.
    fn controlled(controller: Controller) -> (World, usize) {
        let mut w = world(300);
        let d = with_village(&mut w, 0, |v, a| {
            let d = residents(a)[5];
            a.market[d] = 0.5;
            a.wealth[d] = 0.0;
            v.committee.director = d as u32;
            v.committee.controller = controller;
            v.committee.concentration = 0.0;
            d
        });
        (w, d)
    }

    /// One month of allocation: (leak share, leaked yuan, funds, director's wealth gain).
    fn allocate(w: &World, d: usize, f: impl Fn(&mut StepCtx)) -> (f32, f64, f64, f32) {
        let mut w = w.clone();
        let before = w.agents.wealth[d];
        let stats = run_months(&mut w, 1..2, |c, v, a| {
            c.transfers = 1200.0;
            c.supervision = 0.0;
            c.legal = 0.0;
            f(c);
            run(c, v, a)
        });
        (
            w.villages[0].leak,
            stats[0].leaked,
            stats[0].funds,
            w.agents.wealth[d] - before,
        )
    }

    #[test]
    fn supervision_and_rule_of_law_lower_the_leak() {
        let (w, d) = controlled(Controller::Economic);
        let (base, ..) = allocate(&w, d, |_| {});
        let (supervised, ..) = allocate(&w, d, |c| c.supervision = 0.8);
        let (lawful, ..) = allocate(&w, d, |c| c.legal = 1.0);
        assert!(base > 0.0);
        // leak = propensity x (0.5 + market) x (1 - supervision) x (1 - capture_effect x legal).
        assert!((base - 0.35).abs() < 1e-6, "base {base}");
        assert!((supervised - 0.2 * base).abs() < 1e-6, "supervised {supervised}");
        assert!((lawful - 0.6 * base).abs() < 1e-6, "lawful {lawful}");
    }

    #[test]
    fn elite_controllers_leak_more_than_the_branch() {
        let leak = |ctl| {
            let (w, d) = controlled(ctl);
            allocate(&w, d, |_| {}).0
        };
        let branch = leak(Controller::Branch);
        for ctl in [Controller::Economic, Controller::Clan, Controller::Bully] {
            assert!(leak(ctl) > 2.0 * branch, "{ctl:?}: {} vs branch {branch}", leak(ctl));
        }
    }

    #[test]
    fn unsupervised_concentration_raises_the_leak() {
        let (mut w, d) = controlled(Controller::Branch);
        let (spread, ..) = allocate(&w, d, |_| {});
        w.villages[0].committee.concentration = 1.0;
        let (one_person, ..) = allocate(&w, d, |_| {});
        let (supervised, ..) = allocate(&w, d, |c| c.supervision = 1.0);
        assert!((one_person - 2.0 * spread).abs() < 1e-6, "{spread} -> {one_person}");
        assert_eq!(supervised, 0.0);
    }

    #[test]
    fn leaked_funds_become_the_directors_wealth() {
        let (w, d) = controlled(Controller::Bully);
        let (leak, leaked, funds, gain) = allocate(&w, d, |_| {});
        assert!(
            (funds - 100.0 * w.villages[0].alive as f64).abs() < 1e-6,
            "funds {funds}"
        );
        assert!((leaked - leak as f64 * funds).abs() < 1e-3 * funds);
        assert!(leaked > 1000.0);
        assert!(
            (gain as f64 - leaked).abs() < 1e-3 * leaked,
            "gain {gain} vs leaked {leaked}"
        );
    }

    #[test]
    fn what_is_not_leaked_or_wasted_funds_services() {
        let budget = |formalism: f32, pressure: f64| {
            let (mut w, _) = controlled(Controller::Economic);
            w.villages[0].formalism = formalism;
            let stats = run_months(&mut w, 1..2, |c, v, a| {
                c.transfers = 1200.0;
                c.pressure = pressure;
                run(c, v, a)
            });
            let v = &w.villages[0];
            (v.funds_for_services, stats[0].funds - stats[0].leaked, v.formalism)
        };
        // No pressure, no formalism: everything not leaked goes to services.
        let (spent, kept, formalism) = budget(0.0, 0.0);
        assert_eq!(formalism, 0.0);
        assert!(kept > 0.0 && (spent - kept).abs() < 1e-6 * kept);
        // Formalism wastes a share of what is left.
        let (spent, kept, formalism) = budget(1.0, 1.0);
        assert!(formalism > 0.5);
        let expected = kept * (1.0 - FORMALISM_WASTE * formalism as f64);
        assert!((spent - expected).abs() < 1e-6 * kept, "{spent} vs {expected}");
        assert!(spent < 0.9 * kept);
    }

    #[test]
    fn pressure_raises_formalism_and_lowers_autonomy() {
        let after = |pressure: f64| {
            let mut w = world(300);
            run_months(&mut w, 1..25, |c, v, a| {
                c.pressure = pressure;
                c.self_gov = 0.0;
                run(c, v, a)
            });
            let v = &w.villages[0];
            (v.formalism, v.committee.autonomy, v.branch.administrative)
        };
        let (f0, a0, adm0) = after(0.0);
        let (f1, a1, adm1) = after(1.0);
        assert!(f1 > f0 + 0.4, "formalism {f0} -> {f1}");
        assert!(a1 < a0 - 0.2, "autonomy {a0} -> {a1}");
        assert!(adm1 > adm0, "administrative style {adm0} -> {adm1}");
    }

    #[test]
    fn self_government_raises_autonomy() {
        let after = |self_gov: f64| {
            let mut w = world(300);
            run_months(&mut w, 1..25, |c, v, a| {
                c.pressure = 0.8;
                c.self_gov = self_gov;
                run(c, v, a)
            });
            w.villages[0].committee.autonomy
        };
        let (a0, a1) = (after(0.0), after(1.0));
        assert!(a1 > a0 + 0.1, "autonomy {a0} -> {a1}");
    }
}
