//! A benchmark anyone can run without criterion (`ruralgov bench`): initialise a region of a
//! given size with every path on, step it a few months to warm up, then time single monthly
//! steps and report the median throughput in villager-steps per second, the initialisation
//! time and memory per villager.

use std::time::Instant;

use crate::error::{Error, Result};
use crate::model::World;
use crate::scenario::Scenario;

/// What `ruralgov bench` measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// Registered adults at the start.
    pub villagers: u64,
    /// Villages.
    pub villages: u32,
    /// Worker threads.
    pub threads: usize,
    /// Cores the machine reports.
    pub cores: usize,
    /// Which copy of the vector kernels ran ([`crate::simd::kernels`]).
    pub kernels: String,
    /// Seconds to build the region.
    pub init_seconds: f64,
    /// Seconds of each timed step.
    pub step_seconds: Vec<f64>,
    /// Median of `step_seconds`.
    pub median_step_seconds: f64,
    /// Villager-steps per second at the median step.
    pub villager_steps_per_second: f64,
    /// Bytes of model state per registered adult (columns with their room, village tables).
    pub state_bytes_per_villager: f64,
    /// Peak resident memory of the process divided by the villagers (0 where unknown).
    pub peak_bytes_per_villager: f64,
    /// With `--profile`: seconds per villager-step of each process (one thread, in-code
    /// timers over the timed months), by process name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profile: Vec<(String, f64)>,
}

/// The benchmark region: villages of 1,000 registered adults (fewer for tiny regions),
/// every path at intensity 1, from 2010 so transfers and pressure are at mid-run levels.
pub fn scenario(villagers: u64) -> Scenario {
    let mut sc = Scenario {
        name: "bench".into(),
        ..Default::default()
    };
    sc.region.villages = villagers.div_ceil(1000).clamp(1, u32::MAX as u64) as u32;
    sc.population.adults_per_village = (villagers / sc.region.villages as u64).clamp(10, 100_000) as u32;
    sc.run.start_year = 2010;
    // The bench measures the monthly step: no burn-in (it would dominate the run).
    sc.run.burn_in_years = 0;
    sc.run.end_year = 2030;
    for p in crate::scenario::PolicyPath::ALL {
        *sc.paths.intensity_mut(p) = 1.0.into();
    }
    sc
}

/// Run the benchmark: `warmup` untimed months, then `months` timed ones.
///
/// With `profile`, the timed months run on one thread with a timer around every process of
/// every village, and the report gives nanoseconds per villager-step for each.
///
/// The region's memory is estimated first; one that would not fit the machine is refused
/// unless `no_memory_check`.
pub fn run(
    villagers: u64,
    threads: usize,
    months: u32,
    warmup: u32,
    profile: bool,
    no_memory_check: bool,
) -> Result<Report> {
    crate::limits::threads("--threads", threads)?;
    if !(10..=100_000_000_000).contains(&villagers) {
        return Err(Error::option("--villagers", villagers, "use between 10 and 10^11"));
    }
    if months == 0 || months + warmup > 240 {
        return Err(Error::option(
            "--months",
            months,
            format!("use between 1 and {}", 240 - warmup.min(239)),
        ));
    }
    let sc = scenario(villagers);
    crate::sim::check_memory(&sc, no_memory_check)?;
    let pool = crate::sim::pool(threads)?;
    let t0 = Instant::now();
    let mut world = pool.install(|| World::new(&sc));
    let init_seconds = t0.elapsed().as_secs_f64();
    for _ in 0..warmup {
        pool.install(|| world.step());
    }
    let mut step_seconds = Vec::with_capacity(months as usize);
    let mut timers = crate::model::Profile::default();
    let mut villager_steps = 0u64;
    for _ in 0..months {
        let t = Instant::now();
        villager_steps += world.registered();
        if profile {
            world.step_profiled(&mut timers);
        } else {
            pool.install(|| world.step());
        }
        step_seconds.push(t.elapsed().as_secs_f64());
    }
    let mut sorted = step_seconds.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let registered = world.registered();
    let peak = crate::output::peak_memory_bytes();
    Ok(Report {
        villagers: registered,
        villages: sc.region.villages,
        threads,
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        kernels: crate::simd::kernels().name().to_string(),
        init_seconds,
        median_step_seconds: median,
        villager_steps_per_second: registered as f64 / median.max(1e-12),
        step_seconds,
        state_bytes_per_villager: world.bytes_per_villager(),
        peak_bytes_per_villager: peak as f64 / registered.max(1) as f64,
        profile: if profile {
            crate::model::Stage::ALL
                .iter()
                .zip(timers.seconds)
                .map(|(n, s)| (n.name().to_string(), s / villager_steps.max(1) as f64))
                .collect()
        } else {
            Vec::new()
        },
    })
}

impl Report {
    /// A human-readable summary.
    pub fn render(&self) -> String {
        format!(
            "villagers               {}\nvillages                {}\nthreads                 {} (machine: {} cores)\n\
             vector kernels          {}\n\
             initialisation          {:.3} s\nmedian monthly step     {:.4} s (of {} timed)\n\
             throughput              {:.1} million villager-steps per second\n\
             state per villager      {:.1} bytes\npeak memory per villager {:.1} bytes (resident set over villagers)\n",
            self.villagers,
            self.villages,
            self.threads,
            self.cores,
            self.kernels,
            self.init_seconds,
            self.median_step_seconds,
            self.step_seconds.len(),
            self.villager_steps_per_second / 1e6,
            self.state_bytes_per_villager,
            self.peak_bytes_per_villager
        ) + &self.render_profile()
    }

    fn render_profile(&self) -> String {
        if self.profile.is_empty() {
            return String::new();
        }
        let total: f64 = self.profile.iter().map(|(_, s)| s).sum();
        let mut out = String::from("process (one thread)        ns per villager-step  share\n");
        for (name, s) in &self.profile {
            out += &format!("{name:<28}{:>10.2}  {:>9.1}%\n", s * 1e9, 100.0 * s / total.max(1e-30));
        }
        out + &format!("{:<28}{:>10.2}\n", "all processes", total * 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_times_every_process_and_changes_nothing() {
        let r = run(3_000, 1, 2, 1, true, false).unwrap();
        assert_eq!(r.profile.len(), 12);
        assert!(
            r.profile.iter().filter(|(_, s)| *s > 0.0).count() >= 10,
            "{:?}",
            r.profile
        );
        assert!(r.render().contains("4 migration"));
        let sc = scenario(3_000);
        let (mut a, mut b) = (World::new(&sc), World::new(&sc));
        let mut p = crate::model::Profile::default();
        for _ in 0..3 {
            assert_eq!(a.step(), b.step_profiled(&mut p));
        }
        assert_eq!(a.agents.market, b.agents.market);
    }

    #[test]
    fn bench_reports_consistent_figures() {
        let r = run(2_000, 1, 2, 1, false, false).unwrap();
        assert_eq!(r.villages, 2);
        assert_eq!(r.step_seconds.len(), 2);
        assert!(r.villagers > 1_500 && r.villagers < 2_500, "{}", r.villagers);
        assert!(r.villager_steps_per_second > 0.0);
        assert!(r.state_bytes_per_villager > 30.0 && r.state_bytes_per_villager < 64.0);
        assert!(run(2_000, 0, 2, 1, false, false).is_err());
        assert!(run(5, 1, 2, 1, false, false).is_err());
    }
}
