//! Initialisation of a village (ODD element 5).

use rand::Rng;

use crate::model::agents::{flag, part, residence, role, AgentsMut};
use crate::model::inputs;
use crate::model::observe::VillageStats;
use crate::model::rng::{chance, normal, stream, Phase, Stream};
use crate::model::{arrangement_concentration, Branch, Committee, Controller, Scratch, Village, ADULT_MONTHS, NONE};
use crate::scenario::{Initial, Scenario, Start};

/// Initial registered adults of village `v`: lognormal around the mean with the scenario's
/// coefficient of variation.
pub fn village_size(sc: &Scenario, v: u32) -> u32 {
    let mut rng = stream(sc.run.seed, v, 0, Phase::Region);
    let p = &sc.population;
    let cv = p.village_size_cv;
    let sigma = (1.0 + cv * cv).ln().sqrt();
    let x = (p.adults_per_village as f64) * (sigma * normal(&mut rng) - 0.5 * sigma * sigma).exp();
    x.round().clamp(10.0, 1_000_000.0) as u32
}

/// Slots to reserve for `n` registered adults: 10% room plus a margin. Deaths free slots
/// and those coming of age fill them; a village that runs out is repacked with room for the
/// next two years' cohorts (see `World::ensure_room`), so the room only needs to cover a
/// village's growth, and every vacant slot costs a pass over it in every process.
pub fn capacity_for(n: usize) -> usize {
    n + n / 10 + 16
}

/// Clan shares: the largest clan has `largest_clan_share`, the rest decline geometrically.
pub fn clan_shares(sc: &Scenario) -> Vec<f64> {
    let p = &sc.population;
    let k = p.clans.max(1) as usize;
    if k == 1 {
        return vec![1.0];
    }
    let rest: Vec<f64> = (1..k).map(|i| 0.6f64.powi(i as i32 - 1)).collect();
    let total: f64 = rest.iter().sum();
    let mut shares = vec![p.largest_clan_share];
    shares.extend(rest.iter().map(|w| (1.0 - p.largest_clan_share) * w / total));
    shares
}

fn pick(rng: &mut Stream, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut r = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if r < *w {
            return i;
        }
        r -= w;
    }
    weights.len() - 1
}

/// Poisson draw (Knuth's method for small means, normal approximation above 30).
pub fn poisson(rng: &mut Stream, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        return (lambda + lambda.sqrt() * normal(rng)).round().max(0.0) as u32;
    }
    let l = (-lambda).exp();
    let (mut k, mut p) = (0u32, 1.0f64);
    loop {
        p *= rng.random::<f64>();
        if p <= l {
            return k;
        }
        k += 1;
    }
}

/// Education level 0-4: four steps each taken with probability `p`.
pub fn education(rng: &mut Stream, p: f64) -> u8 {
    (0..4).filter(|_| chance(rng, p)).count() as u8
}

/// Initial age shares of migrants by age group 16-20, 21-30, 31-40, 41-50, 51-60: an
/// estimate for 2000, extrapolated back from the NBS migrant worker survey of 2008 (10.7%,
/// 35.3%, 24.0%, 18.6%, 11.4%: migrants were younger earlier).
pub const MIGRANT_AGES_2000: [(u16, u16, f64); 5] = [
    (16, 20, 0.15),
    (21, 30, 0.40),
    (31, 40, 0.25),
    (41, 50, 0.13),
    (51, 60, 0.07),
];

/// Weights of the initial population by single year of age 0..=100 and sex (male, female):
/// the 2000 census rural population, or the life table's stationary population at the
/// mortality `level`.
pub fn age_sex_weights(sc: &Scenario, level: f64) -> Vec<(f64, f64)> {
    match sc.population.initial {
        Start::Census => inputs::tables().population.clone(),
        Start::Stationary => {
            let srb = sc.population.sex_ratio_at_birth.at(sc.run.start_year as f64);
            let (pm, pf) = (srb / (1.0 + srb), 1.0 / (1.0 + srb));
            inputs::survivorship(level)
                .into_iter()
                .take(101)
                .map(|(m, f)| (pm * m, pf * f))
                .collect()
        }
    }
}

