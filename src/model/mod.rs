//! The model: state, initialisation and the monthly step.
//!
//! State lives in two places: the villager columns ([`agents::Agents`], one slot range per
//! village) and the small per-village institution tables ([`Village`]: children by age, the
//! party branch, the villagers' committee, village-level state). A step
//! ([`World::step`]) first computes the one region-wide coupling (the city labour market,
//! from last month's integer migrant count: an exact, order-free reduction), then runs the
//! processes of `docs/ODD.md` ([`Stage`]) for every village in parallel, each village on its
//! own slices and its own random streams, and finally combines the per-village statistics
//! sequentially in village order. That is why results are bitwise identical at any thread
//! count.
//!
//! A run begins with a burn-in of `run.burn_in_years` before the start year, under the start
//! year's drivers, in which the social state settles while the people are held as
//! initialised (no ageing, births, deaths or moves); nothing is recorded. So the recorded
//! years start from the model's own quasi-steady state, and their trends come from drivers.

pub mod agents;
pub mod census;
pub mod inputs;
pub mod observe;
pub mod process;
pub mod rng;

use rayon::prelude::*;

use crate::scenario::{Arrangement, Only, PolicyPath, Scenario};
use agents::{Agents, AgentsMut};
use observe::{Metrics, VillageStats};

/// Months of age at which a child becomes an adult agent (16 years).
pub const ADULT_MONTHS: usize = 16 * 12;

/// Marker for "no villager" in slot references.
pub const NONE: u32 = u32::MAX;

/// Who controls the villagers' committee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[repr(u8)]
pub enum Controller {
    /// The party branch's nominee.
    #[default]
    Branch = 0,
    /// An economic elite.
    Economic = 1,
    /// A clan elite.
    Clan = 2,
    /// A village bully.
    Bully = 3,
}

impl Controller {
    /// Snake-case name used in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Controller::Branch => "branch",
            Controller::Economic => "economic_elite",
            Controller::Clan => "clan",
            Controller::Bully => "bully",
        }
    }
}

/// The stages of a month, in order: one declaration drives the step, the random phases and
/// the profiler's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// 1. Ageing, mortality, births, children, coming of age.
    Demography,
    /// 2. `market` relaxes toward the exposure villagers live in.
    Market,
    /// 3. Social influence, noise, erosion and renewal of `civic`.
    Values,
    /// 4. Leaving, returning and settling in the city.
    Migration,
    /// 5. Disputes, order, conflicts with the township, demands (path 4.1).
    Disputes,
    /// 6. Public goods, service quality, the mutual-help platform (path 4.2).
    Services,
    /// 7. Cultural events and who attends (path 4.3).
    Culture,
    /// 8. Elections, in election months (path 4.4).
    Elections,
    /// 9. Funds, capture, formalism, meetings and autonomy.
    Allocation,
    /// 10. Trust.
    Trust,
    /// 11. Party organisation and the party-state's levers.
    Party,
    /// 12. Observation.
    Observation,
}

impl Stage {
    /// Every stage in step order.
    pub const ALL: [Stage; 12] = [
        Stage::Demography,
        Stage::Market,
        Stage::Values,
        Stage::Migration,
        Stage::Disputes,
        Stage::Services,
        Stage::Culture,
        Stage::Elections,
        Stage::Allocation,
        Stage::Trust,
        Stage::Party,
        Stage::Observation,
    ];

