//! Process 8, elections and the two committees (path 4.4).
//!
//! Every term the villagers' committee is elected. Candidates are the branch's nominee (the
//! secretary under "one shoulder", otherwise the most competent other active member) and
//! ambitious elites: the richest economic elite (ambition rises with `market` and with the
//! state funds at stake), the head of the largest clan (with clan strength), and a bully
//! (with the faction's power). Joint vetting strikes candidates with a record, and bullies,
//! with its strictness. Residents vote with a probability rising with `civic`, trust in the
//! branch and the committee's real autonomy (why vote for a powerless body); migrants vote
//! rarely. Each voter picks the candidate of highest random utility (McFadden 1974): clan
//! loyalty, competence, the branch's endorsement weighted by the voter's trust, fear of the
//! bully, and any vote-buying offer the voter accepts (likelier at high `market`). The
//! supervision committee's monitors observe the election: each offer is caught with a
//! probability rising with their number, and a candidate caught buying is disqualified where
//! the township enforces it. Without monitors vote buying goes unpoliced. The winner's type
//! sets who controls the committee; a narrow margin marks it contested. The arrangement sets
//! the structural concentration of power.

use super::competence;
use crate::model::agents::{flag, part, residence, role, AgentsMut};
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

/// The branch's nominee: the secretary under "one shoulder", otherwise the most competent
/// other active resident member (the secretary if there is none).
pub fn nominee(arr: Arrangement, secretary: u32, retire_months: u16, a: &AgentsMut) -> Option<usize> {
    let active = |i: usize| a.flags[i] & flag::PARTY != 0 && a.age[i] < retire_months;
    let sec =
        (secretary != NONE && a.residence[secretary as usize] == residence::RESIDENT).then_some(secretary as usize);
    match arr {
        Arrangement::OneShoulder if sec.is_some() => sec,
        _ => best(a, |i| active(i) && Some(i) != sec, |i| competence(a, i)).or(sec),
    }
}

