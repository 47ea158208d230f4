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
mod schedule;

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

/// `[run]`: seed and time span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Run {
    /// Master seed; every random draw derives from it.
    pub seed: u64,
    /// First simulated year (the run starts in January).
    pub start_year: i32,
    /// The run ends in January of this year.
    pub end_year: i32,
    /// Which processes run: `all` (the model), or one submodel alone for checking it
    /// against the literature (`values`, `public_goods`, `migration`).
    pub only: Only,
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

impl Default for Run {
    fn default() -> Self {
        Run {
            seed: 1,
            start_year: 2000,
            end_year: 2030,
            only: Only::All,
        }
    }
}

/// `[region]`: size and region-wide drivers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Region {
    /// Number of villages.
    pub villages: u32,
    /// Market exposure of the region in [0,1] (schedule): pull of `market` values.
    pub market_exposure: Schedule,
}

impl Default for Region {
    fn default() -> Self {
        Region {
            villages: 200,
            market_exposure: Schedule::keys(&[(2000.0, 0.3), (2030.0, 0.8)]),
        }
    }
}

/// `[population]`: demography and the initial population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Population {
    /// Mean registered adults (16+) per village at the start.
    pub adults_per_village: u32,
    /// Coefficient of variation of village size.
    pub village_size_cv: f64,
    /// Growth rate shaping the initial age pyramid (stable-population approximation).
    pub initial_growth: f64,
    /// Share of initial adults who are away as migrants at the start.
    pub initial_migrant_share: f64,
    /// Number of clans per village.
    pub clans: u32,
    /// Share of the largest clan; the others follow geometrically.
    pub largest_clan_share: f64,
    /// Makeham term of annual mortality (age-independent).
    pub makeham: f64,
    /// Gompertz level `B` of annual mortality `A + B exp(c age)`.
    pub gompertz_b: f64,
    /// Gompertz slope `c` per year of age.
    pub gompertz_c: f64,
    /// Annual relative decline of mortality from the start year.
    pub mortality_decline: f64,
    /// Annual mortality of children under 16.
    pub child_mortality: f64,
    /// Total fertility rate (schedule).
    pub tfr: Schedule,
    /// Mean age of childbearing.
    pub fertility_mean_age: f64,
    /// Spread (sd, years) of the fertility schedule.
    pub fertility_sd: f64,
    /// Fertility of migrant women relative to residents (children registered in the village).
    pub migrant_fertility: f64,
    /// Probability of each of 4 education steps for those coming of age (schedule): levels 0..4.
    pub education: Schedule,
    /// Drop of that probability per decade of age for the initial population.
    pub education_cohort_decline: f64,
}

impl Default for Population {
    fn default() -> Self {
        Population {
            adults_per_village: 1000,
            village_size_cv: 0.25,
            initial_growth: 0.01,
            initial_migrant_share: 0.12,
            clans: 5,
            largest_clan_share: 0.4,
            makeham: 0.0006,
            gompertz_b: 0.000035,
            gompertz_c: 0.092,
            mortality_decline: 0.01,
            child_mortality: 0.002,
            tfr: Schedule::keys(&[(2000.0, 1.8), (2030.0, 1.4)]),
            fertility_mean_age: 27.0,
            fertility_sd: 5.0,
            migrant_fertility: 0.6,
            education: Schedule::keys(&[(2000.0, 0.5), (2030.0, 0.7)]),
            education_cohort_decline: 0.04,
        }
    }
}

