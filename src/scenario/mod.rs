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
    /// `[run]`: seed and time span.
    Run "run" {
        /// Master seed; every random draw derives from it.
        seed: u64 = 1, [], "", "master seed";
        /// First simulated year (the run starts in January).
        start_year: i32 = 2000, [1900, 2200], "year", "the study's period";
        /// The run ends in January of this year.
        end_year: i32 = 2030, [1901, 2300], "year", "the run ends in January of this year";
        /// Which processes run: `all` (the model), or one submodel alone for checking it against the literature (`values`, `public_goods`, `migration`).
        only: Only = Only::All, [], "", "which processes run: the whole model, or one submodel alone (Section 3.3)";
    }
}

section! {
    /// `[region]`: size and region-wide drivers.
    Region "region" {
        /// Number of villages.
        villages: u32 = 200, [1, 10_000_000], "", "a county-sized region";
        /// Market exposure of the region in [0,1] (schedule): pull of `market` values.
        market_exposure: Schedule = Schedule::keys(&[(2000.0, 0.3), (2030.0, 0.8)]), [0.0, 1.0], "", "marketisation deepening; calibrated guess (baseline adds [2015, 0.6])";
    }
}

section! {
    /// `[population]`: demography and the initial population.
    Population "population" {
        /// Mean registered adults (16+) per village at the start.
        adults_per_village: u32 = 1000, [10, 100_000], "", "a large administrative village; order of magnitude of Chinese administrative villages (hundreds to a few thousand residents); guess";
        /// Coefficient of variation of village size.
        village_size_cv: f64 = 0.25, [0.0, 1.0], "", "guess";
        /// Growth rate shaping the initial age pyramid (stable-population approximation).
        initial_growth: f64 = 0.01, [-0.05, 0.05], "", "a slowly growing past population gives a plausible pyramid; guess";
        /// Share of initial adults who are away as migrants at the start.
        initial_migrant_share: f64 = 0.12, [0.0, 0.9], "share [0, 1]", "outflow already under way in 2000; guess of the right order";
        /// Number of clans per village.
        clans: u32 = 5, [1, 255], "", "a few lineages per village; guess";
        /// Share of the largest clan; the others follow geometrically.
        largest_clan_share: f64 = 0.4, [0.0, 1.0], "share [0, 1]", "one dominant lineage, common in single-surname-dominated villages; guess";
        /// Makeham term of annual mortality (age-independent).
        makeham: f64 = 0.0006, [0.0, 0.1], "", "Makeham (1860) age-independent term; usual human order of magnitude";
        /// Gompertz level `B` of annual mortality `A + B exp(c age)`.
        gompertz_b: f64 = 0.000035, [0.0, 0.01], "", "Gompertz (1825) level; chosen with `gompertz_c` for a plausible rural life table around 2000";
        /// Gompertz slope `c` per year of age.
        gompertz_c: f64 = 0.092, [0.0, 0.2], "", "Gompertz slope; human values are about 0.08-0.1 per year";
        /// Annual relative decline of mortality from the start year.
        mortality_decline: f64 = 0.01, [-0.05, 0.1], "", "about 1% a year improvement; guess";
        /// Annual mortality of children under 16.
        child_mortality: f64 = 0.002, [0.0, 0.1], "", "annual hazard under 16, low; guess";
        /// Total fertility rate (schedule).
        tfr: Schedule = Schedule::keys(&[(2000.0, 1.8), (2030.0, 1.4)]), [0.0, 8.0], "", "order of magnitude of reported Chinese (rural) fertility";
        /// Mean age of childbearing.
        fertility_mean_age: f64 = 27.0, [18.0, 40.0], "years", "guess of the right order";
        /// Spread (sd, years) of the fertility schedule.
        fertility_sd: f64 = 5.0, [1.0, 10.0], "", "guess";
        /// Fertility of migrant women relative to residents (children registered in the village).
        migrant_fertility: f64 = 0.6, [0.0, 2.0], "", "migrant women have fewer births; guess";
        /// Probability of each of 4 education steps for those coming of age (schedule): levels 0..4.
        education: Schedule = Schedule::keys(&[(2000.0, 0.5), (2030.0, 0.7)]), [0.0, 1.0], "", "probability of each of four education steps; mean level 2.0 rising to 2.8; guess";
        /// Drop of that probability per decade of age for the initial population.
        education_cohort_decline: f64 = 0.04, [0.0, 0.2], "", "older cohorts less schooled; guess";
    }
}

