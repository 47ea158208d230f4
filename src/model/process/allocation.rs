//! Process 9, allocation and capture: funds, the controller's choice of leak, detection and
//! sanction, formalism, the delivery of programme money, demands, decision meetings and the
//! committee's autonomy, and the branch's style and stance.
//!
//! **Funds.** State transfers arrive each month (more for a branch in good standing with the
//! township), together with the money of every path programme and of a first secretary's
//! connections: all of it passes through whoever controls the villagers' committee.
//!
//! **Capture is a choice.** The controller keeps a share `L` of the month's funds, chosen to
//! maximise `value x L - moral x L^2 - P(detect | L) x perceived sanction x penalty x L`:
//! the rent's value rises with the controller's type and `market`, the moral cost with their
//! `civic`; detection comes from the supervision committee's monitors (each inspects the
//! accounts) and from the branch's check of the committee (none when one person holds both
//! posts); the perceived sanction is the slow average of what happened to earlier detected
//! leaks. Detected leaks are reported and sanctioned with the discipline commission's
//! probability (more when a legal programme backs the complaint): the controller loses the
//! office and gets a record; monitors who report a bully may withdraw (retaliation).
//!
//! **Delivery.** What is not captured loses a share to formal tasks (formalism, from township
//! pressure and the branch's style); the rest is what next month's programmes and service
//! building can use. So a programme can be captured or turned into box-ticking.
//!
//! **Demands and meetings.** Recorded demands (process 5) are resolved out of the funds left,
//! or expire and disappoint. Decision meetings (a few required by law, more bought by the
//! self-government programme) decide when enough villagers attend (attendance rises with
//! `civic`, trust and the meetings' efficacy); a decision stands unless a capable
//! administrative branch or the township overrules it, or one unsupervised person decides
//! alone. Autonomy is the slow average of decisions that stand: a strong top-down branch
//! crowds out self-government.

use crate::model::agents::{flag, part, residence, role, AgentsMut};
use crate::model::rng::{chance, monthly, normal, stream, Events, Phase};
use crate::model::{has_supervision_committee, Controller, StepCtx, Village, NONE};
use crate::scenario::PolicyPath;

use super::culture::logistic;
use super::disputes::units;
use super::{effective_capacity, experience};

/// Effort units of the branch per month.
pub const EFFORT_UNITS: u32 = 10;
/// Monthly probability that an unresolved recorded demand expires (mean wait 6 months).
pub const DEMAND_EXPIRY: f64 = 1.0 / 6.0;
/// Residents whose attendance propensity is sampled to estimate a meeting's attendance.
pub const SAMPLE: u32 = 64;
/// Weight of a powerful bully faction against attending decision meetings (logit per unit
/// of bully power).
pub const FEAR: f64 = 3.0;
/// Weight of the moral cost of taking funds, per unit of the controller's `civic`.
pub const GUILT: f64 = 1.0;

/// The leak share the controller chooses on a grid of 0, 0.05, ..., 0.9: the best of
/// `value x L - moral x L^2 - p_detect(L) x sanction x penalty x L`.
pub fn choose_leak(value: f64, moral: f64, sanction: f64, penalty: f64, p_detect: impl Fn(f64) -> f64) -> f64 {
    let mut best = (0.0, 0.0);
    for k in 1..=18 {
        let l = k as f64 * 0.05;
        let u = value * l - moral * l * l - p_detect(l) * sanction * penalty * l;
        if u > best.1 {
            best = (l, u);
        }
    }
    best.0
}