/// `[values]`: value dynamics and the social network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Values {
    /// Initial mean of `market` (benefit orientation).
    pub market_mean: f64,
    /// Initial mean of `civic` (public spirit).
    pub civic_mean: f64,
    /// Initial standard deviation of both values.
    pub spread: f64,
    /// How initial values are drawn (`normal` or `uniform`).
    pub initial: Initial,
    /// How residents meet (`network` or `random` pairs).
    pub mixing: Mixing,
    /// Initial mean trust in the party branch.
    pub trust_branch: f64,
    /// Initial mean trust in the township government.
    pub trust_government: f64,
    /// Annual pull of `market` toward 1 at full market exposure.
    pub market_drift: f64,
    /// Multiplier of that drift for migrants.
    pub migrant_drift_factor: f64,
    /// Multiplier of that drift for the young.
    pub young_drift_factor: f64,
    /// Upper age of "the young".
    pub young_age: f64,
    /// Network ties per villager (even; ring lattice before rewiring).
    pub ties: u32,
    /// Watts-Strogatz rewiring probability of each tie.
    pub rewire: f64,
    /// Probability per month that a resident discusses with one tie.
    pub interaction_rate: f64,
    /// Deffuant-Weisbuch confidence bound.
    pub confidence_bound: f64,
    /// Deffuant-Weisbuch convergence parameter.
    pub convergence: f64,
    /// Annual erosion of `civic` per unit of `market` ("vulgar culture").
    pub civic_erosion: f64,
    /// Annual decay of `civic` (identification with the village) while away.
    pub migrant_civic_decay: f64,
    /// The `market` level of traditional virtue that culture pulls toward.
    pub traditional_market: f64,
}

impl Default for Values {
    fn default() -> Self {
        Values {
            market_mean: 0.3,
            civic_mean: 0.6,
            spread: 0.12,
            initial: Initial::Normal,
            mixing: Mixing::Network,
            trust_branch: 0.6,
            trust_government: 0.65,
            market_drift: 0.04,
            migrant_drift_factor: 2.5,
            young_drift_factor: 1.5,
            young_age: 35.0,
            ties: 6,
            rewire: 0.1,
            interaction_rate: 0.5,
            confidence_bound: 0.3,
            convergence: 0.2,
            civic_erosion: 0.03,
            migrant_civic_decay: 0.08,
            traditional_market: 0.15,
        }
    }
}

/// `[economy]`: wages, the city labour market, state transfers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Economy {
    /// Urban wage, yuan per month (schedule).
    pub urban_wage: Schedule,
    /// Rural wage for a resident with no schooling, yuan per month (schedule).
    pub rural_wage: Schedule,
    /// Urban jobs open to the region's migrants, per registered adult of the region (schedule).
    pub urban_jobs: Schedule,
    /// Relative wage premium per education level.
    pub education_premium: f64,
    /// Share of income saved into wealth.
    pub saving_rate: f64,
    /// Annual depreciation of wealth.
    pub wealth_depreciation: f64,
    /// State transfers (project funds) into villages, yuan per registered adult per year (schedule).
    pub transfers: Schedule,
    /// Urban downturn in [0,1] (schedule): raises return migration.
    pub downturn: Schedule,
}

impl Default for Economy {
    fn default() -> Self {
        Economy {
            urban_wage: Schedule::keys(&[(2000.0, 800.0), (2030.0, 7000.0)]),
            rural_wage: Schedule::keys(&[(2000.0, 350.0), (2030.0, 3000.0)]),
            urban_jobs: Schedule::keys(&[(2000.0, 0.15), (2030.0, 0.4)]),
            education_premium: 0.12,
            saving_rate: 0.25,
            wealth_depreciation: 0.03,
            transfers: Schedule::keys(&[(2000.0, 20.0), (2005.92, 30.0), (2006.0, 120.0), (2030.0, 900.0)]),
            downturn: Schedule::Constant(0.0),
        }
    }
}

/// `[migration]`: leaving and returning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Migration {
    /// Annual leaving hazard of a 25-year-old with average traits and no wage gap.
    pub leave_base: f64,
    /// Effect of the log expected urban-rural wage gap on leaving.
    pub wage_gap_effect: f64,
    /// Effect per decade of age above 25 (negative: older leave less).
    pub age_effect: f64,
    /// Effect per education level.
    pub education_effect: f64,
    /// Effect of `market` (centred at 0.5).
    pub market_effect: f64,
    /// Effect of `civic` (centred at 0.5; negative: attachment holds back).
    pub civic_effect: f64,
    /// Effect of the share of one's ties still resident (negative: ties hold back).
    pub ties_effect: f64,
    /// Effect of local service quality (negative).
    pub services_effect: f64,
    /// Youngest age that leaves.
    pub min_age: f64,
    /// Oldest age that leaves.
    pub max_age: f64,
    /// Annual return hazard of a 40-year-old migrant with average traits.
    pub return_base: f64,
    /// Effect per decade of age above 40 on returning.
    pub return_age_effect: f64,
    /// Effect of local service quality on returning.
    pub return_services_effect: f64,
    /// Effect of local order on returning.
    pub return_order_effect: f64,
    /// Effect of the log wage gap on returning (negative).
    pub return_gap_effect: f64,
    /// Effect of an urban downturn on returning.
    pub downturn_effect: f64,
    /// Effect per year away on returning (negative: migrants settle in the city).
    pub settle_effect: f64,
}

