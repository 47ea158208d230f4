//! The twelve monthly processes (observation lives in [`super::observe`]).
//!
//! Each process is a function of one village: it reads the step context, the village's
//! institutions and its villager slices, draws from its own random stream, and writes only
//! that village's state. The order is fixed and documented in `docs/ODD.md`.

pub mod allocation;
pub mod culture;
pub mod demography;
pub mod disputes;
pub mod elections;
pub mod init;
pub mod market;
pub mod migration;
pub mod party;
pub mod services;
#[cfg(test)]
pub(crate) mod testkit;
pub mod trust;
pub mod values;

use super::agents::AgentsMut;

/// Competence of villager `i`: education and public spirit (for elections and the choice
/// of a secretary).
pub fn competence(a: &AgentsMut, i: usize) -> f64 {
    0.6 * a.edu[i] as f64 / 4.0 + 0.4 * a.civic[i] as f64
}

/// Move `x[i]` and `x[j]` toward each other by `mu` of their distance when closer than `eps`
/// (Deffuant et al. 2000 bounded confidence).
#[inline]
pub fn deffuant(x: &mut [f32], i: usize, j: usize, eps: f32, mu: f32) {
    let d = x[j] - x[i];
    if d.abs() < eps {
        x[i] = (x[i] + mu * d).clamp(0.0, 1.0);
        x[j] = (x[j] - mu * d).clamp(0.0, 1.0);
    }
}

/// Add a signed experience to an `i8` counter without overflow.
#[inline]
pub fn experience(e: &mut [i8], i: usize, d: i8) {
    e[i] = e[i].saturating_add(d);
}

/// Branch capacity available for path work after formal tasks.
#[inline]
pub fn effective_capacity(v: &super::Village) -> f64 {
    v.branch.capacity as f64 * (1.0 - v.formalism as f64)
}

/// Age in whole years of slot `i`.
#[inline]
pub fn age_years(a: &AgentsMut, i: usize) -> f64 {
    a.age[i] as f64 / 12.0
}
