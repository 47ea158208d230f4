//! Process 7, community culture (path 4.3).
//!
//! Events happen each month: a few without a programme (festivals, temple fairs), more with
//! the money the culture programme delivered (process 9), of which the share the branch
//! spends on formal tasks are box-ticking events nobody is invited to. Each event reaches a
//! share of residents; an invited resident attends with a propensity rising with `civic`
//! and falling with `market` (the time is worth money). An event presents the traditional
//! virtues joined with the party's culture (`values.traditional_market`,
//! `values.traditional_civic`): an attendee's values move toward them only if they lie
//! within the attendee's own confidence bound, as an encounter with any villager would
//! (bounded-confidence influence of a message, e.g. Carletti et al. 2006); then attendees
//! meet one another. So culture can fail: in a hollowed village few attend, and villagers
//! far from the traditional virtues are not moved by them.

use crate::model::agents::{part, residence, AgentsMut};
use crate::model::rng::{chance, stream, Events, Keyed32, Phase, Traits};
use crate::model::{Scratch, StepCtx, Village};
use crate::scenario::PolicyPath;

use super::disputes::units;
use super::values::{bound, encounter, respond};

/// Logistic function.
#[inline(always)]
pub fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The attendance predictor `y = b0 + bc civic + bm market`:
/// (b0, bc, bm) with `b0 = attend_base - (attend_civic + attend_market) / 2`, so that
/// `y = attend_base + attend_civic (civic - 1/2) + attend_market (market - 1/2)`.
pub fn predictor(cp: &crate::scenario::Culture) -> (f32, f32, f32) {
    (
        (cp.attend_base - 0.5 * cp.attend_civic - 0.5 * cp.attend_market) as f32,
        cp.attend_civic as f32,
        cp.attend_market as f32,
    )
}

/// The range of the attendance predictor over values in [0, 1].
pub fn predictor_range(cp: &crate::scenario::Culture) -> (f64, f64) {
    let b0 = cp.attend_base - 0.5 * cp.attend_civic - 0.5 * cp.attend_market;
    let (c, m) = (cp.attend_civic, cp.attend_market);
    (b0 + c.min(0.0) + m.min(0.0), b0 + c.max(0.0) + m.max(0.0))
}

