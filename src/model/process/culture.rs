//! Process 7, community culture (path 4.3).
//!
//! Each month a share of residents attends cultural activities: a small base rate, plus the
//! programme's reach (intensity x the branch's effective capacity), higher for those who
//! already care about village life (`civic`). Attending raises `civic`, pulls `market` toward
//! the level of traditional virtue, and attendees meet one another (one bounded-confidence
//! encounter each with another attendee). Attending a branch programme raises trust in the
//! branch.

use crate::model::agents::{part, residence, AgentsMut};
use crate::model::rng::{chance, stream, Events, Keyed, Phase};
use crate::model::{Scratch, StepCtx, Village};

use super::{deffuant, effective_capacity, experience};

/// Run culture for one village.
pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut, scratch: &mut Scratch) {
    let sc = ctx.sc;
    let cp = &sc.paths.culture;
    let vals = &sc.values;
    let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Culture);
    let programme = cp.attendance * ctx.culture * effective_capacity(v);
    let from_programme = if programme > 0.0 {
        programme / (programme + cp.base_attendance)
    } else {
        0.0
    };
    let (gain, pull, trad) = (
        cp.civic_gain as f32,
        cp.market_pull as f32,
        vals.traditional_market as f32,
    );
    scratch.idx.clear();
    // Attendance: when it is rare (no programme), by skip-ahead at the largest probability
    // (civic 1), thinned to the villager's own; otherwise one keyed draw per resident, whose high
    // 32 bits decide attendance and low 32 bits whether the programme gets the credit.
    let reach = cp.base_attendance + programme;
    let p_max = (1.5 * reach).min(1.0);
    let credit = (from_programme.clamp(0.0, 1.0) * 4_294_967_296.0) as u64;
    let mut attend = |i: usize, a: &mut AgentsMut, credited: bool| {
        a.part[i] |= part::ATTENDED;
        a.civic[i] = (a.civic[i] + gain * (1.0 - a.civic[i])).clamp(0.0, 1.0);
        a.market[i] = (a.market[i] + pull * (trad - a.market[i])).clamp(0.0, 1.0);
        if credited {
            experience(a.exp_branch, i, 1);
        }
        scratch.idx.push(i as u32);
    };
    if p_max < Events::DENSE {
        let mut candidates = Events::new(p_max, a.len());
        while let Some(i) = candidates.next(&mut rng) {
            if a.residence[i] != residence::RESIDENT {
                continue;
            }
            let p = reach * (0.5 + a.civic[i] as f64);
            if rng.f64() * p_max >= p {
                continue;
            }
            let credited = chance(&mut rng, from_programme);
            attend(i, a, credited);
        }
    } else {
        let draws = Keyed::new(sc.run.seed, v.id, ctx.step, Phase::Culture);
        let scale = (reach * 4_294_967_296.0) as f32;
        // Per block: who attends (no branch), then the attendees in slot order. Attending
        // changes only the attendee, so deciding the block first gives the same result.
        const BLOCK: usize = 256;
        let (mut who, mut credited) = ([0u32; BLOCK], [false; BLOCK]);
        let n = a.len();
        for start in (0..n).step_by(BLOCK) {
            let end = (start + BLOCK).min(n);
            let mut m = 0;
            for (i, (&r, &c)) in a.residence[start..end].iter().zip(&a.civic[start..end]).enumerate() {
                let i = start + i;
                let x = draws.u64(i);
                let t = (scale * (0.5 + c)) as u64;
                who[m] = i as u32;
                credited[m] = (x & 0xFFFF_FFFF) < credit;
                m += ((r == residence::RESIDENT) & ((x >> 32) < t)) as usize;
            }
            for k in 0..m {
                attend(who[k] as usize, a, credited[k]);
            }
        }
    }
    let n = scratch.idx.len();
    v.stats.attendees = n as u32;
    v.stats.spend_culture = ctx.culture * cp.cost / 12.0;
    if n < 2 {
        return;
    }
    let (eps, mu) = (vals.confidence_bound as f32, vals.convergence as f32);
    for k in 0..n {
        let other = rng.below(n);
        if other == k {
            continue;
        }
        let (i, j) = (scratch.idx[k] as usize, scratch.idx[other] as usize);
        deffuant(a.market, i, j, eps, mu);
        deffuant(a.civic, i, j, eps, mu);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{mean, residents, run_months, total, with_village, world};
    use crate::model::World;

    /// Culture for `months` months at intensity `intensity` in a village with a capable branch:
    /// (attendees, mean civic, mean market, spending, branch experiences) at the end.
    fn culture_at(intensity: f64, months: u32) -> (u64, f64, f64, f64, i64) {
        let mut w: World = world(400);
        w.villages[0].branch.capacity = 0.6;
        w.villages[0].formalism = 0.0;
        let mut scratch = Scratch::default();
        let mut exp = 0i64;
        let stats = run_months(&mut w, 1..months + 1, |c, v, a| {
            c.culture = intensity;
            a.exp_branch.fill(0);
            run(c, v, a, &mut scratch);
            exp += a.exp_branch.iter().map(|&e| e as i64).sum::<i64>();
        });
        let (civic, market) = with_village(&mut w, 0, |_, a| {
            let r = residents(a);
            (mean(a.civic, &r), mean(a.market, &r))
        });
        (
            total(&stats, |s| s.attendees),
            civic,
            market,
            stats.iter().map(|s| s.spend_culture).sum(),
            exp,
        )
    }

    #[test]
    fn intensity_raises_attendance_and_civic_and_lowers_market() {
        let (n0, civic0, market0, _, _) = culture_at(0.0, 6);
        let (n1, civic1, market1, _, _) = culture_at(1.0, 6);
        assert!(n0 > 0, "base attendance without a programme");
        assert!(n1 > 4 * n0, "attendance {n0} -> {n1}");
        assert!(civic1 > civic0 + 0.003, "civic {civic0} -> {civic1}");
        assert!(market1 < market0 - 0.001, "market {market0} -> {market1}");
    }

    #[test]
    fn zero_intensity_spends_nothing_and_earns_the_branch_no_credit() {
        let (_, _, _, spend0, exp0) = culture_at(0.0, 3);
        assert_eq!(spend0, 0.0);
        assert_eq!(exp0, 0);
        let (_, _, _, spend1, exp1) = culture_at(1.0, 3);
        let cost = crate::scenario::Scenario::default().paths.culture.cost;
        assert!((spend1 - 3.0 * cost / 12.0).abs() < 1e-6, "spend {spend1}");
        assert!(exp1 > 0, "programme attendance raises trust in the branch");
    }

    #[test]
    fn attendees_are_residents_and_are_marked() {
        let mut w = world(300);
        w.villages[0].branch.capacity = 1.0;
        w.villages[0].formalism = 0.0;
        let mut scratch = Scratch::default();
        run_months(&mut w, 1..2, |c, v, a| {
            c.culture = 2.0;
            for i in 0..a.len() {
                a.part[i] = 0;
            }
            run(c, v, a, &mut scratch);
            let marked: Vec<usize> = (0..a.len()).filter(|&i| a.part[i] & part::ATTENDED != 0).collect();
            assert_eq!(marked.len() as u32, v.stats.attendees);
            assert!(marked.len() > 50);
            assert!(marked.iter().all(|&i| a.residence[i] == residence::RESIDENT));
        });
    }

    #[test]
    fn civic_villagers_attend_more() {
        let attendees = |civic: f32| {
            let mut w = world(400);
            with_village(&mut w, 0, |_, a| a.civic.fill(civic));
            let mut scratch = Scratch::default();
            let stats = run_months(&mut w, 1..4, |c, v, a| {
                c.culture = 1.0;
                run(c, v, a, &mut scratch)
            });
            total(&stats, |s| s.attendees)
        };
        let (low, high) = (attendees(0.0), attendees(1.0));
        // Attendance scales with 0.5 + civic: three times as likely.
        assert!(high > 2 * low, "civic 0: {low}, civic 1: {high}");
    }
}
