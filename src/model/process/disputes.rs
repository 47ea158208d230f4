//! Process 5, disputes and order (path 4.1, legal services).
//!
//! Residents raise disputes at a rate rising with `market`. The stronger side may call on the
//! bully faction (with a probability rising with its power). The raiser brings the dispute
//! to the branch with a probability rising with trust in it; if a mediation unit is free
//! (the branch's own people's mediation, in proportion to its effective capacity, then the
//! units the legal programme delivered) the branch mediates, and the stronger side accepts
//! when the settlement carries weight: the village's own social pressure, more with a capable
//! branch behind it, or, with a legal programme unit, the threat of a court case; the bully
//! faction's power deters acceptance. A refused or
//! unmediated dispute goes to force (the bully, or the larger clan) or stays unresolved.
//! Order is the slow average of the share of disputes settled fairly.
//!
//! A victim of the bully may report it; with a legal unit to support the complaint a report
//! is prosecuted with the court's probability (less without one); a prosecuted bully loses
//! the role and gets a record, and the faction loses half its power. Villager-government
//! conflicts arise with township pressure; the branch sides with the villager with its stance
//! probability, and a villager it backs may take the case to legal aid: where the township
//! acted unlawfully the case succeeds and the branch keeps its standing, otherwise siding
//! with the villager costs it standing with the township. Units left after disputes hear
//! villagers' demands, which the committee then resolves or fails to (process 9).
//!
//! No path intensity appears here: the programme acts only through the units its delivered
//! money bought, and each unit works only through villagers' and elites' responses.

use crate::model::agents::{flag, part, residence, role, AgentsMut};
use crate::model::rng::{chance, monthly, stream, Events, Network, Phase, Stream};
use crate::model::{StepCtx, Village};
use crate::scenario::PolicyPath;

use super::{effective_capacity, experience};

/// Units a budget buys this month: the whole units, and one more with the chance of the
/// fraction left (so the expected number is exact).
pub fn units(budget: f64, unit_cost: f64, rng: &mut Stream) -> u32 {
    let x = (budget / unit_cost.max(1e-9)).max(0.0);
    let whole = x.floor();
    whole as u32 + chance(rng, x - whole) as u32
}

