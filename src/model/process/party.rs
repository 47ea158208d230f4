//! Process 11, party organisation, and the party-state's levers.
//!
//! Monthly: a vacant, departed, retired or dead secretary is replaced by the most competent
//! active member (younger members preferred); a first secretary's stay runs down; capacity
//! follows the branch: active resident members relative to the target, their age (members
//! 60+ count half) and education, and the competence of the secretary (or of the first
//! secretary while one is in post). Legitimacy is the slow average of residents' trust.
//!
//! Yearly (December):
//! - **Recruitment** toward the branch's target: while below it, the branch approaches
//!   residents (aged 18 to `recruit_max_age`; under a recruitment plan also extra ones aged
//!   18-35), who accept with a smooth propensity in `civic` and trust in the branch. Where
//!   the young have left there is nobody to approach: the plan fails.
//! - **Co-optation** ("double strong"): with the lever's probability the branch offers an
//!   economic elite membership, and, when the branch is weak, the secretary's post; the elite
//!   accepts with a propensity rising with the stakes (state funds) and their `market`. A
//!   co-opted secretary is capable but benefit-oriented: capture can follow.
//! - **First secretaries**: a village whose branch is weak gets one with the lever's
//!   probability, for `first_secretary_years`, as acting secretary with the competence and
//!   the funds of higher levels; when the stay ends the branch is on its own again.
//! - **The township's assessment**: a branch in low standing may have its secretary replaced.
//! - **Elite roles** are refreshed: economic elites are the richest residents, clan elites
//!   head clans above a minimum share, and a bully faction draws in a recruit with a
//!   propensity rising with its power and falling with the perceived risk of prosecution.

use rand::Rng;

use crate::model::agents::{flag, residence, role, AgentsMut};
use crate::model::rng::{chance, stream, Phase, Stream};
use crate::model::{Scratch, StepCtx, Village, NONE};
use crate::scenario::Scenario;

use super::competence;
use super::culture::logistic;

/// Run party organisation for one village.
pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut, scratch: &mut Scratch) {
    organise(ctx, v, a, scratch);
    let counts = count(ctx.sc, a);
    set_capacity(ctx.sc, v, &counts);
}

/// Process 11 without its last step (capacity and legitimacy from the counts, [`set_capacity`]):
/// the director check, the first secretary's stay, in December recruitment, co-optation,
/// first secretaries, the township's assessment and the refresh of elite roles, and the
/// secretary. The engine runs this, then observation (which counts what [`set_capacity`]
/// needs), then [`set_capacity`]; nothing in between changes those counts, so the result is
/// that of [`run`].
pub fn organise(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut, scratch: &mut Scratch) {
    let sc = ctx.sc;
    let g = &sc.governance;
    let ps = &sc.party_state;
    let d = v.committee.director;
    if d != NONE && a.residence[d as usize] != residence::RESIDENT {
        v.committee.director = NONE;
    }
    if !ctx.hold {
        v.branch.first_secretary_months = v.branch.first_secretary_months.saturating_sub(1);
    }
    if ctx.yearly {
        let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Party);
        let counts = count(sc, a);
        let target = g.members_target / 100.0 * counts.residents.max(1) as f64;
        // While the people are held (a census start's burn-in) so is membership: the initial
        // members are data.
        let short = !ctx.hold && counts.active as f64 + 0.5 < target;
        let per100 = counts.residents as f64 / 100.0;
        if short {
            let approach = |rng: &mut Stream, v: &mut Village, a: &mut AgentsMut, hi: u16| {
                let i = rng.below(a.len().max(1));
                if a.residence[i] == residence::RESIDENT
                    && a.flags[i] & (flag::PARTY | flag::RECORD) == 0
                    && (18 * 12..=hi).contains(&a.age[i])
                {
                    let x = g.recruit_slope
                        * ((a.civic[i] as f64 - g.recruit_civic) + (a.trust_branch[i] as f64 - g.recruit_trust));
                    if chance(rng, logistic(x)) {
                        a.flags[i] |= flag::PARTY;
                        v.stats.recruits += 1;
                    }
                }
            };
            let hi = (g.recruit_max_age * 12.0) as u16;
            let base = super::disputes::units(
                g.recruit_rate * per100 * (0.3 + 0.7 * v.branch.capacity as f64),
                1.0,
                &mut rng,
            );
            for _ in 0..base {
                approach(&mut rng, v, a, hi);
            }
            let plan = super::disputes::units(ctx.recruitment_plan * per100, 1.0, &mut rng);
            for _ in 0..plan {
                approach(&mut rng, v, a, 35 * 12);
            }
        }
        if !ctx.hold {
            co_opt(ctx, v, a, &mut rng);
        }
        if !ctx.burn_in
            && v.branch.first_secretary_months == 0
            && v.branch.capacity < ps.weak_capacity as f32
            && chance(&mut rng, ctx.first_secretaries)
        {
            v.branch.first_secretary_months = (ps.first_secretary_years * 12.0).round().max(1.0) as u16;
            v.stats.first_secretaries += 1;
        }
        if v.branch.standing < 0.3 && v.branch.secretary != NONE && chance(&mut rng, ps.replace_secretary) {
            let s = v.branch.secretary as usize;
            if a.role[s] == role::CADRE && v.committee.director != s as u32 {
                a.role[s] = role::ORDINARY;
            }
            v.branch.secretary = NONE;
            v.stats.secretaries_replaced += 1;
        }
        refresh_roles(sc, &mut rng, v, a, scratch);
    }
    replace_secretary(sc, v, a);
}