section! {
    /// `[values]`: value dynamics and the social network.
    Values "values" {
        /// Initial mean of `market` (benefit orientation).
        market_mean: f64 = 0.3, [0.0, 1.0], "", "traditional constraint still dominant in 2000; calibrated guess";
        /// Initial mean of `civic` (public spirit).
        civic_mean: f64 = 0.6, [0.0, 1.0], "", "calibrated guess";
        /// Initial standard deviation of both values.
        spread: f64 = 0.12, [0.0, 0.5], "", "guess";
        /// How initial values are drawn (`normal` or `uniform`).
        initial: Initial = Initial::Normal, [], "", "how initial `market` and `civic` are drawn: normal around the means with the age gradients above, or uniform on [0, 1] (Deffuant et al. 2000; `docs/validation.md`)";
        /// How residents meet (`network` or `random` pairs).
        mixing: Mixing = Mixing::Network, [], "", "who meets whom: a tie of the clan-clustered small world, or a uniformly drawn villager (random pairs, for the check against Deffuant et al. 2000 in `docs/validation.md`)";
        /// Initial mean trust in the party branch.
        trust_branch: f64 = 0.6, [0.0, 1.0], "", "calibrated guess";
        /// Initial mean trust in the township government.
        trust_government: f64 = 0.65, [0.0, 1.0], "", "calibrated guess";
        /// Annual pull of `market` toward 1 at full market exposure.
        market_drift: f64 = 0.04, [0.0, 1.0], "", "annual pull toward 1 at full exposure; calibrated guess (pattern 1)";
        /// Multiplier of that drift for migrants.
        migrant_drift_factor: f64 = 2.5, [0.0, 10.0], "", "migrants live in the market economy; calibrated guess";
        /// Multiplier of that drift for the young.
        young_drift_factor: f64 = 1.5, [0.0, 10.0], "", "the young are more exposed; guess";
        /// Upper age of "the young".
        young_age: f64 = 35.0, [16.0, 100.0], "years", "upper age of \"the young\"; guess";
        /// Network ties per villager (even; ring lattice before rewiring).
        ties: u32 = 6, [0, 64], "", "Watts and Strogatz (1998) ring lattice with 3 neighbours each side";
        /// Watts-Strogatz rewiring probability of each tie.
        rewire: f64 = 0.1, [0.0, 1.0], "", "small-world regime (Watts and Strogatz 1998)";
        /// Probability per month that a resident discusses with one tie.
        interaction_rate: f64 = 0.5, [0.0, 1.0], "per year", "monthly probability of a discussion; guess";
        /// Deffuant-Weisbuch confidence bound.
        confidence_bound: f64 = 0.3, [0.0, 1.0], "", "Deffuant et al. (2000) threshold; within their studied range";
        /// Deffuant-Weisbuch convergence parameter.
        convergence: f64 = 0.2, [0.0, 0.5], "", "Deffuant et al. (2000) convergence parameter";
        /// Annual erosion of `civic` per unit of `market` ("vulgar culture").
        civic_erosion: f64 = 0.03, [0.0, 1.0], "", "annual erosion per unit of `market`; calibrated guess";
        /// Annual decay of `civic` (identification with the village) while away.
        migrant_civic_decay: f64 = 0.08, [0.0, 1.0], "", "identification with the village fades while away; calibrated guess";
        /// The `market` level of traditional virtue that culture pulls toward.
        traditional_market: f64 = 0.15, [0.0, 1.0], "", "the `market` level of traditional virtue; guess";
    }
}