crate::kernel! {
    /// Run disputes for one village.
    pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
        let sc = ctx.sc;
        let g = &sc.governance;
        let lp = &sc.paths.legal;
        let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Disputes);
        let net = Network::new(sc.run.seed, v.id, a.len(), sc.values.ties, sc.values.rewire);

        // Residents by clan, without branches. Slots are grouped by clan, so four interleaved
        // tallies (slot i into tally i mod 4) keep consecutive increments independent.
        let mut tally = [[0u32; 256]; 4];
        let mut bullies = 0u32;
        let n = a.len();
        let (res_col, clans, roles) = (&a.residence[..n], &a.clan[..n], &a.role[..n]);
        for i in 0..n {
            let resident = (res_col[i] == residence::RESIDENT) as u32;
            tally[i & 3][clans[i] as usize] += resident;
            bullies += resident & (roles[i] == role::BULLY) as u32;
        }
        let mut clan_count = [0u32; 256];
        for (c, count) in clan_count.iter_mut().enumerate() {
            *count = tally[0][c] + tally[1][c] + tally[2][c] + tally[3][c];
        }
        let residents: u32 = clan_count.iter().sum();
        let res = residents.max(1) as f64;
        let cap = effective_capacity(v);
        let mut own_units = units(g.base_mediation * cap, 1.0, &mut rng);
        let mut legal_units = units(v.delivered[PolicyPath::Legal.index()], lp.unit_cost, &mut rng);
        let bp = v.bully_power as f64;
        let p_bully = if bullies > 0 { (2.0 * bp).min(1.0) } else { 0.0 };
        let p_conflict = monthly(g.conflict_rate * ctx.pressure);
        let stance = v.branch.stance as f64;
        let (mut fair, mut disputes) = (0u32, 0u32);
        let (mut reports, mut prosecuted) = (0u32, 0u32);
        // Disputes: candidates at the largest rate (market 1) by skip-ahead, each kept with the
        // ratio of the villager's own probability to it (thinning: the same Bernoulli law).
        let p_max = monthly(g.dispute_rate * 2.0);
        let mut candidates = Events::new(p_max, a.len());
        while let Some(i) = candidates.next(&mut rng) {
            if a.residence[i] != residence::RESIDENT
                || rng.f64() * p_max >= monthly(g.dispute_rate * 2.0 * a.market[i] as f64)
            {
                continue;
            }
            disputes += 1;
            let j = net.random_tie(i, &mut rng);
            let other = (j != i && a.residence[j] == residence::RESIDENT).then_some(j);
            let bully = chance(&mut rng, p_bully);
            // Mediation: brought to the branch (as far as the villager trusts it) with a unit
            // free; or, failing that, brought to the legal adviser (as far as the villager trusts
            // the state's law, i.e. the government, and dares to: a powerful bully faction deters
            // going outside the village) while a legal unit is free. Accepted by the
            // stronger side with the credibility of the channel.
            let bring = g.bring_to_branch;
            let to_branch = chance(&mut rng, bring * (0.5 + 0.5 * a.trust_branch[i] as f64));
            let channel = if to_branch && own_units > 0 {
                own_units -= 1;
                Some(false)
            } else if legal_units > 0
                && (to_branch || chance(&mut rng, bring * (0.5 + 0.5 * a.trust_gov[i] as f64) * (1.0 - bp)))
            {
                legal_units -= 1;
                Some(true)
            } else {
                None
            };
            let mut mediated = false;
            if let Some(court) = channel {
                // Village mediation carries social weight of its own; a capable branch backs it.
                // A legal unit adds the threat of a court case: the stronger side accepts when
                // either the village's weight or the court's threat persuades it.
                let own = 0.3 + 0.7 * cap;
                let credible = if court {
                    1.0 - (1.0 - own) * (1.0 - g.court)
                } else {
                    own
                };
                let deterred = if bully { bp } else { 0.0 };
                mediated = chance(&mut rng, credible * (1.0 - deterred));
            }
            if mediated {
                v.stats.legal += 1;
                fair += 1;
                experience(a.exp_branch, i, 1);
                if let Some(j) = other {
                    experience(a.exp_branch, j, 1);
                }
                continue;
            }
            if bully {
                v.stats.force += 1;
                experience(a.exp_branch, i, -1);
                v.bully_power = (v.bully_power + g.bully_gain as f32 * (1.0 - v.bully_power)).clamp(0.0, 1.0);
                // The victim may report the bully: deterred by its power; supported by a legal
                // unit if one is left.
                if chance(&mut rng, g.report * (1.0 - v.bully_power as f64)) {
                    reports += 1;
                    let supported = legal_units > 0;
                    legal_units = legal_units.saturating_sub(supported as u32);
                    let p = g.court * if supported { 1.0 } else { 0.2 };
                    if chance(&mut rng, p) {
                        prosecuted += 1;
                        prosecute_one(a, &mut rng);
                        v.bully_power *= 0.5;
                    }
                }
                continue;
            }
            let w_clan = match other {
                Some(j) if a.clan[i] != a.clan[j] => {
                    let (si, sj) = (
                        clan_count[a.clan[i] as usize] as f64 / res,
                        clan_count[a.clan[j] as usize] as f64 / res,
                    );
                    g.clan_strength * (si - sj).abs()
                }
                _ => 0.0,
            };
            if rng.f64() * (w_clan + g.unresolved_weight) < w_clan {
                v.stats.force += 1;
                // The party of the smaller clan loses.
                if let Some(j) = other {
                    let loser = if clan_count[a.clan[i] as usize] < clan_count[a.clan[j] as usize] {
                        i
                    } else {
                        j
                    };
                    experience(a.exp_branch, loser, -1);
                }
            } else {
                v.stats.unresolved += 1;
                experience(a.exp_branch, i, -1);
            }
        }
        if reports > 0 {
            let seen = prosecuted as f32 / reports as f32;
            v.prosecution_memory += 0.2 * (seen - v.prosecution_memory);
        }
        v.stats.bully_reports = reports;
        v.stats.bully_prosecutions = prosecuted;
        // Villager-government conflicts, each resident with the same probability (skip-ahead).
        let mut conflicts = Events::new(p_conflict, a.len());
        while let Some(i) = conflicts.next(&mut rng) {
            if a.residence[i] != residence::RESIDENT {
                continue;
            }
            v.stats.conflicts += 1;
            if chance(&mut rng, stance) {
                v.stats.sided_with_villager += 1;
                experience(a.exp_branch, i, 1);
                // With legal aid, a case where the township acted unlawfully succeeds: the law
                // backs the branch. Otherwise the township holds siding against it.
                let aided = legal_units > 0;
                legal_units = legal_units.saturating_sub(aided as u32);
                if aided && chance(&mut rng, g.unlawful) {
                    v.stats.conflicts_won += 1;
                } else {
                    experience(a.exp_gov, i, -1);
                    v.branch.standing = (v.branch.standing - 0.02).max(0.0);
                }
            } else {
                experience(a.exp_gov, i, -1);
                experience(a.exp_branch, i, -1);
                v.branch.standing = (v.branch.standing + 0.01).min(1.0);
            }
        }
        // Hearing demands with what is left: residents visited at random record a demand.
        let hearings = (own_units as f64 + legal_units as f64) * lp.hearing_share;
        let p_hear = (hearings / res).clamp(0.0, 1.0);
        let mut heard = Events::new(p_hear, a.len());
        while let Some(i) = heard.next(&mut rng) {
            if a.residence[i] == residence::RESIDENT && a.part[i] & part::DEMAND == 0 {
                a.part[i] |= part::DEMAND;
                v.stats.listened += 1;
            }
        }
        v.stats.disputes = disputes;
        if disputes > 0 {
            let w = (disputes as f32 / 20.0).min(1.0) * 0.1;
            v.order = (v.order + w * (fair as f32 / disputes as f32 - v.order)).clamp(0.0, 1.0);
        }
        let mut decay = monthly(g.bully_decay);
        if bullies == 0 {
            decay = decay.max(monthly(1.0));
        }
        v.bully_power = (v.bully_power * (1.0 - decay as f32)).clamp(0.0, 1.0);
    }
}

