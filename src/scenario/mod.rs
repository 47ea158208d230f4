//! Scenario files: every parameter of the model, grouped by section, with defaults.
//!
//! A scenario is a TOML file. Every key has a default (documented here and in `docs/ODD.md`),
//! so a file only names what it changes; `extends = "baseline.toml"` layers a file on another.
//! Loading is strict: unknown keys, wrong types and out-of-range values are errors naming the
//! file, the line and the key (see [`load`]).
//!
//! Rates written as "annual" are converted to monthly probabilities by the model
//! (`p = 1 - exp(-rate / 12)`), so a scenario reads in the units researchers use.

pub mod load;
pub mod params;
mod schedule;

use params::section;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use load::{Loaded, Origin, ScenarioError, Validate, Validator};
pub use schedule::Schedule;

/// A fully resolved scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Short name; the default output folder is `results/<name>/`.
    pub name: String,
    /// Which question this scenario answers.
    pub description: String,
    /// Seed, time span and recording.
    pub run: Run,
    /// Region size and region-wide drivers.
    pub region: Region,
    /// Demography and initial population.
    pub population: Population,
    /// Value dynamics (`market`, `civic`) and the social network.
    pub values: Values,
    /// Wages, the city labour market and state transfers.
    pub economy: Economy,
    /// Out-migration and return.
    pub migration: Migration,
    /// Party branch, villagers' committee, township, elites, disputes.
    pub governance: Governance,
    /// What the party and the township do (vetting, recruitment plans, co-optation, first
    /// secretaries, one shoulder, discipline, supervision committees).
    pub party_state: PartyState,
    /// The four paths (policy levers).
    pub paths: Paths,
    /// What to write.
    pub output: Output,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: "scenario".into(),
            description: String::new(),
            run: Run::default(),
            region: Region::default(),
            population: Population::default(),
            values: Values::default(),
            economy: Economy::default(),
            migration: Migration::default(),
            governance: Governance::default(),
            party_state: PartyState::default(),
            paths: Paths::default(),
            output: Output::default(),
        }
    }
}

/// Which processes a run includes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Only {
    /// The whole model.
    #[default]
    All,
    /// Process 3 alone (value dynamics): no demography, migration or institutions.
    Values,
    /// Process 6 alone (public goods, services, mutual help).
    PublicGoods,
    /// Process 4 alone (migration and return, with the region-wide labour market).
    Migration,
}

/// How residents meet in value dynamics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mixing {
    /// Along the clan-clustered small-world network.
    #[default]
    Network,
    /// With a resident drawn uniformly from the village (random pairs).
    Random,
}

/// How initial `market` and `civic` values are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Initial {
    /// Normal around the means (with age gradients), clamped to [0,1].
    #[default]
    Normal,
    /// Uniform on [0,1] (as in Deffuant et al. 2000).
    Uniform,
}

/// How the initial age-sex structure is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// The 2000 census rural population (`data/rural_population_2000.csv`).
    #[default]
    Census,
    /// The stationary population of the life table at the start year's mortality.
    Stationary,
}

/// Who nominally controls the villagers' committee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Arrangement {
    /// Branch and committee separate, different people.
    #[default]
    Separate,
    /// Branch members sit on the committee ("cross-serving").
    CrossServing,
    /// One person is branch secretary and committee director ("one shoulder").
    OneShoulder,
}

section! {
    /// `[run]`: seed, time span and burn-in.
    Run "run" {
        /// Master seed; every random draw derives from it.
        seed: u64 = 1, [], "", "any seed from 0 to 2^53 - 1";
        /// First simulated (recorded) year; the run starts in January.
        start_year: i32 = 2000, [1900, 2200], "year", "the study's period";
        /// The run ends in January of this year.
        end_year: i32 = 2030, [1901, 2300], "year", "the study's period";
        /// Years of burn-in before `start_year`: the social state (values, trust, order, institutions, party membership) settles under the start year's drivers while the people (ages, residence) are held as initialised; nothing is recorded.
        burn_in_years: u32 = 15, [0, 200], "years", "long enough for trust (relaxation 1% a month, half-life about 6 years) and order to reach their quasi-steady state; measured in docs/validation.md (frozen drivers)";
        /// Which processes run: `all` (the model), or one submodel alone for checking it against the literature (`values`, `public_goods`, `migration`).
        only: Only = Only::All, [], "", "the whole model";
    }
}

section! {
    /// `[region]`: size and region-wide drivers.
    Region "region" {
        /// Number of villages.
        villages: u32 = 200, [1, 10_000_000], "villages", "a county-sized region (a Chinese county has a few hundred administrative villages)";
        /// Market exposure of the region (schedule): the benefit orientation that life in the market economy teaches; residents' `market` relaxes toward it.
        market_exposure: Schedule = Schedule::keys(&[(2000.0, 0.3), (2030.0, 0.8)]), [0.0, 1.0], "index [0, 1]", "marketisation deepening over the study's period; guess of the shape (the baseline adds [2015, 0.6])";
    }
}

