//! Running a scenario: the step loop, recording, and per-village yearly rows.

use std::ops::ControlFlow;
use std::time::Instant;

use crate::error::{Error, Result};
use crate::model::census::{self, HistogramRow, PyramidRow};
use crate::model::observe::{governance_index, power_concentration, Metrics};
use crate::model::{Village, World};
use crate::scenario::Scenario;

/// One row of `villages.csv`: a village at the end of a year.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct VillageRow {
    /// Step at which the row was taken (December).
    pub step: u32,
    /// Year that just ended.
    pub year: i32,
    /// Village id.
    pub village: u32,
    /// Registered adults.
    pub registered: u32,
    /// Residents.
    pub residents: u32,
    /// Migrants.
    pub migrants: u32,
    /// Children under 16.
    pub children: u32,
    /// Share of residents aged 60+.
    pub share_60_plus: f64,
    /// Active party members.
    pub party_active: u32,
    /// Branch capacity.
    pub branch_capacity: f64,
    /// Mean `market` of residents.
    pub market_mean: f64,
    /// Mean `civic` of residents.
    pub civic_mean: f64,
    /// Mean trust in the branch.
    pub trust_branch: f64,
    /// Mean trust in the government.
    pub trust_government: f64,
    /// Who controls the committee ([`Controller::name`]).
    pub controller: std::borrow::Cow<'static, str>,
    /// Last election contested.
    pub contested: bool,
    /// Turnout at the last election.
    pub turnout: f64,
    /// Committee autonomy.
    pub committee_autonomy: f64,
    /// Share of December's funds leaked.
    pub elite_capture: f64,
    /// Bully power.
    pub bully_power: f64,
    /// Order.
    pub order: f64,
    /// Service quality.
    pub service_quality: f64,
    /// Formalism.
    pub formalism: f64,
    /// Power concentration.
    pub power_concentration: f64,
    /// Effective governance index of the village.
    pub governance_index: f64,
}

impl VillageRow {
    /// Build the row of village `v` after step `step`.
    pub fn of(step: u32, year: i32, v: &Village) -> VillageRow {
        let s = &v.stats;
        let res = s.residents.max(1) as f64;
        let capture = if s.funds > 0.0 { s.leaked / s.funds } else { 0.0 };
        let trust_branch = s.trust_branch_sum / res;
        let conc = power_concentration(v, v.supervision as f64);
        VillageRow {
            step,
            year,
            village: v.id,
            registered: s.registered,
            residents: s.residents,
            migrants: s.migrants,
            children: s.children,
            share_60_plus: s.residents_60 as f64 / res,
            party_active: s.party_active,
            branch_capacity: v.branch.capacity as f64,
            market_mean: s.market_sum / res,
            civic_mean: s.civic_sum / res,
            trust_branch,
            trust_government: s.trust_gov_sum / res,
            controller: v.committee.controller.name().into(),
            contested: v.committee.contested,
            turnout: v.turnout as f64,
            committee_autonomy: v.committee.autonomy as f64,
            elite_capture: capture,
            bully_power: v.bully_power as f64,
            order: v.order as f64,
            service_quality: v.service_quality as f64,
            formalism: v.formalism as f64,
            power_concentration: conc,
            governance_index: governance_index(
                v.branch.capacity as f64,
                trust_branch,
                v.service_quality as f64,
                v.order as f64,
                capture,
                v.committee.autonomy as f64,
                v.turnout as f64,
                v.bully_power as f64,
            ),
        }
    }
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Recorded region metrics.
    pub metrics: Vec<Metrics>,
    /// Yearly village rows (when the scenario asks for them).
    pub villages: Vec<VillageRow>,
    /// Age pyramid at the start and at the end.
    pub pyramid: Vec<PyramidRow>,
    /// Histograms of `market` and `civic` at the start and every December.
    pub distributions: Vec<HistogramRow>,
    /// Registered adults at the start.
    pub initial_registered: u64,
    /// Bytes of model state per registered adult at the start.
    pub bytes_per_villager: f64,
    /// Slots in the villager columns at the end.
    pub slots: usize,
    /// Times the villager columns were repacked.
    pub repacks: u32,
    /// Wall time of initialisation and stepping, seconds.
    pub wall_seconds: f64,
}

