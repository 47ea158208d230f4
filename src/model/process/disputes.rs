//! Process 5, disputes and order (path 4.1, legal services).
//!
//! Residents raise disputes at a rate rising with `market`. The stronger side may call on the
//! bully faction (with a probability rising with its power). The raiser brings the dispute
//! to the branch with a probability rising with trust in it; if a mediation unit is free
//! (the branch's own people's mediation, in proportion to its effective capacity, then the
//! units the legal programme delivered) the branch mediates, and the stronger side accepts
//! when the settlement can be enforced: by a capable branch, or, with a legal programme unit,
//! by the threat of a court case; the bully faction's power deters acceptance. A refused or
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

/// Weight of the "left unresolved" outcome against clan force.
pub const UNRESOLVED_WEIGHT: f64 = 0.5;

/// Probability that the township acted unlawfully in a villager-government conflict.
pub const UNLAWFUL: f64 = 0.5;

/// Units a budget buys this month: the whole units, and one more with the chance of the
/// fraction left (so the expected number is exact).
pub fn units(budget: f64, unit_cost: f64, rng: &mut Stream) -> u32 {
    let x = (budget / unit_cost.max(1e-9)).max(0.0);
    let whole = x.floor();
    whole as u32 + chance(rng, x - whole) as u32
}

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
        // Mediation: brought to the branch, a unit free, accepted by the stronger side.
        let brought = chance(&mut rng, g.bring_to_branch * (0.3 + 0.7 * a.trust_branch[i] as f64));
        let mut mediated = false;
        if brought && (own_units > 0 || legal_units > 0) {
            let court = own_units == 0;
            if court {
                legal_units -= 1;
            } else {
                own_units -= 1;
            }
            let credible = if court { cap.max(g.court) } else { cap };
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
            if chance(&mut rng, 1.0 - v.bully_power as f64) {
                reports += 1;
                let supported = legal_units > 0;
                legal_units = legal_units.saturating_sub(supported as u32);
                let p = g.court * if supported { 1.0 } else { 0.3 };
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
        if rng.f64() * (w_clan + UNRESOLVED_WEIGHT) < w_clan {
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
            if aided && chance(&mut rng, UNLAWFUL) {
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