section! {
    /// `[economy]`: wages, the city labour market, state transfers.
    Economy "economy" {
        /// Urban wage, yuan per month (schedule).
        urban_wage: Schedule = Schedule::keys(&[(2000.0, 800.0), (2030.0, 7000.0)]), [1.0, 1e6], "yuan per month", "order of magnitude of migrant workers' monthly pay; rounded";
        /// Rural wage for a resident with no schooling, yuan per month (schedule).
        rural_wage: Schedule = Schedule::keys(&[(2000.0, 350.0), (2030.0, 3000.0)]), [1.0, 1e6], "yuan per month", "order of magnitude of rural earnings; rounded";
        /// Urban jobs open to the region's migrants, per registered adult of the region (schedule).
        urban_jobs: Schedule = Schedule::keys(&[(2000.0, 0.15), (2030.0, 0.4)]), [0.0, 1.0], "", "jobs per registered adult open to the region's migrants; calibrated guess";
        /// Relative wage premium per education level.
        education_premium: f64 = 0.12, [0.0, 1.0], "", "relative wage premium per education level; order of magnitude of returns to schooling";
        /// Share of income saved into wealth.
        saving_rate: f64 = 0.25, [0.0, 1.0], "per year", "guess";
        /// Annual depreciation of wealth.
        wealth_depreciation: f64 = 0.03, [0.0, 1.0], "", "annual; guess";
        /// State transfers (project funds) into villages, yuan per registered adult per year (schedule).
        transfers: Schedule = Schedule::keys(&[(2000.0, 20.0), (2005.92, 30.0), (2006.0, 120.0), (2030.0, 900.0)]), [0.0, 1e6], "yuan per registered adult per year", "step at the 2006 abolition of the agricultural tax; magnitudes are guesses";
        /// Urban downturn in [0,1] (schedule): raises return migration.
        downturn: Schedule = Schedule::Constant(0.0), [0.0, 1.0], "", "no downturn by default; the baseline adds 2008-2009";
    }
}

section! {
    /// `[migration]`: leaving and returning.
    Migration "migration" {
        /// Annual leaving hazard of a 25-year-old with average traits and no wage gap.
        leave_base: f64 = 0.06, [0.0, 5.0], "per year", "calibrated guess (pattern 2)";
        /// Effect of the log expected urban-rural wage gap on leaving.
        wage_gap_effect: f64 = 1.0, [-10.0, 10.0], "yuan", "elasticity of the leaving hazard to the expected wage ratio (Harris and Todaro 1970); guess";
        /// Effect per decade of age above 25 (negative: older leave less).
        age_effect: f64 = -0.7, [-10.0, 10.0], "coefficient", "per decade above 25; older people leave less; guess";
        /// Effect per education level.
        education_effect: f64 = 0.25, [-10.0, 10.0], "coefficient", "the educated leave more (study); guess";
        /// Effect of `market` (centred at 0.5).
        market_effect: f64 = 1.5, [-10.0, 10.0], "coefficient", "benefit orientation pushes out; calibrated guess";
        /// Effect of `civic` (centred at 0.5; negative: attachment holds back).
        civic_effect: f64 = -1.5, [-10.0, 10.0], "coefficient", "attachment holds back; calibrated guess";
        /// Effect of the share of one's ties still resident (negative: ties hold back).
        ties_effect: f64 = -0.8, [-10.0, 10.0], "coefficient", "resident ties hold back (chain migration when ties have left); guess";
        /// Effect of local service quality (negative).
        services_effect: f64 = -1.0, [-10.0, 10.0], "coefficient", "local services hold back; guess";
        /// Youngest age that leaves.
        min_age: f64 = 16.0, [16.0, 100.0], "years", "youngest who leaves";
        /// Oldest age that leaves.
        max_age: f64 = 55.0, [16.0, 100.0], "years", "oldest who leaves";
        /// Annual return hazard of a 40-year-old migrant with average traits.
        return_base: f64 = 0.05, [0.0, 5.0], "per year", "calibrated guess";
        /// Effect per decade of age above 40 on returning.
        return_age_effect: f64 = 0.5, [-10.0, 10.0], "coefficient", "per decade around 40; older migrants return; guess";
        /// Effect of local service quality on returning.
        return_services_effect: f64 = 1.0, [-10.0, 10.0], "coefficient", "guess";
        /// Effect of local order on returning.
        return_order_effect: f64 = 1.0, [-10.0, 10.0], "coefficient", "guess";
        /// Effect of the log wage gap on returning (negative).
        return_gap_effect: f64 = -0.5, [-10.0, 10.0], "coefficient", "a wide gap keeps migrants away; guess";
        /// Effect of an urban downturn on returning.
        downturn_effect: f64 = 2.0, [-10.0, 10.0], "coefficient", "an urban downturn sends migrants home; guess";
        /// Effect per year away on returning (negative: migrants settle in the city).
        settle_effect: f64 = -0.05, [-10.0, 10.0], "coefficient", "per year away (`away / 12`); migrants settle in the city, so long spells return less; guess";
    }
}

