//! Model invariants, checked through the library after every month of tiny.

use ruralgov::model::observe::Metrics;
use ruralgov::model::World;
use ruralgov::scenario::Scenario;

use crate::util::tiny;

const PATHS: [&str; 4] = ["legal", "services", "culture", "self_government"];
const SPEND: [&str; 5] = [
    "spend_legal",
    "spend_services",
    "spend_culture",
    "spend_self_government",
    "spend_total",
];

fn load_tiny(sets: &[String]) -> Scenario {
    Scenario::load(&tiny(), sets)
        .unwrap_or_else(|e| panic!("cannot load tiny with {sets:?}: {e}"))
        .value
}

/// Step a world built from `sc` through every month, calling `check(world, metrics)` after each.
fn each_month(sc: &Scenario, mut check: impl FnMut(&World, &Metrics)) {
    let mut world = World::new(sc);
    for _ in 0..sc.steps() {
        let m = world.step();
        check(&world, &m);
    }
    assert_eq!(world.step - world.burn_in_steps(), sc.steps());
}

/// Region metrics that are shares or probabilities, so must lie in [0,1].
fn share_columns() -> Vec<&'static str> {
    const NAMED: [&str; 18] = [
        "elite_capture",
        "bully_power",
        "branch_capacity",
        "market_mean",
        "civic_mean",
        "turnout",
        "order",
        "service_quality",
        "cooperation",
        "formalism",
        "committee_autonomy",
        "power_concentration",
        "governance_index",
        "employment_probability",
        "culture_attendance",
        "branch_sided_with_villagers",
        "party_share_60_plus",
        "share_60_plus",
    ];
    let names: Vec<&'static str> = Metrics::COLUMNS.iter().map(|c| c.name).collect();
    for n in NAMED {
        assert!(
            names.contains(&n),
            "Metrics has no column {n:?}; update this test if it was renamed"
        );
    }
    let mut out: Vec<&'static str> = names
        .iter()
        .copied()
        .filter(|n| {
            n.starts_with("share_") || n.starts_with("control_") || n.starts_with("trust_") || NAMED.contains(n)
        })
        .collect();
    out.dedup();
    out
}

#[test]
fn village_population_accounting_holds_after_every_month() {
    let sc = load_tiny(&[]);
    each_month(&sc, |world, _| {
        let step = world.step;
        for v in &world.villages {
            let s = &v.stats;
            let adults = s.start_adults as i64 + s.coming_of_age as i64 - s.deaths as i64 - s.settled as i64;
            assert_eq!(
                adults, s.registered as i64,
                "step {step}, village {}: start_adults {} + coming_of_age {} - deaths {} - settled {} != registered {}",
                v.id, s.start_adults, s.coming_of_age, s.deaths, s.settled, s.registered
            );
            let children = s.start_children as i64 + s.births as i64
                - s.coming_of_age as i64
                - s.child_deaths as i64
                - s.children_settled as i64;
            assert_eq!(
                children,
                (s.children + s.children_away) as i64,
                "step {step}, village {}: start_children {} + births {} - coming_of_age {} - child_deaths {} - settled {} != children {} + away {}",
                v.id, s.start_children, s.births, s.coming_of_age, s.child_deaths, s.children_settled, s.children, s.children_away
            );
            assert_eq!(
                s.residents + s.migrants,
                s.registered,
                "step {step}, village {}: residents {} + migrants {} != registered {}",
                v.id,
                s.residents,
                s.migrants,
                s.registered
            );
        }
    });
}

