//! Process 8, elections and the two committees (path 4.4).
//!
//! Every term the villagers' committee is elected. Candidates are the branch's nominee (the
//! secretary under "one shoulder", otherwise the most competent other active member) and
//! ambitious elites: the richest economic elite (ambition rises with `market` and with the
//! state funds at stake), the head of the largest clan (with clan strength), and a bully
//! (with the faction's power). Residents vote with a probability rising with `civic`, trust in
//! the branch and the committee's real autonomy (why vote for a powerless body), raised by
//! self-government mobilisation; migrants vote rarely. Each voter picks the candidate of
//! highest random utility (McFadden 1974): clan loyalty, competence, the branch's endorsement
//! weighted by the voter's trust, fear of the bully, and any vote-buying offer the voter
//! accepts (likelier at high `market`; offers are deterred by policing under self-government).
//! The winner's type sets who controls the committee; a narrow margin marks it contested.
//! The arrangement sets the structural concentration of power.

use crate::model::agents::{flag, residence, role, AgentsMut};
use crate::model::rng::{chance, gumbel, stream, Phase};
use crate::model::{arrangement_concentration, Controller, StepCtx, Village, NONE};
use crate::scenario::Arrangement;

/// A candidate for committee director.
#[derive(Debug, Clone, Copy)]
pub struct Candidate {
    /// Slot.
    pub slot: usize,
    /// Whose candidate.
    pub kind: Controller,
    /// Competence in [0,1].
    pub competence: f64,
    /// Probability of making a vote-buying offer to each voter.
    pub offer: f64,
    /// Yuan per bought vote.
    pub price: f64,
}

/// Competence of villager `i`: education and public spirit.
pub fn competence(a: &AgentsMut, i: usize) -> f64 {
    0.6 * a.edu[i] as f64 / 4.0 + 0.4 * a.civic[i] as f64
}

fn best<F: Fn(usize) -> bool>(a: &AgentsMut, keep: F, score: impl Fn(usize) -> f64) -> Option<usize> {
    let mut out: Option<(usize, f64)> = None;
    for i in 0..a.len() {
        if a.residence[i] == residence::RESIDENT && keep(i) {
            let s = score(i);
            if out.is_none_or(|(_, b)| s > b) {
                out = Some((i, s));
            }
        }
    }
    out.map(|(i, _)| i)
}