section! {
    /// `[population]`: demography and the initial population.
    Population "population" {
        /// Mean registered adults (16+) per village at the start.
        adults_per_village: u32 = 1000, [10, 100_000], "adults", "an administrative village of about 1,000 registered adults (Chinese administrative villages have hundreds to a few thousand residents); guess";
        /// Coefficient of variation of village size (lognormal).
        village_size_cv: f64 = 0.25, [0.0, 1.0], "", "guess";
        /// Initial age-sex structure: `census` (the 2000 rural census population, data/rural_population_2000.csv) or `stationary` (the life table's stationary population at the start year's mortality, for tests of a world at rest).
        initial: Start = Start::Census, [], "", "the 2000 census: cohorts with their bulges and notches";
        /// Share of registered adults away as migrants at the start.
        initial_migrant_share: f64 = 0.12, [0.0, 0.9], "share [0, 1]", "about 78 million rural out-migrants around 2000 (2000 census floating population) against about 650 million registered rural adults; order of magnitude";
        /// Share of women among the initial migrants.
        migrant_female_share: f64 = 0.35, [0.0, 1.0], "share [0, 1]", "about one third of migrant workers are women (NBS migrant worker monitoring survey, 2010s: 31-35%)";
        /// Number of clans per village.
        clans: u32 = 5, [1, 255], "clans", "a few lineages per village; guess";
        /// Share of the largest clan; the others follow geometrically.
        largest_clan_share: f64 = 0.4, [0.0, 1.0], "share [0, 1]", "one dominant lineage, common in single-surname-dominated villages; guess";
        /// National life expectancy at birth (schedule); the region's is `rural_e0_gap` lower. Mortality is the 2000 census age pattern (data/mortality_2000.csv) times one level fitted to it (Lee-Carter with a flat age response).
        life_expectancy: Schedule = Schedule::keys(&[(2000.0, 71.4), (2010.0, 74.83), (2015.0, 76.34), (2020.0, 77.93), (2030.0, 79.0)]), [30.0, 95.0], "years", "NBS: 71.40 (2000 census), 74.83 (2010 census), 76.34 (2015 1% survey), 77.93 (2020 census) (data/life_expectancy.csv); 79.0 in 2030 is the Healthy China 2030 target";
        /// Years by which rural life expectancy falls short of the national figure.
        rural_e0_gap: f64 = 2.0, [0.0, 15.0], "years", "NBS publishes no rural life expectancy; estimates from census mortality put it 2-4 years below the national figure around 2000 (data/life_expectancy.csv); estimate";
        /// Total fertility rate of resident women (schedule). The age pattern is data/fertility_2000.csv.
        tfr: Schedule = Schedule::keys(&[(2000.0, 1.7), (2010.0, 1.6), (2020.0, 1.5), (2030.0, 1.4)]), [0.0, 8.0], "children per woman", "between the 2000 census's unadjusted rural TFR 1.43 and adjusted estimates about 1.75 (Retherford et al. 2005; data/fertility_2000.csv); declining; estimate, calibrated against the 2020 age structure";
        /// Replace `tfr` by replacement fertility at the current mortality (for tests of a stationary population).
        replacement_fertility: bool = false, [], "", "off: fertility follows `tfr`";
        /// Males born per female (schedule by year of birth); sets the sex of those coming of age.
        sex_ratio_at_birth: Schedule = Schedule::keys(&[(1982.0, 1.085), (1990.0, 1.111), (2000.0, 1.169), (2010.0, 1.179), (2020.0, 1.113)]), [0.8, 1.5], "males per female", "census sex ratios at birth as commonly cited: 108.5 (1982), 111.1 (1990), 116.9 (2000), 117.9 (2010), 111.3 (2020)";
        /// Fertility of migrant women relative to residents (their children are registered in the village).
        migrant_fertility: f64 = 0.6, [0.0, 2.0], "ratio", "migrant women have fewer births than rural residents (later and fewer births in the city); guess";
        /// Share of migrants' children who live with them in the city (born there or taken along); the others are left behind in the village.
        family_migration: f64 = 0.2, [0.0, 1.0], "share [0, 1]", "whole-family migrants were 20-21% of out-migrant workers in 2008-2014 (NBS migrant worker monitoring survey, data/migrant_workers.csv)";
        /// Probability of each of 4 education steps for those coming of age (schedule): levels 0..4.
        education: Schedule = Schedule::keys(&[(2000.0, 0.5), (2030.0, 0.7)]), [0.0, 1.0], "probability", "probability of each of four education steps; mean level 2.0 rising to 2.8; guess";
        /// Drop of that probability per decade of age for the initial population.
        education_cohort_decline: f64 = 0.04, [0.0, 0.2], "per decade", "older cohorts less schooled; guess";
    }
}

section! {
    /// `[values]`: value dynamics and the social network.
    Values "values" {
        /// Initial mean of `market` (benefit orientation), before the burn-in.
        market_mean: f64 = 0.3, [0.0, 1.0], "value [0, 1]", "traditional constraint still dominant in 2000; guess (the burn-in moves it to its quasi-steady state)";
        /// Initial mean of `civic` (public spirit), before the burn-in.
        civic_mean: f64 = 0.6, [0.0, 1.0], "value [0, 1]", "guess (the burn-in moves it to its quasi-steady state)";
        /// Initial standard deviation of both values.
        spread: f64 = 0.15, [0.0, 0.5], "value sd", "survey scales of values typically spread over most of their range; guess";
        /// How initial values are drawn (`normal` or `uniform`).
        initial: Initial = Initial::Normal, [], "", "normal around the means, with age gradients";
        /// How residents meet (`network` or `random` pairs).
        mixing: Mixing = Mixing::Network, [], "", "along the network: villagers meet kin and neighbours";
        /// Initial mean trust in the party branch, before the burn-in.
        trust_branch: f64 = 0.6, [0.0, 1.0], "trust [0, 1]", "guess (the burn-in moves it to what villagers experience)";
        /// Initial mean trust in the township government, before the burn-in.
        trust_government: f64 = 0.65, [0.0, 1.0], "trust [0, 1]", "guess (the burn-in moves it to what villagers experience)";
        /// Monthly rate at which `market` relaxes toward the exposure it lives in (the region's `market_exposure`, higher for migrants and the young).
        market_drift: f64 = 0.05, [0.0, 1.0], "per year", "values change over years, not months; a half-life of about 14 years; guess";
        /// Exposure of migrants: the city's benefit orientation, on the same scale.
        migrant_exposure: f64 = 0.85, [0.0, 1.0], "index [0, 1]", "migrants live in the market economy; guess";
        /// Extra exposure of the young (below `young_age`).
        young_exposure: f64 = 0.1, [0.0, 1.0], "index", "younger cohorts more benefit-oriented (schooling, media); guess";
        /// Age below which villagers count as young for `young_exposure`.
        young_age: f64 = 35.0, [16.0, 100.0], "years", "guess";
        /// Ties per villager in the small-world network (even).
        ties: u32 = 6, [0, 64], "ties", "a handful of close kin and neighbours; guess";
        /// Share of ties rewired at random (Watts-Strogatz).
        rewire: f64 = 0.1, [0.0, 1.0], "share [0, 1]", "Watts and Strogatz (1998) small-world regime";
        /// Monthly probability that a resident talks values with one tie.
        interaction_rate: f64 = 0.5, [0.0, 1.0], "probability", "guess";
        /// Median confidence bound of bounded-confidence influence (Deffuant et al. 2000).
        confidence_bound: f64 = 0.3, [0.0, 1.0], "value distance", "Deffuant et al. (2000) use 0.2-0.5; guess";
        /// Spread of the confidence bounds between villagers: each villager's bound is the median times exp(spread x z), z standard normal, fixed for life (heterogeneous bounds, Lorenz 2010).
        bound_spread: f64 = 0.5, [0.0, 3.0], "log sd", "open- and closed-minded villagers; heterogeneous bounds keep opinions apart (Lorenz 2010); guess";
        /// Monthly probability that a resident's value is redrawn at random (uniform on [0, 1]): the noise of Pineda, Toral and Hernandez-Garcia (2009).
        noise: f64 = 0.003, [0.0, 0.5], "per month", "small noise keeps opinions from freezing into one cluster (Pineda et al. 2009 use 10^-3 - 10^-1 per update); guess";
        /// Distance beyond which an encounter pushes values apart (negative influence, Jager and Amblard 2005); 1 or more disables it.
        rejection_bound: f64 = 1.0, [0.0, 1.0], "value distance", "off by default; a variant for robustness checks (docs/validation.md)";
        /// Spread of villagers' own dispositions to trust: a villager's trust relaxes toward what the village shows plus a personal offset `trust_disposition x z` (z standard normal, fixed for life).
        trust_disposition: f64 = 0.15, [0.0, 1.0], "trust sd", "individual political trust in rural China varies widely within villages and is partly a stable disposition (Li 2004, Modern China 30(2); Uslaner 2002); guess, chosen for a within-village sd of trust near 0.15";
        /// Share of the distance moved in one encounter (Deffuant's mu).
        convergence: f64 = 0.2, [0.0, 0.5], "share", "Deffuant et al. (2000) use 0.1-0.5";
        /// Annual erosion of `civic` in proportion to `market` ("vulgar culture").
        civic_erosion: f64 = 0.04, [0.0, 1.0], "per year", "benefit orientation wears down public spirit; guess";
        /// Annual renewal of `civic` by village community life, in proportion to the share of one's ties who are resident (an emptied village renews less).
        civic_renewal: f64 = 0.03, [0.0, 1.0], "per year", "identification with the village is renewed by living among fellow villagers and weakens with outflow (the study's 'disorder of governance'); guess, with `civic_erosion` it sets civic's rest point";
        /// Annual decay of migrants' `civic` toward the village (life away).
        migrant_civic_decay: f64 = 0.06, [0.0, 1.0], "per year", "identification with the home village weakens away from it; guess";
        /// `market` of the traditional virtues that culture programmes present.
        traditional_market: f64 = 0.15, [0.0, 1.0], "value [0, 1]", "the study's 'traditional Chinese virtue': moral constraint over benefit; guess";
        /// `civic` of the public spirit that culture programmes present.
        traditional_civic: f64 = 0.85, [0.0, 1.0], "value [0, 1]", "the party's culture joined with traditional virtues: public spirit; guess";
        /// Step of trust per experience: one good experience (a fair settlement, being heard, help) moves trust this share of the way to 1, one bad one this share of the way to 0 (at most 4 of each a month count).
        trust_step: f64 = 0.04, [0.0, 0.25], "share of the distance per experience", "a few experiences move trust noticeably, one does not overturn it; guess (fixed in code until 2026-12-08)";
        /// Monthly relaxation of a resident's trust toward what the village shows everyone (a quarter of it for migrants, who see less).
        trust_relax: f64 = 0.01, [0.0, 1.0], "per month", "trust follows the village's state slowly: a half-life of about 6 years; guess (fixed in code until 2026-12-08)";
    }
}