/// Run an election in one village.
pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
    let sc = ctx.sc;
    let g = &sc.governance;
    let sg = &sc.paths.self_government;
    let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Elections);
    let retire = super::party::retire_months(sc);
    let price = 0.1 * ctx.rural_wage;
    // Election observers: the resident monitors of the supervision committee.
    let observers = (0..a.len())
        .filter(|&i| a.residence[i] == residence::RESIDENT && a.role[i] == role::MONITOR)
        .count() as i32;
    let p_detect = 1.0 - (1.0 - sg.observer_detect).powi(observers);
    // Joint vetting strikes candidates with a record, and bullies (counted as disqualified).
    let mut struck = 0u32;
    let mut vetted = |i: usize, rng: &mut crate::model::rng::Stream| {
        let clean = (a.flags[i] & flag::RECORD == 0 && a.role[i] != role::BULLY) || !chance(rng, ctx.vetting);
        struck += !clean as u32;
        clean
    };
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
    let arr = crate::model::village_arrangement(sc, v.id, ctx.t);
    v.committee.arrangement = arr;
    if let Some(n) = nominee(arr, sec, retire, a) {
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
        a.market[i] as f64 * reach
    };
    if let Some(e) = best(a, |i| a.role[i] == role::ECONOMIC, |i| a.wealth[i] as f64) {
        if chance(&mut rng, a.market[e] as f64 * stakes) && vetted(e, &mut rng) {
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
        if chance(&mut rng, (1.5 * g.clan_strength * share).min(1.0)) && vetted(c, &mut rng) {
            cands.push(Candidate {
                slot: c,
                kind: Controller::Clan,
                competence: competence(a, c),
                offer: buy(c),
                price,
            });
        }
    }
    {
        if let Some(b) = best(a, |i| a.role[i] == role::BULLY, |i| a.wealth[i] as f64) {
            if chance(&mut rng, (2.0 * v.bully_power as f64).min(1.0)) && vetted(b, &mut rng) {
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
    v.stats.disqualified = struck;
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
    let mut caught = [false; 4];
    let autonomy = v.committee.autonomy as f64;
    let bully_fear = 1.5 * v.bully_power as f64;
    let legitimacy = v.branch.legitimacy as f64;
    let mut voters = 0u32;
    for i in 0..a.len() {
        let r = a.residence[i];
        if r == residence::VACANT {
            continue;
        }
        let tb = a.trust_branch[i] as f64;
        let habit = if a.part[i] & part::VOTED_LAST != 0 {
            g.vote_habit
        } else {
            0.0
        };
        a.part[i] &= !part::VOTED_LAST;
        let mut p = g.turnout_base + habit + 0.45 * a.civic[i] as f64 + 0.25 * tb + 0.35 * autonomy;
        if r == residence::MIGRANT {
            p *= g.migrant_turnout;
        }
        if !chance(&mut rng, p.clamp(0.0, 1.0)) {
            continue;
        }
        voters += 1;
        a.part[i] |= part::VOTED | part::VOTED_LAST;
        let (mut top, mut top_u) = (0usize, f64::NEG_INFINITY);
        for (k, c) in cands.iter().enumerate() {
            let mut u = 2.0 * c.competence + gumbel(&mut rng);
            if a.clan[c.slot] == a.clan[i] {
                // A clan head commands more loyalty than an ordinary clansman.
                u += g.clan_strength * if c.kind == Controller::Clan { 1.5 } else { 0.5 };
            }
            match c.kind {
                Controller::Branch => u += 2.0 * tb + legitimacy,
                Controller::Bully => u += bully_fear * (1.0 - tb),
                _ => {}
            }
            if c.offer > 0.0 && chance(&mut rng, c.offer) {
                spent[k] += c.price;
                caught[k] |= chance(&mut rng, p_detect);
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
    // A candidate whose vote buying the observers caught is disqualified where the township
    // enforces it, and gets a record.
    let mut out = [false; 4];
    for (k, c) in cands.iter().enumerate() {
        if caught[k] && chance(&mut rng, g.court) {
            out[k] = true;
            a.flags[c.slot] |= flag::RECORD;
            v.stats.disqualified += 1;
        }
    }
    let mut order: Vec<usize> = (0..cands.len()).filter(|&k| !out[k]).collect();
    if order.is_empty() {
        order = (0..cands.len()).collect();
    }
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
    let previous = v.committee.director;
    if previous != NONE && previous != sec && previous != win.slot as u32 && a.role[previous as usize] == role::CADRE {
        a.role[previous as usize] = role::ORDINARY;
    }
    v.committee.director = win.slot as u32;
    v.committee.controller = win.kind;
    v.committee.contested = cands.len() > 1 && margin < g.contested_margin;
    v.committee.term_start = ctx.year;
    // "One shoulder" concentrates power only when one person really holds both posts.
    let arrangement = match arr {
        Arrangement::OneShoulder if win.slot as u32 != sec => Arrangement::CrossServing,
        arr => arr,
    };
    v.committee.concentration = arrangement_concentration(arrangement, win.kind == Controller::Branch);
    if win.kind == Controller::Branch {
        a.role[win.slot] = role::CADRE;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{occupied, residents, run_months, scenario, with_village, world};
    use crate::model::World;

    /// A village where only the branch nominee and one rich, market-minded economic elite can
    /// stand (no clan loyalty, no bullies), and every voter is market-minded.
    fn market_village() -> World {
        let mut w = world(400);
        w.scenario.governance.clan_strength = 0.0;
        w.villages[0].bully_power = 0.0;
        with_village(&mut w, 0, |_, a| {
            for i in occupied(a) {
                a.market[i] = 0.95;
                a.trust_branch[i] = 0.5;
            }
            let econ: Vec<usize> = (0..a.len()).filter(|&i| a.role[i] == role::ECONOMIC).collect();
            assert!(!econ.is_empty(), "an economic elite at initialisation");
            for &i in &econ {
                a.wealth[i] = 1e7;
                a.flags[i] &= !flag::PARTY;
            }
        });
        w
    }

    /// Elections at steps `steps` from the same state with `monitors` residents on the
    /// supervision committee observing: (economic elite wins, bought votes, disqualified).
    fn economic_wins(w: &World, monitors: usize, steps: std::ops::Range<u32>) -> (u32, u32, u32) {
        let (mut wins, mut bought, mut out) = (0, 0, 0);
        for step in steps {
            let mut w = w.clone();
            w.scenario.paths.self_government.observer_detect = 0.05;
            w.scenario.governance.court = 1.0;
            with_village(&mut w, 0, |_, a| {
                for &i in residents(a).iter().rev().take(monitors) {
                    a.role[i] = role::MONITOR;
                }
            });
            let stats = run_months(&mut w, step..step + 1, |c, v, a| {
                c.transfers = 1000.0;
                run(c, v, a)
            });
            out += stats[0].disqualified;
            if w.villages[0].committee.controller == Controller::Economic {
                wins += 1;
            }
            bought += stats[0].bought_votes;
        }
        (wins, bought, out)
    }

    #[test]
    fn monitors_catch_vote_buying_and_keep_buyers_out() {
        let w = market_village();
        let (free, bought_free, out_free) = economic_wins(&w, 0, 1..11);
        let (policed, bought_policed, out_policed) = economic_wins(&w, 5, 1..11);
        assert!(bought_free > 0 && bought_policed > 0, "offers are made either way");
        assert_eq!(out_free, 0, "without monitors nobody is caught");
        assert!(out_policed >= 5, "caught {out_policed}");
        assert!(
            free >= policed + 5,
            "economic wins: no monitors {free}, monitors {policed}"
        );
    }

    #[test]
    fn turnout_rises_with_committee_autonomy() {
        let turnout = |autonomy: f32| {
            let mut w = world(400);
            w.villages[0].committee.autonomy = autonomy;
            let stats = run_months(&mut w, 1..2, |c, v, a| run(c, v, a));
            assert_eq!(stats[0].election, 1);
            assert_eq!(stats[0].eligible_voters, w.villages[0].alive);
            w.villages[0].turnout
        };
        let (low, high) = (turnout(0.0), turnout(1.0));
        assert!(high > low + 0.15, "turnout {low} -> {high}");
    }

    /// An election in which only the branch nominee can stand, under `arr`.
    fn branch_only(arr: Arrangement) -> (World, u32) {
        let mut w = world(400);
        w.scenario.paths.self_government.arrangement = arr;
        w.scenario.governance.clan_strength = 0.0;
        w.villages[0].bully_power = 0.0;
        let sec = w.villages[0].branch.secretary;
        assert_ne!(sec, NONE, "a secretary at initialisation");
        run_months(&mut w, 1..2, |c, v, a| {
            c.transfers = 0.0;
            run(c, v, a)
        });
        (w, sec)
    }

    #[test]
    fn one_shoulder_nominates_the_secretary_and_concentrates_power() {
        let (w, sec) = branch_only(Arrangement::OneShoulder);
        let c = &w.villages[0].committee;
        assert_eq!(c.controller, Controller::Branch);
        assert_eq!(c.director, sec);
        assert_eq!(c.concentration, 1.0);
        assert!(!c.contested, "a single candidate is not contested");
        assert_eq!(w.agents.role[sec as usize], role::CADRE);
    }

    #[test]
    fn separate_committees_nominate_another_member() {
        let (mut w, sec) = branch_only(Arrangement::Separate);
        let c = w.villages[0].committee.clone();
        assert_eq!(c.controller, Controller::Branch);
        assert_ne!(c.director, sec);
        assert_ne!(c.director, NONE);
        assert!((c.concentration - 0.2).abs() < 1e-6);
        with_village(&mut w, 0, |_, a| {
            let d = c.director as usize;
            assert!(a.flags[d] & flag::PARTY != 0 && a.residence[d] == residence::RESIDENT);
            assert_eq!(a.role[d], role::CADRE);
        });
    }

    #[test]
    fn nobody_standing_leaves_the_branch_in_nominal_control() {
        let mut w = world(300);
        w.scenario.governance.clan_strength = 0.0;
        w.villages[0].bully_power = 0.0;
        w.villages[0].branch.secretary = NONE;
        with_village(&mut w, 0, |_, a| {
            for i in 0..a.len() {
                a.flags[i] &= !flag::PARTY;
            }
        });
        run_months(&mut w, 1..2, |c, v, a| {
            c.transfers = 0.0;
            run(c, v, a)
        });
        let v = &w.villages[0];
        assert_eq!(v.committee.director, NONE);
        assert_eq!(v.committee.controller, Controller::Branch);
        assert_eq!(v.turnout, 0.0);
    }

    #[test]
    fn clan_loyalty_elects_the_head_of_a_dominant_clan() {
        // A clan of 60% of the village, strong clan loyalty, little trust in the branch: over
        // ten villages (seeds), the clan head wins most elections, and a clan winner is always
        // the head of the largest clan. Without clan loyalty the clan never wins.
        let elect = |seed: u64, strength: f64| {
            let mut sc = scenario(400);
            sc.run.seed = seed;
            sc.population.largest_clan_share = 0.6;
            sc.governance.clan_strength = strength;
            let mut w = World::new(&sc);
            w.villages[0].bully_power = 0.0;
            with_village(&mut w, 0, |_, a| {
                for i in residents(a) {
                    a.trust_branch[i] = 0.2;
                }
            });
            run_months(&mut w, 1..2, |c, v, a| {
                c.transfers = 0.0;
                run(c, v, a)
            });
            let v = &w.villages[0];
            let d = v.committee.director;
            (
                v.committee.controller,
                (d != NONE).then(|| (w.agents.role[d as usize], w.agents.clan[d as usize])),
            )
        };
        let mut clan_wins = 0;
        for seed in 1..=10 {
            let (controller, director) = elect(seed, 3.0);
            if controller == Controller::Clan {
                clan_wins += 1;
                assert_eq!(
                    director,
                    Some((role::CLAN, 0)),
                    "seed {seed}: the head of the largest clan"
                );
            }
            assert_ne!(elect(seed, 0.0).0, Controller::Clan, "seed {seed}: no clan loyalty");
        }
        assert!(clan_wins >= 6, "the clan won {clan_wins} of 10 elections");
    }
}