    /// Name with its number, as the profiler and the docs give it.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Demography => "1 demography",
            Stage::Market => "2 market exposure",
            Stage::Values => "3 value dynamics",
            Stage::Migration => "4 migration",
            Stage::Disputes => "5 disputes",
            Stage::Services => "6 public goods and services",
            Stage::Culture => "7 culture",
            Stage::Elections => "8 elections",
            Stage::Allocation => "9 allocation",
            Stage::Trust => "10 trust",
            Stage::Party => "11 party organisation",
            Stage::Observation => "12 observation",
        }
    }

    /// Position in [`Stage::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The village party branch.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Branch {
    /// Slot of the secretary, or [`NONE`].
    pub secretary: u32,
    /// Competence of the secretary in [0,1].
    pub competence: f32,
    /// Capacity in [0,1] (active resident members, their age and education, the secretary).
    pub capacity: f32,
    /// Legitimacy: slow average of residents' trust in the branch.
    pub legitimacy: f32,
    /// Administrative style in [0,1]: top-down dominance versus facilitation.
    pub administrative: f32,
    /// Stance in villager-government conflicts: probability of siding with villagers.
    pub stance: f32,
    /// The township's assessment of the branch in [0,1] (falls when it sides with villagers
    /// against the township without the law's backing).
    pub standing: f32,
    /// Months left of a first secretary sent by higher levels (0: none).
    pub first_secretary_months: u16,
}

/// The villagers' committee.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Committee {
    /// Slot of the director, or [`NONE`].
    pub director: u32,
    /// Who controls it.
    pub controller: Controller,
    /// Last election's margin was below the contested threshold.
    pub contested: bool,
    /// Share of decisions the committee really makes (slow average of realised decisions).
    pub autonomy: f32,
    /// Year of the start of the current term.
    pub term_start: i32,
    /// Structural concentration of power in [0,1] from the two-committee arrangement.
    pub concentration: f32,
    /// The two-committee arrangement at the last election.
    pub arrangement: Arrangement,
}

/// One village: institutions and village-level state.
///
/// Serializable (for run checkpoints, `src/checkpoint.rs`): every field is saved, so a field
/// added here is saved too.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Village {
    /// Village id (also its random stream id).
    pub id: u32,
    /// Slots owned in the villager columns.
    pub cap: u32,
    /// Occupied slots (registered adults).
    pub alive: u32,
    /// Resident children by month of age, 0 to 191.
    #[serde(with = "by_month")]
    pub children: Box<[u16; ADULT_MONTHS]>,
    /// Registered children living with migrant parents in the city, by month of age.
    #[serde(with = "by_month")]
    pub children_away: Box<[u16; ADULT_MONTHS]>,
    /// Number of clans at founding (slot clans follow the founding shares).
    pub clans: u8,
    /// Party branch.
    pub branch: Branch,
    /// Villagers' committee.
    pub committee: Committee,
    /// Public service quality in [0,1].
    pub service_quality: f32,
    /// Last month's share of eligible residents who contributed to public goods.
    pub cooperation: f32,
    /// Order: slow average of the share of disputes settled fairly.
    pub order: f32,
    /// Coercive power of the bully faction in [0,1].
    pub bully_power: f32,
    /// Funds allocated last month to building services, yuan.
    pub funds_for_services: f64,
    /// Funds allocated last month to resolving recorded demands, yuan.
    pub funds_for_demands: f64,
    /// Programme money delivered last month (after capture and formalism), yuan, per path in
    /// [`PolicyPath::ALL`] order: what this month's programmes can buy.
    pub delivered: [f64; 4],
    /// Formalism: slow average of the share of branch effort spent on formal tasks.
    pub formalism: f32,
    /// Turnout of the last election.
    pub turnout: f32,
    /// Share of funds leaked last month.
    pub leak: f32,
    /// Supervision: active monitors relative to a full committee, in [0,1].
    pub supervision: f32,
    /// Perceived probability that a detected leak is sanctioned (slow average of outcomes).
    pub sanction_memory: f32,
    /// Perceived probability that a reported bully is prosecuted.
    pub prosecution_memory: f32,
    /// Efficacy of meetings: slow average of the share of their decisions that stand.
    pub efficacy: f32,
    /// Last month's rates among adults aged 20-45 (parents): leaving (of residents),
    /// returning and settling (of migrants); the children move with them next month.
    pub parent_flows: [f32; 3],
    /// Statistics of the current month.
    pub stats: VillageStats,
}