section! {
    /// `[economy]`: wages, the city labour market and state transfers.
    Economy "economy" {
        /// Urban wage, yuan per month (schedule).
        urban_wage: Schedule = Schedule::keys(&[(2000.0, 800.0), (2030.0, 7000.0)]), [1.0, 1e6], "yuan per month", "migrant workers' monthly wages: about 700-800 yuan around 2000 (NBS), 4,000 by 2020; extrapolated";
        /// Rural wage, yuan per month (schedule).
        rural_wage: Schedule = Schedule::keys(&[(2000.0, 350.0), (2030.0, 3000.0)]), [1.0, 1e6], "yuan per month", "rural per-capita net income about 2,250 yuan a year in 2000 (NBS), about 200 a month per person; per worker higher; order of magnitude";
        /// Urban jobs open to the region's migrants per registered adult (schedule).
        urban_jobs: Schedule = Schedule::keys(&[(2000.0, 0.15), (2030.0, 0.4)]), [0.0, 1.0], "jobs per registered adult", "sets the Harris-Todaro employment probability; calibrated guess";
        /// Return to one step of education.
        education_premium: f64 = 0.12, [0.0, 1.0], "per level", "returns to schooling in China around 10% a year of schooling; order of magnitude";
        /// Share of income saved.
        saving_rate: f64 = 0.25, [0.0, 1.0], "share [0, 1]", "rural household saving rates around 25-30% (NBS household surveys); order of magnitude";
        /// Annual depreciation of wealth.
        wealth_depreciation: f64 = 0.03, [0.0, 1.0], "per year", "guess";
        /// State transfers (project funds) per registered adult per year (schedule).
        transfers: Schedule = Schedule::keys(&[(2000.0, 20.0), (2005.92, 30.0), (2006.0, 120.0), (2030.0, 900.0)]), [0.0, 1e6], "yuan per registered adult per year", "state funds into villages rose after the abolition of the agricultural tax (2006); guess of the magnitude";
        /// Urban downturn (schedule): raises returns.
        downturn: Schedule = Schedule::Constant(0.0), [0.0, 1.0], "index [0, 1]", "none by default; the baseline sets the 2008-09 crisis";
    }
}

section! {
    /// `[migration]`: out-migration, return and permanent settlement.
    Migration "migration" {
        /// Annual leaving hazard of a resident at the reference values.
        leave_base: f64 = 0.02, [0.0, 5.0], "per year", "calibrated guess (migrant share 2020)";
        /// Effect of the log expected urban-rural wage gap on the log hazard.
        wage_gap_effect: f64 = 3.0, [-10.0, 10.0], "coefficient", "Harris and Todaro (1970): migration responds to the expected wage gap; guess";
        /// Effect on the log hazard per decade of age above 25.
        age_effect: f64 = -0.7, [-10.0, 10.0], "per decade", "migrants are young: leaving falls with age after the mid-twenties (NBS age structure of migrant workers); calibrated guess";
        /// Effect per education level above 2.
        education_effect: f64 = 0.25, [-10.0, 10.0], "per level", "the educated leave more (brain drain); guess";
        /// Effect of `market` - 0.5.
        market_effect: f64 = 1.5, [-10.0, 10.0], "coefficient", "benefit orientation pushes out; guess";
        /// Effect of `civic` - 0.5.
        civic_effect: f64 = -1.5, [-10.0, 10.0], "coefficient", "identification with the village holds back; guess";
        /// Effect of the share of resident ties - 0.5.
        ties_effect: f64 = -0.8, [-10.0, 10.0], "coefficient", "network ties anchor (and chain migration follows ties away); guess";
        /// Effect of service quality - 0.5.
        services_effect: f64 = -1.0, [-10.0, 10.0], "coefficient", "the 'last kilometre': services hold people; guess";
        /// Youngest age that leaves.
        min_age: f64 = 16.0, [16.0, 100.0], "years", "migrant workers from 16 (NBS)";
        /// Oldest age that leaves.
        max_age: f64 = 60.0, [16.0, 100.0], "years", "migrant workers aged 50+ were a quarter of all by 2020 (NBS, data/migrant_workers.csv)";
        /// Annual return hazard at the reference values.
        return_base: f64 = 0.05, [0.0, 5.0], "per year", "calibrated guess";
        /// Effect per decade of age above 40 on the return hazard.
        return_age_effect: f64 = 0.5, [-10.0, 10.0], "per decade", "older migrants return (to care for parents, to retire); guess";
        /// Effect of service quality - 0.5 on returning.
        return_services_effect: f64 = 1.0, [-10.0, 10.0], "coefficient", "guess";
        /// Effect of order - 0.5 on returning.
        return_order_effect: f64 = 1.0, [-10.0, 10.0], "coefficient", "guess";
        /// Effect of the log wage gap on returning.
        return_gap_effect: f64 = -0.5, [-10.0, 10.0], "coefficient", "guess";
        /// Effect of an urban downturn on returning.
        downturn_effect: f64 = 2.0, [-10.0, 10.0], "coefficient", "about 20 million migrants went home in the 2008-09 crisis; guess of the magnitude";
        /// Effect per year away on the return hazard (settling in the city).
        settle_effect: f64 = -0.05, [-10.0, 10.0], "per year away", "the longer away, the less likely to return; guess";
        /// Annual hazard (schedule) that a migrant away five years or more settles in the city for good and leaves the village's registered population (the hazard rises linearly over the first five years away).
        settle_rate: Schedule = Schedule::keys(&[(2000.0, 0.01), (2014.0, 0.02), (2020.0, 0.04), (2030.0, 0.05)]), [0.0, 1.0], "per year", "hukou reform opened urban registration, above all after the 2014 National New-type Urbanization Plan; guess of the magnitude, calibrated against the rural population decline";
        /// Effect per education level above 2 on settling.
        settle_education_effect: f64 = 0.3, [-10.0, 10.0], "per level", "the educated settle more easily (points systems, stable jobs); guess";
    }
}