/// Co-opting an economic elite: offered membership with the lever's probability; accepts
/// with a propensity rising with the stakes and `market`. When the branch is weak (or has no
/// secretary) a capable co-opted elite becomes secretary.
fn co_opt(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut, rng: &mut Stream) {
    if !chance(rng, ctx.co_opt) {
        return;
    }
    let mut best: Option<(usize, f32)> = None;
    for i in 0..a.len() {
        if a.residence[i] == residence::RESIDENT
            && a.role[i] == role::ECONOMIC
            && a.flags[i] & (flag::PARTY | flag::RECORD) == 0
            && best.is_none_or(|(_, w)| a.wealth[i] > w)
        {
            best = Some((i, a.wealth[i]));
        }
    }
    let Some((i, _)) = best else { return };
    let stakes = (ctx.transfers / 300.0).min(1.0);
    if !chance(rng, (0.2 + 0.5 * stakes + 0.3 * a.market[i] as f64).min(1.0)) {
        return;
    }
    a.flags[i] |= flag::PARTY;
    v.stats.co_opted += 1;
    let weak = v.branch.secretary == NONE || v.branch.capacity < ctx.sc.party_state.weak_capacity as f32;
    if weak && a.edu[i] >= 2 && a.age[i] < super::party::retire_months(ctx.sc) {
        let s = v.branch.secretary;
        if s != NONE && a.role[s as usize] == role::CADRE && v.committee.director != s {
            a.role[s as usize] = role::ORDINARY;
        }
        v.branch.secretary = i as u32;
        v.branch.competence = competence(a, i) as f32;
        a.role[i] = role::CADRE;
    }
}

/// Whether slot `i` is an active party member: resident, member, below retirement age
/// (`age < retire_months`). This is the one definition; the counts of observation, the
/// nominee rule of elections and initialisation all use it or [`retire_months`].
#[inline]
pub fn is_active(sc: &Scenario, a: &AgentsMut, i: usize) -> bool {
    a.residence[i] == residence::RESIDENT && a.flags[i] & flag::PARTY != 0 && a.age[i] < retire_months(sc)
}

/// What capacity and legitimacy are computed from: counts over the residents.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BranchCounts {
    /// Residents.
    pub residents: u32,
    /// Sum of residents' trust in the branch (f64, in slot order).
    pub trust: f64,
    /// Active members.
    pub active: u32,
    /// Active members aged 60+.
    pub old: u32,
    /// Sum of active members' education levels.
    pub edu: u32,
}

/// Replace the secretary if needed and recompute capacity and legitimacy.
pub fn update_branch(sc: &Scenario, v: &mut Village, a: &mut AgentsMut) {
    replace_secretary(sc, v, a);
    let counts = count(sc, a);
    set_capacity(sc, v, &counts);
}