section! {
    /// `[governance]`: branch, committee, township, elites, disputes.
    Governance "governance" {
        /// Initial share of adults who are party members.
        member_share: f64 = 0.06, [0.0, 1.0], "share [0, 1]", "party members are about 6-7% of China's population; order of magnitude";
        /// Mean age of initial party members.
        member_age: f64 = 48.0, [18.0, 90.0], "years", "rural branches are older than the population; guess";
        /// Active resident members per 100 residents at which capacity saturates.
        members_target: f64 = 6.0, [0.1, 100.0], "", "active resident members per 100 residents at which capacity saturates; calibrated guess";
        /// Members stop taking an active part at this age.
        retire_age: f64 = 72.0, [30.0, 120.0], "years", "members stop taking an active part; guess";
        /// Annual recruitment probability of an eligible young villager at full capacity.
        recruit_rate: f64 = 0.04, [0.0, 1.0], "per year", "annual probability for an eligible villager at full capacity; calibrated guess (pattern 2: too few successors)";
        /// Oldest recruit.
        recruit_max_age: f64 = 40.0, [18.0, 100.0], "years", "recruitment of the young; guess";
        /// Minimum `civic` of a recruit.
        recruit_civic: f64 = 0.55, [0.0, 1.0], "", "guess";
        /// Minimum trust in the branch of a recruit.
        recruit_trust: f64 = 0.5, [0.0, 1.0], "", "guess";
        /// Initial administrative style of the branch in [0,1].
        administrative: f64 = 0.6, [0.0, 1.0], "", "pattern 3 (top-down lead) present at the start; calibrated guess. Also the anchor of the style target (7.9)";
        /// Initial stance of the branch: 0 sides with the government, 1 with villagers.
        stance: f64 = 0.4, [0.0, 1.0], "", "branch leaning toward the township; calibrated guess. Also the anchor of the stance target (7.9)";
        /// Annual rate at which style and stance move to their targets.
        adjust_rate: f64 = 0.3, [0.0, 10.0], "per year", "annual rate at which style and stance move; guess";
        /// Administrative pressure from the township in [0,1] (schedule).
        admin_pressure: Schedule = Schedule::keys(&[(2000.0, 0.4), (2030.0, 0.6)]), [0.0, 1.0], "", "rising township tasks and inspections; calibrated guess";
        /// Years between committee elections.
        term_years: u32 = 5, [1, 20], "", "five-year terms of villagers' committees under the Organic Law of Villagers' Committees since its 2018 amendment (three years before). The baseline sets 3 (Section 6)";
        /// Year of the first election in the run.
        first_election: i32 = 2002, [1900, 2300], "", "places the election cycle; guess (the baseline also sets 2002)";
        /// Initial committee autonomy.
        autonomy: f64 = 0.5, [0.0, 1.0], "", "guess";
        /// Share of residents who are economic elites.
        economic_elite_share: f64 = 0.02, [0.0, 1.0], "share [0, 1]", "the richest 2% of residents; guess";
        /// Smallest clan share whose head acts as a clan elite.
        clan_elite_min_share: f64 = 0.15, [0.0, 1.0], "share [0, 1]", "smallest clan share with a clan elite; guess";
        /// Village bullies per 1,000 adults at the start.
        bullies_per_1000: f64 = 1.0, [], "", "bullies present in some villages only; calibrated guess";
        /// Initial coercive power of the bully faction in [0,1].
        bully_power: f64 = 0.1, [0.0, 1.0], "", "calibrated guess";
        /// Gain of bully power per unfair win (relative to the remaining headroom).
        bully_gain: f64 = 0.01, [0.0, 1.0], "", "gain per unfair win, relative to headroom; calibrated guess";
        /// Annual decay of bully power.
        bully_decay: f64 = 0.3, [0.0, 1.0], "", "annual decay of bully power; calibrated guess";
        /// Weight of clan loyalty in votes and in dispute outcomes.
        clan_strength: f64 = 1.0, [0.0, 10.0], "", "weight of clan dominance in disputes (and loyalty in votes, 7.8); calibrated guess";
        /// Disputes raised per resident per year at `market` = 0.5.
        dispute_rate: f64 = 0.15, [0.0, 12.0], "per year", "disputes per resident per year at `market` = 0.5; calibrated guess";
        /// Villager-government conflicts per resident per year at full pressure.
        conflict_rate: f64 = 0.03, [0.0, 12.0], "per year", "villager-government conflicts per resident per year at full pressure; guess";
        /// Leak propensity when the branch controls the committee.
        leak_branch: f64 = 0.1, [0.0, 1.0], "", "leak propensity of a branch controller; calibrated guess";
        /// Leak propensity of an economic elite controller.
        leak_economic: f64 = 0.35, [0.0, 1.0], "", "economic elite controller; calibrated guess";
        /// Leak propensity of a clan controller.
        leak_clan: f64 = 0.3, [0.0, 1.0], "", "clan controller; calibrated guess";
        /// Leak propensity of a bully controller.
        leak_bully: f64 = 0.5, [0.0, 1.0], "", "bully controller (\"village hegemony\"); calibrated guess";
        /// Elections contested when the winning margin is below this share of votes.
        contested_margin: f64 = 0.05, [0.0, 1.0], "", "guess";
        /// Intercept added to every resident's turnout probability (calibration).
        turnout_base: f64 = 0.0, [-1.0, 1.0], "", "intercept of the turnout probability; 0 by default, set by calibration to reported turnout (`scenarios/china_2000_2020.toml`, `docs/validation.md` part 4)";
        /// Turnout of migrants relative to residents (returning to vote or voting by proxy).
        migrant_turnout: f64 = 0.25, [0.0, 1.0], "", "turnout of migrants relative to residents (coming home to vote, or a proxy vote); guess, calibrated in `scenarios/china_2000_2020.toml`";
    }
}