/// A prosecuted bully (one resident bully, the first in slot order from a random start)
/// loses the role and gets a record.
fn prosecute_one(a: &mut AgentsMut, rng: &mut Stream) {
    let n = a.len();
    if n == 0 {
        return;
    }
    let start = rng.below(n);
    for k in 0..n {
        let i = (start + k) % n;
        if a.residence[i] == residence::RESIDENT && a.role[i] == role::BULLY {
            a.role[i] = role::ORDINARY;
            a.flags[i] |= flag::RECORD;
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{residents, run_months, total, with_village, world};
    use crate::model::World;

    /// A village with frequent disputes and a capable branch (capacity 0.6, no formalism),
    /// everybody trusting it (all disputes are brought), no bullies.
    fn disputing() -> World {
        let mut w = world(400);
        w.scenario.governance.dispute_rate = 3.0;
        w.scenario.governance.base_mediation = 0.0;
        let v = &mut w.villages[0];
        v.branch.capacity = 0.6;
        v.formalism = 0.0;
        v.order = 0.5;
        v.bully_power = 0.0;
        with_village(&mut w, 0, |_, a| {
            for i in 0..a.len() {
                a.trust_branch[i] = 1.0;
                if a.role[i] == role::BULLY {
                    a.role[i] = role::ORDINARY;
                }
            }
        });
        w
    }

    /// A year of disputes with `legal` yuan of legal programme money delivered each month:
    /// (legal share, order at the end, disputes by force, demands heard).
    fn year_with(w: &World, legal: f64) -> (f64, f32, u64, u64) {
        let mut w = w.clone();
        let stats = run_months(&mut w, 1..13, |c, v, a| {
            v.delivered[PolicyPath::Legal.index()] = legal;
            run(c, v, a)
        });
        let n = total(&stats, |s| s.disputes);
        assert!(n > 200, "disputes {n}");
        let settled = total(&stats, |s| s.legal + s.force + s.unresolved);
        assert_eq!(settled, n, "every dispute takes exactly one outcome");
        (
            total(&stats, |s| s.legal) as f64 / n as f64,
            w.villages[0].order,
            total(&stats, |s| s.force),
            total(&stats, |s| s.listened),
        )
    }

    #[test]
    fn delivered_legal_units_mediate_disputes_and_raise_order() {
        let w = disputing();
        let (share0, order0, _, heard0) = year_with(&w, 0.0);
        let (share1, order1, _, heard1) = year_with(&w, 50_000.0);
        assert_eq!(share0, 0.0, "no mediation without units");
        assert!(share1 > 0.3, "legal share {share1}");
        assert!(order1 > order0 + 0.1, "order {order0} -> {order1}");
        assert_eq!(heard0, 0);
        assert!(heard1 > 50, "spare units hear demands: {heard1}");
    }

    #[test]
    fn a_powerful_bully_faction_deters_mediation_where_the_branch_has_no_capacity() {
        // One month, so the faction has no time to be prosecuted away: the share of disputes
        // mediated with legal units, with and without a dominant bully faction.
        let share = |bullied: bool| {
            let mut w = disputing();
            w.scenario.governance.dispute_rate = 12.0;
            w.scenario.governance.court = 0.5;
            w.villages[0].branch.capacity = 0.0;
            if bullied {
                w.villages[0].bully_power = 0.95;
                with_village(&mut w, 0, |_, a| {
                    for &i in residents(a).iter().take(30) {
                        a.role[i] = role::BULLY;
                    }
                });
            }
            let stats = run_months(&mut w, 1..2, |c, v, a| {
                v.delivered[PolicyPath::Legal.index()] = 500_000.0;
                run(c, v, a)
            });
            stats[0].legal as f64 / stats[0].disputes.max(1) as f64
        };
        let (free, bullied) = (share(false), share(true));
        assert!(free > 0.3, "mediation without bullies: {free}");
        assert!(bullied < 0.1 * free, "mediation under the bully: {bullied} vs {free}");
    }

    #[test]
    fn the_branch_stance_decides_whom_it_sides_with() {
        let sided = |stance: f32| {
            let mut w = world(400);
            w.scenario.governance.dispute_rate = 0.0;
            w.scenario.governance.conflict_rate = 6.0;
            w.villages[0].branch.stance = stance;
            let standing0 = w.villages[0].branch.standing;
            let stats = run_months(&mut w, 1..4, |c, v, a| {
                c.pressure = 1.0;
                run(c, v, a)
            });
            let standing = w.villages[0].branch.standing;
            (
                total(&stats, |s| s.sided_with_villager),
                total(&stats, |s| s.conflicts),
                standing - standing0,
            )
        };
        let (gov, n0, up) = sided(0.0);
        let (vil, n1, down) = sided(1.0);
        assert!(n0 > 100 && n1 > 100);
        assert_eq!(gov, 0);
        assert_eq!(vil, n1);
        // Siding with villagers without legal aid costs standing with the township.
        assert!(up > 0.0 && down < 0.0, "standing {up} vs {down}");
    }

    #[test]
    fn reported_bullies_are_prosecuted_more_with_legal_support() {
        let prosecutions = |legal: f64| {
            let mut w = disputing();
            w.villages[0].branch.capacity = 0.0;
            w.villages[0].bully_power = 0.3;
            w.scenario.governance.court = 0.8;
            with_village(&mut w, 0, |_, a| {
                for &i in residents(a).iter().take(20) {
                    a.role[i] = role::BULLY;
                }
            });
            let stats = run_months(&mut w, 1..13, |c, v, a| {
                v.delivered[PolicyPath::Legal.index()] = legal;
                run(c, v, a)
            });
            (
                total(&stats, |s| s.bully_reports),
                total(&stats, |s| s.bully_prosecutions),
            )
        };
        let (r0, p0) = prosecutions(0.0);
        let (r1, p1) = prosecutions(50_000.0);
        assert!(r0 > 10 && r1 > 0, "reports {r0} {r1}");
        assert!(
            p1 as f64 / r1 as f64 > 2.0 * p0 as f64 / r0 as f64,
            "prosecuted {p0}/{r0} vs {p1}/{r1}"
        );
    }

    #[test]
    fn units_are_exact_in_expectation() {
        let mut rng = stream(1, 0, 1, Phase::Disputes);
        let n: u32 = (0..10_000).map(|_| units(250.0, 100.0, &mut rng)).sum();
        assert!(
            (n as f64 / 10_000.0 - 2.5).abs() < 0.02,
            "mean units {}",
            n as f64 / 10_000.0
        );
        assert_eq!(units(0.0, 100.0, &mut rng), 0);
    }
}
