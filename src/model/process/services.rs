//! Process 6, public goods and services (path 4.2).
//!
//! Service quality is built from last month's allocated funds (state transfers and the
//! services programme's building share, after capture and formalism, process 9) and
//! villagers' labour contributions, and depreciates. Contributions are a public goods game
//! with conditional cooperation (Fischbacher, Gaechter and Fehr 2001): a resident contributes
//! with a probability rising with `civic` and with last month's cooperation rate, falling
//! with `market`, and raised by sanctions, which are stronger where monitors make free riding
//! visible. The mutual-help platform, run with the programme's delivered platform money,
//! makes matching attempts: each searches the village for a willing helper for one in need
//! (the elderly, the sick); informal help searches one's own ties. Matches raise `civic` on
//! both sides (reciprocity); a need met by the branch's platform raises trust in the branch,
//! an unmet need lowers it. A hollowed village has few willing helpers: the platform can fail.

use crate::model::agents::{part, residence, AgentsMut};
use crate::model::rng::{chance, monthly, stream, Events, Keyed, Network, Phase};
use crate::model::{StepCtx, Village};
use crate::scenario::PolicyPath;

use super::disputes::units;
use super::experience;

crate::kernel! {
    /// Run public goods and services for one village.
    pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
        let sc = ctx.sc;
        let sp = &sc.paths.services;
        let g = &sc.governance;
        let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Services);
        let net = Network::new(sc.run.seed, v.id, a.len(), sc.values.ties, sc.values.rewire);
        let coop_prev = v.cooperation as f64;
        let sanction = g.base_sanction + g.monitor_sanction * v.supervision as f64;
        let (old_lo, old_hi) = (16 * 12u16, 75 * 12u16);
        let (mut residents, mut eligible, mut contributors) = (0u32, 0u32, 0u32);
        // One keyed draw per slot and no unpredictable branch: ineligible slots never hit.
        let draws = Keyed::new(sc.run.seed, v.id, ctx.step, Phase::Services);
        // The probability is computed in f32 and compared with the draw's top 24 bits.
        let n = a.len();
        let (res, ages, market, civic) = (&a.residence[..n], &a.age[..n], &a.market[..n], &a.civic[..n]);
        let parts = &mut a.part[..n];
        let (base, slope) = ((sanction as f32) * (0.5 + coop_prev as f32), 0.5 + coop_prev as f32);
        let habit = sp.habit as f32;
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

        let invest = v.funds_for_services + contributors as f64 * sp.contribution;
        let per_resident = invest / residents.max(1) as f64;
        let q = v.service_quality as f64;
        let build = sp.build_rate * (1.0 - q) * per_resident / (per_resident + sp.half_saturation);
        v.service_quality = (q + build - monthly(sp.depreciation) * q).clamp(0.0, 1.0) as f32;

        // Mutual help: the platform's matching attempts this month, from its delivered money.
        let platform_money = v.delivered[PolicyPath::Services.index()] * (1.0 - sp.build_share);
        let mut attempts = units(platform_money, sp.platform_unit_cost, &mut rng);
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
            // The platform takes the need while it has attempts left; else kin may help.
            let platform = attempts > 0;
            if !platform && !chance(&mut rng, sp.informal_help) {
                experience(a.exp_branch, i, -1);
                continue;
            }
            let mut helper = None;
            for _ in 0..sp.helper_tries {
                // The platform searches the whole village; informal help searches one's ties.
                let j = if platform {
                    if attempts == 0 {
                        break;
                    }
                    attempts -= 1;
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
            } else {
                v.stats.informal_matches += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{mean, residents, run_months, total, with_village, world};
    use crate::model::World;

    #[test]
    fn more_funds_raise_service_quality() {
        let quality = |funds: f64| {
            let mut w = world(400);
            w.scenario.paths.services.contribution = 0.0;
            run_months(&mut w, 1..13, |c, v, a| {
                v.funds_for_services = funds;
                run(c, v, a)
            });
            w.villages[0].service_quality
        };
        let (none, some, lots) = (quality(0.0), quality(20_000.0), quality(200_000.0));
        assert!(none < 0.35, "depreciation alone: {none}");
        assert!(some > none + 0.05 && lots > some, "{none} {some} {lots}");
    }

    /// A year of needs with `money` yuan of platform money delivered each month and every
    /// helper's `civic` at `civic`: (platform matches, needs).
    fn platform_year(money: f64, civic: f32) -> (u64, u64) {
        let mut w: World = world(400);
        w.scenario.paths.services.need_sick = 0.1;
        w.scenario.paths.services.informal_help = 0.0;
        with_village(&mut w, 0, |_, a| {
            for i in 0..a.len() {
                a.civic[i] = civic;
            }
        });
        let stats = run_months(&mut w, 1..13, |c, v, a| {
            v.delivered[PolicyPath::Services.index()] = money;
            run(c, v, a)
        });
        (total(&stats, |s| s.platform_matches), total(&stats, |s| s.needs))
    }

    #[test]
    fn the_platform_matches_only_with_its_delivered_money() {
        let (none, needs) = platform_year(0.0, 0.8);
        let (some, _) = platform_year(20_000.0, 0.8);
        assert!(needs > 100);
        assert_eq!(none, 0, "no money, no platform");
        assert!(some > needs / 3, "matches {some} of {needs}");
    }

    #[test]
    fn the_platform_fails_without_willing_helpers() {
        let (matches, needs) = platform_year(20_000.0, 0.0);
        assert!(needs > 100);
        assert_eq!(matches, 0, "nobody willing to help: the platform cannot match");
    }

    #[test]
    fn monitors_sanctions_raise_cooperation() {
        let coop = |supervision: f32| {
            let mut w = world(400);
            let stats = run_months(&mut w, 1..13, |c, v, a| {
                v.supervision = supervision;
                run(c, v, a)
            });
            let s = &stats[11];
            s.contributors as f64 / s.eligible as f64
        };
        let (none, full) = (coop(0.0), coop(1.0));
        assert!(full > none + 0.05, "cooperation {none} -> {full}");
    }

    #[test]
    fn public_spirit_and_market_shape_contributions() {
        let coop = |civic: f32, market: f32| {
            let mut w = world(400);
            with_village(&mut w, 0, |_, a| {
                for &i in &residents(a) {
                    a.civic[i] = civic;
                    a.market[i] = market;
                }
            });
            let stats = run_months(&mut w, 1..4, |c, v, a| run(c, v, a));
            let s = &stats[2];
            s.contributors as f64 / s.eligible as f64
        };
        let base = coop(0.5, 0.5);
        assert!(coop(0.8, 0.3) > base + 0.1, "civic raises contributions");
        assert!(coop(0.5, 0.9) < base - 0.1, "market lowers contributions");
    }

    #[test]
    fn helping_raises_civic_on_both_sides() {
        let mut w: World = world(400);
        w.scenario.paths.services.need_sick = 0.3;
        w.scenario.paths.services.informal_help = 1.0;
        let before = with_village(&mut w, 0, |_, a| mean(a.civic, &residents(a)));
        let stats = run_months(&mut w, 1..13, |c, v, a| run(c, v, a));
        let after = with_village(&mut w, 0, |_, a| mean(a.civic, &residents(a)));
        assert!(total(&stats, |s| s.informal_matches) > 100);
        assert!(after > before, "civic {before} -> {after}");
    }
}
