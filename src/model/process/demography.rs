//! Process 1, demography: ageing; mortality by sex and age (the 2000 census pattern at the
//! year's Lee-Carter level); births to women of child-bearing age (the data's age pattern at
//! the year's total fertility); the children of migrants who live in the city with them or
//! are left behind; child mortality; children turning 16, who become agents (resident, or
//! migrant if they grew up in the city).

use crate::model::agents::{flag, part, residence, AgentsMut};
use crate::model::rng::{chance, normal, stream, Events, Network, Phase, Stream};
use crate::model::{StepCtx, Village, ADULT_MONTHS, NONE};

// The monthly reset shifts "contributed" into "contributed last month".
const _: () = assert!(part::CONTRIBUTED << 4 == part::CONTRIBUTED_LAST);

crate::kernel! {
    /// Run demography for one village.
    ///
    /// Deaths and births are rare (a few per thousand adults a month), so they are drawn by
    /// skip-ahead with thinning ([`Events`]): candidates come at the largest probability present,
    /// and each is kept with the ratio of their own probability to it, which gives every adult
    /// exactly their own probability at the cost of one draw per candidate. Children (both
    /// pools, resident and away) die, move with their parents and come of age by skip-ahead too.
    pub fn run(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut) {
        let sc = ctx.sc;
        let p = &sc.population;
        let mut rng = stream(sc.run.seed, v.id, ctx.step, Phase::Demography);
        // Replacement fertility (a stationary population) treats migrant women as residents, so
        // that births replace the generation exactly.
        let migrant_fertility = if p.replacement_fertility {
            1.0
        } else {
            p.migrant_fertility
        };
        let last = ctx.mortality[0].len().clamp(1, 121) - 1;
        let mortality = |years: usize, female: bool| {
            ctx.mortality[female as usize]
                .get(years.min(last))
                .copied()
                .unwrap_or(0.0)
        };
        start_month(a);
        let mut oldest = 0u16;
        for (age, &r) in a.age.iter_mut().zip(&*a.residence) {
            *age = age.saturating_add((r != residence::VACANT) as u16);
            oldest = oldest.max(*age);
        }

        // Deaths by skip-ahead at the mortality of the oldest adult of the likelier sex to die
        // (mortality rises with age), each candidate kept with the ratio of their own mortality.
        let p_death = (0..=(oldest / 12) as usize)
            .map(|y| mortality(y, false).max(mortality(y, true)))
            .fold(0.0, f64::max);
        let mut candidates = Events::new(p_death, a.len());
        while let Some(i) = candidates.next(&mut rng) {
            if a.residence[i] != residence::VACANT
                && rng.f64() * p_death < mortality((a.age[i] / 12) as usize, a.flags[i] & flag::FEMALE != 0)
            {
                die(v, a, i);
            }
        }

        // Births to the surviving women, the same way at the schedule's peak. A child of a migrant
        // mother lives with her in the city with probability `family_migration`.
        let fertility = |years: usize, r: u8| {
            let f = ctx.fertility.get(years).copied().unwrap_or(0.0);
            if r == residence::MIGRANT {
                f * migrant_fertility
            } else {
                f
            }
        };
        let p_birth = ctx
            .fertility
            .iter()
            .fold(0.0, |m: f64, &f| m.max(f).max(f * migrant_fertility))
            .min(1.0);
        let (mut born_home, mut born_away) = (0u32, 0u32);
        let mut candidates = Events::new(p_birth, a.len());
        while let Some(i) = candidates.next(&mut rng) {
            let r = a.residence[i];
            if r != residence::VACANT
                && a.flags[i] & flag::FEMALE != 0
                && rng.f64() * p_birth < fertility((a.age[i] / 12) as usize, r)
            {
                if r == residence::MIGRANT && chance(&mut rng, p.family_migration) {
                    born_away += 1;
                } else {
                    born_home += 1;
                }
            }
        }

        // Children: deaths (the mean of the two sexes' rates at their age), then moves with their
        // parents at last month's rates of adults aged 20-45 (leaving with a migrating parent
        // with probability `family_migration`, returning and settling with them), then ageing.
        let child_rate = |m: usize| 0.5 * (mortality(m / 12, false) + mortality(m / 12, true));
        let p_child = (0..ADULT_MONTHS).map(child_rate).fold(0.0, f64::max);
        let leave = (p.family_migration * v.parent_flows[0] as f64).clamp(0.0, 1.0);
        let (back, settle) = (v.parent_flows[1] as f64, v.parent_flows[2] as f64);
        let mut killed = [[0u16; ADULT_MONTHS]; 2];
        let mut moved = [[0u16; ADULT_MONTHS]; 2];
        let mut settled = [0u16; ADULT_MONTHS];
        for pool in 0..2 {
            let kids: &[u16; ADULT_MONTHS] = if pool == 0 { &v.children } else { &v.children_away };
            let total: usize = kids.iter().map(|&c| c as usize).sum();
            // One skip-ahead over the pool for deaths, one for moves (thinned by age for deaths).
            let (p_move, p_settle) = if pool == 0 { (leave, 0.0) } else { (back, settle) };
            let p_any = p_child.max(p_move + p_settle).min(1.0);
            let mut events = Events::new(p_any, total);
            let (mut cohort, mut below) = (0usize, kids[0] as usize);
            while let Some(k) = events.next(&mut rng) {
                while k >= below {
                    cohort += 1;
                    below += kids[cohort] as usize;
                }
                let u = rng.f64() * p_any;
                if u < child_rate(cohort) {
                    killed[pool][cohort] += 1;
                } else if u < child_rate(cohort) + p_move {
                    moved[pool][cohort] += 1;
                } else if u < child_rate(cohort) + p_move + p_settle {
                    settled[cohort] += 1;
                }
            }
        }
        for m in 0..ADULT_MONTHS {
            let (home, away) = (&mut v.children[m], &mut v.children_away[m]);
            let died_home = killed[0][m].min(*home);
            let left = moved[0][m].min(*home - died_home);
            let died_away = killed[1][m].min(*away);
            let came = moved[1][m].min(*away - died_away);
            let gone = settled[m].min(*away - died_away - came);
            *home = *home - died_home - left + came;
            *away = *away - died_away - came - gone + left;
            v.stats.child_deaths += (died_home + died_away) as u32;
            v.stats.children_settled += gone as u32;
        }
        let coming = [v.children[ADULT_MONTHS - 1], v.children_away[ADULT_MONTHS - 1]];
        v.children.copy_within(0..ADULT_MONTHS - 1, 1);
        v.children_away.copy_within(0..ADULT_MONTHS - 1, 1);
        v.children[0] = born_home.min(u16::MAX as u32) as u16;
        v.children_away[0] = born_away.min(u16::MAX as u32) as u16;
        v.stats.births = v.children[0] as u32 + v.children_away[0] as u32;

        // Those who turn 16 take a vacant slot (the household seat) and inherit its clan: as
        // residents if they grew up in the village, as migrants if they grew up in the city.
        let net = Network::new(sc.run.seed, v.id, a.len(), sc.values.ties, sc.values.rewire);
        let mut cursor = 0usize;
        for (pool, &count) in coming.iter().enumerate() {
            for _ in 0..count {
                cursor = next_vacant(a.residence, cursor);
                if cursor == a.len() {
                    // No room (the engine reserves room before each step, so this does not happen);
                    // the youth stays a child one more month rather than being lost.
                    let pool_last = if pool == 0 {
                        &mut v.children[ADULT_MONTHS - 1]
                    } else {
                        &mut v.children_away[ADULT_MONTHS - 1]
                    };
                    *pool_last = pool_last.saturating_add(1);
                    continue;
                }
                come_of_age(ctx, &mut rng, &net, a, cursor, pool == 1);
                v.alive += 1;
                v.stats.coming_of_age += 1;
                cursor += 1;
            }
        }
    }
}