crate::kernel! {
    /// Run allocation for one village.
    pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
        let sc = ctx.sc;
        let g = &sc.governance;
        let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Allocation);
        staff_monitors(ctx, v, a, &mut rng);
        let monitors = v.stats.monitors as i32;

        // Funds of the month.
        let transfers = ctx.transfers / 12.0 * v.alive as f64 * (0.5 + v.branch.standing as f64);
        let first_secretary = if v.branch.first_secretary_months > 0 {
            sc.party_state.first_secretary_funds / 12.0
        } else {
            0.0
        };
        let path_money: f64 = ctx.money.iter().sum();
        let funds = transfers + first_secretary + path_money;

        // The controller's choice.
        let d = v.committee.director;
        let director = (d != NONE && a.residence[d as usize] != residence::VACANT).then_some(d as usize);
        let (m_c, c_c) = director.map_or((0.5, 0.5), |i| (a.market[i] as f64, a.civic[i] as f64));
        let rent = match v.committee.controller {
            Controller::Branch => g.rent_branch,
            Controller::Economic => g.rent_economic,
            Controller::Clan => g.rent_clan,
            Controller::Bully => g.rent_bully,
        };
        let check = g.branch_check * effective_capacity(v) * (1.0 - v.committee.concentration as f64);
        let p_detect = |l: f64| 1.0 - (1.0 - g.detect * l).powi(monitors) * (1.0 - check * l);
        let leak = choose_leak(
            rent * (0.5 + m_c),
            GUILT * c_c,
            v.sanction_memory as f64,
            g.penalty,
            p_detect,
        );
        let leaked = funds * leak;
        if let Some(i) = director {
            a.wealth[i] += leaked as f32;
        }
        v.leak = leak as f32;
        v.stats.funds = funds;
        v.stats.leaked = leaked;
        if leak > 0.0 && director.is_some() {
            // Detection: each monitor inspects, and the branch checks.
            let detected = (0..monitors).any(|_| chance(&mut rng, g.detect * leak)) || chance(&mut rng, check * leak);
            if detected {
                v.stats.leaks_detected += 1;
                let backed = v.delivered[PolicyPath::Legal.index()] >= sc.paths.legal.unit_cost;
                let p = ctx.discipline + (1.0 - ctx.discipline) * if backed { g.court } else { 0.0 };
                let sanctioned = chance(&mut rng, p);
                v.sanction_memory += 0.2 * (sanctioned as u32 as f32 - v.sanction_memory);
                if let Some(i) = director.filter(|_| sanctioned) {
                    v.stats.leaks_sanctioned += 1;
                    a.flags[i] |= flag::RECORD;
                    a.wealth[i] = (a.wealth[i] - (g.penalty * leaked) as f32).max(0.0);
                    if v.branch.secretary != i as u32 && a.role[i] == role::CADRE {
                        a.role[i] = role::ORDINARY;
                    }
                    v.committee.director = NONE;
                    v.committee.controller = Controller::Branch;
                    v.committee.concentration = 0.2;
                }
                // Reporting a bully costs the reporters: some withdraw.
                if v.committee.controller == Controller::Bully || (sanctioned && rent == g.rent_bully) {
                    for i in 0..a.len() {
                        if a.role[i] == role::MONITOR && chance(&mut rng, g.retaliation) {
                            a.role[i] = role::ORDINARY;
                            experience(a.exp_gov, i, -1);
                        }
                    }
                }
            }
        }

        // Formalism: township pressure diverts branch effort to formal tasks.
        let p_formal = (ctx.pressure * (0.4 + 0.6 * v.branch.administrative as f64)).clamp(0.0, 1.0);
        let formal = (0..EFFORT_UNITS).filter(|_| chance(&mut rng, p_formal)).count() as u32;
        v.stats.formal_effort = formal;
        v.formalism = (v.formalism + 0.2 * (formal as f32 / EFFORT_UNITS as f32 - v.formalism)).clamp(0.0, 1.0);
        let real = (1.0 - leak) * (1.0 - g.formalism_waste * v.formalism as f64);

        // Delivery: next month's budgets. Transfers (and a first secretary's funds) build services,
        // less what goes to recorded demands; each programme gets what is left of its money.
        let pending = pending_demands(a) as usize;
        let base = (transfers + first_secretary) * real;
        let demands = (pending as f64 * sc.paths.legal.demand_cost).min(g.demand_share * base);
        v.funds_for_demands = demands;
        // A null-mechanism control delivers nothing of its money (it is still sent and can be
        // captured).
        let delivered = |p: PolicyPath| {
            if sc.paths.mechanism(p) {
                ctx.money(p) * real
            } else {
                0.0
            }
        };
        v.funds_for_services = base - demands + delivered(PolicyPath::Services) * sc.paths.services.build_share;
        for p in PolicyPath::ALL {
            v.delivered[p.index()] = delivered(p);
        }
        resolve_demands(ctx, v, a, &mut rng, pending, demands);

        // Capture seen by residents (transparency), who lose trust.
        let p_see = (leak * g.transparency * (0.3 + 0.7 * v.supervision as f64)).clamp(0.0, 1.0);
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

        meetings(ctx, v, a, &mut rng);

        // Style and stance move toward what the branch's situation rewards: pressure pushes it
        // top-down, meetings that work make it facilitate; legitimacy to keep and standing to
        // spare make it side with villagers.
        let rate = monthly(g.adjust_rate);
        let admin = v.branch.administrative as f64;
        let target_admin = (0.5 * g.administrative + 0.5 * ctx.pressure - 0.4 * (v.efficacy as f64 - 0.5)).clamp(0.0, 1.0);
        v.branch.administrative = (admin + rate * (target_admin - admin)).clamp(0.0, 1.0) as f32;
        let target_stance = (g.stance * (1.0 - 0.3 * ctx.pressure)
            + 0.3 * (v.branch.legitimacy as f64 - 0.5)
            + 0.3 * (v.branch.standing as f64 - 0.5))
            .clamp(0.0, 1.0);
        let st = v.branch.stance as f64;
        v.branch.stance = (st + rate * (target_stance - st)).clamp(0.0, 1.0) as f32;
        // The township's assessment relaxes toward what formal work shows it.
        let standing_target = 0.5 + 0.3 * (v.formalism - 0.5);
        v.branch.standing = (v.branch.standing + 0.02 * (standing_target - v.branch.standing)).clamp(0.0, 1.0);
    }
}