#[test]
fn village_stocks_carry_over_from_one_month_to_the_next() {
    let sc = load_tiny(&[]);
    let mut last: Option<Vec<(u32, u32)>> = None;
    each_month(&sc, |world, _| {
        if let Some(prev) = &last {
            for (v, &(registered, children)) in world.villages.iter().zip(prev) {
                assert_eq!(
                    v.stats.start_adults, registered,
                    "step {}, village {}: start_adults is not last month's registered",
                    world.step, v.id
                );
                assert_eq!(
                    v.stats.start_children, children,
                    "step {}, village {}: start_children is not last month's children",
                    world.step, v.id
                );
            }
        }
        last = Some(
            world
                .villages
                .iter()
                .map(|v| (v.stats.registered, v.stats.children + v.stats.children_away))
                .collect(),
        );
    });
}

#[test]
fn region_totals_match_village_sums() {
    let sc = load_tiny(&[]);
    each_month(&sc, |world, m| {
        let sum = |f: fn(&ruralgov::model::observe::VillageStats) -> u32| -> f64 {
            world.villages.iter().map(|v| f(&v.stats) as f64).sum()
        };
        assert_eq!(m.registered, sum(|s| s.registered), "step {}: registered", m.step);
        assert_eq!(m.residents, sum(|s| s.residents), "step {}: residents", m.step);
        assert_eq!(m.migrants, sum(|s| s.migrants), "step {}: migrants", m.step);
        assert_eq!(
            m.children,
            sum(|s| s.children + s.children_away),
            "step {}: children",
            m.step
        );
        assert_eq!(
            m.residents + m.migrants,
            m.registered,
            "step {}: residents + migrants",
            m.step
        );
    });
}

#[test]
fn region_shares_stay_within_0_and_1() {
    let sc = load_tiny(&[]);
    let columns = share_columns();
    each_month(&sc, |_, m| {
        for name in &columns {
            let x = m.get(name).expect("column exists");
            assert!(
                (0.0..=1.0).contains(&x),
                "step {} ({}-{:02}): {name} = {x} is outside [0,1]",
                m.step,
                m.year,
                m.month
            );
        }
    });
}

#[test]
fn zero_path_intensity_spends_exactly_nothing() {
    let sets: Vec<String> = PATHS.iter().map(|p| format!("paths.{p}.intensity=0")).collect();
    let sc = load_tiny(&sets);
    let out = ruralgov::sim::run(&sc, 2, |_, _| {}).expect("run tiny with paths at 0");
    assert_eq!(out.metrics.len(), sc.steps() as usize);
    for m in &out.metrics {
        for name in SPEND {
            let x = m.get(name).expect("spend column exists");
            assert!(
                x == 0.0,
                "step {} ({}-{:02}): {name} = {x} with every path intensity at 0",
                m.step,
                m.year,
                m.month
            );
        }
    }
}

#[test]
fn tiny_with_paths_at_half_intensity_spends_on_every_path() {
    let sc = load_tiny(&[]);
    for p in PATHS {
        let s = &sc.paths;
        let intensity = match p {
            "legal" => &s.legal.intensity,
            "services" => &s.services.intensity,
            "culture" => &s.culture.intensity,
            _ => &s.self_government.intensity,
        };
        assert!(intensity.max() > 0.0, "tiny.toml no longer turns on path {p}");
    }
    let out = ruralgov::sim::run(&sc, 2, |_, _| {}).expect("run tiny");
    for name in SPEND {
        let total: f64 = out
            .metrics
            .iter()
            .map(|m| m.get(name).expect("spend column exists"))
            .sum();
        assert!(
            total > 0.0,
            "{name} sums to {total} over the run although every path is at intensity 0.5"
        );
    }
    for m in &out.metrics {
        for name in SPEND {
            let x = m.get(name).expect("spend column exists");
            assert!(x.is_finite() && x >= 0.0, "step {}: {name} = {x}", m.step);
        }
        let parts = m.spend_legal + m.spend_services + m.spend_culture + m.spend_self_government;
        assert!(
            (m.spend_total - parts).abs() <= 1e-9 * parts.abs().max(1.0),
            "step {}: spend_total {} != sum of parts {parts}",
            m.step,
            m.spend_total
        );
    }
}
