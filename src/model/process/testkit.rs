//! Shared helpers for the process unit tests: small one-village worlds, step contexts, and
//! running one process on one village in isolation.

use crate::model::agents::{residence, AgentsMut};
use crate::model::observe::VillageStats;
use crate::model::{LabourMarket, StepCtx, Village, World};
use crate::scenario::Scenario;

/// A one-village scenario with exactly `adults` registered adults (no size noise).
pub fn scenario(adults: u32) -> Scenario {
    let mut sc = Scenario::default();
    sc.region.villages = 1;
    sc.population.adults_per_village = adults;
    sc.population.village_size_cv = 0.0;
    // Processes are tested alone, from the initial state: no burn-in.
    sc.run.burn_in_years = 0;
    // The arrangement is set by `paths.self_government.arrangement` unless a test sets shares.
    sc.party_state.one_shoulder_share = 0.0.into();
    sc.party_state.cross_serving_share = 0.0.into();
    sc
}

/// A one-village world with exactly `adults` registered adults.
pub fn world(adults: u32) -> World {
    World::new(&scenario(adults))
}

/// A city labour market with full employment at the scenario's wages of step `step`.
pub fn labour(sc: &Scenario, step: u32) -> LabourMarket {
    let (year, month) = crate::model::date(sc, step);
    let t = year as f64 + (month - 1) as f64 / 12.0;
    LabourMarket {
        urban_wage: sc.economy.urban_wage.at(t),
        rural_wage: sc.economy.rural_wage.at(t),
        jobs: 0.0,
        migrants: 0,
        employment: 1.0,
    }
}

/// The step context of step `step` under full urban employment.
pub fn ctx(sc: &Scenario, step: u32) -> StepCtx<'_> {
    let (year, _) = crate::model::date(sc, step);
    let vitals = crate::model::Vitals::years(sc, year, year);
    World::ctx(sc, &vitals, &labour(sc, step), step)
}

/// Run `f` on village `idx` of the world and its own slice of the villager columns.
pub fn with_village<R>(w: &mut World, idx: usize, f: impl FnOnce(&mut Village, &mut AgentsMut) -> R) -> R {
    let caps: Vec<usize> = w.villages.iter().map(|v| v.cap as usize).collect();
    let mut views = w.agents.split_mut(&caps);
    f(&mut w.villages[idx], &mut views[idx])
}

/// Run `f` once per step of `steps` on village 0, each month with a fresh step context (which
/// `f` may adjust before calling the process under test) and the village statistics reset, as
/// the engine does. Returns each month's statistics.
pub fn run_months(
    w: &mut World,
    steps: std::ops::Range<u32>,
    mut f: impl FnMut(&mut StepCtx, &mut Village, &mut AgentsMut),
) -> Vec<VillageStats> {
    let sc = w.scenario.clone();
    let mut out = Vec::new();
    for step in steps {
        let mut c = ctx(&sc, step);
        out.push(with_village(w, 0, |v, a| {
            v.stats = VillageStats::start_of_month(v);
            f(&mut c, v, a);
            v.stats.clone()
        }));
    }
    out
}

/// Sum of a statistic over months.
pub fn total(stats: &[VillageStats], f: impl Fn(&VillageStats) -> u32) -> u64 {
    stats.iter().map(|s| f(s) as u64).sum()
}

/// Slots holding a resident.
pub fn residents(a: &AgentsMut) -> Vec<usize> {
    (0..a.len())
        .filter(|&i| a.residence[i] == residence::RESIDENT)
        .collect()
}

/// Slots holding a registered adult (resident or migrant).
pub fn occupied(a: &AgentsMut) -> Vec<usize> {
    (0..a.len()).filter(|&i| a.residence[i] != residence::VACANT).collect()
}

/// Mean of `x` over `slots`.
pub fn mean(x: &[f32], slots: &[usize]) -> f64 {
    slots.iter().map(|&i| x[i] as f64).sum::<f64>() / slots.len().max(1) as f64
}

/// Standard deviation of `x` over `slots`.
pub fn sd(x: &[f32], slots: &[usize]) -> f64 {
    let m = mean(x, slots);
    (slots.iter().map(|&i| (x[i] as f64 - m).powi(2)).sum::<f64>() / slots.len().max(1) as f64).sqrt()
}