/// Everything a village's processes read about the region in one step.
#[derive(Debug, Clone)]
pub struct StepCtx<'a> {
    /// The scenario.
    pub sc: &'a Scenario,
    /// Step number, 1-based, burn-in included.
    pub step: u32,
    /// Calendar year of this month (before the start year during the burn-in).
    pub year: i32,
    /// Month 1 to 12.
    pub month: u32,
    /// Fractional year at which schedules are evaluated (the start year during the burn-in).
    pub t: f64,
    /// This month belongs to the burn-in.
    pub burn_in: bool,
    /// The people are held this month (no demography, no migration): the burn-in of a census
    /// start, whose age structure is data. A stationary start runs its burn-in in full: its
    /// population is already at rest, so the burn-in finds the joint steady state.
    pub hold: bool,
    /// The step counter of personal traits ([`rng::Traits`]): it advances with ages, so it
    /// stands still while the people are held.
    pub trait_stamp: u32,
    /// Confidence bounds of the 256 trait levels: the median bound times
    /// `exp(bound_spread x z)` at the levels' normal quantiles `z` (heterogeneous bounds).
    pub bounds: [f32; 256],
    /// The attendance propensity of culture events, `logistic(y)` for the attendance
    /// predictor `y` over its range (process 7).
    pub attend: crate::numeric::LogisticTable,
    /// Region market exposure.
    pub exposure: f64,
    /// Monthly mortality probability by age in years (0 to 120), men and women.
    pub mortality: [Vec<f64>; 2],
    /// Monthly birth probability per resident woman by age in years (0 to 60).
    pub fertility: Vec<f64>,
    /// Probability that one coming of age now is a woman (from the sex ratio at their birth).
    pub female_share: f64,
    /// Education step probability for those coming of age.
    pub education: f64,
    /// Rural wage (no schooling), yuan per month.
    pub rural_wage: f64,
    /// Expected urban wage (urban wage x employment probability), yuan per month.
    pub expected_urban_wage: f64,
    /// Log expected urban-rural wage gap.
    pub wage_gap: f64,
    /// State transfers per registered adult per year, yuan.
    pub transfers: f64,
    /// Urban downturn in [0,1].
    pub downturn: f64,
    /// Township administrative pressure in [0,1].
    pub pressure: f64,
    /// Path money sent to each village this month, yuan, in [`PolicyPath::ALL`] order.
    pub money: [f64; 4],
    /// Annual settlement hazard of migrants away five years or more.
    pub settle: f64,
    /// Joint vetting strictness.
    pub vetting: f64,
    /// Extra approaches to young prospective members per 100 residents per year.
    pub recruitment_plan: f64,
    /// Probability per year of co-opting an economic elite.
    pub co_opt: f64,
    /// Probability per year that a weak branch gets a first secretary.
    pub first_secretaries: f64,
    /// Probability that a reported leak is sanctioned by the discipline commission.
    pub discipline: f64,
    /// Share of villages with a supervision committee.
    pub supervision_committees: f64,
    /// This is an election month.
    pub election: bool,
    /// This is the yearly organisation month (December).
    pub yearly: bool,
}

impl StepCtx<'_> {
    /// Path money sent this month for `p`, yuan.
    pub fn money(&self, p: PolicyPath) -> f64 {
        self.money[p.index()]
    }
}

/// The region-wide city labour market.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LabourMarket {
    /// Urban wage, yuan per month.
    pub urban_wage: f64,
    /// Rural wage, yuan per month.
    pub rural_wage: f64,
    /// Urban jobs open to the region's migrants.
    pub jobs: f64,
    /// Migrants of the region at the end of last month.
    pub migrants: u64,
    /// Employment probability `min(1, jobs / migrants)`.
    pub employment: f64,
}