section! {
    /// `[governance]`: the party branch, the villagers' committee, elites, disputes and the township's pressure.
    Governance "governance" {
        /// Share of registered adults who are party members at the start.
        member_share: f64 = 0.06, [0.0, 1.0], "share [0, 1]", "about 26 million party members among farmers and herders (2014 intra-Party statistical bulletin, data/party_state.md) against about 450 million rural working-age adults: 5-6%";
        /// Mean age of initial members.
        member_age: f64 = 50.0, [18.0, 90.0], "years", "26-28% of members are 61 or older nationally and rural branches are older (data/party_state.md); guess";
        /// Target of active resident members per 100 residents (the branch's recruitment goal and the scale of capacity).
        members_target: f64 = 6.0, [0.1, 100.0], "per 100 residents", "the branch's share at its founding strength; guess";
        /// Age at which members retire from active branch work.
        retire_age: f64 = 72.0, [30.0, 120.0], "years", "guess";
        /// Approaches per year to prospective members, per 100 residents, when the branch is below its target.
        recruit_rate: f64 = 3.0, [0.0, 100.0], "per 100 residents per year", "a branch of 6 per 100 residents admitting about one a year in ten years; guess";
        /// Oldest age the branch approaches.
        recruit_max_age: f64 = 45.0, [18.0, 100.0], "years", "new members are mostly young: 80.8% aged 35 or less in 2021 (data/party_state.md); guess";
        /// `civic` at which half of those approached accept (logistic midpoint).
        recruit_civic: f64 = 0.5, [0.0, 1.0], "value [0, 1]", "public spirit draws people to the branch; guess";
        /// Trust in the branch at which half accept.
        recruit_trust: f64 = 0.4, [0.0, 1.0], "trust [0, 1]", "guess";
        /// Steepness of the acceptance propensity in `civic` and trust.
        recruit_slope: f64 = 8.0, [0.0, 100.0], "per unit", "a smooth propensity instead of thresholds; guess";
        /// Initial administrative style of the branch (top-down) in [0,1].
        administrative: f64 = 0.6, [0.0, 1.0], "index [0, 1]", "the study's 'administrative trend'; guess";
        /// Initial stance: probability of siding with villagers in a conflict with the township.
        stance: f64 = 0.4, [0.0, 1.0], "probability", "the branch usually executes township orders; guess";
        /// Annual rate at which style and stance move toward their targets.
        adjust_rate: f64 = 0.3, [0.0, 10.0], "per year", "guess";
        /// Administrative pressure of the township (schedule): tasks, inspections.
        admin_pressure: Schedule = Schedule::keys(&[(2000.0, 0.4), (2030.0, 0.6)]), [0.0, 1.0], "index [0, 1]", "growing inspections and targets; guess";
        /// Years between elections.
        term_years: u32 = 5, [1, 20], "years", "five-year terms since the 2018 amendment of the Organic Law of Villagers' Committees (three years before; the baseline sets 3)";
        /// Year of the first election of the run (elections repeat every term).
        first_election: i32 = 2002, [1900, 2300], "year", "places the election cycle";
        /// Initial committee autonomy.
        autonomy: f64 = 0.5, [0.0, 1.0], "share [0, 1]", "guess (the burn-in moves it to what meetings decide)";
        /// Share of residents who are economic elites.
        economic_elite_share: f64 = 0.02, [0.0, 1.0], "share [0, 1]", "a few able and rich households per village; guess";
        /// Minimum clan share for a clan head to act as a clan elite.
        clan_elite_min_share: f64 = 0.15, [0.0, 1.0], "share [0, 1]", "guess";
        /// Village bullies per 1,000 registered adults at the start.
        bullies_per_1000: f64 = 1.0, [0.0, 100.0], "per 1000 adults", "bullies present in some villages only; guess";
        /// Initial power of the bully faction where there are bullies.
        bully_power: f64 = 0.1, [0.0, 1.0], "index [0, 1]", "guess";
        /// Gain of bully power per dispute settled by the bully.
        bully_gain: f64 = 0.02, [0.0, 1.0], "per win", "power grows with unfair wins; guess";
        /// Annual decay of bully power.
        bully_decay: f64 = 0.3, [0.0, 10.0], "per year", "guess";
        /// Strength of clan loyalty and clan force.
        clan_strength: f64 = 1.0, [0.0, 10.0], "index", "guess";
        /// Annual dispute rate of a resident at `market` 0.5.
        dispute_rate: f64 = 0.15, [0.0, 12.0], "per year", "guess";
        /// Annual rate of villager-government conflicts per resident at full pressure.
        conflict_rate: f64 = 0.03, [0.0, 12.0], "per year", "land requisition, petitions; guess";
        /// Disputes a fully capable branch mediates in a month without a programme (people's mediation committees, since the 1980s).
        base_mediation: f64 = 6.0, [0.0, 1000.0], "per month", "guess";
        /// Probability that a settlement or complaint backed by the threat of a court case (or the police) is enforced.
        court: f64 = 0.5, [0.0, 1.0], "probability", "rural people's courts and police stations enforce some, not all; guess";
        /// Weight of "left unresolved" against the force of the stronger clan when nobody mediates a dispute: the dispute goes to the clan with probability `w_clan / (w_clan + unresolved_weight)`.
        unresolved_weight: f64 = 0.5, [0.0, 100.0], "weight", "without mediation many disputes simply stay open; guess (fixed in code until 2026-12-08)";
        /// Probability that the township acted unlawfully in a villager-government conflict, so that legal aid wins the case.
        unlawful: f64 = 0.5, [0.0, 1.0], "probability", "land requisition and petition cases are often but not always unlawful on the township's side; guess (fixed in code until 2026-12-08)";
        /// Probability that a victim of the bully reports it (times one minus the faction's power: fear).
        report: f64 = 0.3, [0.0, 1.0], "probability", "the 'acquaintance society': few report a bully; guess";
        /// Probability that a villager brings a dispute to the branch at trust 1 (half of it at trust 0).
        bring_to_branch: f64 = 0.9, [0.0, 1.0], "probability", "who distrusts the branch settles disputes otherwise; guess";
        /// Weight of rent in the leak choice of a branch controller.
        rent_branch: f64 = 0.3, [0.0, 10.0], "weight", "cadres face party discipline; guess";
        /// Weight of rent for an economic elite controller.
        rent_economic: f64 = 1.0, [0.0, 10.0], "weight", "the study: elites compete for village power as state resources flow in; guess";
        /// Weight of rent for a clan elite controller.
        rent_clan: f64 = 0.8, [0.0, 10.0], "weight", "guess";
        /// Weight of rent for a bully controller.
        rent_bully: f64 = 1.5, [0.0, 10.0], "weight", "guess";
        /// Cost of a sanction as a multiple of the amount taken (restitution, fines, loss of office).
        penalty: f64 = 4.0, [0.0, 100.0], "times the leak", "guess";
        /// Probability that one monitor detects a leak of the whole fund in a month (detection rises with the share leaked).
        detect: f64 = 0.3, [0.0, 1.0], "probability", "account inspection catches gross theft more easily than small skimming; guess";
        /// Check of the committee by a separate branch: detection per unit of branch capacity (none under one shoulder, half under cross-serving).
        branch_check: f64 = 0.3, [0.0, 1.0], "probability", "the two committees check each other; one person holding both removes the check (the study's 'one-person rule'); guess";
        /// Probability that a villager sees capture of the whole fund in a month.
        transparency: f64 = 0.05, [0.0, 1.0], "probability", "guess";
        /// Margin below which an election counts as contested.
        contested_margin: f64 = 0.05, [0.0, 1.0], "share of votes", "guess";
        /// Intercept of the turnout probability.
        turnout_base: f64 = 0.3, [-1.0, 1.0], "probability", "set by calibration to reported turnout";
        /// Turnout of migrants relative to residents.
        migrant_turnout: f64 = 0.6, [0.0, 1.0], "ratio", "coming home to vote, or a proxy vote; calibrated guess";
        /// Decision meetings a month held without a programme (villagers' representative assemblies required by the Organic Law).
        base_meetings: f64 = 1.0, [0.0, 100.0], "per month", "meetings are required but often not held; guess";
        /// Village decisions a month (spending, land, projects) that a meeting or the committee takes.
        decisions: u32 = 6, [1, 1000], "per month", "a handful of decisions a month in an administrative village; guess (fixed in code until 2026-12-08)";
        /// Decisions one quorate meeting can take.
        decisions_per_meeting: u32 = 3, [1, 1000], "decisions", "an evening meeting settles a few items; guess (fixed in code until 2026-12-08)";
        /// Share of funds wasted per unit of formalism (paperwork, inspections, box-ticking).
        formalism_waste: f64 = 0.3, [0.0, 1.0], "share per unit of formalism", "formalism eats part of what reaches the village; guess (fixed in code until 2026-12-08)";
        /// Share of the month's transfer funds the committee may put to villagers' recorded demands.
        demand_share: f64 = 0.3, [0.0, 1.0], "share [0, 1]", "most transfer money is earmarked; guess (fixed in code until 2026-12-08)";
        /// Turnout bonus (added to the turnout probability) of those who voted at the last election: habit.
        vote_habit: f64 = 0.1, [0.0, 1.0], "probability", "voting is habit-forming (Gerber, Green and Shachar 2003); the size here is a guess (fixed in code until 2026-12-08)";
        /// Share of residents whose attendance makes a meeting quorate.
        quorum: f64 = 0.15, [0.0, 1.0], "share [0, 1]", "villagers' representatives and household heads; guess";
        /// Attendance propensity intercept of a decision meeting (logit scale).
        meeting_base: f64 = -1.5, [-10.0, 10.0], "logit", "most villagers do not attend; guess";
        /// Effect of `civic` - 0.5 on attending a decision meeting.
        meeting_civic: f64 = 3.0, [-20.0, 20.0], "logit per unit", "who identifies with the village takes part in its decisions; guess (fixed in code until 2026-12-08)";
        /// Effect of trust in the branch - 0.5 on attending a decision meeting.
        meeting_trust: f64 = 2.0, [-20.0, 20.0], "logit per unit", "who trusts the branch expects a meeting to matter; guess (fixed in code until 2026-12-08)";
        /// Effect of the village's political efficacy - 0.5 (the share of meeting decisions that stood) on attending.
        meeting_efficacy: f64 = 2.0, [-20.0, 20.0], "logit per unit", "villagers come when meetings have decided things before (internal and external efficacy); guess (fixed in code until 2026-12-08)";
        /// Probability per unit of township pressure that the township overrides a decision the villagers took.
        township_override: f64 = 0.3, [0.0, 1.0], "probability per unit pressure", "top-down administration overrides some village decisions; guess (fixed in code until 2026-12-08)";
        /// Probability that a capable (capacity 1), fully administrative branch overrules a meeting's decision.
        overrule: f64 = 0.6, [0.0, 1.0], "probability", "the study: self-government organisations are attached to the branch; a strong top-down branch crowds them out; guess";
        /// Sanction strength in public goods without monitors (social pressure).
        base_sanction: f64 = 0.1, [0.0, 1.0], "index", "guess";
        /// Extra sanction strength when the supervision committee is at full strength.
        monitor_sanction: f64 = 0.3, [0.0, 1.0], "index", "monitors make free riding visible; guess";
        /// Probability that a monitor who reports a bully controller's theft withdraws (retaliation), per report.
        retaliation: f64 = 0.5, [0.0, 1.0], "probability", "supervising costs the supervisor; guess";
    }
}