impl Default for Migration {
    fn default() -> Self {
        Migration {
            leave_base: 0.06,
            wage_gap_effect: 1.0,
            age_effect: -0.7,
            education_effect: 0.25,
            market_effect: 1.5,
            civic_effect: -1.5,
            ties_effect: -0.8,
            services_effect: -1.0,
            min_age: 16.0,
            max_age: 55.0,
            return_base: 0.05,
            return_age_effect: 0.5,
            return_services_effect: 1.0,
            return_order_effect: 1.0,
            return_gap_effect: -0.5,
            downturn_effect: 2.0,
            settle_effect: -0.05,
        }
    }
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

/// `[governance]`: branch, committee, township, elites, disputes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Governance {
    /// Initial share of adults who are party members.
    pub member_share: f64,
    /// Mean age of initial party members.
    pub member_age: f64,
    /// Active resident members per 100 residents at which capacity saturates.
    pub members_target: f64,
    /// Members stop taking an active part at this age.
    pub retire_age: f64,
    /// Annual recruitment probability of an eligible young villager at full capacity.
    pub recruit_rate: f64,
    /// Oldest recruit.
    pub recruit_max_age: f64,
    /// Minimum `civic` of a recruit.
    pub recruit_civic: f64,
    /// Minimum trust in the branch of a recruit.
    pub recruit_trust: f64,
    /// Initial administrative style of the branch in [0,1].
    pub administrative: f64,
    /// Initial stance of the branch: 0 sides with the government, 1 with villagers.
    pub stance: f64,
    /// Annual rate at which style and stance move to their targets.
    pub adjust_rate: f64,
    /// Administrative pressure from the township in [0,1] (schedule).
    pub admin_pressure: Schedule,
    /// Years between committee elections.
    pub term_years: u32,
    /// Year of the first election in the run.
    pub first_election: i32,
    /// Initial committee autonomy.
    pub autonomy: f64,
    /// Share of residents who are economic elites.
    pub economic_elite_share: f64,
    /// Smallest clan share whose head acts as a clan elite.
    pub clan_elite_min_share: f64,
    /// Village bullies per 1,000 adults at the start.
    pub bullies_per_1000: f64,
    /// Initial coercive power of the bully faction in [0,1].
    pub bully_power: f64,
    /// Gain of bully power per unfair win (relative to the remaining headroom).
    pub bully_gain: f64,
    /// Annual decay of bully power.
    pub bully_decay: f64,
    /// Weight of clan loyalty in votes and in dispute outcomes.
    pub clan_strength: f64,
    /// Disputes raised per resident per year at `market` = 0.5.
    pub dispute_rate: f64,
    /// Villager-government conflicts per resident per year at full pressure.
    pub conflict_rate: f64,
    /// Leak propensity when the branch controls the committee.
    pub leak_branch: f64,
    /// Leak propensity of an economic elite controller.
    pub leak_economic: f64,
    /// Leak propensity of a clan controller.
    pub leak_clan: f64,
    /// Leak propensity of a bully controller.
    pub leak_bully: f64,
    /// Elections contested when the winning margin is below this share of votes.
    pub contested_margin: f64,
    /// Intercept added to every resident's turnout probability (calibration).
    pub turnout_base: f64,
    /// Turnout of migrants relative to residents (returning to vote or voting by proxy).
    pub migrant_turnout: f64,
}