/// Scratch space reused by a worker across villages (contents never carry over).
#[derive(Debug, Default)]
pub struct Scratch {
    /// Slot indices.
    pub idx: Vec<u32>,
    /// Values.
    pub val: Vec<f32>,
}

/// Mortality and fertility levels of each calendar year of a run (burn-in and run).
#[derive(Debug, Clone)]
pub struct Vitals {
    /// First year covered.
    pub first_year: i32,
    /// Per year: the Lee-Carter level `exp(k)` multiplying the 2000 age pattern.
    pub level: Vec<f64>,
    /// Per year: the replacement total fertility at that year's mortality.
    pub replacement_tfr: Vec<f64>,
}

impl Vitals {
    /// The levels of every year of a run of `sc`, burn-in included.
    pub fn for_run(sc: &Scenario) -> Vitals {
        Vitals::new(sc, sc.run.start_year - sc.run.burn_in_years as i32)
    }

    /// The levels of every year from `first_year` to the scenario's end year.
    pub fn new(sc: &Scenario, first_year: i32) -> Vitals {
        Vitals::years(sc, first_year, sc.run.end_year)
    }

    /// The levels of the years `first_year..=last_year`.
    pub fn years(sc: &Scenario, first_year: i32, last_year: i32) -> Vitals {
        let p = &sc.population;
        let (mut level, mut replacement_tfr) = (Vec::new(), Vec::new());
        for year in first_year..=last_year.max(first_year) {
            let t = year.max(sc.run.start_year) as f64 + 0.5;
            let l = inputs::mortality_level(p.life_expectancy.at(t) - p.rural_e0_gap);
            level.push(l);
            let srb = p.sex_ratio_at_birth.at(t);
            let surv = inputs::survivorship(l);
            let net: f64 = inputs::tables()
                .fertility
                .iter()
                .enumerate()
                .map(|(a, f)| f * surv.get(a).map_or(0.0, |s| s.1))
                .sum();
            replacement_tfr.push((1.0 + srb) / net.max(1e-9));
        }
        Vitals {
            first_year,
            level,
            replacement_tfr,
        }
    }

    fn at<T: Copy>(&self, v: &[T], year: i32) -> T {
        let i = (year - self.first_year).clamp(0, v.len() as i32 - 1) as usize;
        v[i]
    }

    /// The mortality level of `year`.
    pub fn level(&self, year: i32) -> f64 {
        self.at(&self.level, year)
    }

    /// The replacement total fertility of `year`.
    pub fn replacement(&self, year: i32) -> f64 {
        self.at(&self.replacement_tfr, year)
    }
}

/// The whole simulated region.
#[derive(Debug, Clone)]
pub struct World {
    /// The scenario being run.
    pub scenario: Scenario,
    /// Villager columns.
    pub agents: Agents,
    /// Villages in id order.
    pub villages: Vec<Village>,
    /// Steps done, burn-in included.
    pub step: u32,
    /// The labour market of the last step.
    pub labour: LabourMarket,
    /// Number of times the columns were repacked to make room.
    pub repacks: u32,
    /// Mortality and fertility levels by year.
    pub vitals: Vitals,
}

impl World {
    /// Build the initial region from a scenario (parallel across villages, deterministic).
    /// The burn-in has not run yet: [`World::step`] runs it first.
    pub fn new(scenario: &Scenario) -> World {
        let sc = scenario.clone();
        let vitals = Vitals::for_run(&sc);
        let sizes: Vec<u32> = (0..sc.region.villages)
            .map(|v| process::init::village_size(&sc, v))
            .collect();
        let caps: Vec<usize> = sizes.iter().map(|&n| process::init::capacity_for(n as usize)).collect();
        let mut agents = Agents::with_len(caps.iter().sum());
        let mut villages: Vec<Village> = Vec::with_capacity(sizes.len());
        {
            let views = agents.split_mut(&caps);
            let start = vitals.level(sc.run.start_year);
            let built: Vec<Village> = views
                .into_par_iter()
                .enumerate()
                .map(|(v, mut a)| process::init::village(&sc, v as u32, sizes[v] as usize, start, &mut a))
                .collect();
            villages.extend(built);
        }
        let mut w = World {
            scenario: sc,
            agents,
            villages,
            step: 0,
            labour: LabourMarket::default(),
            repacks: 0,
            vitals,
        };
        let migrants: u64 = w.villages.iter().map(|v| v.stats.migrants as u64).sum();
        w.labour.migrants = migrants;
        w
    }