section! {
    /// `[paths.legal]`.
    Legal "paths.legal" {
        /// Intensity in [0,2] (schedule); 1 is a full programme.
        intensity: Schedule = Schedule::Constant(0.0), [0.0, 2.0], "intensity", "off by default";
        /// Cost per village per year at intensity 1, yuan.
        cost: f64 = 60_000.0, [0.0, 1e9], "yuan per village per year", "yuan per village per year at intensity 1 (a legal adviser and mediation); guess";
        /// Weight of the legal/mediation channel per unit of intensity x capacity.
        mediation: f64 = 3.0, [0.0, 100.0], "", "a full programme makes mediation the usual channel where the branch is capable; calibrated guess";
        /// Monthly probability per resident of being heard (demand collection) per unit of intensity x capacity.
        listening: f64 = 0.05, [0.0, 1.0], "", "monthly probability of being heard per unit of intensity × capacity; guess";
        /// Pull of the branch's stance toward villagers per unit of intensity.
        stance_effect: f64 = 0.5, [0.0, 1.0], "coefficient", "pull of the stance toward villagers per unit of legal intensity; guess";
        /// Strength of sanctions against free riders per unit of intensity.
        sanctions: f64 = 0.3, [0.0, 1.0], "", "sanctions against free riders per unit of legal intensity; guess";
        /// Reduction of leak opportunity per unit of intensity.
        capture_effect: f64 = 0.4, [0.0, 1.0], "coefficient", "less leak opportunity per unit of legal intensity; guess";
        /// Annual extra decay of bully power per unit of intensity.
        bully_suppression: f64 = 0.5, [0.0, 10.0], "", "extra annual decay of bully power per unit of intensity; guess";
    }
}

section! {
    /// `[paths.services]`.
    Services "paths.services" {
        /// Intensity in [0,2] (schedule).
        intensity: Schedule = Schedule::Constant(0.0), [0.0, 2.0], "intensity", "off by default";
        /// Cost per village per year at intensity 1, yuan.
        cost: f64 = 100_000.0, [0.0, 1e9], "yuan per village per year", "yuan per village per year at intensity 1; guess";
        /// Share of the cost that builds service quality (the rest runs the platform).
        build_share: f64 = 0.6, [0.0, 1.0], "share [0, 1]", "share of the cost that builds services; the rest runs the platform (counted as spending; platform strength depends on intensity, not on money)";
        /// Monthly probability that the platform matches one in need, per unit of intensity x capacity.
        platform: f64 = 0.5, [0.0, 1.0], "", "calibrated guess";
        /// Monthly probability of informal (kin) matching without the platform.
        informal_help: f64 = 0.15, [0.0, 1.0], "", "kin help when children have left; guess";
        /// Monthly probability that an elderly resident (70+) needs help.
        need_elderly: f64 = 0.08, [0.0, 1.0], "", "monthly need of a resident aged 70+; guess";
        /// Monthly probability that a younger resident needs help (illness).
        need_sick: f64 = 0.01, [0.0, 1.0], "", "monthly need of a younger resident (illness); guess";
        /// Gain of `civic` for both sides of a match.
        help_civic_gain: f64 = 0.02, [0.0, 1.0], "", "guess";
        /// Investment per resident per month (yuan) at which building runs at half speed.
        half_saturation: f64 = 60.0, [0.001, 1e6], "yuan per resident per month", "yuan per resident per month at which building runs at half speed; calibrated guess";
        /// Monthly building rate of service quality at saturation.
        build_rate: f64 = 0.05, [0.0, 1.0], "per year", "monthly building rate at saturation; calibrated guess";
        /// Annual depreciation of service quality.
        depreciation: f64 = 0.15, [0.0, 1.0], "", "annual; guess";
        /// Initial service quality.
        initial_quality: f64 = 0.35, [0.0, 1.0], "", "weak services before the post-2006 investment; guess";
        /// Value of one month's contribution of labour in the public goods game, yuan.
        contribution: f64 = 20.0, [0.0, 1e6], "yuan per month", "yuan value of one month's labour contribution; guess";
    }
}