/// Run an election in one village.
pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
    let sc = ctx.sc;
    let g = &sc.governance;
    let sg = &sc.paths.self_government;
    let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Elections);
    let retire = (g.retire_age * 12.0) as u16;
    let policing = (0.05 + sg.policing_effect * ctx.self_gov).clamp(0.0, 1.0);
    let price = 0.1 * ctx.rural_wage;
    let mut eligible = 0u32;
    let mut clan_count = [0u32; 256];
    for i in 0..a.len() {
        if a.residence[i] != residence::VACANT {
            eligible += 1;
        }
        if a.residence[i] == residence::RESIDENT {
            clan_count[a.clan[i] as usize] += 1;
        }
    }
    let residents: u32 = clan_count.iter().sum();

    let mut cands: Vec<Candidate> = Vec::with_capacity(4);
    let sec = v.branch.secretary;
    let active = |i: usize| a.flags[i] & flag::PARTY != 0 && a.age[i] < retire;
    let nominee = match sg.arrangement {
        Arrangement::OneShoulder if sec != NONE => Some(sec as usize),
        _ => best(a, |i| active(i) && i as u32 != sec, |i| competence(a, i)).or((sec != NONE).then_some(sec as usize)),
    };
    if let Some(n) = nominee {
        let c = 0.5 * competence(a, n) + 0.5 * v.branch.capacity as f64;
        cands.push(Candidate {
            slot: n,
            kind: Controller::Branch,
            competence: c,
            offer: 0.0,
            price,
        });
    }
    let stakes = (ctx.transfers / 300.0).min(1.0);
    let buy = |i: usize| {
        let reach = (a.wealth[i] as f64 / (price * eligible.max(1) as f64)).min(1.0);
        a.market[i] as f64 * (1.0 - policing) * reach
    };
    if let Some(e) = best(a, |i| a.role[i] == role::ECONOMIC, |i| a.wealth[i] as f64) {
        if chance(&mut rng, a.market[e] as f64 * stakes) {
            cands.push(Candidate {
                slot: e,
                kind: Controller::Economic,
                competence: (competence(a, e) + 0.2).min(1.0),
                offer: buy(e),
                price,
            });
        }
    }
    if let Some(c) = best(
        a,
        |i| a.role[i] == role::CLAN,
        |i| clan_count[a.clan[i] as usize] as f64,
    ) {
        let share = clan_count[a.clan[c] as usize] as f64 / residents.max(1) as f64;
        if chance(&mut rng, (1.5 * g.clan_strength * share).min(1.0)) {
            cands.push(Candidate {
                slot: c,
                kind: Controller::Clan,
                competence: competence(a, c),
                offer: buy(c),
                price,
            });
        }
    }
    if v.bully_power > 0.15 {
        if let Some(b) = best(a, |i| a.role[i] == role::BULLY, |i| a.wealth[i] as f64) {
            if chance(&mut rng, (2.0 * v.bully_power as f64).min(1.0)) {
                cands.push(Candidate {
                    slot: b,
                    kind: Controller::Bully,
                    competence: 0.3 * competence(a, b),
                    offer: buy(b),
                    price,
                });
            }
        }
    }
    v.stats.election = 1;
    v.stats.eligible_voters = eligible;
    if cands.is_empty() {
        // Nobody stands: the township appoints; the branch keeps nominal control.
        v.committee.director = NONE;
        v.committee.controller = Controller::Branch;
        v.committee.contested = false;
        v.committee.term_start = ctx.year;
        v.turnout = 0.0;
        return;
    }

    let mut votes = [0u32; 4];
    let mut spent = [0.0f64; 4];
    let autonomy = v.committee.autonomy as f64;
    let mobilise = sg.turnout_effect * ctx.self_gov;
    let bully_fear = 1.5 * v.bully_power as f64;
    let mut voters = 0u32;
    for i in 0..a.len() {
        let r = a.residence[i];
        if r == residence::VACANT {
            continue;
        }
        let tb = a.trust_branch[i] as f64;
        let mut p = 0.05 + 0.45 * a.civic[i] as f64 + 0.25 * tb + 0.35 * autonomy + mobilise;
        if r == residence::MIGRANT {
            p *= 0.25;
        }
        if !chance(&mut rng, p.clamp(0.0, 1.0)) {
            continue;
        }
        voters += 1;
        a.part[i] |= crate::model::agents::part::VOTED;
        let (mut top, mut top_u) = (0usize, f64::NEG_INFINITY);
        for (k, c) in cands.iter().enumerate() {
            let mut u = 2.0 * c.competence + gumbel(&mut rng);
            if a.clan[c.slot] == a.clan[i] {
                // A clan head commands more loyalty than an ordinary clansman.
                u += g.clan_strength * if c.kind == Controller::Clan { 1.5 } else { 0.5 };
            }
            match c.kind {
                Controller::Branch => u += 2.5 * tb,
                Controller::Bully => u += bully_fear * (1.0 - tb),
                _ => {}
            }
            if c.offer > 0.0 && chance(&mut rng, c.offer) {
                spent[k] += c.price;
                if chance(&mut rng, a.market[i] as f64) {
                    u += 2.5;
                    v.stats.bought_votes += 1;
                }
            }
            if u > top_u {
                top = k;
                top_u = u;
            }
        }
        votes[top] += 1;
    }
    for (k, c) in cands.iter().enumerate() {
        a.wealth[c.slot] = (a.wealth[c.slot] as f64 - spent[k]).max(0.0) as f32;
    }
    let mut order: Vec<usize> = (0..cands.len()).collect();
    order.sort_by(|&x, &y| votes[y].cmp(&votes[x]).then(x.cmp(&y)));
    let win = cands[order[0]];
    let second = order.get(1).map(|&k| votes[k]).unwrap_or(0);
    let margin = if voters > 0 {
        (votes[order[0]] - second) as f64 / voters as f64
    } else {
        0.0
    };
    v.stats.voters = voters;
    v.turnout = if eligible > 0 {
        voters as f32 / eligible as f32
    } else {
        0.0
    };
    v.committee.director = win.slot as u32;
    v.committee.controller = win.kind;
    v.committee.contested = cands.len() > 1 && margin < g.contested_margin;
    v.committee.term_start = ctx.year;
    v.committee.concentration = arrangement_concentration(sg.arrangement, win.kind == Controller::Branch);
    if win.kind == Controller::Branch {
        a.role[win.slot] = role::CADRE;
    }
}
