//! Process 6, public goods and services (path 4.2).
//!
//! Service quality is built from last month's allocated state funds (after capture and
//! formalism), the services path's building budget, and villagers' labour contributions, and
//! depreciates. Contributions are a public goods game with conditional cooperation
//! (Fischbacher, Gaechter and Fehr 2001): a resident contributes with a probability rising
//! with `civic` and with last month's cooperation rate, falling with `market`, and raised by
//! sanctions that are stronger under rule of law. The mutual-help platform matches residents
//! in need (the elderly, the sick) with willing helpers; matches raise `civic` on both sides,
//! and platform matches raise trust in the branch that runs it. Unmet needs lower it.

use crate::model::agents::{part, residence, AgentsMut};
use crate::model::rng::{chance, monthly, stream, Events, Keyed, Network, Phase};
use crate::model::{StepCtx, Village};

use super::{effective_capacity, experience};

/// Extra contribution probability of those who contributed last month (consistency).
pub const HABIT: f64 = 0.05;

/// Tries to find a willing helper for one need.
pub const HELPER_TRIES: usize = 8;

/// Run public goods and services for one village.
pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
    let sc = ctx.sc;
    let sp = &sc.paths.services;
    let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Services);
    let net = Network::new(sc.run.seed, v.id, a.len(), sc.values.ties, sc.values.rewire);
    let coop_prev = v.cooperation as f64;
    let sanction = 0.1 + sc.paths.legal.sanctions * ctx.legal;
    let (old_lo, old_hi) = (16 * 12u16, 75 * 12u16);
    let (mut residents, mut eligible, mut contributors) = (0u32, 0u32, 0u32);
    // One keyed draw per slot and no unpredictable branch: ineligible slots never hit.
    let draws = Keyed::new(sc.run.seed, v.id, ctx.step, Phase::Services);
    // The probability is computed in f32 and compared with the draw's top 24 bits.
    let n = a.len();
    let (res, ages, market, civic) = (&a.residence[..n], &a.age[..n], &a.market[..n], &a.civic[..n]);
    let parts = &mut a.part[..n];
    let (base, slope) = ((sanction as f32) * (0.5 + coop_prev as f32), 0.5 + coop_prev as f32);
    let habit = HABIT as f32;
    let u24 = 1.0 / (1u32 << 24) as f32;
    for i in 0..n {
        let resident = res[i] == residence::RESIDENT;
        let age = ages[i];
        let is_eligible = resident & (age >= old_lo) & (age < old_hi);
        let h = if parts[i] & part::CONTRIBUTED_LAST != 0 {
            habit
        } else {
            0.0
        };
        let w = (civic[i] - 0.5 * market[i]) * slope + base + h;
        let hit = is_eligible & (((draws.u64(i) >> 40) as f32 * u24) < w);
        residents += resident as u32;
        eligible += is_eligible as u32;
        contributors += hit as u32;
        parts[i] |= part::CONTRIBUTED * hit as u8;
    }
    v.stats.eligible = eligible;
    v.stats.contributors = contributors;
    v.cooperation = if eligible > 0 {
        contributors as f32 / eligible as f32
    } else {
        0.0
    };

    let spend = ctx.services * sp.cost / 12.0;
    v.stats.spend_services = spend;
    let invest = v.funds_for_services + spend * sp.build_share + contributors as f64 * sp.contribution;
    let per_resident = invest / residents.max(1) as f64;
    let q = v.service_quality as f64;
    let build = sp.build_rate * (1.0 - q) * per_resident / (per_resident + sp.half_saturation);
    v.service_quality = (q + build - monthly(sp.depreciation) * q).clamp(0.0, 1.0) as f32;

    // Mutual help.
    let p_platform = (sp.platform * ctx.services * (0.5 + effective_capacity(v))).clamp(0.0, 1.0);
    let elderly = 70 * 12u16;
    let n = a.len();
    // Needs arise by skip-ahead at the larger of the two rates, thinned to the villager's own.
    let p_max = sp.need_elderly.max(sp.need_sick);
    let mut candidates = Events::new(p_max, n);
    while let Some(i) = candidates.next(&mut rng) {
        if a.residence[i] != residence::RESIDENT {
            continue;
        }
        let p_need = if a.age[i] >= elderly {
            sp.need_elderly
        } else {
            sp.need_sick
        };
        if p_need < p_max && rng.f64() * p_max >= p_need {
            continue;
        }
        v.stats.needs += 1;
        let platform = chance(&mut rng, p_platform);
        if !platform && !chance(&mut rng, sp.informal_help) {
            experience(a.exp_branch, i, -1);
            continue;
        }
        let mut helper = None;
        for _ in 0..HELPER_TRIES {
            // The platform searches the whole village; informal help searches one's ties.
            let j = if platform {
                rng.below(n)
            } else {
                net.random_tie(i, &mut rng)
            };
            if j != i
                && a.residence[j] == residence::RESIDENT
                && a.age[j] < elderly
                && a.part[j] & part::HELPED == 0
                && chance(&mut rng, a.civic[j] as f64)
            {
                helper = Some(j);
                break;
            }
        }
        let Some(j) = helper else {
            experience(a.exp_branch, i, -1);
            continue;
        };
        a.part[j] |= part::HELPED;
        a.part[i] |= part::HELPED_BY;
        let gain = sp.help_civic_gain as f32;
        for k in [i, j] {
            a.civic[k] = (a.civic[k] + gain * (1.0 - a.civic[k])).clamp(0.0, 1.0);
        }
        if platform {
            v.stats.platform_matches += 1;
            experience(a.exp_branch, i, 1);
            experience(a.exp_branch, j, 1);
        } else {
            v.stats.informal_matches += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{residents, run_months, total, with_village, world};
    use crate::model::World;

    /// A village with a capable branch (capacity 0.6, no formalism).
    fn capable() -> World {
        let mut w = world(400);
        w.villages[0].branch.capacity = 0.6;
        w.villages[0].formalism = 0.0;
        w
    }

    #[test]
    fn more_funds_raise_service_quality() {
        let quality = |funds: f64| {
            let mut w = capable();
            w.villages[0].funds_for_services = funds;
            run_months(&mut w, 1..2, |c, v, a| {
                c.services = 0.0;
                run(c, v, a)
            });
            w.villages[0].service_quality
        };
        let (q0, q1) = (quality(0.0), quality(100_000.0));
        assert!(q1 > q0 + 0.01, "quality {q0} -> {q1}");
        assert!(q1 > 0.35, "funds build quality above its start");
    }

    #[test]
    fn quality_depreciates_without_investment() {
        let mut w = capable();
        w.scenario.paths.services.contribution = 0.0;
        w.villages[0].funds_for_services = 0.0;
        let q0 = w.villages[0].service_quality;
        run_months(&mut w, 1..13, |c, v, a| {
            c.services = 0.0;
            run(c, v, a)
        });
        let q = w.villages[0].service_quality;
        assert!((q as f64 - q0 as f64 * (-0.15f64).exp()).abs() < 1e-4, "{q0} -> {q}");
    }

    #[test]
    fn the_platform_makes_matches_only_when_running() {
        let matches = |services: f64| {
            let mut w = capable();
            let stats = run_months(&mut w, 1..13, |c, v, a| {
                c.services = services;
                run(c, v, a)
            });
            (
                total(&stats, |s| s.platform_matches),
                total(&stats, |s| s.informal_matches),
                total(&stats, |s| s.needs),
            )
        };
        let (off, informal_off, needs_off) = matches(0.0);
        let (on, informal_on, needs_on) = matches(1.0);
        assert_eq!(off, 0, "no platform matches at intensity 0");
        assert!(informal_off > 0, "informal help still happens");
        assert!(on >= 10, "platform matches at intensity 1: {on}");
        assert!(on + informal_on > informal_off, "the platform meets more needs");
        assert!(on + informal_on <= needs_on && informal_off <= needs_off);
    }

    #[test]
    fn sanctions_under_rule_of_law_raise_cooperation() {
        let coop = |legal: f64| {
            let mut w = capable();
            let stats = run_months(&mut w, 1..2, |c, v, a| {
                c.legal = legal;
                run(c, v, a)
            });
            assert!(stats[0].eligible > 200);
            assert_eq!(
                w.villages[0].cooperation,
                stats[0].contributors as f32 / stats[0].eligible as f32
            );
            w.villages[0].cooperation
        };
        let (c0, c1) = (coop(0.0), coop(1.0));
        assert!(c1 > c0 + 0.1, "cooperation {c0} -> {c1}");
    }

    #[test]
    fn cooperation_is_conditional_on_last_month() {
        let coop = |prev: f32| {
            let mut w = capable();
            w.villages[0].cooperation = prev;
            run_months(&mut w, 1..2, |c, v, a| run(c, v, a));
            w.villages[0].cooperation
        };
        let (low, high) = (coop(0.0), coop(1.0));
        assert!(high > low + 0.15, "after 0: {low}, after 1: {high}");
    }

    #[test]
    fn public_spirit_and_market_shape_contributions() {
        let coop = |civic: f32, market: f32| {
            let mut w = capable();
            with_village(&mut w, 0, |_, a| {
                for i in residents(a) {
                    a.civic[i] = civic;
                    a.market[i] = market;
                }
            });
            run_months(&mut w, 1..2, |c, v, a| run(c, v, a));
            w.villages[0].cooperation
        };
        let base = coop(0.5, 0.3);
        assert!(coop(0.8, 0.3) > base + 0.1, "civic raises contributions");
        assert!(coop(0.5, 0.9) < base - 0.1, "market lowers contributions");
    }
}