crate::kernel! {
    /// Run culture for one village.
    pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut, scratch: &mut Scratch) {
        let sc = ctx.sc;
        let cp = &sc.paths.culture;
        let vals = &sc.values;
        let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Culture);
        let bought = units(v.delivered[PolicyPath::Culture.index()], cp.event_cost, &mut rng);
        let real = (0..bought).filter(|_| !chance(&mut rng, v.formalism as f64)).count() as u32;
        v.stats.formal_events = bought - real;
        let base = units(cp.base_events, 1.0, &mut rng);
        let events = base + real;
        v.stats.events = events;
        scratch.idx.clear();
        let p_invited = 1.0 - (1.0 - cp.event_seats.clamp(0.0, 1.0)).powi(events as i32);
        if events > 0 && p_invited > 0.0 {
            // An invited resident attends with probability logistic(y) (the step's table).
            let (b0, bc, bm) = predictor(cp);
            let table = &ctx.attend;
            if p_invited < Events::DENSE {
                let mut invited = Events::new(p_invited, a.len());
                while let Some(i) = invited.next(&mut rng) {
                    if a.residence[i] == residence::RESIDENT
                        && rng.f64() < table.at(b0 + bc * a.civic[i] + bm * a.market[i]) as f64
                    {
                        scratch.idx.push(i as u32);
                    }
                }
            } else {
                // Blocks of slots: first, without branches, the residents invited (a 32-bit keyed
                // draw against the invitation probability); then each of them attends when a
                // second draw is below the propensity.
                let draws = Keyed32::new(sc.run.seed, v.id, ctx.step, Phase::Culture);
                // `draw < inv` in 32 bits (the cast saturates): every draw passes when the
                // invitation is certain.
                let (inv, everyone) = ((p_invited * 4_294_967_296.0) as u32, p_invited >= 1.0);
                let n = a.len();
                let (res, civic, market) = (&a.residence[..n], &a.civic[..n], &a.market[..n]);
                const BLOCK: usize = 256;
                let (mut cand, mut hit, mut drawn) = ([0u32; BLOCK], [0u8; BLOCK], [0u32; BLOCK]);
                for start in (0..n).step_by(BLOCK) {
                    let end = (start + BLOCK).min(n);
                    // Who is invited: the draws and tests of the block in one vectorised loop
                    // (the draws kept for the second), then their places compacted.
                    for (k, ((h, d), &r)) in hit.iter_mut().zip(&mut drawn).zip(&res[start..end]).enumerate() {
                        *d = draws.u32(start + k);
                        *h = ((r == residence::RESIDENT) & ((*d < inv) | everyone)) as u8;
                    }
                    let mut m = 0;
                    for (k, &h) in hit[..end - start].iter().enumerate() {
                        cand[m] = k as u32;
                        m += h as usize;
                    }
                    // The attendees among them, compacted without branches.
                    let mut attend = 0;
                    for j in 0..m {
                        let k = cand[j] as usize;
                        let i = start + k;
                        cand[attend] = i as u32;
                        let p = table.at(b0 + bc * civic[i] + bm * market[i]);
                        attend += (Keyed32::second(drawn[k]) < p) as usize;
                    }
                    scratch.idx.extend_from_slice(&cand[..attend]);
                }
            }
        }
        let n = scratch.idx.len();
        v.stats.attendees = n as u32;
        if n == 0 {
            return;
        }
        let (mu, reject) = encounter(vals);
        let traits = Traits::new(sc.run.seed, v.id, ctx.trait_stamp);
        let (msg_m, msg_c) = (vals.traditional_market as f32, vals.traditional_civic as f32);
        // The message: each attendee against the traditional virtues (they do not move). The
        // attendees' bounds are kept for their meetings below.
        scratch.val.clear();
        for &i in &scratch.idx {
            let i = i as usize;
            a.part[i] |= part::ATTENDED;
            let e = bound(ctx, &traits, i, a.age[i]);
            scratch.val.push(e);
            a.market[i] = respond(a.market[i], msg_m, e, reject, mu);
            a.civic[i] = respond(a.civic[i], msg_c, e, reject, mu);
        }
        // Attendees meet one another.
        if n < 2 {
            return;
        }
        for k in 0..n {
            let other = rng.below(n);
            if other == k {
                continue;
            }
            let (i, j) = (scratch.idx[k] as usize, scratch.idx[other] as usize);
            let (ei, ej) = (scratch.val[k], scratch.val[other]);
            for x in [&mut *a.market, &mut *a.civic] {
                let (xi, xj) = (x[i], x[j]);
                x[i] = respond(xi, xj, ei, reject, mu);
                x[j] = respond(xj, xi, ej, reject, mu);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{mean, residents, run_months, total, with_village, world};
    use crate::model::World;

    /// Culture for a year with `money` delivered each month and formalism `formal`:
    /// (attendees, mean civic at the end, real events, box-ticking events).
    fn culture_year(w: &World, money: f64, formal: f32) -> (u64, f64, u64, u64) {
        let mut w = w.clone();
        let mut scratch = Scratch::default();
        let stats = run_months(&mut w, 1..13, |c, v, a| {
            v.delivered[PolicyPath::Culture.index()] = money;
            v.formalism = formal;
            run(c, v, a, &mut scratch)
        });
        let civic = with_village(&mut w, 0, |_, a| mean(a.civic, &residents(a)));
        (
            total(&stats, |s| s.attendees),
            civic,
            total(&stats, |s| s.events),
            total(&stats, |s| s.formal_events),
        )
    }

    fn lukewarm() -> World {
        let mut w = world(400);
        with_village(&mut w, 0, |_, a| {
            for i in 0..a.len() {
                a.civic[i] = 0.6;
                a.market[i] = 0.3;
            }
        });
        w
    }

    #[test]
    fn programme_events_draw_attendees_and_move_them_toward_traditional_virtue() {
        let w = lukewarm();
        let (base_n, base_civic, base_events, _) = culture_year(&w, 0.0, 0.0);
        let (n, civic, events, formal) = culture_year(&w, 5_000.0, 0.0);
        assert!(events > base_events + 30, "events {base_events} -> {events}");
        assert_eq!(formal, 0);
        assert!(n > 3 * base_n.max(1), "attendees {base_n} -> {n}");
        assert!(civic > base_civic + 0.02, "civic {base_civic} -> {civic}");
    }

    #[test]
    fn formalism_turns_events_into_box_ticking() {
        let w = lukewarm();
        let (n, _, events, formal) = culture_year(&w, 5_000.0, 1.0);
        let (n_real, _, events_real, _) = culture_year(&w, 5_000.0, 0.0);
        // About 75 programme events a year: all box-ticking; only the few festivals are real.
        assert!(formal > 50 && events < 12, "box-ticking {formal}, real {events}");
        assert!(
            events_real > 50 && n_real > 3 * n.max(1),
            "real {events_real} events, {n_real} attendees vs {n}"
        );
    }

    #[test]
    fn villagers_far_from_the_message_are_not_moved_by_it() {
        let mut w = world(400);
        w.scenario.values.confidence_bound = 0.1;
        w.scenario.values.bound_spread = 0.0;
        w.scenario.paths.culture.attend_base = 5.0;
        with_village(&mut w, 0, |_, a| {
            for i in 0..a.len() {
                a.civic[i] = 0.3;
                a.market[i] = 0.9;
            }
        });
        let (n, civic, _, _) = culture_year(&w, 5_000.0, 0.0);
        assert!(n > 100, "they come ({n})");
        assert!(
            (civic - 0.3).abs() < 1e-6,
            "but the traditional virtues are beyond their bound: {civic}"
        );
    }
}
