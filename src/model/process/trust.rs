//! Process 10, trust: each villager's trust in the branch and in the government moves toward
//! what they experienced this month. Every good experience (a fair settlement, being listened
//! to, help from the platform, the branch siding with them) moves trust a step toward 1, every
//! bad one (an unfair or unresolved dispute, unmet need, capture seen, being overruled) a step
//! toward 0; and residents' trust relaxes slowly toward what the village shows everyone:
//! service quality and order for the branch, service quality and freedom from formalism for
//! the government.

use crate::model::agents::{residence, AgentsMut};
use crate::model::{StepCtx, Village};

/// Step size of one experience.
pub const EVENT_STEP: f32 = 0.04;
/// Monthly relaxation toward the village environment.
pub const RELAX: f32 = 0.01;

/// Run trust updating for one village (no randomness).
pub fn run(_ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
    let q = v.service_quality;
    let env_b = 0.5 * q + 0.5 * v.order;
    let env_g = 0.6 * q + 0.4 * (1.0 - v.formalism);
    for i in 0..a.len() {
        let r = a.residence[i];
        if r == residence::VACANT {
            continue;
        }
        let relax = if r == residence::RESIDENT { RELAX } else { RELAX * 0.25 };
        a.trust_branch[i] = update(a.trust_branch[i], env_b, relax, a.exp_branch[i]);
        a.trust_gov[i] = update(a.trust_gov[i], env_g, relax, a.exp_gov[i]);
    }
}

/// One trust update: relaxation toward `env`, then the month's experiences.
#[inline]
pub fn update(t: f32, env: f32, relax: f32, events: i8) -> f32 {
    let mut t = t + relax * (env - t);
    let e = events.clamp(-4, 4) as f32;
    if e > 0.0 {
        t += EVENT_STEP * e * (1.0 - t);
    } else if e < 0.0 {
        t += EVENT_STEP * e * t;
    }
    t.clamp(0.0, 1.0)
}
