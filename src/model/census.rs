//! Census tables read from the whole population at chosen moments: the age pyramid by sex
//! and residence, and histograms of `market` and `civic` among residents. They feed the
//! population-pyramid and value-distribution charts. Counts are integers, so they do not
//! depend on the order in which villagers are visited.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::agents::{flag, residence, Agents};

/// Width of an age group, years.
pub const AGE_GROUP_YEARS: u16 = 5;
/// Oldest age group starts here (open-ended).
pub const OLDEST_GROUP: u16 = 85;
/// Histogram bins over [0, 1].
pub const BINS: usize = 20;

/// One row of `pyramid.csv`. (Text fields are `Cow` so rows read back from a run checkpoint
/// own their text.)
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PyramidRow {
    /// `start` (before the first month) or `end` (after the last).
    pub when: Cow<'static, str>,
    /// Calendar year of the census.
    pub year: i32,
    /// Lower bound of the age group, years (16, 20, 25, ..., 85 meaning 85+).
    pub age_from: u16,
    /// Label such as `20-24` or `85+`.
    pub age_group: String,
    /// `female` or `male`.
    pub sex: Cow<'static, str>,
    /// Registered adults living in the village.
    pub residents: u64,
    /// Registered adults away as migrants.
    pub migrants: u64,
}

/// Age group lower bounds: 16, 20, 25, ..., 85.
pub fn age_groups() -> Vec<u16> {
    let mut g = vec![16];
    let mut a = 20;
    while a <= OLDEST_GROUP {
        g.push(a);
        a += AGE_GROUP_YEARS;
    }
    g
}

fn group_index(age_years: u16, groups: &[u16]) -> usize {
    groups.iter().rposition(|&g| age_years >= g).unwrap_or(0)
}

/// The age pyramid of registered adults by sex and residence.
pub fn pyramid(agents: &Agents, when: &'static str, year: i32) -> Vec<PyramidRow> {
    let groups = age_groups();
    // [group][female][migrant]
    let mut counts = vec![[[0u64; 2]; 2]; groups.len()];
    for i in 0..agents.len() {
        let r = agents.residence[i];
        if r == residence::VACANT {
            continue;
        }
        let g = group_index(agents.age[i] / 12, &groups);
        let female = (agents.flags[i] & flag::FEMALE != 0) as usize;
        let migrant = (r == residence::MIGRANT) as usize;
        counts[g][female][migrant] += 1;
    }
    let mut rows = Vec::with_capacity(groups.len() * 2);
    for (gi, &g) in groups.iter().enumerate() {
        let label = if g >= OLDEST_GROUP {
            format!("{g}+")
        } else {
            let next = groups.get(gi + 1).copied().unwrap_or(g + AGE_GROUP_YEARS);
            format!("{g}-{}", next - 1)
        };
        for (f, sex) in [(1usize, "female"), (0, "male")] {
            rows.push(PyramidRow {
                when: Cow::Borrowed(when),
                year,
                age_from: g,
                age_group: label.clone(),
                sex: Cow::Borrowed(sex),
                residents: counts[gi][f][0],
                migrants: counts[gi][f][1],
            });
        }
    }
    rows
}

/// One row of `distributions.csv`: residents whose value lies in one bin, in one year.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct HistogramRow {
    /// Calendar year (the state in December, or January of the first year for the start).
    pub year: i32,
    /// `market` or `civic`.
    pub variable: Cow<'static, str>,
    /// Bin index, 0 to 19.
    pub bin: usize,
    /// Lower edge of the bin.
    pub lower: f64,
    /// Upper edge of the bin (the last bin includes 1).
    pub upper: f64,
    /// Residents in the bin.
    pub residents: u64,
}

/// Histograms of residents' `market` and `civic` values.
pub fn histograms(agents: &Agents, year: i32) -> Vec<HistogramRow> {
    let mut h = [[0u64; BINS]; 2];
    for i in 0..agents.len() {
        if agents.residence[i] != residence::RESIDENT {
            continue;
        }
        for (v, x) in [agents.market[i], agents.civic[i]].into_iter().enumerate() {
            let b = ((x as f64 * BINS as f64) as usize).min(BINS - 1);
            h[v][b] += 1;
        }
    }
    let mut rows = Vec::with_capacity(2 * BINS);
    for (counts, name) in h.iter().zip(["market", "civic"]) {
        for (b, &residents) in counts.iter().enumerate() {
            rows.push(HistogramRow {
                year,
                variable: Cow::Borrowed(name),
                bin: b,
                lower: b as f64 / BINS as f64,
                upper: (b + 1) as f64 / BINS as f64,
                residents,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyramid_counts_every_registered_adult_once() {
        let mut a = Agents::with_len(6);
        let ages = [16u16, 19, 20, 47, 85, 101];
        for (i, &y) in ages.iter().enumerate() {
            a.age[i] = y * 12 + 3;
            a.residence[i] = if i % 2 == 0 {
                residence::RESIDENT
            } else {
                residence::MIGRANT
            };
            a.flags[i] = if i < 3 { flag::FEMALE } else { 0 };
        }
        let rows = pyramid(&a, "start", 2000);
        let total: u64 = rows.iter().map(|r| r.residents + r.migrants).sum();
        assert_eq!(total, 6);
        let g = |label: &str, sex: &str| rows.iter().find(|r| r.age_group == label && r.sex == sex).cloned();
        let r = g("16-19", "female").unwrap();
        assert_eq!((r.residents, r.migrants), (1, 1));
        assert_eq!(g("85+", "male").unwrap().residents, 1);
        assert_eq!(g("85+", "male").unwrap().migrants, 1);
        assert_eq!(g("45-49", "male").unwrap().migrants, 1);
    }

    #[test]
    fn histograms_bin_residents_only() {
        let mut a = Agents::with_len(3);
        a.residence[0] = residence::RESIDENT;
        a.market[0] = 1.0;
        a.civic[0] = 0.0;
        a.residence[1] = residence::MIGRANT;
        a.market[1] = 0.5;
        let rows = histograms(&a, 2001);
        let count = |var: &str, bin: usize| {
            rows.iter()
                .find(|r| r.variable == var && r.bin == bin)
                .unwrap()
                .residents
        };
        assert_eq!(count("market", BINS - 1), 1);
        assert_eq!(count("civic", 0), 1);
        assert_eq!(rows.iter().map(|r| r.residents).sum::<u64>(), 2);
    }
}