/// The first vacant slot at or after `from` (`residence.len()` if none): whole blocks of 64
/// slots are passed over with a vectorised test, so a crowded village's scan is short.
#[inline(always)]
fn next_vacant(res: &[u8], from: usize) -> usize {
    let mut i = from.min(res.len());
    while i + 64 <= res.len()
        && res[i..i + 64]
            .iter()
            .fold(true, |full, &r| full & (r != residence::VACANT))
    {
        i += 64;
    }
    res[i..]
        .iter()
        .position(|&r| r == residence::VACANT)
        .map_or(res.len(), |k| i + k)
}

/// Start a month: clear this month's participation and experiences, remembering last month's
/// contribution, the last vote and a pending demand. (Also used where demography does not
/// run: the burn-in and submodels alone.)
pub fn start_month(a: &mut AgentsMut) {
    // Vacant slots hold zeros, which this keeps, so no test is needed.
    for p in a.part.iter_mut() {
        *p = (*p & part::CARRIED) | ((*p & part::CONTRIBUTED) << 4);
    }
    a.exp_branch.fill(0);
    a.exp_gov.fill(0);
}

/// Remove villager `i` (death, or settlement in the city): the slot becomes vacant and any
/// office held falls vacant. Counts a death unless `settled`.
pub fn remove(v: &mut Village, a: &mut AgentsMut, i: usize, settled: bool) {
    if settled {
        v.stats.settled += 1;
    } else {
        v.stats.deaths += 1;
    }
    if v.branch.secretary == i as u32 {
        v.branch.secretary = NONE;
    }
    if v.committee.director == i as u32 {
        v.committee.director = NONE;
    }
    a.vacate(i);
    v.alive -= 1;
}