section! {
    /// `[party_state]`: what the party and the township do, each at its documented policy date (data/party_state.md).
    PartyState "party_state" {
        /// Joint vetting of candidates (schedule): probability that a candidate with a record (a bully, a sanctioned leak) is struck from the ballot.
        vetting: Schedule = Schedule::keys(&[(2016.9, 0.0), (2017.0, 0.5), (2020.0, 0.9)]), [0.0, 1.0], "probability", "county-level joint vetting (联审) introduced in the 2017-18 election round and national practice in 2020-21 (data/party_state.md); strictness a guess";
        /// Recruitment plans for young members (schedule): extra approaches to residents aged 18-35, per 100 residents per year, while the branch is below its target.
        recruitment_plan: Schedule = Schedule::keys(&[(2013.9, 0.0), (2014.0, 1.0)]), [0.0, 100.0], "per 100 residents per year", "the 2014-2023 outline plan for party member development stresses young members (80.8% of 2021 recruits aged 35 or less, data/party_state.md); magnitude a guess";
        /// Co-opting capable economic elites (\"double strong\") (schedule): probability per year that the branch offers an economic elite membership, and the secretary's post when the branch is weak.
        co_opt: Schedule = Schedule::keys(&[(2000.0, 0.2), (2018.0, 0.5), (2021.0, 0.8)]), [0.0, 1.0], "probability per year", "双强 selection of secretaries among local entrepreneurs and returned businesspeople, the principle of the 2021 elections (data/party_state.md); magnitudes guesses";
        /// First secretaries (schedule): probability per year that a village with a weak branch (capacity below `weak_capacity`) gets one.
        first_secretaries: Schedule = Schedule::keys(&[(2014.9, 0.0), (2015.0, 0.5), (2021.0, 0.5)]), [0.0, 1.0], "probability per year", "the 2015 notice sent first secretaries to weak and poor villages (about 195,000 by 2017, data/party_state.md); the share reached a guess";
        /// Branch capacity below which a village counts as weak.
        weak_capacity: f64 = 0.55, [0.0, 1.0], "index [0, 1]", "'weak and lax' (软弱涣散) and poor villages got first secretaries: about 195,000 by 2017, roughly a third of administrative villages (data/party_state.md); 0.55 is about the lowest third of branches in the baseline around 2015";
        /// Years a first secretary stays.
        first_secretary_years: f64 = 2.0, [0.1, 10.0], "years", "two-year terms (Shanxi 2015, data/party_state.md)";
        /// Competence a first secretary brings (as acting secretary).
        first_secretary_competence: f64 = 0.8, [0.0, 1.0], "index [0, 1]", "cadres sent from county and higher organs; guess";
        /// Project funds a first secretary brings per year, yuan (through allocation like any other fund).
        first_secretary_funds: f64 = 50_000.0, [0.0, 1e9], "yuan per year", "connections to higher levels; guess";
        /// Share of villages under "one shoulder" (schedule): one person as secretary and director.
        one_shoulder_share: Schedule = Schedule::keys(&[(2000.0, 0.2), (2009.0, 0.384), (2018.0, 0.5), (2021.0, 0.95)]), [0.0, 1.0], "share [0, 1]", "38.4% in the 2008-10 election round; promoted by the 2018 No.1 Document and the 2019 regulations; about 95% after the 2021 elections (data/party_state.md); 2000 and 2018 estimates";
        /// Share of villages with cross-serving committees (schedule); with `one_shoulder_share` at most 1.
        cross_serving_share: Schedule = Schedule::keys(&[(2000.0, 0.4), (2009.0, 0.524), (2018.0, 0.45), (2021.0, 0.05)]), [0.0, 1.0], "share [0, 1]", "52.4% in the 2008-10 round; the rest of the villages after one shoulder spread; estimates";
        /// Probability that a reported leak is sanctioned by the discipline commission (schedule).
        discipline: Schedule = Schedule::keys(&[(2000.0, 0.2), (2012.9, 0.2), (2013.0, 0.35), (2016.0, 0.5)]), [0.0, 1.0], "probability", "the anti-corruption campaign from 2013, extended to village 'micro-corruption' from 2016; magnitudes guesses";
        /// Share of villages with a village affairs supervision committee (schedule).
        supervision_committees: Schedule = Schedule::keys(&[(2000.0, 0.3), (2009.9, 0.5), (2010.0, 1.0)]), [0.0, 1.0], "share [0, 1]", "required by the 2010 amendment of the Organic Law of Villagers' Committees; earlier coverage a guess";
        /// Volunteer monitors a supervision committee seeks (without stipends).
        volunteer_monitors: f64 = 3.0, [0.0, 50.0], "monitors", "a committee of three to five villagers; guess";
        /// Probability per township assessment that a branch with low standing (below 0.3) has its secretary replaced by the township.
        replace_secretary: f64 = 0.1, [0.0, 1.0], "probability per year", "townships assess village cadres yearly; guess";
    }
}