/// Build village `v` with `n` registered adults into its (vacant) slots, at the start
/// year's mortality `level`.
pub fn village(sc: &Scenario, v: u32, n: usize, level: f64, a: &mut AgentsMut) -> Village {
    let seed = sc.run.seed;
    let mut rng = stream(seed, v, 0, Phase::Init);
    let p = &sc.population;
    let vals = &sc.values;
    let g = &sc.governance;
    let start = sc.run.start_year as f64;

    // Clans: occupied slots sorted by clan so that lattice ties are clan ties.
    let shares = clan_shares(sc);
    let mut slot = 0usize;
    for (c, s) in shares.iter().enumerate() {
        let count = if c + 1 == shares.len() {
            n - slot
        } else {
            ((s * n as f64).round() as usize).min(n - slot)
        };
        for _ in 0..count {
            a.clan[slot] = c as u8;
            slot += 1;
        }
    }
    for i in n..a.len() {
        a.clan[i] = pick(&mut rng, &shares) as u8;
    }

    // Ages and sexes: residents from the census (or stationary) adults 16+; migrants, the
    // initial share, from the migrants' age profile and sex share.
    let weights = age_sex_weights(sc, level);
    let adult: Vec<f64> = weights
        .iter()
        .enumerate()
        .skip(16)
        .flat_map(|(_, &(m, f))| [m, f])
        .collect();
    let migrant_ages: Vec<f64> = (16..=60u16)
        .map(|y| {
            MIGRANT_AGES_2000
                .iter()
                .find(|(lo, hi, _)| (*lo..=*hi).contains(&y))
                .map_or(0.0, |(lo, hi, s)| s / (hi - lo + 1) as f64)
        })
        .collect();
    let edu0 = p.education.at(start);
    for i in 0..n {
        let migrant = chance(&mut rng, p.initial_migrant_share);
        let (years, female) = if migrant {
            (
                16 + pick(&mut rng, &migrant_ages) as u16,
                chance(&mut rng, p.migrant_female_share),
            )
        } else {
            let k = pick(&mut rng, &adult);
            (16 + (k / 2) as u16, k % 2 == 1)
        };
        a.age[i] = years * 12 + rng.random_range(0..12u16);
        a.flags[i] = if female { flag::FEMALE } else { 0 };
        let pe = (edu0 - p.education_cohort_decline * (years - 16) as f64 / 10.0).clamp(0.02, 1.0);
        a.edu[i] = education(&mut rng, pe);
        let young = 1.0 - ((years - 16) as f64 / 60.0).min(1.0);
        match vals.initial {
            Initial::Normal => {
                a.market[i] =
                    (vals.market_mean + 0.15 * (young - 0.5) + vals.spread * normal(&mut rng)).clamp(0.0, 1.0) as f32;
                a.civic[i] =
                    (vals.civic_mean - 0.1 * (young - 0.5) + vals.spread * normal(&mut rng)).clamp(0.0, 1.0) as f32;
            }
            Initial::Uniform => {
                a.market[i] = rng.random::<f32>();
                a.civic[i] = rng.random::<f32>();
            }
        }
        a.trust_branch[i] = (vals.trust_branch + 0.1 * normal(&mut rng)).clamp(0.0, 1.0) as f32;
        a.trust_gov[i] = (vals.trust_government + 0.1 * normal(&mut rng)).clamp(0.0, 1.0) as f32;
        a.residence[i] = if migrant {
            residence::MIGRANT
        } else {
            residence::RESIDENT
        };
        if migrant {
            a.away[i] = rng.random_range(1..60);
        }
        let w = sc.economy.rural_wage.at(start) * 12.0 * (1.0 + sc.economy.education_premium * a.edu[i] as f64);
        a.wealth[i] = (w * (0.8 * normal(&mut rng)).exp()) as f32;
    }

    // Party members, older on average: weight by a normal kernel around the mean member age.
    let kernel = |age: f64| (-(age - g.member_age).powi(2) / (2.0 * 15.0 * 15.0)).exp();
    let mean_k: f64 = (0..n).map(|i| kernel(a.age[i] as f64 / 12.0)).sum::<f64>() / n.max(1) as f64;
    for i in 0..n {
        let pp = g.member_share * kernel(a.age[i] as f64 / 12.0) / mean_k.max(1e-9);
        if chance(&mut rng, pp.min(1.0)) {
            a.flags[i] |= flag::PARTY;
        }
    }

    // Village bullies: young and middle-aged resident men.
    let bullies = poisson(&mut rng, g.bullies_per_1000 * n as f64 / 1000.0);
    let mut placed = 0;
    for _ in 0..bullies * 50 {
        if placed == bullies || n == 0 {
            break;
        }
        let i = rng.random_range(0..n);
        let age = a.age[i] / 12;
        if a.residence[i] == residence::RESIDENT
            && a.flags[i] & flag::FEMALE == 0
            && (20..=55).contains(&age)
            && a.role[i] == role::ORDINARY
        {
            a.role[i] = role::BULLY;
            placed += 1;
        }
    }

    // Children by month of age: the census (or stationary) children 0-15 in proportion to
    // the village's resident adults; a share `family_migration` of the children of migrants
    // of parenting age live with them.
    let residents = (0..n).filter(|&i| a.residence[i] == residence::RESIDENT).count();
    let adults_w: f64 = weights.iter().skip(16).map(|(m, f)| m + f).sum();
    let per_adult = residents as f64 / adults_w.max(1e-9);
    let parents_away = (0..n)
        .filter(|&i| a.residence[i] == residence::MIGRANT && (20 * 12..46 * 12).contains(&a.age[i]))
        .count() as f64;
    let parents_home = (0..n)
        .filter(|&i| a.residence[i] == residence::RESIDENT && (20 * 12..46 * 12).contains(&a.age[i]))
        .count() as f64;
    let away_ratio = p.family_migration * parents_away / parents_home.max(1.0);
    let mut children = Box::new([0u16; ADULT_MONTHS]);
    let mut children_away = Box::new([0u16; ADULT_MONTHS]);
    for m in 0..ADULT_MONTHS {
        let (wm, wf) = weights[m / 12];
        let lambda = (wm + wf) * per_adult / 12.0;
        children[m] = poisson(&mut rng, lambda).min(u16::MAX as u32) as u16;
        children_away[m] = poisson(&mut rng, lambda * away_ratio).min(u16::MAX as u32) as u16;
    }

    let migrants = n - residents;
    let arrangement = crate::model::village_arrangement(sc, v, start);
    let mut village = Village {
        id: v,
        cap: a.len() as u32,
        alive: n as u32,
        children,
        children_away,
        clans: shares.len() as u8,
        branch: Branch {
            secretary: NONE,
            competence: 0.0,
            capacity: 0.0,
            legitimacy: vals.trust_branch as f32,
            administrative: g.administrative as f32,
            stance: g.stance as f32,
            standing: 0.5,
            first_secretary_months: 0,
        },
        committee: Committee {
            director: NONE,
            controller: Controller::Branch,
            contested: false,
            autonomy: g.autonomy as f32,
            term_start: sc.run.start_year,
            concentration: arrangement_concentration(arrangement, true),
            arrangement,
        },
        service_quality: sc.paths.services.initial_quality as f32,
        cooperation: 0.3,
        order: 0.5,
        bully_power: if placed > 0 { g.bully_power as f32 } else { 0.0 },
        funds_for_services: 0.0,
        funds_for_demands: 0.0,
        delivered: [0.0; 4],
        formalism: (g.admin_pressure.at(start) * (0.4 + 0.6 * g.administrative)).clamp(0.0, 1.0) as f32,
        turnout: 0.6,
        leak: 0.0,
        supervision: 0.0,
        sanction_memory: sc.party_state.discipline.at(start) as f32,
        prosecution_memory: 0.2,
        efficacy: 0.5,
        parent_flows: [0.0; 3],
        stats: VillageStats {
            migrants: migrants as u32,
            residents: residents as u32,
            registered: n as u32,
            ..Default::default()
        },
    };
    let mut scratch = Scratch::default();
    super::party::refresh_roles(sc, &mut rng, &mut village, a, &mut scratch);
    super::party::update_branch(sc, &mut village, a);
    let retire = super::party::retire_months(sc);
    let arr = village.committee.arrangement;
    let sec = village.branch.secretary;
    village.committee.director = super::elections::nominee(arr, sec, retire, a).map_or(NONE, |i| i as u32);
    if village.committee.director != NONE {
        a.role[village.committee.director as usize] = role::CADRE;
    }
    // Those who voted at the last election before the run: the initial turnout.
    for i in 0..n {
        if chance(&mut rng, village.turnout as f64) {
            a.part[i] |= part::VOTED_LAST;
        }
    }
    village
}