    /// Registered adults of the region.
    pub fn registered(&self) -> u64 {
        self.villages.iter().map(|v| v.alive as u64).sum()
    }

    /// Total slots (registered adults plus vacant room).
    pub fn slots(&self) -> usize {
        self.agents.len()
    }

    /// Bytes of state per registered adult: villager columns (with vacant room) plus
    /// village tables, divided by registered adults. The network is procedural (0 bytes).
    pub fn bytes_per_villager(&self) -> f64 {
        let cols = self.agents.len() * Agents::BYTES_PER_SLOT;
        let tables = self.villages.len() * (std::mem::size_of::<Village>() + 4 * ADULT_MONTHS);
        (cols + tables) as f64 / self.registered().max(1) as f64
    }

    /// Months of burn-in before the first recorded month.
    pub fn burn_in_steps(&self) -> u32 {
        burn_in_steps(&self.scenario)
    }

    /// Calendar year and month (1-12) of step `s` (1-based, burn-in included).
    pub fn date(&self, s: u32) -> (i32, u32) {
        date(&self.scenario, s)
    }

    /// The step context: every schedule evaluated for step `step`.
    pub fn ctx<'a>(sc: &'a Scenario, vitals: &Vitals, labour: &LabourMarket, step: u32) -> StepCtx<'a> {
        let (year, month) = date(sc, step);
        let burn_in = step <= burn_in_steps(sc);
        let t = schedule_time(sc, step);
        let p = &sc.population;
        let calendar = if burn_in { sc.run.start_year } else { year };
        let level = vitals.level(calendar);
        let t_ = inputs::tables();
        let mortality = [
            t_.mortality
                .iter()
                .map(|r| 1.0 - (-(r.0 * level) / 12.0).exp())
                .collect(),
            t_.mortality
                .iter()
                .map(|r| 1.0 - (-(r.1 * level) / 12.0).exp())
                .collect(),
        ];
        let tfr = if p.replacement_fertility {
            vitals.replacement(calendar)
        } else {
            p.tfr.at(t)
        };
        let fertility = t_.fertility.iter().map(|f| (tfr * f / 12.0).min(1.0)).collect();
        let srb = p.sex_ratio_at_birth.at(t - 16.0);
        let e = &sc.economy;
        let urban_wage = e.urban_wage.at(t);
        let rural_wage = e.rural_wage.at(t);
        let expected = urban_wage * labour.employment;
        let g = &sc.governance;
        let ps = &sc.party_state;
        let election = month == 3 && (year - g.first_election).rem_euclid(g.term_years.max(1) as i32) == 0;
        let money = PolicyPath::ALL.map(|k| sc.paths.intensity(k).at(t) * sc.paths.cost(k) / 12.0);
        let q = rng::normal_quantiles();
        let v = &sc.values;
        let bounds = std::array::from_fn(|k| (v.confidence_bound * (v.bound_spread * q[k]).exp()) as f32);
        let attend = {
            let (lo, hi) = process::culture::predictor_range(&sc.paths.culture);
            crate::numeric::LogisticTable::new(lo, hi)
        };
        StepCtx {
            sc,
            step,
            year,
            month,
            t,
            burn_in,
            hold: burn_in && p.initial == crate::scenario::Start::Census,
            trait_stamp: if burn_in && p.initial == crate::scenario::Start::Census {
                burn_in_steps(sc)
            } else {
                step
            },
            bounds,
            attend,
            exposure: sc.region.market_exposure.at(t),
            mortality,
            fertility,
            female_share: 1.0 / (1.0 + srb),
            education: p.education.at(t),
            rural_wage,
            expected_urban_wage: expected,
            wage_gap: (expected.max(1.0) / rural_wage.max(1.0)).ln(),
            transfers: e.transfers.at(t),
            downturn: e.downturn.at(t),
            pressure: g.admin_pressure.at(t),
            money,
            settle: sc.migration.settle_rate.at(t),
            vetting: ps.vetting.at(t),
            recruitment_plan: ps.recruitment_plan.at(t),
            co_opt: ps.co_opt.at(t),
            first_secretaries: ps.first_secretaries.at(t),
            discipline: ps.discipline.at(t),
            supervision_committees: ps.supervision_committees.at(t),
            election,
            yearly: month == 12,
        }
    }

    /// Update the city labour market from last month's migrant count (fixed-order reduction).
    fn update_labour(&mut self, step: u32) {
        let sc = &self.scenario;
        let t = schedule_time(sc, step);
        let e = &sc.economy;
        let migrants: u64 = self.villages.iter().map(|v| v.stats.migrants as u64).sum();
        let registered = self.registered();
        let jobs = e.urban_jobs.at(t) * registered as f64;
        let employment = if migrants == 0 {
            1.0
        } else {
            (jobs / migrants as f64).min(1.0)
        };
        self.labour = LabourMarket {
            urban_wage: e.urban_wage.at(t),
            rural_wage: e.rural_wage.at(t),
            jobs,
            migrants,
            employment,
        };
    }

    /// Make sure every village has a vacant slot for each child coming of age this month.
    fn ensure_room(&mut self) {
        let coming = |v: &Village, k: usize| -> u32 {
            v.children[ADULT_MONTHS - k..].iter().map(|&c| c as u32).sum::<u32>()
                + v.children_away[ADULT_MONTHS - k..]
                    .iter()
                    .map(|&c| c as u32)
                    .sum::<u32>()
        };
        let short = self.villages.iter().any(|v| v.cap - v.alive < coming(v, 1));
        if !short {
            return;
        }
        let old: Vec<usize> = self.villages.iter().map(|v| v.cap as usize).collect();
        let new: Vec<usize> = self
            .villages
            .iter()
            .map(|v| {
                if v.cap - v.alive < coming(v, 1) {
                    process::init::capacity_for((v.alive + coming(v, 24)) as usize).max(v.cap as usize)
                } else {
                    v.cap as usize
                }
            })
            .collect();
        self.agents.repack(&old, &new);
        let seed = self.scenario.run.seed;
        let step = self.step + 1;
        let views = self.agents.split_mut(&new);
        self.villages
            .par_iter_mut()
            .zip(views)
            .enumerate()
            .for_each(|(i, (v, mut a))| {
                process::init::fill_new_slots(seed, step, v, &mut a, old[i]);
                v.cap = new[i] as u32;
            });
        self.repacks += 1;
    }

    /// Run the burn-in if it has not run yet (the first [`World::step`] does this itself).
    pub fn burn_in(&mut self) {
        while self.burn_in_month() {}
    }

    /// Advance one month of the burn-in, if any is left; false when the burn-in is over.
    pub fn burn_in_month(&mut self) -> bool {
        if self.step >= self.burn_in_steps() {
            return false;
        }
        self.step_with(None);
        true
    }

    /// Advance one recorded month (after the burn-in, run first if needed) and return the
    /// region metrics of that month.
    pub fn step(&mut self) -> Metrics {
        self.burn_in();
        self.step_with(None)
    }

    /// Advance one month on the calling thread alone, adding the seconds each stage took to
    /// `profile` (in-code timers; `ruralgov bench --profile`). The results are the same as
    /// those of [`World::step`].
    pub fn step_profiled(&mut self, profile: &mut Profile) -> Metrics {
        self.burn_in();
        self.step_with(Some(profile))
    }

    fn step_with(&mut self, profile: Option<&mut Profile>) -> Metrics {
        let step = self.step + 1;
        self.update_labour(step);
        self.ensure_room();
        let caps: Vec<usize> = self.villages.iter().map(|v| v.cap as usize).collect();
        let ctx = World::ctx(&self.scenario, &self.vitals, &self.labour, step);
        {
            let views = self.agents.split_mut(&caps);
            match profile {
                None => self
                    .villages
                    .par_iter_mut()
                    .zip(views)
                    .for_each_init(Scratch::default, |scratch, (v, mut a)| {
                        step_village_timed(&ctx, v, &mut a, scratch, None)
                    }),
                Some(p) => {
                    let mut scratch = Scratch::default();
                    for (v, mut a) in self.villages.iter_mut().zip(views) {
                        step_village_timed(&ctx, v, &mut a, &mut scratch, Some(p));
                    }
                }
            }
        }
        self.step = step;
        let (year, month) = self.date(step);
        let recorded = step.saturating_sub(self.burn_in_steps());
        observe::combine(recorded, year, month, &self.villages, &self.labour, &ctx)
    }
}