impl Default for Governance {
    fn default() -> Self {
        Governance {
            member_share: 0.06,
            member_age: 48.0,
            members_target: 6.0,
            retire_age: 72.0,
            recruit_rate: 0.04,
            recruit_max_age: 40.0,
            recruit_civic: 0.55,
            recruit_trust: 0.5,
            administrative: 0.6,
            stance: 0.4,
            adjust_rate: 0.3,
            admin_pressure: Schedule::keys(&[(2000.0, 0.4), (2030.0, 0.6)]),
            term_years: 5,
            first_election: 2002,
            autonomy: 0.5,
            economic_elite_share: 0.02,
            clan_elite_min_share: 0.15,
            bullies_per_1000: 1.0,
            bully_power: 0.1,
            bully_gain: 0.01,
            bully_decay: 0.3,
            clan_strength: 1.0,
            dispute_rate: 0.15,
            conflict_rate: 0.03,
            leak_branch: 0.1,
            leak_economic: 0.35,
            leak_clan: 0.3,
            leak_bully: 0.5,
            contested_margin: 0.05,
            turnout_base: 0.0,
            migrant_turnout: 0.25,
        }
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

/// `[paths.legal]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Legal {
    /// Intensity in [0,2] (schedule); 1 is a full programme.
    pub intensity: Schedule,
    /// Cost per village per year at intensity 1, yuan.
    pub cost: f64,
    /// Weight of the legal/mediation channel per unit of intensity x capacity.
    pub mediation: f64,
    /// Monthly probability per resident of being heard (demand collection) per unit of intensity x capacity.
    pub listening: f64,
    /// Pull of the branch's stance toward villagers per unit of intensity.
    pub stance_effect: f64,
    /// Strength of sanctions against free riders per unit of intensity.
    pub sanctions: f64,
    /// Reduction of leak opportunity per unit of intensity.
    pub capture_effect: f64,
    /// Annual extra decay of bully power per unit of intensity.
    pub bully_suppression: f64,
}

impl Default for Legal {
    fn default() -> Self {
        Legal {
            intensity: Schedule::Constant(0.0),
            cost: 60_000.0,
            mediation: 3.0,
            listening: 0.05,
            stance_effect: 0.5,
            sanctions: 0.3,
            capture_effect: 0.4,
            bully_suppression: 0.5,
        }
    }
}

/// `[paths.services]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Services {
    /// Intensity in [0,2] (schedule).
    pub intensity: Schedule,
    /// Cost per village per year at intensity 1, yuan.
    pub cost: f64,
    /// Share of the cost that builds service quality (the rest runs the platform).
    pub build_share: f64,
    /// Monthly probability that the platform matches one in need, per unit of intensity x capacity.
    pub platform: f64,
    /// Monthly probability of informal (kin) matching without the platform.
    pub informal_help: f64,
    /// Monthly probability that an elderly resident (70+) needs help.
    pub need_elderly: f64,
    /// Monthly probability that a younger resident needs help (illness).
    pub need_sick: f64,
    /// Gain of `civic` for both sides of a match.
    pub help_civic_gain: f64,
    /// Investment per resident per month (yuan) at which building runs at half speed.
    pub half_saturation: f64,
    /// Monthly building rate of service quality at saturation.
    pub build_rate: f64,
    /// Annual depreciation of service quality.
    pub depreciation: f64,
    /// Initial service quality.
    pub initial_quality: f64,
    /// Value of one month's contribution of labour in the public goods game, yuan.
    pub contribution: f64,
}

impl Default for Services {
    fn default() -> Self {
        Services {
            intensity: Schedule::Constant(0.0),
            cost: 100_000.0,
            build_share: 0.6,
            platform: 0.5,
            informal_help: 0.15,
            need_elderly: 0.08,
            need_sick: 0.01,
            help_civic_gain: 0.02,
            half_saturation: 60.0,
            build_rate: 0.05,
            depreciation: 0.15,
            initial_quality: 0.35,
            contribution: 20.0,
        }
    }
}

/// `[paths.culture]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Culture {
    /// Intensity in [0,2] (schedule).
    pub intensity: Schedule,
    /// Cost per village per year at intensity 1, yuan.
    pub cost: f64,
    /// Monthly attendance probability without a programme.
    pub base_attendance: f64,
    /// Extra monthly attendance per unit of intensity x capacity.
    pub attendance: f64,
    /// Gain of `civic` toward 1 per attendance.
    pub civic_gain: f64,
    /// Pull of `market` toward traditional virtue per attendance.
    pub market_pull: f64,
}

