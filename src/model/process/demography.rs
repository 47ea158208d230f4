//! Process 1, demography: ageing, Gompertz-Makeham mortality, births to women of
//! child-bearing age, child mortality, and children turning 16 who become agents.

use crate::model::agents::{flag, residence, AgentsMut};
use crate::model::rng::{chance, normal, stream, Network, Phase, Stream};
use crate::model::{StepCtx, Village, ADULT_MONTHS, NONE};

/// Run demography for one village.
pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
    let sc = ctx.sc;
    let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Demography);
    v.stats.start_adults = v.alive;
    v.stats.start_children = v.children.iter().map(|&c| c as u32).sum();
    let migrant_fertility = sc.population.migrant_fertility;
    let mut births = 0u32;
    for i in 0..a.len() {
        if a.residence[i] == residence::VACANT {
            continue;
        }
        a.part[i] = 0;
        a.exp_branch[i] = 0;
        a.exp_gov[i] = 0;
        a.age[i] = a.age[i].saturating_add(1);
        let years = (a.age[i] / 12) as usize;
        if chance(&mut rng, ctx.mortality[years.min(ctx.mortality.len() - 1)]) {
            die(v, a, i);
            continue;
        }
        if a.flags[i] & flag::FEMALE != 0 && years < ctx.fertility.len() {
            let mut p = ctx.fertility[years];
            if a.residence[i] == residence::MIGRANT {
                p *= migrant_fertility;
            }
            if chance(&mut rng, p) {
                births += 1;
            }
        }
    }

    // Children: mortality, then ageing by one month.
    for c in v.children.iter_mut() {
        let before = *c;
        for _ in 0..before {
            if chance(&mut rng, ctx.child_mortality) {
                *c -= 1;
            }
        }
        v.stats.child_deaths += (before - *c) as u32;
    }
    let coming = v.children[ADULT_MONTHS - 1];
    v.children.copy_within(0..ADULT_MONTHS - 1, 1);
    let born = births.min(u16::MAX as u32) as u16;
    v.children[0] = born;
    v.stats.births = born as u32;

    // Those who turn 16 take a vacant slot (the household seat) and inherit its clan.
    let net = Network::new(sc.run.seed, v.id, a.len(), sc.values.ties, sc.values.rewire);
    let mut cursor = 0usize;
    for _ in 0..coming {
        while cursor < a.len() && a.residence[cursor] != residence::VACANT {
            cursor += 1;
        }
        if cursor == a.len() {
            // No room (the engine reserves room before each step, so this does not happen);
            // the youth stays a child one more month rather than being lost.
            v.children[ADULT_MONTHS - 1] = v.children[ADULT_MONTHS - 1].saturating_add(1);
            continue;
        }
        come_of_age(ctx, &mut rng, &net, a, cursor);
        v.alive += 1;
        v.stats.coming_of_age += 1;
        cursor += 1;
    }
}

/// Remove villager `i`: the slot becomes vacant and any office held falls vacant.
pub fn die(v: &mut Village, a: &mut AgentsMut, i: usize) {
    v.stats.deaths += 1;
    if v.branch.secretary == i as u32 {
        v.branch.secretary = NONE;
    }
    if v.committee.director == i as u32 {
        v.committee.director = NONE;
    }
    a.vacate(i);
    v.alive -= 1;
}

/// A child turning 16 becomes a resident agent in slot `i`. Values and trust are learnt from
/// the household's network (the mean of the slot's occupied ties), with noise.
fn come_of_age(ctx: &StepCtx, rng: &mut Stream, net: &Network, a: &mut AgentsMut, i: usize) {
    let vals = &ctx.sc.values;
    let (mut n, mut m, mut c, mut tb, mut tg) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
    for k in 0..net.ties() {
        let j = net.tie(i, k);
        if j != i && a.residence[j] != residence::VACANT {
            n += 1.0;
            m += a.market[j] as f64;
            c += a.civic[j] as f64;
            tb += a.trust_branch[j] as f64;
            tg += a.trust_gov[j] as f64;
        }
    }
    let (m, c, tb, tg) = if n > 0.0 {
        (m / n, c / n, tb / n, tg / n)
    } else {
        (
            vals.market_mean,
            vals.civic_mean,
            vals.trust_branch,
            vals.trust_government,
        )
    };
    let noise = vals.spread * 0.5;
    a.age[i] = ADULT_MONTHS as u16;
    a.residence[i] = residence::RESIDENT;
    a.flags[i] = if chance(rng, 0.5) { flag::FEMALE } else { 0 };
    a.role[i] = 0;
    a.edu[i] = super::init::education(rng, ctx.education);
    a.part[i] = 0;
    a.away[i] = 0;
    a.exp_branch[i] = 0;
    a.exp_gov[i] = 0;
    a.wealth[i] = 0.0;
    a.market[i] = (m + noise * normal(rng)).clamp(0.0, 1.0) as f32;
    a.civic[i] = (c + noise * normal(rng)).clamp(0.0, 1.0) as f32;
    a.trust_branch[i] = tb.clamp(0.0, 1.0) as f32;
    a.trust_gov[i] = tg.clamp(0.0, 1.0) as f32;
}