/// Serde for a village's children by month of age (serde derives arrays only up to 32).
mod by_month {
    use super::ADULT_MONTHS;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(v: &[u16; ADULT_MONTHS], s: S) -> Result<S::Ok, S::Error> {
        v[..].serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Box<[u16; ADULT_MONTHS]>, D::Error> {
        let v: Vec<u16> = Vec::deserialize(d)?;
        let n = v.len();
        v.into_boxed_slice()
            .try_into()
            .map_err(|_| serde::de::Error::invalid_length(n, &"192 months of age"))
    }
}

/// Seconds spent in each stage, in [`Stage::ALL`] order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// Seconds per stage.
    pub seconds: [f64; 12],
}

/// Months of burn-in of a scenario.
pub fn burn_in_steps(sc: &Scenario) -> u32 {
    sc.run.burn_in_years * 12
}

/// The (fractional) year at which step `step` evaluates every schedule: `year + (month - 1) /
/// 12`, and the start year throughout the burn-in (schedules are frozen there).
pub fn schedule_time(sc: &Scenario, step: u32) -> f64 {
    if step <= burn_in_steps(sc) {
        sc.run.start_year as f64
    } else {
        let (year, month) = date(sc, step);
        year as f64 + (month - 1) as f64 / 12.0
    }
}