impl Default for Culture {
    fn default() -> Self {
        Culture {
            intensity: Schedule::Constant(0.0),
            cost: 40_000.0,
            base_attendance: 0.02,
            attendance: 0.25,
            civic_gain: 0.04,
            market_pull: 0.03,
        }
    }
}

/// `[paths.self_government]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelfGovernment {
    /// Intensity in [0,2] (schedule).
    pub intensity: Schedule,
    /// Cost per village per year at intensity 1, yuan.
    pub cost: f64,
    /// The two-committee arrangement (of every village, or of those not covered by the shares).
    pub arrangement: Arrangement,
    /// Share of villages under "one shoulder" (schedule); with `cross_serving_share`, lets
    /// arrangements differ between villages. Both 0: every village uses `arrangement`.
    pub one_shoulder_share: Schedule,
    /// Share of villages with cross-serving committees (schedule). The rest are separate.
    pub cross_serving_share: Schedule,
    /// Supervision strength without the programme, in [0,1].
    pub supervision: f64,
    /// Extra supervision per unit of intensity.
    pub supervision_effect: f64,
    /// Policing of vote buying per unit of intensity.
    pub policing_effect: f64,
    /// Extra probability per unit of intensity that a decision is really the committee's.
    pub autonomy_effect: f64,
    /// Extra turnout probability per unit of intensity (mobilisation).
    pub turnout_effect: f64,
}

impl Default for SelfGovernment {
    fn default() -> Self {
        SelfGovernment {
            intensity: Schedule::Constant(0.0),
            cost: 50_000.0,
            arrangement: Arrangement::Separate,
            one_shoulder_share: Schedule::Constant(0.0),
            cross_serving_share: Schedule::Constant(0.0),
            supervision: 0.2,
            supervision_effect: 0.5,
            policing_effect: 0.6,
            autonomy_effect: 0.3,
            turnout_effect: 0.15,
        }
    }
}

/// `[output]`: what to write.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Output {
    /// Record region metrics every this many months.
    pub record_every: u32,
    /// Also write `villages.csv` (one row per village per year).
    pub villages: bool,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            record_every: 1,
            villages: false,
        }
    }
}

impl Scenario {
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
        v.range_int("run.start_year", r.start_year as i64, 1900, 2200);
        v.range_int("run.end_year", r.end_year as i64, r.start_year as i64 + 1, 2300);
        v.range_int("region.villages", self.region.villages as i64, 1, 10_000_000);
        self.region.market_exposure.check(v, "region.market_exposure", 0.0, 1.0);

        let p = &self.population;
        v.range_int(
            "population.adults_per_village",
            p.adults_per_village as i64,
            10,
            100_000,
        );
        v.range("population.village_size_cv", p.village_size_cv, 0.0, 1.0);
        v.range("population.initial_growth", p.initial_growth, -0.05, 0.05);
        v.range("population.initial_migrant_share", p.initial_migrant_share, 0.0, 0.9);
        v.range_int("population.clans", p.clans as i64, 1, 255);
        v.range("population.largest_clan_share", p.largest_clan_share, 0.0, 1.0);
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
        v.range("population.makeham", p.makeham, 0.0, 0.1);
        v.range("population.gompertz_b", p.gompertz_b, 0.0, 0.01);
        v.range("population.gompertz_c", p.gompertz_c, 0.0, 0.2);
        v.range("population.mortality_decline", p.mortality_decline, -0.05, 0.1);
        v.range("population.child_mortality", p.child_mortality, 0.0, 0.1);
        p.tfr.check(v, "population.tfr", 0.0, 8.0);
        v.range("population.fertility_mean_age", p.fertility_mean_age, 18.0, 40.0);
        v.range("population.fertility_sd", p.fertility_sd, 1.0, 10.0);
        v.range("population.migrant_fertility", p.migrant_fertility, 0.0, 2.0);
        p.education.check(v, "population.education", 0.0, 1.0);
        v.range(
            "population.education_cohort_decline",
            p.education_cohort_decline,
            0.0,
            0.2,
        );