/// The slots whose byte satisfies `keep`, counted without branches.
#[inline(always)]
fn count(bytes: &[u8], keep: impl Fn(u8) -> bool) -> u32 {
    bytes.iter().map(|&b| keep(b) as u32).sum()
}

/// Residents with a recorded demand, counted without branches.
#[inline(always)]
fn pending_demands(a: &AgentsMut) -> u32 {
    a.part
        .iter()
        .zip(&*a.residence)
        .map(|(&p, &r)| ((p & part::DEMAND != 0) & (r == residence::RESIDENT)) as u32)
        .sum()
}

/// Staff the supervision committee: volunteers where the village has a committee, and paid
/// monitors with the self-government programme's stipends. Those asked accept with a
/// propensity rising with `civic` (paid ones more readily). Records the active monitors and
/// the supervision they give.
#[inline(always)]
fn staff_monitors(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut, rng: &mut crate::model::rng::Stream) {
    let sc = ctx.sc;
    let sg = &sc.paths.self_government;
    let volunteers = if has_supervision_committee(sc, v.id, ctx.supervision_committees) {
        sc.party_state.volunteer_monitors
    } else {
        0.0
    };
    let paid = v.delivered[PolicyPath::SelfGovernment.index()] * sg.monitor_share / sg.monitor_stipend;
    let target = (volunteers + paid).round() as u32;
    let mut active = 0u32;
    // Counts without branches (they vectorise); the slots are visited only where there are
    // monitors to keep or dismiss.
    let residents = count(a.residence, |r| r == residence::RESIDENT);
    if count(a.role, |r| r == role::MONITOR) > 0 {
        for i in 0..a.len() {
            if a.role[i] == role::MONITOR {
                if a.residence[i] == residence::RESIDENT && active < target {
                    active += 1;
                } else {
                    a.role[i] = role::ORDINARY;
                }
            }
        }
    }
    if active < target && !a.is_empty() {
        let paid_share = if target > 0 { paid / target as f64 } else { 0.0 };
        for _ in 0..4 * (target - active) {
            if active == target {
                break;
            }
            let i = rng.below(a.len());
            if a.residence[i] == residence::RESIDENT
                && a.role[i] == role::ORDINARY
                && a.flags[i] & flag::RECORD == 0
                && a.age[i] >= 18 * 12
                && chance(rng, (a.civic[i] as f64 + paid_share * 0.5).min(1.0))
            {
                a.role[i] = role::MONITOR;
                active += 1;
            }
        }
    }
    v.stats.monitors = active;
    v.stats.monitor_pool = residents;
    let full = sc.party_state.volunteer_monitors.max(1.0);
    v.supervision = (active as f64 / full).min(1.0) as f32;
}

/// Resolve recorded demands with this month's budget: each pending demand is met with the
/// budget's share of what all would cost; a met demand raises trust in the branch, one that
/// waits too long expires and lowers it.
#[inline(always)]
fn resolve_demands(
    ctx: &StepCtx,
    v: &mut Village,
    a: &mut AgentsMut,
    rng: &mut crate::model::rng::Stream,
    pending: usize,
    budget: f64,
) {
    if pending == 0 {
        return;
    }
    let cost = ctx.sc.paths.legal.demand_cost;
    let p_meet = if cost > 0.0 {
        (budget / (pending as f64 * cost)).min(1.0)
    } else {
        1.0
    };
    // Visit the slots until every pending demand has been seen.
    let mut left = pending;
    for i in 0..a.len() {
        if left == 0 {
            break;
        }
        if a.part[i] & part::DEMAND == 0 || a.residence[i] != residence::RESIDENT {
            continue;
        }
        left -= 1;
        if chance(rng, p_meet) {
            a.part[i] &= !part::DEMAND;
            experience(a.exp_branch, i, 1);
            v.stats.demands_met += 1;
        } else if chance(rng, DEMAND_EXPIRY) {
            a.part[i] &= !part::DEMAND;
            experience(a.exp_branch, i, -1);
            v.stats.demands_expired += 1;
        }
    }
}

