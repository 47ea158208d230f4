//! Process 11, party organisation.
//!
//! Monthly: a vacant, departed, retired or dead secretary is replaced by the most competent
//! active member (younger members preferred), and capacity follows the branch: the number of
//! active resident members relative to the target, their age (members 60+ count half) and
//! education, and the secretary's competence. Legitimacy is the slow average of residents'
//! trust. Yearly (December): recruitment among young resident villagers with high `civic`
//! and trust (likelier when the branch is capable), and the elite roles are refreshed:
//! economic elites are the richest residents, clan elites head clans above a minimum share,
//! and a strong bully faction draws in new bullies unless rule of law holds it back.

use rand::Rng;

use crate::model::agents::{flag, residence, role, AgentsMut};
use crate::model::rng::{chance, stream, Phase, Stream};
use crate::model::{Scratch, StepCtx, Village, NONE};
use crate::scenario::Scenario;

use super::elections::competence;

/// Run party organisation for one village.
pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut, scratch: &mut Scratch) {
    let sc = ctx.sc;
    let g = &sc.governance;
    let d = v.committee.director;
    if d != NONE && a.residence[d as usize] != residence::RESIDENT {
        v.committee.director = NONE;
    }
    if ctx.yearly {
        let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Party);
        let p = g.recruit_rate * (0.3 + 0.7 * v.branch.capacity as f64);
        let (lo, hi) = (18 * 12u16, (g.recruit_max_age * 12.0) as u16);
        let (civic, trust) = (g.recruit_civic as f32, g.recruit_trust as f32);
        for i in 0..a.len() {
            if a.residence[i] == residence::RESIDENT
                && a.flags[i] & flag::PARTY == 0
                && (lo..=hi).contains(&a.age[i])
                && a.civic[i] >= civic
                && a.trust_branch[i] >= trust
                && chance(&mut rng, p)
            {
                a.flags[i] |= flag::PARTY;
                v.stats.recruits += 1;
            }
        }
        refresh_roles(sc, ctx.legal, &mut rng, v, a, scratch);
    }
    update_branch(sc, v, a);
}

/// Whether slot `i` is an active party member: resident, member, below retirement age.
#[inline]
pub fn is_active(sc: &Scenario, a: &AgentsMut, i: usize) -> bool {
    a.residence[i] == residence::RESIDENT
        && a.flags[i] & flag::PARTY != 0
        && (a.age[i] as f64) < sc.governance.retire_age * 12.0
}

/// Replace the secretary if needed and recompute capacity and legitimacy.
pub fn update_branch(sc: &Scenario, v: &mut Village, a: &mut AgentsMut) {
    let g = &sc.governance;
    let s = v.branch.secretary;
    if s == NONE || !is_active(sc, a, s as usize) {
        if s != NONE && a.role[s as usize] == role::CADRE && v.committee.director != s {
            a.role[s as usize] = role::ORDINARY;
        }
        let mut best: Option<(usize, f64)> = None;
        for i in 0..a.len() {
            if is_active(sc, a, i) {
                let age_pen = if a.age[i] >= 65 * 12 { 0.3 } else { 0.0 };
                let score = competence(a, i) + 0.3 * a.trust_branch[i] as f64 - age_pen;
                if best.is_none_or(|(_, b)| score > b) {
                    best = Some((i, score));
                }
            }
        }
        match best {
            Some((i, _)) => {
                v.branch.secretary = i as u32;
                v.branch.competence = competence(a, i) as f32;
                a.role[i] = role::CADRE;
            }
            None => {
                v.branch.secretary = NONE;
                v.branch.competence = 0.0;
            }
        }
    }
    let (mut n, mut old, mut edu, mut residents, mut trust) = (0u32, 0u32, 0u32, 0u32, 0.0f64);
    for i in 0..a.len() {
        if a.residence[i] != residence::RESIDENT {
            continue;
        }
        residents += 1;
        trust += a.trust_branch[i] as f64;
        if is_active(sc, a, i) {
            n += 1;
            edu += a.edu[i] as u32;
            if a.age[i] >= 60 * 12 {
                old += 1;
            }
        }
    }
    let target = g.members_target / 100.0 * residents.max(1) as f64;
    let effective = n as f64 - 0.5 * old as f64;
    let saturation = (effective / target).min(1.0);
    let edu_f = if n > 0 {
        0.6 + 0.4 * edu as f64 / (4.0 * n as f64)
    } else {
        0.0
    };
    let sec_f = if v.branch.secretary != NONE {
        0.4 + 0.6 * v.branch.competence as f64
    } else {
        0.3
    };
    v.branch.capacity = (saturation * edu_f * sec_f).clamp(0.0, 1.0) as f32;
    if residents > 0 {
        let mean = (trust / residents as f64) as f32;
        v.branch.legitimacy = (v.branch.legitimacy + 0.05 * (mean - v.branch.legitimacy)).clamp(0.0, 1.0);
    }
}