        let x = &self.values;
        for (k, val) in [
            ("values.market_mean", x.market_mean),
            ("values.civic_mean", x.civic_mean),
            ("values.trust_branch", x.trust_branch),
            ("values.trust_government", x.trust_government),
            ("values.rewire", x.rewire),
            ("values.interaction_rate", x.interaction_rate),
            ("values.confidence_bound", x.confidence_bound),
            ("values.traditional_market", x.traditional_market),
        ] {
            v.range(k, val, 0.0, 1.0);
        }
        v.range("values.spread", x.spread, 0.0, 0.5);
        v.range("values.market_drift", x.market_drift, 0.0, 1.0);
        v.range("values.migrant_drift_factor", x.migrant_drift_factor, 0.0, 10.0);
        v.range("values.young_drift_factor", x.young_drift_factor, 0.0, 10.0);
        v.range("values.young_age", x.young_age, 16.0, 100.0);
        v.range_int("values.ties", x.ties as i64, 0, 64);
        if !x.ties.is_multiple_of(2) {
            v.error(
                "values.ties",
                format!("ties {} must be even (a ring lattice has ties on both sides)", x.ties),
            );
        }
        v.range("values.convergence", x.convergence, 0.0, 0.5);
        v.range("values.civic_erosion", x.civic_erosion, 0.0, 1.0);
        v.range("values.migrant_civic_decay", x.migrant_civic_decay, 0.0, 1.0);

        let e = &self.economy;
        e.urban_wage.check(v, "economy.urban_wage", 1.0, 1e6);
        e.rural_wage.check(v, "economy.rural_wage", 1.0, 1e6);
        e.urban_jobs.check(v, "economy.urban_jobs", 0.0, 1.0);
        v.range("economy.education_premium", e.education_premium, 0.0, 1.0);
        v.range("economy.saving_rate", e.saving_rate, 0.0, 1.0);
        v.range("economy.wealth_depreciation", e.wealth_depreciation, 0.0, 1.0);
        e.transfers.check(v, "economy.transfers", 0.0, 1e6);
        e.downturn.check(v, "economy.downturn", 0.0, 1.0);

        let m = &self.migration;
        v.range("migration.leave_base", m.leave_base, 0.0, 5.0);
        v.range("migration.return_base", m.return_base, 0.0, 5.0);
        for (k, val) in [
            ("migration.wage_gap_effect", m.wage_gap_effect),
            ("migration.age_effect", m.age_effect),
            ("migration.education_effect", m.education_effect),
            ("migration.market_effect", m.market_effect),
            ("migration.civic_effect", m.civic_effect),
            ("migration.ties_effect", m.ties_effect),
            ("migration.services_effect", m.services_effect),
            ("migration.return_age_effect", m.return_age_effect),
            ("migration.return_services_effect", m.return_services_effect),
            ("migration.return_order_effect", m.return_order_effect),
            ("migration.return_gap_effect", m.return_gap_effect),
            ("migration.downturn_effect", m.downturn_effect),
            ("migration.settle_effect", m.settle_effect),
        ] {
            v.range(k, val, -10.0, 10.0);
        }
        v.range("migration.min_age", m.min_age, 16.0, 100.0);
        v.range("migration.max_age", m.max_age, m.min_age, 100.0);

        let g = &self.governance;
        for (k, val) in [
            ("governance.member_share", g.member_share),
            ("governance.recruit_rate", g.recruit_rate),
            ("governance.recruit_civic", g.recruit_civic),
            ("governance.recruit_trust", g.recruit_trust),
            ("governance.administrative", g.administrative),
            ("governance.stance", g.stance),
            ("governance.autonomy", g.autonomy),
            ("governance.economic_elite_share", g.economic_elite_share),
            ("governance.clan_elite_min_share", g.clan_elite_min_share),
            ("governance.bully_power", g.bully_power),
            ("governance.bully_gain", g.bully_gain),
            ("governance.bully_decay", g.bully_decay),
            ("governance.leak_branch", g.leak_branch),
            ("governance.leak_economic", g.leak_economic),
            ("governance.leak_clan", g.leak_clan),
            ("governance.leak_bully", g.leak_bully),
            ("governance.contested_margin", g.contested_margin),
            ("governance.migrant_turnout", g.migrant_turnout),
        ] {
            v.range(k, val, 0.0, 1.0);
        }
        v.range("governance.member_age", g.member_age, 18.0, 90.0);
        v.range("governance.members_target", g.members_target, 0.1, 100.0);
        v.range("governance.retire_age", g.retire_age, 30.0, 120.0);
        v.range("governance.recruit_max_age", g.recruit_max_age, 18.0, 100.0);
        v.range("governance.adjust_rate", g.adjust_rate, 0.0, 10.0);
        g.admin_pressure.check(v, "governance.admin_pressure", 0.0, 1.0);
        v.range_int("governance.term_years", g.term_years as i64, 1, 20);
        v.range_int("governance.first_election", g.first_election as i64, 1900, 2300);
        v.range("governance.bullies_per_1000", g.bullies_per_1000, 0.0, 100.0);
        v.range("governance.clan_strength", g.clan_strength, 0.0, 10.0);
        v.range("governance.turnout_base", g.turnout_base, -1.0, 1.0);
        v.range("governance.dispute_rate", g.dispute_rate, 0.0, 12.0);
        v.range("governance.conflict_rate", g.conflict_rate, 0.0, 12.0);