/// Give the clans of new vacant slots `from..` after a repack: each copies the clan of a
/// random older slot, so clan composition is kept.
pub fn fill_new_slots(seed: u64, step: u32, v: &mut Village, a: &mut AgentsMut, from: usize) {
    let mut rng = stream(seed, v.id, step, Phase::Init);
    for i in from..a.len() {
        a.clan[i] = if from == 0 {
            0
        } else {
            a.clan[rng.random_range(0..from)]
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::process::testkit::{occupied, scenario, with_village};
    use crate::model::World;

    #[test]
    fn village_sizes_scatter_around_the_mean() {
        let mut sc = scenario(500);
        sc.population.village_size_cv = 0.25;
        let sizes: Vec<f64> = (0..400).map(|v| village_size(&sc, v) as f64).collect();
        let mean = sizes.iter().sum::<f64>() / sizes.len() as f64;
        let sd = (sizes.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / sizes.len() as f64).sqrt();
        assert!((mean - 500.0).abs() < 25.0, "mean size {mean}");
        assert!((0.2..0.3).contains(&(sd / mean)), "cv {}", sd / mean);
        assert_eq!(village_size(&sc, 7), village_size(&sc, 7), "deterministic");
        sc.population.village_size_cv = 0.0;
        assert!((0..20).all(|v| village_size(&sc, v) == 500), "no spread at cv 0");
    }

    #[test]
    fn capacity_leaves_room() {
        for n in [0usize, 10, 500, 100_000] {
            let c = capacity_for(n);
            assert!(c >= n + n / 10 && c > n);
        }
    }

    #[test]
    fn clan_shares_sum_to_one_and_decline() {
        let sc = scenario(500);
        let s = clan_shares(&sc);
        assert_eq!(s.len(), sc.population.clans as usize);
        assert!((s.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(s[0], sc.population.largest_clan_share);
        assert!(s.windows(2).all(|w| w[0] >= w[1]), "{s:?}");
        let mut one = sc.clone();
        one.population.clans = 1;
        assert_eq!(clan_shares(&one), vec![1.0]);
    }

    #[test]
    fn occupied_slots_come_first_sorted_by_clan() {
        let mut sc = scenario(500);
        sc.region.villages = 3;
        sc.population.village_size_cv = 0.25;
        let mut w = World::new(&sc);
        let shares = clan_shares(&sc);
        for idx in 0..3 {
            with_village(&mut w, idx, |v, a| {
                let n = v.alive as usize;
                assert_eq!(v.cap as usize, a.len());
                assert_eq!(a.len(), capacity_for(n));
                assert_eq!(
                    occupied(a),
                    (0..n).collect::<Vec<_>>(),
                    "the first n slots are occupied"
                );
                assert!(
                    a.clan[..n].windows(2).all(|w| w[0] <= w[1]),
                    "slot clans non-decreasing"
                );
                for (c, s) in shares.iter().enumerate() {
                    let count = a.clan[..n].iter().filter(|&&x| x as usize == c).count();
                    // Each clan is rounded; the last takes the remainder of all the roundings.
                    let tol = if c + 1 == shares.len() { 0.5 * c as f64 } else { 0.5 };
                    assert!((count as f64 - s * n as f64).abs() <= tol + 1e-9, "clan {c}: {count}");
                }
                assert!(a.clan[n..].iter().all(|&c| (c as usize) < shares.len()));
            });
        }
    }

    #[test]
    fn age_pyramid_is_adult_and_tapers() {
        let mut w = World::new(&scenario(1000));
        with_village(&mut w, 0, |_, a| {
            let ages: Vec<u16> = occupied(a).into_iter().map(|i| a.age[i]).collect();
            assert!(
                ages.iter().all(|&m| (16 * 12..96 * 12).contains(&m)),
                "ages within 16..96"
            );
            let count = |lo: u16, hi: u16| ages.iter().filter(|&&m| (lo * 12..hi * 12).contains(&m)).count();
            assert!(
                count(16, 31) > 2 * count(66, 81),
                "{} vs {}",
                count(16, 31),
                count(66, 81)
            );
            assert!(count(81, 96) < count(66, 81));
            // Vacant room is really vacant.
            assert!((0..a.len()).all(|i| a.residence[i] != residence::VACANT || a.age[i] == 0));
        });
    }

    #[test]
    fn initial_migrant_share_follows_the_parameter() {
        let share = |p: f64| {
            let mut sc = scenario(1000);
            sc.region.villages = 2;
            sc.population.initial_migrant_share = p;
            let mut w = World::new(&sc);
            let (mut mig, mut all) = (0, 0);
            for idx in 0..2 {
                with_village(&mut w, idx, |v, a| {
                    let m = occupied(a)
                        .into_iter()
                        .filter(|&i| a.residence[i] == residence::MIGRANT);
                    let m = m.count();
                    assert_eq!(m as u32, v.stats.migrants);
                    mig += m;
                    all += v.alive as usize;
                    for i in occupied(a) {
                        if a.residence[i] == residence::MIGRANT {
                            assert!((16 * 12..61 * 12).contains(&a.age[i]), "migrants are of working age");
                            assert!((1..60).contains(&a.away[i]));
                        }
                    }
                });
            }
            mig as f64 / all as f64
        };
        let (none, base, high) = (share(0.0), share(0.12), share(0.3));
        assert_eq!(none, 0.0);
        assert!((base - 0.12).abs() < 0.04, "share {base} for 0.12");
        assert!((high - 0.3).abs() < 0.08, "share {high} for 0.3");
    }

    #[test]
    fn initial_institutions_are_consistent() {
        let mut w = World::new(&scenario(500));
        let sc = w.scenario.clone();
        with_village(&mut w, 0, |v, a| {
            let s = v.branch.secretary;
            assert_ne!(s, NONE);
            assert!(super::super::party::is_active(&sc, a, s as usize));
            assert_eq!(a.role[s as usize], role::CADRE);
            // Under the default "separate" arrangement the branch's nominee, another active
            // member, directs the committee.
            let d = v.committee.director;
            assert_ne!(d, NONE);
            assert_ne!(d, s);
            assert!(super::super::party::is_active(&sc, a, d as usize));
            assert_eq!(a.role[d as usize], role::CADRE);
            assert_eq!(v.committee.controller, Controller::Branch);
            assert!(v.branch.capacity > 0.0 && v.branch.capacity <= 1.0);
            let members = occupied(a)
                .into_iter()
                .filter(|&i| a.flags[i] & flag::PARTY != 0)
                .count();
            let share = members as f64 / v.alive as f64;
            assert!((0.03..0.1).contains(&share), "member share {share}");
            let kids: u32 = v.children.iter().map(|&c| c as u32).sum();
            assert!(kids > 0 && kids < v.alive, "children {kids}");
            assert_eq!(v.stats.registered, v.alive);
            assert_eq!(v.stats.residents + v.stats.migrants, v.alive);
        });
    }

    #[test]
    fn fill_new_slots_copies_existing_clans() {
        let mut w = World::new(&scenario(200));
        let seed = w.scenario.run.seed;
        with_village(&mut w, 0, |v, a| {
            let from = a.len() / 2;
            for i in 0..from {
                a.clan[i] = 3;
            }
            for i in from..a.len() {
                a.clan[i] = 200;
            }
            fill_new_slots(seed, 5, v, a, from);
            assert!(a.clan.iter().all(|&c| c == 3));
        });
    }

    #[test]
    fn poisson_mean_is_lambda() {
        let mut rng = stream(3, 0, 0, Phase::Init);
        for lambda in [0.5, 4.0, 50.0] {
            let n = 4000;
            let sum: u64 = (0..n).map(|_| poisson(&mut rng, lambda) as u64).sum();
            let mean = sum as f64 / n as f64;
            assert!(
                (mean - lambda).abs() < 4.0 * (lambda / n as f64).sqrt() + 0.01,
                "{lambda}: {mean}"
            );
        }
        assert_eq!(poisson(&mut rng, 0.0), 0);
    }
}
