//! Process 1, demography: ageing, Gompertz-Makeham mortality, births to women of
//! child-bearing age, child mortality, and children turning 16 who become agents.

use crate::model::agents::{flag, part, residence, AgentsMut};
use crate::model::rng::{chance, normal, stream, Events, Network, Phase, Stream};
use crate::model::{StepCtx, Village, ADULT_MONTHS, NONE};

// The monthly reset shifts "contributed" into "contributed last month".
const _: () = assert!(part::CONTRIBUTED << 4 == part::CONTRIBUTED_LAST);

/// Run demography for one village.
///
/// Deaths and births are rare (a few per thousand adults a month), so they are drawn by
/// skip-ahead with thinning ([`Events`]): candidates come at the largest probability present,
/// and each is kept with the ratio of their own probability to it, which gives every adult
/// exactly their own probability at the cost of one draw per candidate. Child deaths are drawn
/// by skip-ahead over the village's children, one draw per death.
pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
    let sc = ctx.sc;
    let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Demography);
    let migrant_fertility = sc.population.migrant_fertility;
    let last = ctx.mortality.len().clamp(1, 121) - 1;
    let mortality = |years: usize| ctx.mortality.get(years.min(last)).copied().unwrap_or(0.0);
    // This month's participation starts empty; last month's contribution and the last vote
    // are remembered. Vacant slots hold zeros, which this keeps, so no test is needed.
    for p in a.part.iter_mut() {
        *p = (*p & part::CARRIED) | ((*p & part::CONTRIBUTED) << 4);
    }
    a.exp_branch.fill(0);
    a.exp_gov.fill(0);
    let mut oldest = 0u16;
    for (age, &r) in a.age.iter_mut().zip(&*a.residence) {
        *age = age.saturating_add((r != residence::VACANT) as u16);
        oldest = oldest.max(*age);
    }

    // Deaths by skip-ahead at the mortality of the oldest adult (mortality rises with age),
    // each candidate kept with the ratio of their own mortality to it (thinning).
    let p_death = (0..=(oldest / 12) as usize).map(mortality).fold(0.0, f64::max);
    let mut candidates = Events::new(p_death, a.len());
    while let Some(i) = candidates.next(&mut rng) {
        if a.residence[i] != residence::VACANT && rng.f64() * p_death < mortality((a.age[i] / 12) as usize) {
            die(v, a, i);
        }
    }

    // Births to the surviving women, the same way at the schedule's peak.
    let fertility = |years: usize, r: u8| {
        let p = ctx.fertility.get(years).copied().unwrap_or(0.0);
        if r == residence::MIGRANT {
            p * migrant_fertility
        } else {
            p
        }
    };
    let p_birth = ctx
        .fertility
        .iter()
        .fold(0.0, |m: f64, &p| m.max(p).max(p * migrant_fertility))
        .min(1.0);
    let mut births = 0u32;
    let mut candidates = Events::new(p_birth, a.len());
    while let Some(i) = candidates.next(&mut rng) {
        let r = a.residence[i];
        if r != residence::VACANT
            && a.flags[i] & flag::FEMALE != 0
            && rng.f64() * p_birth < fertility((a.age[i] / 12) as usize, r)
        {
            births += 1;
        }
    }

    // Children: mortality (skip-ahead over all children in age order), then ageing.
    let mut deaths = Events::new(ctx.child_mortality, v.children.iter().map(|&c| c as usize).sum());
    let (mut cohort, mut below) = (0usize, v.children[0] as usize);
    let mut killed = [0u16; ADULT_MONTHS];
    while let Some(k) = deaths.next(&mut rng) {
        while k >= below {
            cohort += 1;
            below += v.children[cohort] as usize;
        }
        killed[cohort] += 1;
    }
    for (c, k) in v.children.iter_mut().zip(killed) {
        *c -= k;
        v.stats.child_deaths += k as u32;
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

/// Start a month without demography (submodel runs): clear this month's participation and
/// experiences, remembering last month's contribution and the last vote.
pub fn start_month(a: &mut AgentsMut) {
    for i in 0..a.len() {
        if a.residence[i] != residence::VACANT {
            let last = if a.part[i] & part::CONTRIBUTED != 0 {
                part::CONTRIBUTED_LAST
            } else {
                0
            };
            a.part[i] = (a.part[i] & part::CARRIED) | last;
            a.exp_branch[i] = 0;
            a.exp_gov[i] = 0;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{occupied, run_months, total, with_village, world};
    use crate::model::World;

    /// A village whose adults are all `years` old and which has no children, so that nobody
    /// comes of age during the test.
    fn aged_world(years: u16) -> World {
        let mut w = world(400);
        with_village(&mut w, 0, |v, a| {
            v.children.fill(0);
            for i in occupied(a) {
                a.age[i] = years * 12;
            }
        });
        w
    }

    #[test]
    fn mortality_is_higher_at_85_than_at_30() {
        let deaths = |years| {
            let mut w = aged_world(years);
            total(&run_months(&mut w, 1..13, |c, v, a| run(c, v, a)), |s| s.deaths)
        };
        let (old, young) = (deaths(85), deaths(30));
        // Gompertz-Makeham: about 8% a year at 85 against about 0.1% at 30 (400 adults, 1 year).
        assert!(old >= 15, "deaths at 85: {old}");
        assert!(young <= 4, "deaths at 30: {young}");
        assert!(old > 5 * young.max(1), "old {old} vs young {young}");
    }

    #[test]
    fn only_women_of_child_bearing_age_give_birth() {
        let births = |years: u16, women: bool| {
            let mut w = aged_world(years);
            with_village(&mut w, 0, |_, a| {
                for i in occupied(a) {
                    a.flags[i] = if women { flag::FEMALE } else { 0 };
                }
            });
            total(&run_months(&mut w, 1..13, |c, v, a| run(c, v, a)), |s| s.births)
        };
        // 400 women at the peak of the schedule: tfr 1.8 x density ~0.08 a year each.
        let peak = births(26, true);
        assert!(peak >= 20, "births to women aged 26: {peak}");
        assert_eq!(births(70, true), 0, "no births past the fertility schedule");
        assert_eq!(births(26, false), 0, "no births to men");
    }

    #[test]
    fn births_enter_the_youngest_cohort() {
        let mut w = aged_world(26);
        with_village(&mut w, 0, |_, a| {
            for i in occupied(a) {
                a.flags[i] = flag::FEMALE;
            }
        });
        let stats = run_months(&mut w, 1..2, |c, v, a| run(c, v, a));
        assert!(stats[0].births > 0);
        assert_eq!(w.villages[0].children[0] as u32, stats[0].births);
        assert_eq!(w.villages[0].children[1..].iter().map(|&c| c as u32).sum::<u32>(), 0);
    }

    #[test]
    fn children_turning_16_become_resident_agents_in_vacant_slots() {
        let mut w = world(300);
        let (before_vacant, alive0) = with_village(&mut w, 0, |v, a| {
            v.children.fill(0);
            v.children[ADULT_MONTHS - 1] = 5;
            for i in occupied(a) {
                a.age[i] = 40 * 12;
                a.trust_branch[i] = 0.9;
            }
            let vacant: Vec<usize> = (0..a.len()).filter(|&i| a.residence[i] == residence::VACANT).collect();
            (vacant, v.alive)
        });
        let stats = run_months(&mut w, 1..2, |c, v, a| {
            c.child_mortality = 0.0;
            c.mortality.fill(0.0);
            run(c, v, a)
        });
        assert_eq!(stats[0].coming_of_age, 5);
        assert_eq!(stats[0].deaths, 0);
        with_village(&mut w, 0, |v, a| {
            assert_eq!(v.alive, alive0 + 5);
            let new: Vec<usize> = occupied(a)
                .into_iter()
                .filter(|&i| a.age[i] as usize == ADULT_MONTHS)
                .collect();
            assert_eq!(new.len(), 5);
            for &i in &new {
                assert!(before_vacant.contains(&i), "slot {i} was not vacant");
                assert_eq!(a.residence[i], residence::RESIDENT);
                assert_eq!(a.role[i], 0);
                assert!(a.edu[i] <= 4);
                // Trust is learnt from the household's ties, who all trust the branch at 0.9.
                assert!((a.trust_branch[i] - 0.9).abs() < 1e-4, "trust {}", a.trust_branch[i]);
            }
            assert_eq!(v.children[ADULT_MONTHS - 1], 0);
        });
    }

    #[test]
    fn without_a_vacant_slot_the_youth_stays_a_child() {
        let mut w = world(200);
        with_village(&mut w, 0, |v, a| {
            v.children.fill(0);
            v.children[ADULT_MONTHS - 1] = 3;
            for i in 0..a.len() {
                if a.residence[i] == residence::VACANT {
                    a.residence[i] = residence::RESIDENT;
                    a.age[i] = 40 * 12;
                }
            }
            v.alive = a.len() as u32;
        });
        let stats = run_months(&mut w, 1..2, |c, v, a| {
            c.child_mortality = 0.0;
            c.mortality.fill(0.0);
            c.fertility.fill(0.0);
            run(c, v, a)
        });
        let v = &w.villages[0];
        assert_eq!(stats[0].coming_of_age, 0);
        assert_eq!(v.alive, v.cap);
        assert_eq!(v.children[ADULT_MONTHS - 1], 3, "nobody is lost");
        assert_eq!(v.children.iter().map(|&c| c as u32).sum::<u32>(), 3);
    }

    #[test]
    fn accounting_closes_every_month() {
        let mut w = world(300);
        let mut months = 0;
        run_months(&mut w, 1..25, |c, v, a| {
            let children0: u32 = v.children.iter().map(|&x| x as u32).sum();
            let alive0 = v.alive;
            run(c, v, a);
            let s = &v.stats;
            assert_eq!(s.start_adults, alive0);
            assert_eq!(s.start_adults + s.coming_of_age - s.deaths, v.alive);
            assert_eq!(occupied(a).len() as u32, v.alive, "occupied slots");
            let children: u32 = v.children.iter().map(|&x| x as u32).sum();
            assert_eq!(children0 + s.births - s.coming_of_age - s.child_deaths, children);
            months += 1;
        });
        assert_eq!(months, 24);
    }

    #[test]
    fn death_vacates_offices_and_keeps_the_clan() {
        let mut w = world(200);
        with_village(&mut w, 0, |v, a| {
            let i = occupied(a)[3];
            a.clan[i] = 2;
            v.branch.secretary = i as u32;
            v.committee.director = i as u32;
            let alive = v.alive;
            die(v, a, i);
            assert_eq!(v.alive, alive - 1);
            assert_eq!(v.stats.deaths, 1);
            assert_eq!(a.residence[i], residence::VACANT);
            assert_eq!(a.clan[i], 2);
            assert_eq!(v.branch.secretary, NONE);
            assert_eq!(v.committee.director, NONE);
        });
    }
}
