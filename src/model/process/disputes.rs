//! Process 5, disputes and order (path 4.1, legal services).
//!
//! Residents raise disputes at a rate rising with `market`. Each dispute is settled through
//! one of three channels chosen with weights: the legal/mediation channel (weight rising with
//! legal-service intensity and the branch's effective capacity; fair, raises trust in the
//! branch on both sides), force (clan dominance between parties of unequal clans, or the
//! bully faction's coercion; unfair, lowers the loser's trust and strengthens the bully), or
//! none (unresolved, lowers the raiser's trust). Order is the slow average of the share of
//! disputes settled fairly. Villager-government conflicts arise with township pressure; the
//! branch's stance decides whether it sides with the villager (trust in the branch rises) or
//! with the government (it falls). Legal services also have the branch collect demands:
//! villagers who are listened to gain trust.

use rand::Rng;

use crate::model::agents::{residence, role, AgentsMut};
use crate::model::rng::{chance, monthly, stream, Network, Phase};
use crate::model::{StepCtx, Village};

use super::{effective_capacity, experience};

/// Weight of the "left unresolved" channel against which the others compete.
pub const UNRESOLVED_WEIGHT: f64 = 0.5;

/// Run disputes for one village.
pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
    let sc = ctx.sc;
    let g = &sc.governance;
    let lp = &sc.paths.legal;
    let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Disputes);
    let net = Network::new(sc.run.seed, v.id, a.len(), sc.values.ties, sc.values.rewire);

    let mut clan_count = [0u32; 256];
    let (mut residents, mut bullies) = (0u32, 0u32);
    for i in 0..a.len() {
        if a.residence[i] == residence::RESIDENT {
            residents += 1;
            clan_count[a.clan[i] as usize] += 1;
            if a.role[i] == role::BULLY {
                bullies += 1;
            }
        }
    }
    let res = residents.max(1) as f64;
    let cap = effective_capacity(v);
    let w_legal = cap * (0.5 + lp.mediation * ctx.legal);
    let w_bully = if bullies > 0 { 2.0 * v.bully_power as f64 } else { 0.0 };
    let p_conflict = monthly(g.conflict_rate * ctx.pressure);
    let p_listen = (lp.listening * ctx.legal * cap).clamp(0.0, 1.0);
    let stance = v.branch.stance as f64;
    let (mut fair, mut n) = (0u32, 0u32);
    for i in 0..a.len() {
        if a.residence[i] != residence::RESIDENT {
            continue;
        }
        if chance(&mut rng, monthly(g.dispute_rate * 2.0 * a.market[i] as f64)) {
            n += 1;
            let j = net.random_tie(i, &mut rng);
            let other = (j != i && a.residence[j] == residence::RESIDENT).then_some(j);
            let w_clan = match other {
                Some(j) if a.clan[i] != a.clan[j] => {
                    let (si, sj) = (
                        clan_count[a.clan[i] as usize] as f64 / res,
                        clan_count[a.clan[j] as usize] as f64 / res,
                    );
                    g.clan_strength * (si - sj).abs()
                }
                _ => 0.0,
            };
            let total = w_legal + w_clan + w_bully + UNRESOLVED_WEIGHT;
            let r = rng.random::<f64>() * total;
            if r < w_legal {
                v.stats.legal += 1;
                fair += 1;
                experience(a.exp_branch, i, 1);
                if let Some(j) = other {
                    experience(a.exp_branch, j, 1);
                }
            } else if r < w_legal + w_clan {
                v.stats.force += 1;
                // The party of the smaller clan loses.
                if let Some(j) = other {
                    let loser = if clan_count[a.clan[i] as usize] < clan_count[a.clan[j] as usize] {
                        i
                    } else {
                        j
                    };
                    experience(a.exp_branch, loser, -1);
                }
            } else if r < w_legal + w_clan + w_bully {
                v.stats.force += 1;
                experience(a.exp_branch, i, -1);
                let bp = v.bully_power;
                v.bully_power = (bp + g.bully_gain as f32 * (1.0 - bp)).clamp(0.0, 1.0);
            } else {
                v.stats.unresolved += 1;
                experience(a.exp_branch, i, -1);
            }
        }
        if chance(&mut rng, p_conflict) {
            v.stats.conflicts += 1;
            experience(a.exp_gov, i, -1);
            if chance(&mut rng, stance) {
                v.stats.sided_with_villager += 1;
                experience(a.exp_branch, i, 1);
            } else {
                experience(a.exp_branch, i, -1);
            }
        }
        if chance(&mut rng, p_listen) {
            v.stats.listened += 1;
            experience(a.exp_branch, i, 1);
        }
    }
    v.stats.disputes = n;
    if n > 0 {
        let w = (n as f32 / 20.0).min(1.0) * 0.1;
        v.order = (v.order + w * (fair as f32 / n as f32 - v.order)).clamp(0.0, 1.0);
    }
    let mut decay = monthly(g.bully_decay + lp.bully_suppression * ctx.legal);
    if bullies == 0 {
        decay = decay.max(monthly(1.0));
    }
    v.bully_power = (v.bully_power * (1.0 - decay as f32)).clamp(0.0, 1.0);
    v.stats.spend_legal = ctx.legal * lp.cost / 12.0;
}