/// Calendar year and month (1-12) of step `s` (1-based, burn-in included: the first recorded
/// step, `burn_in_steps + 1`, is January of the start year).
pub fn date(sc: &Scenario, s: u32) -> (i32, u32) {
    let m = s.saturating_sub(1) as i64 - burn_in_steps(sc) as i64;
    (sc.run.start_year + m.div_euclid(12) as i32, m.rem_euclid(12) as u32 + 1)
}

/// Run the stages of one month for one village, in the documented order.
pub fn step_village(ctx: &StepCtx, v: &mut Village, a: &mut AgentsMut, scratch: &mut Scratch) {
    step_village_timed(ctx, v, a, scratch, None)
}

fn step_village_timed(
    ctx: &StepCtx,
    v: &mut Village,
    a: &mut AgentsMut,
    scratch: &mut Scratch,
    mut profile: Option<&mut Profile>,
) {
    // Run stage `s`, timing it when profiling.
    macro_rules! timed {
        ($s:expr, $e:expr) => {
            match profile.as_deref_mut() {
                None => $e,
                Some(p) => {
                    let t = std::time::Instant::now();
                    $e;
                    p.seconds[$s.index()] += t.elapsed().as_secs_f64();
                }
            }
        };
    }
    v.stats = VillageStats::start_of_month(v);
    match ctx.sc.run.only {
        Only::All => {
            if ctx.hold {
                process::demography::start_month(a);
            } else {
                timed!(Stage::Demography, process::demography::run(ctx, v, a));
            }
            timed!(Stage::Market, process::market::run(ctx, v, a));
            timed!(Stage::Values, process::values::run(ctx, v, a));
            if !ctx.hold {
                timed!(Stage::Migration, process::migration::run(ctx, v, a));
            }
            timed!(Stage::Disputes, process::disputes::run(ctx, v, a));
            timed!(Stage::Services, process::services::run(ctx, v, a));
            timed!(Stage::Culture, process::culture::run(ctx, v, a, scratch));
            if ctx.election {
                timed!(Stage::Elections, process::elections::run(ctx, v, a));
            }
            timed!(Stage::Allocation, process::allocation::run(ctx, v, a));
            timed!(Stage::Trust, process::trust::run(ctx, v, a));
            // Stage 11 but its last step, capacity and legitimacy, which are set below from
            // observation's counts: the same result (see `party::organise`).
            timed!(Stage::Party, process::party::organise(ctx, v, a, scratch));
        }
        // One submodel alone, for checks against the literature (docs/validation.md).
        Only::Values => process::values::run(ctx, v, a),
        Only::PublicGoods => {
            process::demography::start_month(a);
            process::services::run(ctx, v, a);
        }
        Only::Migration => {
            if !ctx.hold {
                process::migration::run(ctx, v, a)
            }
        }
    }
    let counts;
    timed!(Stage::Observation, counts = observe::observe(ctx, v, a));
    if matches!(ctx.sc.run.only, Only::All) {
        timed!(Stage::Party, process::party::set_capacity(ctx.sc, v, &counts));
    }
    #[cfg(debug_assertions)]
    observe::check_invariants(v, a);
}