/// Refresh the elite roles of a village (yearly, and at initialisation).
pub fn refresh_roles(
    sc: &Scenario,
    legal: f64,
    rng: &mut Stream,
    v: &mut Village,
    a: &mut AgentsMut,
    scratch: &mut Scratch,
) {
    let g = &sc.governance;
    let mut clan_count = [0u32; 256];
    scratch.val.clear();
    for i in 0..a.len() {
        if a.role[i] == role::ECONOMIC || a.role[i] == role::CLAN {
            a.role[i] = role::ORDINARY;
        }
        if a.residence[i] == residence::RESIDENT {
            clan_count[a.clan[i] as usize] += 1;
            if a.role[i] == role::ORDINARY {
                scratch.val.push(a.wealth[i]);
            }
        }
    }
    let residents: u32 = clan_count.iter().sum();
    // Economic elites: the richest `economic_elite_share` of residents.
    let k = ((g.economic_elite_share * residents as f64).round() as usize).min(scratch.val.len());
    if k > 0 {
        let n = scratch.val.len();
        let (_, kth, _) = scratch.val.select_nth_unstable_by(n - k, |x, y| x.total_cmp(y));
        let threshold = *kth;
        let mut placed = 0;
        for i in 0..a.len() {
            if placed < k
                && a.residence[i] == residence::RESIDENT
                && a.role[i] == role::ORDINARY
                && a.wealth[i] >= threshold
            {
                a.role[i] = role::ECONOMIC;
                placed += 1;
            }
        }
    }
    // Clan elites: the eldest resident man aged 35-80 of each clan above the minimum share.
    for (c, &count) in clan_count.iter().enumerate().take(v.clans.max(1) as usize) {
        if residents == 0 || (count as f64 / residents as f64) < g.clan_elite_min_share {
            continue;
        }
        let mut head: Option<usize> = None;
        for i in 0..a.len() {
            if a.residence[i] == residence::RESIDENT
                && a.clan[i] as usize == c
                && a.flags[i] & flag::FEMALE == 0
                && (35 * 12..=80 * 12).contains(&a.age[i])
                && a.role[i] == role::ORDINARY
                && head.is_none_or(|h| a.age[i] > a.age[h])
            {
                head = Some(i);
            }
        }
        if let Some(h) = head {
            a.role[h] = role::CLAN;
        }
    }
    // A strong bully faction recruits.
    if v.bully_power > 0.2 && chance(rng, v.bully_power as f64 * (1.0 - 0.5 * legal).max(0.0)) && !a.is_empty() {
        for _ in 0..20 {
            let i = rng.random_range(0..a.len());
            if a.residence[i] == residence::RESIDENT
                && a.role[i] == role::ORDINARY
                && a.flags[i] & flag::FEMALE == 0
                && (18 * 12..50 * 12).contains(&a.age[i])
                && a.market[i] > 0.5
            {
                a.role[i] = role::BULLY;
                break;
            }
        }
    }
}
