//! Process 3, value dynamics: bounded-confidence influence (Deffuant-Weisbuch) on `market`
//! and `civic` along the procedural clan-clustered small-world network, and the slow erosion
//! of `civic` by benefit orientation ("vulgar culture") and by life away from the village.

use crate::model::agents::{residence, AgentsMut};
use crate::model::rng::{chance, stream, Network, Phase};
use crate::model::{StepCtx, Village};

use super::deffuant;

/// Run value dynamics for one village.
pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
    let sc = ctx.sc;
    let vals = &sc.values;
    let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Values);
    let net = Network::new(sc.run.seed, v.id, a.len(), vals.ties, vals.rewire);
    let (eps, mu) = (vals.confidence_bound as f32, vals.convergence as f32);
    if vals.ties > 0 {
        for i in 0..a.len() {
            if a.residence[i] != residence::RESIDENT || !chance(&mut rng, vals.interaction_rate) {
                continue;
            }
            let j = net.random_tie(i, &mut rng);
            if j == i || a.residence[j] != residence::RESIDENT {
                continue;
            }
            deffuant(a.market, i, j, eps, mu);
            deffuant(a.civic, i, j, eps, mu);
        }
    }
    let erosion = (vals.civic_erosion / 12.0) as f32;
    let away = (vals.migrant_civic_decay / 12.0) as f32;
    for i in 0..a.len() {
        let r = a.residence[i];
        if r == residence::VACANT {
            continue;
        }
        let c = a.civic[i];
        let mut d = erosion * a.market[i] * c;
        if r == residence::MIGRANT {
            d += away * c;
        }
        a.civic[i] = (c - d).clamp(0.0, 1.0);
    }
}