section! {
    /// `[paths.culture]`.
    Culture "paths.culture" {
        /// Intensity in [0,2] (schedule).
        intensity: Schedule = Schedule::Constant(0.0), [0.0, 2.0], "intensity", "off by default";
        /// Cost per village per year at intensity 1, yuan.
        cost: f64 = 40_000.0, [0.0, 1e9], "yuan per village per year", "yuan per village per year at intensity 1; guess";
        /// Monthly attendance probability without a programme.
        base_attendance: f64 = 0.02, [0.0, 1.0], "", "monthly attendance without a programme (temple fairs, festivals); guess";
        /// Extra monthly attendance per unit of intensity x capacity.
        attendance: f64 = 0.25, [0.0, 1.0], "", "extra attendance per unit of intensity × capacity; calibrated guess";
        /// Gain of `civic` toward 1 per attendance.
        civic_gain: f64 = 0.04, [0.0, 1.0], "", "calibrated guess";
        /// Pull of `market` toward traditional virtue per attendance.
        market_pull: f64 = 0.03, [0.0, 1.0], "", "calibrated guess";
    }
}

section! {
    /// `[paths.self_government]`.
    SelfGovernment "paths.self_government" {
        /// Intensity in [0,2] (schedule).
        intensity: Schedule = Schedule::Constant(0.0), [0.0, 2.0], "intensity", "off by default";
        /// Cost per village per year at intensity 1, yuan.
        cost: f64 = 50_000.0, [0.0, 1e9], "yuan per village per year", "yuan per village per year at intensity 1 (spent in process 9); guess";
        /// The two-committee arrangement (of every village, or of those not covered by the shares).
        arrangement: Arrangement = Arrangement::Separate, [], "", "branch and committee held by different people";
        /// Share of villages under "one shoulder" (schedule); with `cross_serving_share`, lets arrangements differ between villages. Both 0: every village uses `arrangement`.
        one_shoulder_share: Schedule = Schedule::Constant(0.0), [0.0, 1.0], "share [0, 1]", "share of villages under \"one shoulder\"; 0 with `cross_serving_share` 0 means every village uses `arrangement`; `china_2000_2020.toml` uses the 2008-10 round's 38.4%";
        /// Share of villages with cross-serving committees (schedule). The rest are separate.
        cross_serving_share: Schedule = Schedule::Constant(0.0), [0.0, 1.0], "share [0, 1]", "share of villages with cross-serving committees; the 2008-10 round had 52.4%";
        /// Supervision strength without the programme, in [0,1].
        supervision: f64 = 0.2, [0.0, 1.0], "", "some supervision without the programme; guess";
        /// Extra supervision per unit of intensity.
        supervision_effect: f64 = 0.5, [0.0, 1.0], "coefficient", "a full programme adds a supervision committee; calibrated guess";
        /// Policing of vote buying per unit of intensity.
        policing_effect: f64 = 0.6, [0.0, 1.0], "coefficient", "policing of vote buying per unit of intensity; guess";
        /// Extra probability per unit of intensity that a decision is really the committee's.
        autonomy_effect: f64 = 0.3, [0.0, 1.0], "coefficient", "guess";
        /// Extra turnout probability per unit of intensity (mobilisation).
        turnout_effect: f64 = 0.15, [0.0, 1.0], "coefficient", "mobilisation per unit of intensity; guess";
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
        self.paths.legal.check_ranges(v);
        self.paths.services.check_ranges(v);
        self.paths.culture.check_ranges(v);
        self.paths.self_government.check_ranges(v);
        let sg = &self.paths.self_government;
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
                "paths.self_government.cross_serving_share",
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