/// Estimated peak memory of running `sc`, in bytes: the villager columns with their room
/// (`Agents::BYTES_PER_SLOT` per slot, and one more column while repacking), the village
/// tables, the recorded metrics and, when asked for, the yearly village rows.
pub fn estimate_bytes(sc: &Scenario) -> u64 {
    let villages = sc.region.villages as u64;
    let adults = sc.population.adults_per_village as u64;
    // Village sizes are lognormal around the mean; capacity adds 10% room and 16 slots.
    let slots = villages * (adults + adults / 10 + 16);
    let columns = slots * crate::model::agents::Agents::BYTES_PER_SLOT as u64;
    let tables = villages * (std::mem::size_of::<Village>() as u64 + 2 * crate::model::ADULT_MONTHS as u64);
    let steps = sc.steps() as u64;
    let metrics = (steps / sc.output.record_every.max(1) as u64 + 1) * std::mem::size_of::<Metrics>() as u64;
    let years = steps / 12;
    let rows = if sc.output.villages {
        villages * years * std::mem::size_of::<VillageRow>() as u64
    } else {
        0
    };
    // A repack holds one extra column of the widest type (8 bytes a slot) beside the table.
    columns + slots * 8 + tables + metrics + rows
}

/// Refuse a scenario whose estimated memory exceeds the machine (see [`crate::limits`]).
pub fn check_memory(sc: &Scenario, allow: bool) -> Result<()> {
    crate::limits::memory(
        &format!(
            "scenario \"{}\" ({} villages of about {} registered adults)",
            sc.name, sc.region.villages, sc.population.adults_per_village
        ),
        estimate_bytes(sc),
        allow,
    )
}

/// A pool of `threads` worker threads (1 to [`crate::limits::MAX_THREADS`]).
pub fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    let threads = crate::limits::threads("--threads", threads)?;
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::option("--threads", threads, format!("cannot start the worker threads: {e}")))
}

/// Run a scenario with `threads` worker threads, calling `progress(done, total)` after each
/// month. Results do not depend on `threads`.
pub fn run(sc: &Scenario, threads: usize, progress: impl FnMut(u32, u32)) -> Result<RunOutput> {
    run_on(&pool(threads)?, sc, progress)
}

/// Run a scenario on an existing pool (a sweep reuses one pool per worker for all its runs).
/// Results do not depend on the pool's size.
pub fn run_on(pool: &rayon::ThreadPool, sc: &Scenario, mut progress: impl FnMut(u32, u32)) -> Result<RunOutput> {
    run_until(pool, sc, |done, total| {
        progress(done, total);
        ControlFlow::Continue(())
    })
}

/// Run a scenario on an existing pool, calling `progress(done, total)` after each month; a
/// `Break` from it stops the run with [`Error::Interrupted`] (the Python package stops this
/// way on Ctrl-C). Results do not depend on the pool's size.
pub fn run_until(
    pool: &rayon::ThreadPool,
    sc: &Scenario,
    progress: impl FnMut(u32, u32) -> ControlFlow<()>,
) -> Result<RunOutput> {
    Run::start(pool, sc)?.complete(pool, progress, |_| Ok(()))
}

/// What a run has recorded so far: the rows of its output tables and the figures of its
/// manifest. Saved whole in a checkpoint (`crate::checkpoint`), every field included.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Recorded {
    /// Recorded region metrics.
    pub metrics: Vec<Metrics>,
    /// Yearly village rows (when the scenario asks for them).
    pub villages: Vec<VillageRow>,
    /// Age pyramid at the start (and, once finished, at the end).
    pub pyramid: Vec<PyramidRow>,
    /// Histograms of `market` and `civic` at the start and every December.
    pub distributions: Vec<HistogramRow>,
    /// Registered adults at the start (after the burn-in).
    pub initial_registered: u64,
    /// Bytes of model state per registered adult at the start.
    pub bytes_per_villager: f64,
    /// Wall time spent on this run by earlier processes (a resumed run), seconds.
    pub wall_seconds: f64,
}

/// A run in progress: the world and what it has recorded, advanced one month at a time.
///
/// [`run_until`] is `Run::start` then [`Run::complete`]; a run with checkpoints saves a `Run`
/// at year ends and a resumed run continues one read back (`crate::checkpoint`). The burn-in
/// runs month by month too, so it can be checkpointed like any other year.
#[derive(Debug, Clone)]
pub struct Run {
    /// The simulated region (its `step` counts every month done, burn-in included).
    pub world: World,
    /// What has been recorded so far.
    pub recorded: Recorded,
    /// When this process took the run up (for the wall time).
    started: Instant,
}