/// Decision meetings and the committee's autonomy.
#[inline(always)]
fn meetings(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut, rng: &mut crate::model::rng::Stream) {
    let sc = ctx.sc;
    let g = &sc.governance;
    let sg = &sc.paths.self_government;
    let bought = v.delivered[PolicyPath::SelfGovernment.index()] * (1.0 - sg.monitor_share);
    let held = units(g.base_meetings, 1.0, rng) + units(bought, sg.meeting_cost, rng);
    v.stats.meetings = held;
    // Expected attendance: the mean propensity of a sample of up to `SAMPLE` residents (in slot
    // order from a random start), then the realised share with binomial noise (normal
    // approximation) for all residents.
    let residents = v.stats.monitor_pool;
    let eff = v.efficacy as f64 - 0.5;
    // Where a bully faction is powerful, villagers fear to speak up in meetings (as they fear
    // to vote against it, process 8).
    let fear = FEAR * v.bully_power as f64;
    let (mut seen, mut expected) = (0u32, 0.0f64);
    if !a.is_empty() {
        let start = rng.below(a.len());
        for k in 0..a.len() {
            let i = (start + k) % a.len();
            if a.residence[i] == residence::RESIDENT {
                seen += 1;
                expected += logistic(
                    g.meeting_base
                        + g.meeting_civic * (a.civic[i] as f64 - 0.5)
                        + g.meeting_trust * (a.trust_branch[i] as f64 - 0.5)
                        + g.meeting_efficacy * eff
                        - fear,
                );
                if seen == SAMPLE {
                    break;
                }
            }
        }
    }
    let n = residents.max(1) as f64;
    let share = expected / seen.max(1) as f64;
    let realised = share + (share * (1.0 - share) / n).sqrt() * normal(rng);
    let quorate = held > 0 && realised >= g.quorum;
    v.stats.meeting_attendance = (realised.clamp(0.0, 1.0) * n) as u32;
    let decided = if quorate {
        held.saturating_mul(g.decisions_per_meeting).min(g.decisions)
    } else {
        0
    };
    // One unsupervised person deciding alone ignores meetings; a capable administrative branch
    // overrules them; the township overrides some under pressure.
    let alone = v.committee.concentration as f64 * (1.0 - v.supervision as f64);
    let overrule = g.overrule * v.branch.administrative as f64 * v.branch.capacity as f64;
    let mut own = 0u32;
    for _ in 0..decided {
        if !chance(rng, alone) && !chance(rng, overrule) && !chance(rng, g.township_override * ctx.pressure) {
            own += 1;
        }
    }
    v.stats.decisions = g.decisions;
    v.stats.own_decisions = own;
    v.committee.autonomy =
        (v.committee.autonomy + 0.05 * (own as f32 / g.decisions as f32 - v.committee.autonomy)).clamp(0.0, 1.0);
    if decided > 0 {
        v.efficacy = (v.efficacy + 0.05 * (own as f32 / decided as f32 - v.efficacy)).clamp(0.0, 1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{residents, run_months, with_village, world};
    use crate::model::World;

    #[test]
    fn the_leak_is_a_choice_against_detection_and_sanction() {
        let none = |_: f64| 0.0;
        assert_eq!(
            choose_leak(1.0, 0.0, 0.5, 4.0, none),
            0.9,
            "undetected and shameless: all"
        );
        assert_eq!(choose_leak(0.0, 0.0, 0.5, 4.0, none), 0.0, "no value: nothing");
        let moral = choose_leak(1.0, 2.0, 0.0, 4.0, none);
        assert!((moral - 0.25).abs() < 1e-9, "guilt caps it at value / 2 moral: {moral}");
        let watched = |l: f64| (0.9 * l).min(1.0);
        assert!(choose_leak(1.0, 0.5, 0.5, 4.0, watched) < choose_leak(1.0, 0.5, 0.5, 4.0, none));
        let sure = |l: f64| if l > 0.0 { 1.0 } else { 0.0 };
        assert_eq!(
            choose_leak(1.0, 0.5, 1.0, 10.0, sure),
            0.0,
            "sure detection and sanction: nothing"
        );
    }

    /// A village whose committee an economic elite controls (market 0.6, civic 0.4), with
    /// `concentration` and `monitors` volunteers; one month: (leak, delivered culture money).
    fn month(concentration: f32, committee: f64, capacity: f32) -> (f32, f64) {
        let mut w: World = world(400);
        w.scenario.party_state.supervision_committees = committee.into();
        w.scenario.party_state.volunteer_monitors = 5.0;
        w.scenario.paths.culture.intensity = 1.0.into();
        let d = with_village(&mut w, 0, |v, a| {
            let d = residents(a)[5];
            a.market[d] = 0.6;
            a.civic[d] = 0.4;
            for i in 0..a.len() {
                a.civic[i] = a.civic[i].max(0.9);
            }
            a.civic[d] = 0.4;
            v.committee.director = d as u32;
            v.committee.controller = Controller::Economic;
            v.committee.concentration = concentration;
            v.branch.capacity = capacity;
            v.formalism = 0.0;
            v.sanction_memory = 0.5;
            d
        });
        let _ = d;
        run_months(&mut w, 1..2, |c, v, a| {
            c.pressure = 0.0;
            run(c, v, a)
        });
        let v = &w.villages[0];
        (v.leak, v.delivered[PolicyPath::Culture.index()])
    }

    #[test]
    fn monitors_and_the_branch_check_deter_capture() {
        let (alone, _) = month(1.0, 0.0, 0.8);
        let (watched, _) = month(1.0, 1.0, 0.8);
        let (checked, _) = month(0.2, 0.0, 0.8);
        assert!(alone > 0.5, "one person, no monitors: {alone}");
        assert!(watched < alone - 0.1, "monitors: {watched} vs {alone}");
        assert!(
            checked < alone - 0.1,
            "a separate capable branch checks: {checked} vs {alone}"
        );
    }

    #[test]
    fn captured_programme_money_is_not_delivered() {
        let (leak, delivered) = month(1.0, 0.0, 0.8);
        let (leak2, delivered2) = month(1.0, 1.0, 0.8);
        let sent = 40_000.0 / 12.0;
        assert!(
            (delivered / (sent * (1.0 - leak as f64)) - 1.0).abs() < 1e-4,
            "{delivered}"
        );
        assert!(delivered2 > delivered, "less capture, more delivered: {leak} {leak2}");
    }

    #[test]
    fn meetings_give_autonomy_and_a_strong_top_down_branch_crowds_it_out() {
        let autonomy = |meetings: f64, admin: f32, capacity: f32| {
            let mut w: World = world(400);
            w.scenario.governance.base_meetings = meetings;
            w.scenario.governance.quorum = 0.05;
            w.villages[0].committee.autonomy = 0.3;
            w.villages[0].committee.concentration = 0.0;
            run_months(&mut w, 1..37, |c, v, a| {
                c.pressure = 0.0;
                v.branch.administrative = admin;
                v.branch.capacity = capacity;
                run(c, v, a)
            });
            w.villages[0].committee.autonomy
        };
        let none = autonomy(0.0, 0.0, 0.5);
        let some = autonomy(2.0, 0.0, 0.5);
        let crowded = autonomy(2.0, 1.0, 1.0);
        assert!(none < 0.3, "no meetings: autonomy falls ({none})");
        assert!(some > 0.5, "quorate meetings decide ({some})");
        assert!(
            crowded < some - 0.2,
            "a capable top-down branch overrules: {crowded} vs {some}"
        );
    }

    #[test]
    fn recorded_demands_are_met_with_funds_or_expire() {
        let run_with = |transfers: f64| {
            let mut w: World = world(400);
            with_village(&mut w, 0, |_, a| {
                for &i in residents(a).iter().take(50) {
                    a.part[i] |= part::DEMAND;
                }
            });
            let stats = run_months(&mut w, 1..2, |c, v, a| {
                c.transfers = transfers;
                run(c, v, a)
            });
            (stats[0].demands_met, stats[0].demands_expired)
        };
        let (met0, expired0) = run_with(0.0);
        let (met1, _) = run_with(5_000.0);
        assert_eq!(met0, 0);
        assert!(expired0 > 0, "unmet demands expire");
        assert!(met1 >= 40, "met {met1}");
    }
}