/// The two-committee arrangement of village `village` in (fractional) year `t`.
///
/// With shares given, each village has a fixed rank `u` in [0,1) (a hash of the seed and the
/// village, drawing nothing from the random streams): it is "one shoulder" while
/// `u < one_shoulder_share(t)`, cross-serving while `u < one_shoulder_share(t) +
/// cross_serving_share(t)`, and separate otherwise; so a rising share converts villages one
/// by one and never back and forth.
pub fn village_arrangement(sc: &Scenario, village: u32, t: f64) -> Arrangement {
    let ps = &sc.party_state;
    let (os, cs) = (ps.one_shoulder_share.at(t), ps.cross_serving_share.at(t));
    if os <= 0.0 && cs <= 0.0 {
        return sc.paths.self_government.arrangement;
    }
    let u = (rng::mix(sc.run.seed ^ rng::mix(0xA55A_0000 ^ village as u64)) >> 11) as f64 / (1u64 << 53) as f64;
    if u < os {
        Arrangement::OneShoulder
    } else if u < os + cs {
        Arrangement::CrossServing
    } else {
        Arrangement::Separate
    }
}

/// Arrangement's structural concentration when the branch nominee holds the committee.
pub fn arrangement_concentration(arr: Arrangement, branch_won: bool) -> f32 {
    match (arr, branch_won) {
        (Arrangement::OneShoulder, true) => 1.0,
        (Arrangement::CrossServing, true) => 0.5,
        (Arrangement::Separate, true) => 0.2,
        (_, false) => 0.3,
    }
}

/// Whether a village has a supervision committee in year `t` (a fixed rank per village,
/// like [`village_arrangement`]).
pub fn has_supervision_committee(sc: &Scenario, village: u32, share: f64) -> bool {
    let u = (rng::mix(sc.run.seed ^ rng::mix(0x5C0E_0000 ^ village as u64)) >> 11) as f64 / (1u64 << 53) as f64;
    u < share
}
