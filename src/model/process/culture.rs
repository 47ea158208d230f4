//! Process 7, community culture (path 4.3).
//!
//! Each month a share of residents attends cultural activities: a small base rate, plus the
//! programme's reach (intensity x the branch's effective capacity), higher for those who
//! already care about village life (`civic`). Attending raises `civic`, pulls `market` toward
//! the level of traditional virtue, and attendees meet one another (one bounded-confidence
//! encounter each with another attendee). Attending a branch programme raises trust in the
//! branch.

use rand::Rng;

use crate::model::agents::{part, residence, AgentsMut};
use crate::model::rng::{chance, stream, Phase};
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
    for i in 0..a.len() {
        if a.residence[i] != residence::RESIDENT {
            continue;
        }
        let p = (cp.base_attendance + programme) * (0.5 + a.civic[i] as f64);
        if !chance(&mut rng, p.clamp(0.0, 1.0)) {
            continue;
        }
        a.part[i] |= part::ATTENDED;
        a.civic[i] = (a.civic[i] + gain * (1.0 - a.civic[i])).clamp(0.0, 1.0);
        a.market[i] = (a.market[i] + pull * (trad - a.market[i])).clamp(0.0, 1.0);
        if chance(&mut rng, from_programme) {
            experience(a.exp_branch, i, 1);
        }
        scratch.idx.push(i as u32);
    }
    let n = scratch.idx.len();
    v.stats.attendees = n as u32;
    v.stats.spend_culture = ctx.culture * cp.cost / 12.0;
    if n < 2 {
        return;
    }
    let (eps, mu) = (vals.confidence_bound as f32, vals.convergence as f32);
    for k in 0..n {
        let other = rng.random_range(0..n);
        if other == k {
            continue;
        }
        let (i, j) = (scratch.idx[k] as usize, scratch.idx[other] as usize);
        deffuant(a.market, i, j, eps, mu);
        deffuant(a.civic, i, j, eps, mu);
    }
}