section! {
    /// `[paths.legal]`: legal services and rule of law (path 4.1). The programme's money flows through allocation; what is delivered buys legal service units: a dispute mediated, a demand heard, a complaint (of capture or bullying) supported.
    Legal "paths.legal" {
        /// Intensity (schedule): the money sent is `intensity x cost`.
        intensity: Schedule = Schedule::Constant(0.0), [0.0, 2.0], "intensity", "off unless a scenario turns it on";
        /// Whether the programme's delivered money buys anything. `false` is the null-mechanism control: the money is sent (and can be captured) but buys no units, so any effect left would come from a direct term.
        mechanism: bool = true, [], "", "on: the programme works through what its money buys";
        /// Money per village per year at intensity 1, yuan.
        cost: f64 = 60_000.0, [0.0, 1e9], "yuan per village per year", "a part-time legal adviser and mediation (village legal advisers, 一村一法律顾问, cost of the order of 10,000-60,000 yuan a year); guess";
        /// Cost of one legal service unit, yuan.
        unit_cost: f64 = 250.0, [1.0, 1e6], "yuan", "a mediated dispute or a supported complaint takes a few hours of a legal worker; guess";
        /// Share of the units left after disputes that go to hearing villagers' demands.
        hearing_share: f64 = 0.5, [0.0, 1.0], "share [0, 1]", "the study: the branch listens to and collects villagers' demands; guess";
        /// Cost of resolving one recorded demand out of village funds, yuan.
        demand_cost: f64 = 500.0, [0.0, 1e6], "yuan", "a small repair, a subsidy claim; guess";
    }
}

section! {
    /// `[paths.services]`: public services and the mutual-help platform (path 4.2). The programme's money flows through allocation: part builds services, part runs the platform.
    Services "paths.services" {
        /// Intensity (schedule).
        intensity: Schedule = Schedule::Constant(0.0), [0.0, 2.0], "intensity", "off unless a scenario turns it on";
        /// Whether the programme's delivered money buys anything. `false` is the null-mechanism control: the money is sent (and can be captured) but buys no units, so any effect left would come from a direct term.
        mechanism: bool = true, [], "", "on: the programme works through what its money buys";
        /// Money per village per year at intensity 1, yuan.
        cost: f64 = 100_000.0, [0.0, 1e9], "yuan per village per year", "guess";
        /// Share of the delivered money that builds service quality (the rest runs the platform).
        build_share: f64 = 0.6, [0.0, 1.0], "share [0, 1]", "guess";
        /// Cost of one matching attempt of the platform, yuan.
        platform_unit_cost: f64 = 40.0, [1.0, 1e6], "yuan", "a phone call and a visit by a volunteer coordinator; guess";
        /// Monthly probability that a need finds informal (kin) help through one's ties.
        informal_help: f64 = 0.15, [0.0, 1.0], "probability", "guess";
        /// Monthly probability that an elderly resident (70+) needs help.
        need_elderly: f64 = 0.08, [0.0, 1.0], "per month", "guess";
        /// Monthly probability that a younger resident needs help (illness).
        need_sick: f64 = 0.01, [0.0, 1.0], "per month", "guess";
        /// Gain of `civic` for both sides of a match (helping and being helped strengthen identification).
        help_civic_gain: f64 = 0.02, [0.0, 1.0], "share of the distance to 1", "reciprocity builds community; guess";
        /// Investment per resident per month at which building runs at half speed, yuan.
        half_saturation: f64 = 60.0, [0.001, 1e6], "yuan per resident per month", "guess";
        /// Monthly building rate of service quality at saturation.
        build_rate: f64 = 0.05, [0.0, 1.0], "per month", "guess";
        /// Annual depreciation of service quality.
        depreciation: f64 = 0.15, [0.0, 1.0], "per year", "guess";
        /// Initial service quality.
        initial_quality: f64 = 0.35, [0.0, 1.0], "index [0, 1]", "guess";
        /// Value of one month's labour contribution to public goods, yuan.
        contribution: f64 = 20.0, [0.0, 1e6], "yuan", "the endowment of Fehr and Gaechter (2000)'s game, as yuan of labour";
        /// Extra contribution probability of those who contributed last month (consistency).
        habit: f64 = 0.05, [0.0, 1.0], "probability", "who contributed last month tends to again (consistency); guess (fixed in code until 2026-12-08)";
        /// Tries to find a willing helper for one need on the mutual-help platform (each try a random eligible resident).
        helper_tries: u32 = 8, [1, 1000], "tries", "the platform asks a few people before a need goes unmet; guess (fixed in code until 2026-12-08)";
    }
}