/// Villager `i` dies.
pub fn die(v: &mut Village, a: &mut AgentsMut, i: usize) {
    remove(v, a, i, false);
}

/// A child turning 16 becomes an agent in slot `i`: resident, or migrant if `away`. Values
/// and trust are learnt from the household's network (the mean of the slot's occupied ties),
/// with noise: each generation starts from its elders' views, not as their copy.
fn come_of_age(ctx: &StepCtx, rng: &mut Stream, net: &Network, a: &mut AgentsMut, i: usize, away: bool) {
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
    let noise = vals.spread;
    a.age[i] = ADULT_MONTHS as u16;
    a.residence[i] = if away { residence::MIGRANT } else { residence::RESIDENT };
    a.flags[i] = if chance(rng, ctx.female_share) { flag::FEMALE } else { 0 };
    a.role[i] = 0;
    a.edu[i] = super::init::education(rng, ctx.education);
    a.part[i] = 0;
    // Grown up in the city: away long enough to settle there.
    a.away[i] = if away { 60 } else { 0 };
    a.exp_branch[i] = 0;
    a.exp_gov[i] = 0;
    a.wealth[i] = 0.0;
    a.market[i] = (m + noise * normal(rng)).clamp(0.0, 1.0) as f32;
    a.civic[i] = (c + noise * normal(rng)).clamp(0.0, 1.0) as f32;
    a.trust_branch[i] = (tb + 0.5 * noise * normal(rng)).clamp(0.0, 1.0) as f32;
    a.trust_gov[i] = (tg + 0.5 * noise * normal(rng)).clamp(0.0, 1.0) as f32;
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
            v.children_away.fill(0);
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
        // The census pattern: about 13-19% a year at 85 against about 0.1-0.2% at 30.
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
                    a.residence[i] = residence::RESIDENT;
                }
            });
            with_village(&mut w, 0, |_, a| {
                for i in occupied(a) {
                    a.flags[i] = if women { flag::FEMALE } else { 0 };
                }
            });
            total(&run_months(&mut w, 1..13, |c, v, a| run(c, v, a)), |s| s.births)
        };
        // 400 women at the peak of the schedule: about 0.14 births a year each.
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
        let v = &w.villages[0];
        assert_eq!(v.children[0] as u32 + v.children_away[0] as u32, stats[0].births);
        assert_eq!(v.children[1..].iter().map(|&c| c as u32).sum::<u32>(), 0);
    }

    #[test]
    fn children_turning_16_become_resident_agents_in_vacant_slots() {
        let mut w = world(300);
        let (before_vacant, alive0) = with_village(&mut w, 0, |v, a| {
            v.children.fill(0);
            v.children_away.fill(0);
            v.children[ADULT_MONTHS - 1] = 5;
            for i in occupied(a) {
                a.age[i] = 40 * 12;
                a.trust_branch[i] = 0.9;
            }
            let vacant: Vec<usize> = (0..a.len()).filter(|&i| a.residence[i] == residence::VACANT).collect();
            (vacant, v.alive)
        });
        let stats = run_months(&mut w, 1..2, |c, v, a| {
            for m in c.mortality.iter_mut() {
                m.fill(0.0);
            }
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
                // Trust is learnt from the household's ties, who all trust the branch at 0.9,
                // with noise (sd half the values' spread).
                assert!((a.trust_branch[i] - 0.9).abs() < 0.3, "trust {}", a.trust_branch[i]);
            }
            assert_eq!(v.children[ADULT_MONTHS - 1], 0);
        });
    }

    #[test]
    fn without_a_vacant_slot_the_youth_stays_a_child() {
        let mut w = world(200);
        with_village(&mut w, 0, |v, a| {
            v.children.fill(0);
            v.children_away.fill(0);
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
            for m in c.mortality.iter_mut() {
                m.fill(0.0);
            }
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
            let kids =
                |v: &Village| -> u32 { v.children.iter().chain(v.children_away.iter()).map(|&x| x as u32).sum() };
            let children0 = kids(v);
            let alive0 = v.alive;
            run(c, v, a);
            let s = &v.stats;
            assert_eq!(s.start_adults, alive0);
            assert_eq!(s.start_adults + s.coming_of_age - s.deaths, v.alive);
            assert_eq!(occupied(a).len() as u32, v.alive, "occupied slots");
            assert_eq!(
                children0 + s.births - s.coming_of_age - s.child_deaths - s.children_settled,
                kids(v)
            );
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