        let l = &self.paths.legal;
        l.intensity.check(v, "paths.legal.intensity", 0.0, 2.0);
        v.range("paths.legal.cost", l.cost, 0.0, 1e9);
        v.range("paths.legal.mediation", l.mediation, 0.0, 100.0);
        v.range("paths.legal.listening", l.listening, 0.0, 1.0);
        v.range("paths.legal.stance_effect", l.stance_effect, 0.0, 1.0);
        v.range("paths.legal.sanctions", l.sanctions, 0.0, 1.0);
        v.range("paths.legal.capture_effect", l.capture_effect, 0.0, 1.0);
        v.range("paths.legal.bully_suppression", l.bully_suppression, 0.0, 10.0);

        let s = &self.paths.services;
        s.intensity.check(v, "paths.services.intensity", 0.0, 2.0);
        v.range("paths.services.cost", s.cost, 0.0, 1e9);
        for (k, val) in [
            ("paths.services.build_share", s.build_share),
            ("paths.services.platform", s.platform),
            ("paths.services.informal_help", s.informal_help),
            ("paths.services.need_elderly", s.need_elderly),
            ("paths.services.need_sick", s.need_sick),
            ("paths.services.help_civic_gain", s.help_civic_gain),
            ("paths.services.build_rate", s.build_rate),
            ("paths.services.depreciation", s.depreciation),
            ("paths.services.initial_quality", s.initial_quality),
        ] {
            v.range(k, val, 0.0, 1.0);
        }
        v.range("paths.services.half_saturation", s.half_saturation, 0.001, 1e6);
        v.range("paths.services.contribution", s.contribution, 0.0, 1e6);

        let c = &self.paths.culture;
        c.intensity.check(v, "paths.culture.intensity", 0.0, 2.0);
        v.range("paths.culture.cost", c.cost, 0.0, 1e9);
        for (k, val) in [
            ("paths.culture.base_attendance", c.base_attendance),
            ("paths.culture.attendance", c.attendance),
            ("paths.culture.civic_gain", c.civic_gain),
            ("paths.culture.market_pull", c.market_pull),
        ] {
            v.range(k, val, 0.0, 1.0);
        }

        let sg = &self.paths.self_government;
        sg.intensity.check(v, "paths.self_government.intensity", 0.0, 2.0);
        sg.one_shoulder_share
            .check(v, "paths.self_government.one_shoulder_share", 0.0, 1.0);
        sg.cross_serving_share
            .check(v, "paths.self_government.cross_serving_share", 0.0, 1.0);
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
        v.range("paths.self_government.cost", sg.cost, 0.0, 1e9);
        for (k, val) in [
            ("paths.self_government.supervision", sg.supervision),
            ("paths.self_government.supervision_effect", sg.supervision_effect),
            ("paths.self_government.policing_effect", sg.policing_effect),
            ("paths.self_government.autonomy_effect", sg.autonomy_effect),
            ("paths.self_government.turnout_effect", sg.turnout_effect),
        ] {
            v.range(k, val, 0.0, 1.0);
        }

        v.range_int("output.record_every", self.output.record_every as i64, 1, 1200);
    }
}