section! {
    /// `[paths.culture]`: community culture (path 4.3). The delivered money buys events; residents choose to attend; an event presents the traditional virtues (`values.traditional_market`, `values.traditional_civic`), which move an attendee only within their confidence bound.
    Culture "paths.culture" {
        /// Intensity (schedule).
        intensity: Schedule = Schedule::Constant(0.0), [0.0, 2.0], "intensity", "off unless a scenario turns it on";
        /// Whether the programme's delivered money buys anything. `false` is the null-mechanism control: the money is sent (and can be captured) but buys no units, so any effect left would come from a direct term.
        mechanism: bool = true, [], "", "on: the programme works through what its money buys";
        /// Money per village per year at intensity 1, yuan.
        cost: f64 = 40_000.0, [0.0, 1e9], "yuan per village per year", "guess";
        /// Cost of one event, yuan.
        event_cost: f64 = 800.0, [1.0, 1e6], "yuan", "a performance, a film, a festival supper; guess";
        /// Share of residents one event can reach.
        event_seats: f64 = 0.2, [0.0, 1.0], "share [0, 1]", "guess";
        /// Events a month without a programme (festivals, temple fairs).
        base_events: f64 = 0.3, [0.0, 100.0], "per month", "guess";
        /// Attendance propensity intercept (logit scale) of one invited resident.
        attend_base: f64 = -0.5, [-10.0, 10.0], "logit", "guess";
        /// Effect of `civic` - 0.5 on attending.
        attend_civic: f64 = 3.0, [-20.0, 20.0], "logit per unit", "who cares about village life comes; guess";
        /// Effect of `market` - 0.5 on attending (the time is worth money).
        attend_market: f64 = -2.0, [-20.0, 20.0], "logit per unit", "guess";
    }
}

section! {
    /// `[paths.self_government]`: villagers' self-government (path 4.4). The delivered money buys decision meetings and stipends of monitors (who inspect the accounts and observe elections).
    SelfGovernment "paths.self_government" {
        /// Intensity (schedule).
        intensity: Schedule = Schedule::Constant(0.0), [0.0, 2.0], "intensity", "off unless a scenario turns it on";
        /// Whether the programme's delivered money buys anything. `false` is the null-mechanism control: the money is sent (and can be captured) but buys no units, so any effect left would come from a direct term.
        mechanism: bool = true, [], "", "on: the programme works through what its money buys";
        /// Money per village per year at intensity 1, yuan.
        cost: f64 = 50_000.0, [0.0, 1e9], "yuan per village per year", "guess";
        /// Cost of one decision meeting, yuan.
        meeting_cost: f64 = 500.0, [1.0, 1e6], "yuan", "a hall, an allowance for representatives; guess";
        /// Stipend of one monitor per month, yuan.
        monitor_stipend: f64 = 300.0, [1.0, 1e6], "yuan per month", "guess";
        /// Share of the delivered money that pays monitors (the rest pays meetings).
        monitor_share: f64 = 0.4, [0.0, 1.0], "share [0, 1]", "guess";
        /// Probability that one monitor observing an election detects a vote-buying offer.
        observer_detect: f64 = 0.01, [0.0, 1.0], "probability", "offers are many and discreet; a candidate making hundreds is likely caught; guess";
        /// The two-committee arrangement where the shares in `[party_state]` are both 0.
        arrangement: Arrangement = Arrangement::Separate, [], "", "branch and committee held by different people";
    }
}

section! {
    /// `[output]`: what to write.
    Output "output" {
        /// Record region metrics every this many months.
        record_every: u32 = 1, [1, 1200], "", "record every month";
        /// Also write `villages.csv` (one row per village per year).
        villages: bool = false, [], "", "write `villages.csv`";
    }
}

/// `[paths.*]`: the four paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Paths {
    /// 4.1 Legal services and rule of law.
    pub legal: Legal,
    /// 4.2 Public services and the mutual-help platform.
    pub services: Services,
    /// 4.3 Community culture.
    pub culture: Culture,
    /// 4.4 Villagers' self-government.
    pub self_government: SelfGovernment,
}

/// The four paths, declared once: every list of paths (spending, equal-budget scaling, the
/// benchmark's "every path on", outputs) iterates over [`PolicyPath::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PolicyPath {
    /// 4.1 Legal services and rule of law.
    Legal,
    /// 4.2 Public services and the mutual-help platform.
    Services,
    /// 4.3 Community culture.
    Culture,
    /// 4.4 Villagers' self-government.
    SelfGovernment,
}

impl PolicyPath {
    /// The four paths, in the study's order.
    pub const ALL: [PolicyPath; 4] = [
        PolicyPath::Legal,
        PolicyPath::Services,
        PolicyPath::Culture,
        PolicyPath::SelfGovernment,
    ];

    /// Section name under `[paths]` (`legal`, `services`, `culture`, `self_government`).
    pub fn key(self) -> &'static str {
        match self {
            PolicyPath::Legal => "legal",
            PolicyPath::Services => "services",
            PolicyPath::Culture => "culture",
            PolicyPath::SelfGovernment => "self_government",
        }
    }

    /// Title for charts and tables.
    pub fn title(self) -> &'static str {
        match self {
            PolicyPath::Legal => "Legal services",
            PolicyPath::Services => "Public services",
            PolicyPath::Culture => "Community culture",
            PolicyPath::SelfGovernment => "Self-government",
        }
    }

    /// Position in [`PolicyPath::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl Paths {
    /// Whether a path's programme works (`mechanism`), or is the null-mechanism control.
    pub fn mechanism(&self, p: PolicyPath) -> bool {
        match p {
            PolicyPath::Legal => self.legal.mechanism,
            PolicyPath::Services => self.services.mechanism,
            PolicyPath::Culture => self.culture.mechanism,
            PolicyPath::SelfGovernment => self.self_government.mechanism,
        }
    }

    /// The intensity schedule of a path.
    pub fn intensity(&self, p: PolicyPath) -> &Schedule {
        match p {
            PolicyPath::Legal => &self.legal.intensity,
            PolicyPath::Services => &self.services.intensity,
            PolicyPath::Culture => &self.culture.intensity,
            PolicyPath::SelfGovernment => &self.self_government.intensity,
        }
    }

    /// The intensity schedule of a path, to change it.
    pub fn intensity_mut(&mut self, p: PolicyPath) -> &mut Schedule {
        match p {
            PolicyPath::Legal => &mut self.legal.intensity,
            PolicyPath::Services => &mut self.services.intensity,
            PolicyPath::Culture => &mut self.culture.intensity,
            PolicyPath::SelfGovernment => &mut self.self_government.intensity,
        }
    }

    /// Cost of a path at intensity 1, yuan per village per year.
    pub fn cost(&self, p: PolicyPath) -> f64 {
        match p {
            PolicyPath::Legal => self.legal.cost,
            PolicyPath::Services => self.services.cost,
            PolicyPath::Culture => self.culture.cost,
            PolicyPath::SelfGovernment => self.self_government.cost,
        }
    }
}

