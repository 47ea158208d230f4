//! The model: state, initialisation and the monthly step.
//!
//! State lives in two places: the villager columns ([`agents::Agents`], one slot range per
//! village) and the small per-village institution tables ([`Village`]: children by age, the
//! party branch, the villagers' committee, village-level state). A step
//! ([`World::step`]) first computes the one region-wide coupling (the city labour market,
//! from last month's integer migrant count: an exact, order-free reduction), then runs the
//! twelve processes of `docs/ODD.md` for every village in parallel, each village on its own
//! slices and its own random streams, and finally combines the per-village statistics
//! sequentially in village order. That is why results are bitwise identical at any thread
//! count.

pub mod agents;
pub mod census;
pub mod observe;
pub mod process;
pub mod rng;

use rayon::prelude::*;

use crate::scenario::{Arrangement, Only, Scenario};
use agents::{Agents, AgentsMut};
use observe::{Metrics, VillageStats};

/// Months of age at which a child becomes an adult agent (16 years).
pub const ADULT_MONTHS: usize = 16 * 12;

/// Marker for "no villager" in slot references.
pub const NONE: u32 = u32::MAX;

/// Who controls the villagers' committee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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

/// The village party branch.
#[derive(Debug, Clone, Default)]
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
    /// Stance in villager-government conflicts: 0 sides with the government, 1 with villagers.
    pub stance: f32,
}

/// The villagers' committee.
#[derive(Debug, Clone, Default)]
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
#[derive(Debug, Clone)]
pub struct Village {
    /// Village id (also its random stream id).
    pub id: u32,
    /// Slots owned in the villager columns.
    pub cap: u32,
    /// Occupied slots (registered adults).
    pub alive: u32,
    /// Children by month of age, 0 to 191.
    pub children: Box<[u16; ADULT_MONTHS]>,
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
    /// Formalism: slow average of the share of branch effort spent on formal tasks.
    pub formalism: f32,
    /// Turnout of the last election.
    pub turnout: f32,
    /// Share of funds leaked last month.
    pub leak: f32,
    /// Supervision strength this month.
    pub supervision: f32,
    /// Statistics of the current month.
    pub stats: VillageStats,
}

/// Everything a village's processes read about the region in one step.
#[derive(Debug, Clone)]
pub struct StepCtx<'a> {
    /// The scenario.
    pub sc: &'a Scenario,
    /// Step number, 1-based.
    pub step: u32,
    /// Calendar year of this month.
    pub year: i32,
    /// Month 1 to 12.
    pub month: u32,
    /// Fractional year used to evaluate schedules.
    pub t: f64,
    /// Region market exposure.
    pub exposure: f64,
    /// Monthly mortality probability by age in years (0 to 120).
    pub mortality: Vec<f64>,
    /// Monthly birth probability per woman by age in years (0 to 60).
    pub fertility: Vec<f64>,
    /// Monthly child mortality probability.
    pub child_mortality: f64,
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
    /// Path intensities: legal, services, culture, self-government.
    pub legal: f64,
    /// Services intensity.
    pub services: f64,
    /// Culture intensity.
    pub culture: f64,
    /// Self-government intensity.
    pub self_gov: f64,
    /// Supervision strength in [0,1].
    pub supervision: f64,
    /// This is an election month.
    pub election: bool,
    /// This is the yearly organisation month (December).
    pub yearly: bool,
}

/// The region-wide city labour market.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
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

/// The whole simulated region.
#[derive(Debug, Clone)]
pub struct World {
    /// The scenario being run.
    pub scenario: Scenario,
    /// Villager columns.
    pub agents: Agents,
    /// Villages in id order.
    pub villages: Vec<Village>,
    /// Steps done.
    pub step: u32,
    /// The labour market of the last step.
    pub labour: LabourMarket,
    /// Number of times the columns were repacked to make room.
    pub repacks: u32,
}

