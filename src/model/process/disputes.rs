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

use crate::model::agents::{residence, role, AgentsMut};
use crate::model::rng::{chance, monthly, stream, Events, Network, Phase};
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

    // Residents by clan, without branches. Slots are grouped by clan, so four interleaved
    // tallies (slot i into tally i mod 4) keep consecutive increments independent.
    let mut tally = [[0u32; 256]; 4];
    let mut bullies = 0u32;
    let n = a.len();
    let (res_col, clans, roles) = (&a.residence[..n], &a.clan[..n], &a.role[..n]);
    for i in 0..n {
        let resident = (res_col[i] == residence::RESIDENT) as u32;
        tally[i & 3][clans[i] as usize] += resident;
        bullies += resident & (roles[i] == role::BULLY) as u32;
    }
    let mut clan_count = [0u32; 256];
    for (c, count) in clan_count.iter_mut().enumerate() {
        *count = tally[0][c] + tally[1][c] + tally[2][c] + tally[3][c];
    }
    let residents: u32 = clan_count.iter().sum();
    let res = residents.max(1) as f64;
    let cap = effective_capacity(v);
    let w_legal = cap * (0.5 + lp.mediation * ctx.legal);
    let w_bully = if bullies > 0 { 2.0 * v.bully_power as f64 } else { 0.0 };
    let p_conflict = monthly(g.conflict_rate * ctx.pressure);
    let p_listen = (lp.listening * ctx.legal * cap).clamp(0.0, 1.0);
    let stance = v.branch.stance as f64;
    let (mut fair, mut n) = (0u32, 0u32);
    // Disputes: candidates at the largest rate (market 1) by skip-ahead, each kept with the
    // ratio of the villager's own probability to it (thinning: the same Bernoulli law).
    let p_max = monthly(g.dispute_rate * 2.0);
    let mut candidates = Events::new(p_max, a.len());
    while let Some(i) = candidates.next(&mut rng) {
        if a.residence[i] != residence::RESIDENT
            || rng.f64() * p_max >= monthly(g.dispute_rate * 2.0 * a.market[i] as f64)
        {
            continue;
        }
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
        let r = rng.f64() * total;
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
    // Villager-government conflicts, each resident with the same probability (skip-ahead).
    let mut conflicts = Events::new(p_conflict, a.len());
    while let Some(i) = conflicts.next(&mut rng) {
        if a.residence[i] != residence::RESIDENT {
            continue;
        }
        v.stats.conflicts += 1;
        experience(a.exp_gov, i, -1);
        if chance(&mut rng, stance) {
            v.stats.sided_with_villager += 1;
            experience(a.exp_branch, i, 1);
        } else {
            experience(a.exp_branch, i, -1);
        }
    }
    // Demand collection: residents listened to (skip-ahead).
    let mut listened = Events::new(p_listen, a.len());
    while let Some(i) = listened.next(&mut rng) {
        if a.residence[i] == residence::RESIDENT {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{residents, run_months, total, with_village, world};
    use crate::model::World;

    /// A village with frequent disputes and a capable branch (capacity 0.6, no formalism).
    fn disputing() -> World {
        let mut w = world(400);
        w.scenario.governance.dispute_rate = 3.0;
        let v = &mut w.villages[0];
        v.branch.capacity = 0.6;
        v.formalism = 0.0;
        v.order = 0.5;
        w
    }

    /// Run disputes for a year at legal intensity `legal`: (legal share, fair-order, force).
    fn year_at(w: &World, legal: f64) -> (f64, f32, u64) {
        let mut w = w.clone();
        let stats = run_months(&mut w, 1..13, |c, v, a| {
            c.legal = legal;
            run(c, v, a)
        });
        let n = total(&stats, |s| s.disputes);
        assert!(n > 200, "disputes {n}");
        let settled = total(&stats, |s| s.legal + s.force + s.unresolved);
        assert_eq!(settled, n, "every dispute takes exactly one channel");
        (
            total(&stats, |s| s.legal) as f64 / n as f64,
            w.villages[0].order,
            total(&stats, |s| s.force),
        )
    }

    #[test]
    fn legal_services_settle_more_disputes_legally_and_raise_order() {
        let w = disputing();
        let (share0, order0, _) = year_at(&w, 0.0);
        let (share1, order1, _) = year_at(&w, 1.0);
        assert!(share1 > share0 + 0.2, "legal share {share0} -> {share1}");
        assert!(order1 > order0 + 0.1, "order {order0} -> {order1}");
        assert!(order1 > 0.5 && order0 < 0.5, "order moves toward the fair share");
    }

    #[test]
    fn no_branch_capacity_means_no_legal_settlement() {
        let mut w = disputing();
        w.villages[0].branch.capacity = 0.0;
        let (share, _, force) = year_at(&w, 1.0);
        assert_eq!(share, 0.0);
        assert!(force > 0);
    }

    /// A village with bullies and no legal path (no branch capacity).
    fn bullied(dispute_rate: f64) -> World {
        let mut w = disputing();
        w.scenario.governance.dispute_rate = dispute_rate;
        w.villages[0].branch.capacity = 0.0;
        w.villages[0].bully_power = 0.3;
        with_village(&mut w, 0, |_, a| {
            for &i in residents(a).iter().take(3) {
                a.role[i] = role::BULLY;
            }
        });
        w
    }

    fn bully_power_after(w: &World, months: u32, legal: f64) -> f32 {
        let mut w = w.clone();
        run_months(&mut w, 1..months + 1, |c, v, a| {
            c.legal = legal;
            run(c, v, a)
        });
        w.villages[0].bully_power
    }

    #[test]
    fn bully_power_grows_with_unfair_wins_without_a_legal_path() {
        let with_disputes = bully_power_after(&bullied(3.0), 3, 0.0);
        let without = bully_power_after(&bullied(0.0), 3, 0.0);
        assert!(without < 0.3, "decay alone: {without}");
        assert!(with_disputes > 0.3, "bully wins raise power: {with_disputes}");
        assert!(with_disputes > without + 0.05);
    }

    #[test]
    fn bully_power_decays_faster_under_legal_intensity() {
        let w = bullied(0.0);
        let (none, legal) = (bully_power_after(&w, 12, 0.0), bully_power_after(&w, 12, 1.0));
        assert!(none < 0.3 && legal < none, "legal 0: {none}, legal 1: {legal}");
        // Annual decay 0.3 against 0.3 + 0.5.
        assert!((none as f64 - 0.3 * (-0.3f64).exp()).abs() < 1e-3, "{none}");
        assert!((legal as f64 - 0.3 * (-0.8f64).exp()).abs() < 1e-3, "{legal}");
    }

    #[test]
    fn bully_power_collapses_without_bullies() {
        let mut w = bullied(0.0);
        with_village(&mut w, 0, |_, a| {
            for i in 0..a.len() {
                if a.role[i] == role::BULLY {
                    a.role[i] = role::ORDINARY;
                }
            }
        });
        let p = bully_power_after(&w, 12, 0.0);
        assert!(p < 0.3 * (-0.9f64).exp() as f32, "no faction left: {p}");
    }

    #[test]
    fn the_branch_stance_decides_whom_it_sides_with() {
        let sided = |stance: f32| {
            let mut w = world(400);
            w.scenario.governance.dispute_rate = 0.0;
            w.scenario.governance.conflict_rate = 6.0;
            w.villages[0].branch.stance = stance;
            let stats = run_months(&mut w, 1..4, |c, v, a| {
                c.pressure = 1.0;
                run(c, v, a)
            });
            (total(&stats, |s| s.sided_with_villager), total(&stats, |s| s.conflicts))
        };
        let (gov, n0) = sided(0.0);
        let (vil, n1) = sided(1.0);
        assert!(n0 > 100 && n1 > 100);
        assert_eq!(gov, 0);
        assert_eq!(vil, n1);
    }
}