impl Scenario {
    /// What the documentation says of every setting, in file order of the sections.
    pub fn params() -> Vec<params::ParamInfo> {
        [
            Run::params(),
            Region::params(),
            Population::params(),
            Values::params(),
            Economy::params(),
            Migration::params(),
            Governance::params(),
            PartyState::params(),
            Legal::params(),
            Services::params(),
            Culture::params(),
            SelfGovernment::params(),
            Output::params(),
        ]
        .concat()
    }

    /// Load a scenario file, following `extends` and applying `--set` overrides.
    ///
    /// A scenario must have a `name` (set in the file or one it extends): an empty file, or
    /// `/dev/null`, is refused rather than silently run as the built-in defaults.
    pub fn load(path: &Path, sets: &[String]) -> Result<Loaded<Scenario>, ScenarioError> {
        let loaded = load::load::<Scenario>(path, sets)?;
        if !loaded.table.contains_key("name") {
            return Err(ScenarioError::new(
                Some(path.display().to_string()),
                None,
                Some("name".into()),
                "this scenario sets no name, neither in the file nor in one it extends; a scenario needs at least name = \"...\" (it names the output folder), and everything it does not set takes the defaults listed by `ruralgov show`",
            ));
        }
        Ok(loaded)
    }

    /// Number of monthly steps.
    pub fn steps(&self) -> u32 {
        ((self.run.end_year - self.run.start_year).max(0) as u32) * 12
    }

    /// The resolved scenario as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# could not render scenario: {e}\n"))
    }
}

/// One setting that differs between two resolved scenarios (`ruralgov diff`).
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// Dotted key of the setting.
    pub key: String,
    /// Its value in the first scenario (`None`: absent there).
    pub a: Option<toml::Value>,
    /// Its value in the second scenario.
    pub b: Option<toml::Value>,
}

/// The settings that differ between two resolved scenarios, in key order.
pub fn diff(a: &Scenario, b: &Scenario) -> Vec<Difference> {
    let flat = |sc: &Scenario| match toml::Value::try_from(sc) {
        Ok(toml::Value::Table(t)) => load::flatten(&t),
        _ => std::collections::BTreeMap::new(),
    };
    let (fa, fb) = (flat(a), flat(b));
    let keys: std::collections::BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
    keys.into_iter()
        .filter(|k| fa.get(*k) != fb.get(*k))
        .map(|k| Difference {
            key: k.clone(),
            a: fa.get(k).cloned(),
            b: fb.get(k).cloned(),
        })
        .collect()
}

/// Whether `name` may name a scenario or experiment (and so an output folder): non-empty,
/// letters, digits, '_' and '-' only.
/// Largest seed a run accepts: 2^53 - 1, so that every seed is exact as a TOML integer, as a
/// JSON number and as a double in R, pandas and spreadsheets (a seed read back from any output
/// re-runs the same run).
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// Refuse a seed above [`MAX_SEED`] (for `--seed`, which is applied after loading).
pub fn check_seed(seed: u64) -> Result<(), ScenarioError> {
    if seed > MAX_SEED {
        return Err(ScenarioError::new(
            None,
            None,
            Some("run.seed".into()),
            format!("seed {seed} is too large: use 0 to {MAX_SEED} (2^53 - 1), so it survives CSV, JSON and R exactly"),
        ));
    }
    Ok(())
}

/// Whether `name` is a valid scenario, experiment or arm name.
pub fn is_valid_name(name: &str) -> bool {
    !name.trim().is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Validate for Scenario {
    fn validate(&self, v: &mut Validator) {
        if !is_valid_name(&self.name) {
            v.error("name", format!("name \"{}\" must be non-empty and use only letters, digits, '_' and '-' (it names the output folder)", self.name));
        }
        let r = &self.run;
        if r.seed > MAX_SEED {
            v.error(
                "run.seed",
                format!(
                    "seed {} is too large: use 0 to {MAX_SEED} (2^53 - 1), so it survives CSV, JSON and R exactly",
                    r.seed
                ),
            );
        }
        self.run.check_ranges(v);
        if r.end_year <= r.start_year {
            v.error(
                "run.end_year",
                format!("end_year {} must be after start_year {}", r.end_year, r.start_year),
            );
        }
        self.region.check_ranges(v);
        self.population.check_ranges(v);
        let p = &self.population;
        if p.clans > 1 && p.largest_clan_share * (p.clans as f64) < 1.0 - 1e-9 {
            v.error(
                "population.largest_clan_share",
                format!(
                    "largest_clan_share {} with {} clans is below an equal share (1/{}); expected at least {:.4}",
                    p.largest_clan_share,
                    p.clans,
                    p.clans,
                    1.0 / p.clans as f64
                ),
            );
        }
        self.values.check_ranges(v);
        if !self.values.ties.is_multiple_of(2) {
            v.error(
                "values.ties",
                format!(
                    "ties {} must be even (a ring lattice has ties on both sides)",
                    self.values.ties
                ),
            );
        }
        self.economy.check_ranges(v);
        self.migration.check_ranges(v);
        let m = &self.migration;
        if m.max_age < m.min_age {
            v.error(
                "migration.max_age",
                format!("max_age {} is below min_age {}", m.max_age, m.min_age),
            );
        }
        self.governance.check_ranges(v);
        self.party_state.check_ranges(v);
        self.paths.legal.check_ranges(v);
        self.paths.services.check_ranges(v);
        self.paths.culture.check_ranges(v);
        self.paths.self_government.check_ranges(v);
        let sg = &self.party_state;
        // Both schedules are piecewise linear, so their sum peaks at a keyframe year.
        let years: Vec<f64> = [&sg.one_shoulder_share, &sg.cross_serving_share]
            .iter()
            .flat_map(|s| match s {
                Schedule::Constant(_) => vec![2000.0],
                Schedule::Keyframes(k) => k.iter().map(|p| p[0]).collect(),
            })
            .collect();
        if let Some(&y) = years
            .iter()
            .find(|&&y| sg.one_shoulder_share.at(y) + sg.cross_serving_share.at(y) > 1.0 + 1e-9)
        {
            v.error(
                "party_state.cross_serving_share",
                format!(
                    "in {y} one_shoulder_share ({}) and cross_serving_share ({}) add up to more than 1",
                    sg.one_shoulder_share.at(y),
                    sg.cross_serving_share.at(y)
                ),
            );
        }
        self.output.check_ranges(v);
    }
}