impl World {
    /// Build the initial region from a scenario (parallel across villages, deterministic).
    pub fn new(scenario: &Scenario) -> World {
        let sc = scenario.clone();
        let sizes: Vec<u32> = (0..sc.region.villages)
            .map(|v| process::init::village_size(&sc, v))
            .collect();
        let caps: Vec<usize> = sizes.iter().map(|&n| process::init::capacity_for(n as usize)).collect();
        let mut agents = Agents::with_len(caps.iter().sum());
        let mut villages: Vec<Village> = Vec::with_capacity(sizes.len());
        {
            let views = agents.split_mut(&caps);
            let built: Vec<Village> = views
                .into_par_iter()
                .enumerate()
                .map(|(v, mut a)| process::init::village(&sc, v as u32, sizes[v] as usize, &mut a))
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
        let tables = self.villages.len() * (std::mem::size_of::<Village>() + 2 * ADULT_MONTHS);
        (cols + tables) as f64 / self.registered().max(1) as f64
    }

    /// Calendar year and month (1-12) of step `s` (1-based).
    pub fn date(&self, s: u32) -> (i32, u32) {
        date(&self.scenario, s)
    }

    /// The step context: every schedule evaluated for step `step`.
    pub fn ctx<'a>(sc: &'a Scenario, labour: &LabourMarket, step: u32) -> StepCtx<'a> {
        let (year, month) = date(sc, step);
        let t = year as f64 + (month - 1) as f64 / 12.0;
        let p = &sc.population;
        let years_since = (t - sc.run.start_year as f64).max(0.0);
        let decline = (1.0 - p.mortality_decline).powf(years_since);
        let mortality = (0..=120)
            .map(|a| rng::monthly((p.makeham + p.gompertz_b * (p.gompertz_c * a as f64).exp()) * decline))
            .collect();
        let tfr = p.tfr.at(t);
        let fertility = (0..=60)
            .map(|a| {
                let z = (a as f64 + 0.5 - p.fertility_mean_age) / p.fertility_sd;
                let dens = (-0.5 * z * z).exp() / (p.fertility_sd * (2.0 * std::f64::consts::PI).sqrt());
                // Births are counted as children of both sexes; the schedule is per woman.
                (tfr * dens / 12.0).min(1.0)
            })
            .collect();
        let e = &sc.economy;
        let urban_wage = e.urban_wage.at(t);
        let rural_wage = e.rural_wage.at(t);
        let expected = urban_wage * labour.employment;
        let g = &sc.governance;
        let sgp = &sc.paths.self_government;
        let self_gov = sgp.intensity.at(t);
        let election =
            month == 3 && year >= g.first_election && (year - g.first_election) % g.term_years.max(1) as i32 == 0;
        StepCtx {
            sc,
            step,
            year,
            month,
            t,
            exposure: sc.region.market_exposure.at(t),
            mortality,
            fertility,
            child_mortality: rng::monthly(p.child_mortality),
            education: p.education.at(t),
            rural_wage,
            expected_urban_wage: expected,
            wage_gap: (expected.max(1.0) / rural_wage.max(1.0)).ln(),
            transfers: e.transfers.at(t),
            downturn: e.downturn.at(t),
            pressure: g.admin_pressure.at(t),
            legal: sc.paths.legal.intensity.at(t),
            services: sc.paths.services.intensity.at(t),
            culture: sc.paths.culture.intensity.at(t),
            self_gov,
            supervision: (sgp.supervision + sgp.supervision_effect * self_gov).clamp(0.0, 1.0),
            election,
            yearly: month == 12,
        }
    }

    /// Update the city labour market from last month's migrant count (fixed-order reduction).
    fn update_labour(&mut self, step: u32) {
        let (year, month) = self.date(step);
        let t = year as f64 + (month - 1) as f64 / 12.0;
        let e = &self.scenario.economy;
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
        let short = self.villages.iter().any(|v| {
            let need = v.children[ADULT_MONTHS - 1] as u32;
            v.cap - v.alive < need
        });
        if !short {
            return;
        }
        let old: Vec<usize> = self.villages.iter().map(|v| v.cap as usize).collect();
        let new: Vec<usize> = self
            .villages
            .iter()
            .map(|v| {
                let coming: u32 = v.children[ADULT_MONTHS - 24..].iter().map(|&c| c as u32).sum();
                if v.cap - v.alive < v.children[ADULT_MONTHS - 1] as u32 {
                    process::init::capacity_for((v.alive + coming) as usize).max(v.cap as usize)
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

    /// Advance one month and return the region metrics of that month.
    pub fn step(&mut self) -> Metrics {
        self.step_with(None)
    }

    /// Advance one month on the calling thread alone, adding the seconds each process took
    /// to `profile` (in-code timers; `ruralgov bench --profile`). The results are the same as
    /// those of [`World::step`].
    pub fn step_profiled(&mut self, profile: &mut Profile) -> Metrics {
        self.step_with(Some(profile))
    }

    fn step_with(&mut self, profile: Option<&mut Profile>) -> Metrics {
        let step = self.step + 1;
        self.update_labour(step);
        self.ensure_room();
        let caps: Vec<usize> = self.villages.iter().map(|v| v.cap as usize).collect();
        let ctx = World::ctx(&self.scenario, &self.labour, step);
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
        observe::combine(step, year, month, &self.villages, &self.labour)
    }
}

/// Seconds spent in each process, in the order of [`Profile::NAMES`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profile {
    /// Seconds per process.
    pub seconds: [f64; 12],
}

impl Profile {
    /// Process names, in step order.
    pub const NAMES: [&'static str; 12] = [
        "1 demography",
        "2 market exposure",
        "3 value dynamics",
        "4 migration",
        "5 disputes",
        "6 public goods and services",
        "7 culture",
        "8 elections",
        "9 allocation",
        "10 trust",
        "11 party organisation",
        "12 observation",
    ];
}

/// Calendar year and month (1-12) of step `s` (1-based).
pub fn date(sc: &Scenario, s: u32) -> (i32, u32) {
    let m = s.saturating_sub(1);
    (sc.run.start_year + (m / 12) as i32, m % 12 + 1)
}

/// Run the processes of one month for one village, in the documented order.
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
    // Run process `k` (0-based), timing it when profiling.
    macro_rules! timed {
        ($k:expr, $e:expr) => {
            match profile.as_deref_mut() {
                None => $e,
                Some(p) => {
                    let t = std::time::Instant::now();
                    $e;
                    p.seconds[$k] += t.elapsed().as_secs_f64();
                }
            }
        };
    }
    v.stats = VillageStats::start_of_month(v);
    match ctx.sc.run.only {
        Only::All => {
            timed!(0, process::demography::run(ctx, v, a));
            timed!(1, process::market::run(ctx, v, a));
            timed!(2, process::values::run(ctx, v, a));
            timed!(3, process::migration::run(ctx, v, a));
            timed!(4, process::disputes::run(ctx, v, a));
            timed!(5, process::services::run(ctx, v, a));
            timed!(6, process::culture::run(ctx, v, a, scratch));
            if ctx.election {
                timed!(7, process::elections::run(ctx, v, a));
            }
            timed!(8, process::allocation::run(ctx, v, a));
            timed!(9, process::trust::run(ctx, v, a));
            // Process 11 but its last step, capacity and legitimacy, which are set below from
            // observation's counts: the same result (see `party::organise`).
            timed!(10, process::party::organise(ctx, v, a, scratch));
        }
        // One submodel alone, for checks against the literature (docs/validation.md).
        Only::Values => process::values::run(ctx, v, a),
        Only::PublicGoods => {
            process::demography::start_month(a);
            process::services::run(ctx, v, a);
        }
        Only::Migration => process::migration::run(ctx, v, a),
    }
    let counts;
    timed!(11, counts = observe::observe(ctx, v, a));
    if matches!(ctx.sc.run.only, Only::All) {
        timed!(10, process::party::set_capacity(ctx.sc, v, &counts));
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
    let sg = &sc.paths.self_government;
    let (os, cs) = (sg.one_shoulder_share.at(t), sg.cross_serving_share.at(t));
    if os <= 0.0 && cs <= 0.0 {
        return sg.arrangement;
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