/// Name a new secretary when the post is vacant or its holder is no longer an active member:
/// the most competent active member, younger members preferred.
pub fn replace_secretary(sc: &Scenario, v: &mut Village, a: &mut AgentsMut) {
    let s = v.branch.secretary;
    if s == NONE || !is_active(sc, a, s as usize) {
        if s != NONE && a.role[s as usize] == role::CADRE && v.committee.director != s {
            a.role[s as usize] = role::ORDINARY;
        }
        let mut best: Option<(usize, f64)> = None;
        let retire = retire_months(sc);
        let n = a.len();
        let (res, flags, ages) = (&a.residence[..n], &a.flags[..n], &a.age[..n]);
        for i in 0..n {
            // `is_active`, with the retirement age in whole months.
            if res[i] == residence::RESIDENT && flags[i] & flag::PARTY != 0 && ages[i] < retire {
                let age_pen = if ages[i] >= 65 * 12 { 0.3 } else { 0.0 };
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
}

/// Retirement age in whole months (`governance.retire_age x 12`, rounded up): a member
/// aged `age` months is below retirement age when `age < retire_months`.
pub fn retire_months(sc: &Scenario) -> u16 {
    (sc.governance.retire_age * 12.0).ceil().clamp(0.0, u16::MAX as f64) as u16
}

/// Count residents, their trust, and active members with their age and education.
pub fn count(sc: &Scenario, a: &AgentsMut) -> BranchCounts {
    let retire = retire_months(sc);
    let len = a.len();
    let (res, flags, ages, edus, tb) = (
        &a.residence[..len],
        &a.flags[..len],
        &a.age[..len],
        &a.edu[..len],
        &a.trust_branch[..len],
    );
    let mut c = BranchCounts::default();
    for i in 0..len {
        if res[i] != residence::RESIDENT {
            continue;
        }
        c.residents += 1;
        c.trust += tb[i] as f64;
        let active = (flags[i] & flag::PARTY != 0) & (ages[i] < retire);
        c.active += active as u32;
        c.edu += edus[i] as u32 * active as u32;
        c.old += (active & (ages[i] >= 60 * 12)) as u32;
    }
    c
}

/// Capacity (active resident members relative to the target, their age and education, the
/// secretary's competence) and legitimacy (slow average of residents' trust) from the counts.
pub fn set_capacity(sc: &Scenario, v: &mut Village, c: &BranchCounts) {
    let g = &sc.governance;
    let target = g.members_target / 100.0 * c.residents.max(1) as f64;
    let effective = c.active as f64 - 0.5 * c.old as f64;
    let saturation = (effective / target).min(1.0);
    let edu_f = if c.active > 0 {
        0.6 + 0.4 * c.edu as f64 / (4.0 * c.active as f64)
    } else {
        0.0
    };
    let local = if v.branch.secretary != NONE {
        0.4 + 0.6 * v.branch.competence as f64
    } else {
        0.3
    };
    let sec_f = if v.branch.first_secretary_months > 0 {
        local.max(0.4 + 0.6 * sc.party_state.first_secretary_competence)
    } else {
        local
    };
    v.branch.capacity = (saturation * edu_f * sec_f).clamp(0.0, 1.0) as f32;
    if c.residents > 0 {
        let mean = (c.trust / c.residents as f64) as f32;
        v.branch.legitimacy = (v.branch.legitimacy + 0.05 * (mean - v.branch.legitimacy)).clamp(0.0, 1.0);
    }
}

/// Refresh the elite roles of a village (yearly, and at initialisation).
pub fn refresh_roles(sc: &Scenario, rng: &mut Stream, v: &mut Village, a: &mut AgentsMut, scratch: &mut Scratch) {
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
    // Clan elites: the eldest resident man aged 35-80 of each clan above the minimum share (the
    // first in slot order among the eldest), found for every clan in one pass.
    let mut head = [u32::MAX; 256];
    for i in 0..a.len() {
        let c = a.clan[i] as usize;
        if a.residence[i] == residence::RESIDENT
            && a.flags[i] & flag::FEMALE == 0
            && (35 * 12..=80 * 12).contains(&a.age[i])
            && a.role[i] == role::ORDINARY
            && (head[c] == u32::MAX || a.age[i] > a.age[head[c] as usize])
        {
            head[c] = i as u32;
        }
    }
    for (c, &count) in clan_count.iter().enumerate().take(v.clans.max(1) as usize) {
        if residents == 0 || (count as f64 / residents as f64) < g.clan_elite_min_share {
            continue;
        }
        if head[c] != u32::MAX {
            a.role[head[c] as usize] = role::CLAN;
        }
    }
    // The bully faction draws in a recruit, likelier the stronger it is and the smaller the
    // risk of prosecution it has seen.
    let p_recruit = v.bully_power as f64 * (1.0 - v.prosecution_memory as f64);
    if chance(rng, p_recruit.clamp(0.0, 1.0)) && !a.is_empty() {
        for _ in 0..20 {
            let i = rng.random_range(0..a.len());
            if a.residence[i] == residence::RESIDENT
                && a.role[i] == role::ORDINARY
                && a.flags[i] & flag::FEMALE == 0
                && (18 * 12..50 * 12).contains(&a.age[i])
                && chance(rng, a.market[i] as f64 * (1.0 - a.civic[i] as f64))
            {
                a.role[i] = role::BULLY;
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{occupied, residents, run_months, with_village, world};
    use crate::model::World;

    /// A village where every villager qualifies on values (civic and trust 0.9) except the
    /// odd slots (civic 0.1), recruitment is certain at full capacity, and nobody is a member.
    fn recruiting() -> World {
        let mut w = world(400);
        // Approaches to every resident's worth of slots, so everybody qualified is asked.
        w.scenario.governance.recruit_rate = 400.0;
        w.scenario.governance.members_target = 100.0;
        with_village(&mut w, 0, |_, a| {
            for i in occupied(a) {
                a.flags[i] &= !flag::PARTY;
                a.civic[i] = if i % 2 == 1 { 0.0 } else { 0.9 };
                a.trust_branch[i] = if i % 2 == 1 { 0.1 } else { 0.9 };
            }
        });
        w
    }

    fn members(a: &AgentsMut) -> Vec<usize> {
        (0..a.len()).filter(|&i| a.flags[i] & flag::PARTY != 0).collect()
    }

    #[test]
    fn recruitment_happens_only_in_the_yearly_month() {
        let mut w = recruiting();
        let mut scratch = Scratch::default();
        let stats = run_months(&mut w, 1..12, |c, v, a| {
            assert_eq!(c.yearly, c.month == 12);
            run(c, v, a, &mut scratch)
        });
        assert!(stats.iter().all(|s| s.recruits == 0));
        assert!(with_village(&mut w, 0, |_, a| members(a).is_empty()));
        let stats = run_months(&mut w, 12..13, |c, v, a| {
            assert!(c.yearly);
            run(c, v, a, &mut scratch)
        });
        let n = with_village(&mut w, 0, |_, a| members(a).len());
        assert!(stats[0].recruits >= 5, "recruits {}", stats[0].recruits);
        assert_eq!(stats[0].recruits as usize, n);
    }

    #[test]
    fn recruits_are_young_resident_and_qualified() {
        let mut w = recruiting();
        let g = w.scenario.governance.clone();
        let migrant = with_village(&mut w, 0, |_, a| {
            let i = residents(a)
                .into_iter()
                .find(|&i| i % 2 == 0 && a.age[i] < 30 * 12)
                .expect("young");
            a.residence[i] = residence::MIGRANT;
            i
        });
        let mut scratch = Scratch::default();
        run_months(&mut w, 12..13, |c, v, a| run(c, v, a, &mut scratch));
        with_village(&mut w, 0, |_, a| {
            let m = members(a);
            assert!(m.len() >= 5, "recruits {}", m.len());
            for i in m {
                assert_eq!(a.residence[i], residence::RESIDENT);
                // The propensity is smooth: at civic 0 and trust 0.1 it is about 5 in 10,000.
                assert!(i % 2 == 0, "slot {i} has low civic and trust");
                assert!(
                    (18 * 12..=(g.recruit_max_age * 12.0) as u16).contains(&a.age[i]),
                    "age {}",
                    a.age[i]
                );
            }
            assert!(a.flags[migrant] & flag::PARTY == 0, "migrants are not recruited");
        });
    }

    #[test]
    fn losing_members_lowers_capacity() {
        let mut w = world(400);
        let sc = w.scenario.clone();
        let (before, after) = with_village(&mut w, 0, |v, a| {
            update_branch(&sc, v, a);
            let before = v.branch.capacity;
            let sec = v.branch.secretary;
            assert_ne!(sec, NONE);
            for i in 0..a.len() {
                if i as u32 != sec && is_active(&sc, a, i) {
                    a.flags[i] &= !flag::PARTY;
                }
            }
            update_branch(&sc, v, a);
            assert_eq!(v.branch.secretary, sec, "an active secretary stays");
            (before, v.branch.capacity)
        });
        assert!(before > 0.2, "initial capacity {before}");
        assert!(after < 0.5 * before, "capacity {before} -> {after}");
    }

    #[test]
    fn capacity_counts_old_members_half() {
        let mut w = world(400);
        let sc = w.scenario.clone();
        // Shrink the branch below the target so that saturation does not hide the effect.
        let (young, old) = with_village(&mut w, 0, |v, a| {
            let sec = v.branch.secretary;
            let mut kept = 0;
            for i in 0..a.len() {
                if is_active(&sc, a, i) && i as u32 != sec {
                    if kept < 8 {
                        a.age[i] = 40 * 12;
                        kept += 1;
                    } else {
                        a.flags[i] &= !flag::PARTY;
                    }
                }
            }
            update_branch(&sc, v, a);
            let young = v.branch.capacity;
            for i in 0..a.len() {
                if is_active(&sc, a, i) && i as u32 != sec {
                    a.age[i] = 65 * 12;
                }
            }
            update_branch(&sc, v, a);
            (young, v.branch.capacity)
        });
        assert!(old < young, "old members {old} vs young {young}");
    }

    #[test]
    fn a_departed_secretary_is_replaced_by_an_active_member() {
        let mut w = world(400);
        let sc = w.scenario.clone();
        let old = w.villages[0].branch.secretary;
        let director = w.villages[0].committee.director;
        assert_ne!(old, NONE);
        assert_ne!(director, old, "separate committees: the director is another member");
        with_village(&mut w, 0, |_, a| a.residence[old as usize] = residence::MIGRANT);
        let mut scratch = Scratch::default();
        run_months(&mut w, 1..2, |c, v, a| run(c, v, a, &mut scratch));
        with_village(&mut w, 0, |v, a| {
            let new = v.branch.secretary;
            assert_ne!(new, NONE);
            assert_ne!(new, old);
            assert!(is_active(&sc, a, new as usize));
            assert_eq!(a.role[new as usize], role::CADRE);
            assert_eq!(a.role[old as usize], role::ORDINARY, "the old secretary steps down");
            assert!((v.branch.competence as f64 - competence(a, new as usize)).abs() < 1e-6);
            // The director is unaffected by the secretary's departure.
            assert_eq!(v.committee.director, director);
            // The best-scoring active member was chosen.
            let score = |i: usize| {
                competence(a, i) + 0.3 * a.trust_branch[i] as f64 - if a.age[i] >= 65 * 12 { 0.3 } else { 0.0 }
            };
            for i in 0..a.len() {
                if is_active(&sc, a, i) {
                    assert!(score(i) <= score(new as usize) + 1e-9);
                }
            }
        });
    }

    #[test]
    fn a_branch_without_active_members_has_no_secretary_and_no_capacity() {
        let mut w = world(300);
        let sc = w.scenario.clone();
        with_village(&mut w, 0, |v, a| {
            for i in 0..a.len() {
                a.flags[i] &= !flag::PARTY;
            }
            v.branch.secretary = NONE;
            update_branch(&sc, v, a);
            assert_eq!(v.branch.secretary, NONE);
            assert_eq!(v.branch.capacity, 0.0);
        });
    }

    #[test]
    fn retired_members_are_not_active() {
        let mut w = world(200);
        let sc = w.scenario.clone();
        with_village(&mut w, 0, |_, a| {
            let i = residents(a)[0];
            a.flags[i] |= flag::PARTY;
            a.age[i] = 50 * 12;
            assert!(is_active(&sc, a, i));
            a.age[i] = (sc.governance.retire_age * 12.0) as u16;
            assert!(!is_active(&sc, a, i));
        });
    }

    #[test]
    fn yearly_refresh_names_the_richest_residents_economic_elites() {
        let mut w = world(400);
        let sc = w.scenario.clone();
        let rich = with_village(&mut w, 0, |v, a| {
            let r = residents(a);
            let rich = r[r.len() / 2];
            a.wealth[rich] = 1e9;
            let mut rng = stream(1, 0, 99, Phase::Party);
            refresh_roles(&sc, &mut rng, v, a, &mut Scratch::default());
            let econ = (0..a.len()).filter(|&i| a.role[i] == role::ECONOMIC).count();
            let k = (sc.governance.economic_elite_share * r.len() as f64).round() as usize;
            assert!(econ <= k && econ + 2 >= k, "economic elites {econ}, expected about {k}");
            rich
        });
        assert_eq!(w.agents.role[rich], role::ECONOMIC);
    }
}