impl Run {
    /// Initialise the world of `sc` on `pool` (no month simulated yet).
    pub fn start(pool: &rayon::ThreadPool, sc: &Scenario) -> Result<Run> {
        crate::scenario::check_seed(sc.run.seed)?;
        let started = Instant::now();
        let world = pool.install(|| World::new(sc));
        Ok(Run::resume(world, Recorded::default(), started))
    }

    /// Take up a run from its world and records (read back from a checkpoint).
    pub fn resume(world: World, recorded: Recorded, started: Instant) -> Run {
        let mut run = Run {
            world,
            recorded,
            started,
        };
        if run.world.step == run.world.burn_in_steps() && run.recorded.pyramid.is_empty() {
            run.record_start();
        }
        run
    }

    /// Months of the whole run, burn-in included.
    pub fn total_months(&self) -> u32 {
        self.world.burn_in_steps() + self.world.scenario.steps()
    }

    /// Whether every month has been simulated.
    pub fn is_finished(&self) -> bool {
        self.world.step >= self.total_months()
    }

    /// Wall time spent on this run so far, earlier processes included, seconds.
    pub fn wall_seconds(&self) -> f64 {
        self.recorded.wall_seconds + self.started.elapsed().as_secs_f64()
    }

    /// The census of the first recorded month, taken when the burn-in is over.
    fn record_start(&mut self) {
        let w = &self.world;
        let r = &mut self.recorded;
        let start_year = w.scenario.run.start_year;
        r.initial_registered = w.registered();
        r.bytes_per_villager = w.bytes_per_villager();
        r.pyramid = census::pyramid(&w.agents, "start", start_year);
        r.distributions = census::histograms(&w.agents, start_year - 1);
    }

    /// Simulate the next month (of the burn-in or recorded) and record what it asks for.
    /// Returns the recorded month's number (1-based), or `None` for a burn-in month.
    pub fn step(&mut self, pool: &rayon::ThreadPool) -> Option<u32> {
        if pool.install(|| self.world.burn_in_month()) {
            if self.world.step == self.world.burn_in_steps() {
                self.record_start();
            }
            return None;
        }
        let m = pool.install(|| self.world.step());
        let sc = &self.world.scenario;
        let s = self.world.step - self.world.burn_in_steps();
        let (year, month) = (m.year, m.month);
        let r = &mut self.recorded;
        if s.is_multiple_of(sc.output.record_every.max(1)) || s == sc.steps() {
            r.metrics.push(m);
        }
        if sc.output.villages && month == 12 {
            r.villages
                .extend(self.world.villages.iter().map(|v| VillageRow::of(s, year, v)));
        }
        if month == 12 {
            r.distributions.extend(census::histograms(&self.world.agents, year));
        }
        Some(s)
    }

    /// Simulate every month left, calling `progress(done, total)` after each recorded month (a
    /// `Break` stops the run with [`Error::Interrupted`]) and `after_month(self)` after every
    /// month but the last (a run with checkpoints saves them there), then take the final
    /// census.
    pub fn complete(
        mut self,
        pool: &rayon::ThreadPool,
        mut progress: impl FnMut(u32, u32) -> ControlFlow<()>,
        mut after_month: impl FnMut(&Run) -> Result<()>,
    ) -> Result<RunOutput> {
        let steps = self.world.scenario.steps();
        while !self.is_finished() {
            let recorded = self.step(pool);
            if let Some(s) = recorded {
                if progress(s, steps).is_break() {
                    return Err(Error::Interrupted { done: s, total: steps });
                }
            }
            if !self.is_finished() {
                after_month(&self)?;
            }
        }
        Ok(self.finish())
    }

    /// The run's outputs, with the census at the end (call when [`Run::is_finished`]).
    fn finish(mut self) -> RunOutput {
        let sc = &self.world.scenario;
        let end_year = self.recorded.metrics.last().map_or(sc.run.end_year, |m| m.year);
        self.recorded
            .pyramid
            .extend(census::pyramid(&self.world.agents, "end", end_year));
        let wall_seconds = self.wall_seconds();
        let r = self.recorded;
        RunOutput {
            metrics: r.metrics,
            villages: r.villages,
            pyramid: r.pyramid,
            distributions: r.distributions,
            initial_registered: r.initial_registered,
            bytes_per_villager: r.bytes_per_villager,
            slots: self.world.slots(),
            repacks: self.world.repacks,
            wall_seconds,
        }
    }
}
