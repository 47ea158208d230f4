//! The bundled input data (`data/`, each file with its source in its header), compiled into
//! the binary and parsed once: the 2000 census rural population by single year of age and
//! sex, the 2000 age pattern of mortality by sex, the age pattern of fertility, and the
//! life tables built from them (a Lee-Carter-style level fitted to a life expectancy).

use std::sync::OnceLock;

/// Oldest age in the tables (years); everyone dies before 121.
pub const MAX_AGE: usize = 120;

const POPULATION: &str = include_str!("../../data/rural_population_2000.csv");
const MORTALITY: &str = include_str!("../../data/mortality_2000.csv");
const FERTILITY: &str = include_str!("../../data/fertility_2000.csv");

/// Data rows of a bundled CSV: comment lines (`#`) and the header skipped, fields split.
fn rows(text: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split(',').map(str::trim).collect())
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or(0.0)
}

/// The parsed tables.
#[derive(Debug)]
pub struct Tables {
    /// 2000 rural population by single year of age 0..=100 (100: 100+): (male, female).
    pub population: Vec<(f64, f64)>,
    /// 2000 annual central death rates by single year of age 0..=MAX_AGE: (male, female).
    pub mortality: Vec<(f64, f64)>,
    /// Share of a woman's lifetime fertility at each single year of age 0..=60 (sums to 1).
    pub fertility: Vec<f64>,
}

/// The bundled tables (parsed on first use; the files are part of the binary, so a parse
/// problem is a defect caught by the tests, not a user error).
pub fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut population = vec![(0.0, 0.0); 101];
        for r in rows(POPULATION) {
            let a = (num(r[0]) as usize).min(100);
            population[a] = (num(r[1]), num(r[2]));
        }
        let mut mortality = vec![(0.0, 0.0); MAX_AGE + 1];
        for r in rows(MORTALITY) {
            let (from, to) = (num(r[0]) as usize, num(r[1]) as usize);
            for rate in mortality.iter_mut().take(to.min(MAX_AGE) + 1).skip(from) {
                *rate = (num(r[2]) / 1000.0, num(r[3]) / 1000.0);
            }
        }
        // The 100+ rate holds to 110; beyond, mortality doubles every two years (life tables
        // close at 120).
        for a in 111..=MAX_AGE {
            let (m, f) = mortality[a - 1];
            mortality[a] = ((m * 1.41).min(5.0), (f * 1.41).min(5.0));
        }
        let mut fertility = vec![0.0; 61];
        for r in rows(FERTILITY) {
            let (from, to) = (num(r[0]) as usize, num(r[1]) as usize);
            let rate = num(r[r.len() - 1]);
            for f in fertility.iter_mut().take(to.min(60) + 1).skip(from) {
                *f = rate;
            }
        }
        let total: f64 = fertility.iter().sum();
        for f in &mut fertility {
            *f /= total.max(1e-12);
        }
        Tables {
            population,
            mortality,
            fertility,
        }
    })
}

/// Life expectancy at birth (years) with annual death rates `rates` (single years from 0)
/// multiplied by `level`.
pub fn life_expectancy(rates: impl Iterator<Item = f64>, level: f64) -> f64 {
    let (mut alive, mut years) = (1.0f64, 0.0f64);
    for m in rates {
        let next = alive * (-(m * level)).exp();
        years += 0.5 * (alive + next);
        alive = next;
    }
    years
}

/// Both sexes' life expectancy at level `level` (their mean).
fn e0(level: f64) -> f64 {
    let t = tables();
    let male = life_expectancy(t.mortality.iter().map(|r| r.0), level);
    let female = life_expectancy(t.mortality.iter().map(|r| r.1), level);
    0.5 * (male + female)
}

/// The Lee-Carter-style level `exp(k)` by which the 2000 age pattern of mortality is
/// multiplied (every age alike) so that life expectancy at birth is `target` years.
/// Found by bisection on `k`; `target` is clamped to what the pattern can reach (30-95).
pub fn mortality_level(target: f64) -> f64 {
    let target = target.clamp(30.0, 95.0);
    let (mut lo, mut hi) = (-6.0f64, 4.0f64);
    for _ in 0..60 {
        let k = 0.5 * (lo + hi);
        // Higher mortality, lower life expectancy.
        if e0(k.exp()) > target {
            lo = k;
        } else {
            hi = k;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// Share of women aged `a` in a life table (`l(a)`, from birth) at mortality `level`, for
/// ages 0..=MAX_AGE, by sex: the stationary population's age structure.
pub fn survivorship(level: f64) -> Vec<(f64, f64)> {
    let t = tables();
    let (mut m, mut f) = (1.0f64, 1.0f64);
    t.mortality
        .iter()
        .map(|r| {
            let here = (m, f);
            m *= (-(r.0 * level)).exp();
            f *= (-(r.1 * level)).exp();
            here
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_parse_and_sum_to_their_sources() {
        let t = tables();
        let total: f64 = t.population.iter().map(|(m, f)| m + f).sum();
        assert!((total - 807_390_000.0).abs() < 10.0, "rural population 2000: {total}");
        let older: f64 = t.population[60..].iter().map(|(m, f)| m + f).sum();
        assert!((older / total - 0.1079).abs() < 0.001, "share 60+ {}", older / total);
        assert!((t.fertility.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        assert!(t.fertility[15..50].iter().all(|&f| f > 0.0));
        assert_eq!(t.mortality[0], (5.25 / 1000.0, 6.98 / 1000.0));
        assert!(t.mortality[MAX_AGE].0 > t.mortality[100].0);
    }

    #[test]
    fn the_mortality_level_reaches_the_target_life_expectancy() {
        // The 2000 national pattern as it is gives about the census life expectancy.
        let base = e0(1.0);
        assert!((70.0..75.0).contains(&base), "e0 of the 2000 rates: {base}");
        for target in [65.0, 71.4, 77.93, 85.0] {
            let level = mortality_level(target);
            assert!((e0(level) - target).abs() < 1e-6, "{target}: {}", e0(level));
        }
        assert!(mortality_level(80.0) < mortality_level(70.0));
    }
}
