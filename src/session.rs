//! A live session: a region stepped month by month while its levers (any schedule of the
//! scenario: path intensities, market exposure, wages, pressure, ...) are changed between
//! months, and exported as a scenario file that `ruralgov run` reproduces bitwise. This is the
//! engine of the seminar view (`ruralgov serve`, the issue "A live seminar view").
//!
//! **How a change is exact.** A lever changed before month `m + 1` is replaced by a keyframe
//! schedule that holds, at the schedule time of every month already simulated, exactly the
//! value that month used (the step evaluates a schedule at a keyframe's own year without any
//! arithmetic on it: `a + (b - a) x 0`), and the new value from month `m + 1` on. Runs of
//! equal values are kept as their two ends (interpolating between equal values gives the value
//! exactly). The live world runs on that same schedule, so the exported scenario (the starting
//! file, `extends`, plus the changed schedules and the seed) is the very scenario the live
//! world ran, and a fresh run of it computes every month again from the same values.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::observe::Metrics;
use crate::model::{schedule_time, World};
use crate::scenario::load::Loaded;
use crate::scenario::{Scenario, Schedule};

/// A region being stepped live, with the lever changes made so far.
#[derive(Debug)]
pub struct Session {
    loaded: Loaded<Scenario>,
    seed: u64,
    /// Changed schedules by dotted key (applied as `--set` overrides over the loaded scenario).
    changes: BTreeMap<String, Schedule>,
    world: World,
    /// Recorded months simulated (after the burn-in).
    months: u32,
    /// Every lever change: (months simulated when it was made, key, new value).
    log: Vec<(u32, String, f64)>,
}

impl Session {
    /// A session of the loaded scenario (with `seed` instead of its own, if given), built and
    /// brought through its burn-in, before its first recorded month.
    pub fn new(loaded: Loaded<Scenario>, seed: Option<u64>) -> Result<Session> {
        let mut sc = loaded.value.clone();
        if let Some(s) = seed {
            crate::scenario::check_seed(s)?;
            sc.run.seed = s;
        }
        let mut world = World::new(&sc);
        world.burn_in();
        Ok(Session {
            seed: sc.run.seed,
            loaded,
            changes: BTreeMap::new(),
            world,
            months: 0,
            log: Vec::new(),
        })
    }

    /// Recorded months simulated so far.
    pub fn months(&self) -> u32 {
        self.months
    }

    /// Recorded months in the whole run.
    pub fn total_months(&self) -> u32 {
        self.world.scenario.steps()
    }

    /// The world (villages, villagers, the scenario as it now runs).
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The lever changes made, in order: (months simulated when made, key, value).
    pub fn changes(&self) -> &[(u32, String, f64)] {
        &self.log
    }

    /// The values the schedules `keys` take in the next month (keys that are not schedules are
    /// left out); the scenario is rendered once for all of them.
    pub fn values_next<'k>(&self, keys: impl IntoIterator<Item = &'k str>) -> Vec<(&'k str, f64)> {
        let sc = &self.world.scenario;
        let t = schedule_time(sc, crate::model::burn_in_steps(sc) + self.months + 1);
        let Ok(root) = toml::Value::try_from(sc) else {
            return Vec::new();
        };
        keys.into_iter()
            .filter_map(|k| {
                let s: Schedule = lookup_in(&root, k)?.try_into().ok()?;
                Some((k, s.at(t)))
            })
            .collect()
    }

    /// Simulate the next month; `None` once the run's last month is done.
    pub fn step(&mut self) -> Option<Metrics> {
        if self.months >= self.total_months() {
            return None;
        }
        let m = self.world.step();
        self.months += 1;
        Some(m)
    }

    /// Set the schedule `key` (for example `paths.legal.intensity`) to `value` from the next
    /// month on, validated as `--set` validates it. Only schedules can change during a run;
    /// any other key is refused with a message naming the schedules.
    pub fn set_lever(&mut self, key: &str, value: f64) -> Result<()> {
        let params = Scenario::params();
        let Some(info) = params.iter().find(|p| p.key == key) else {
            return Err(self.loaded.error_at(key, format!("unknown setting \"{key}\"")).into());
        };
        if !info.is_schedule() {
            return Err(self
                .loaded
                .error_at(
                    key,
                    format!(
                        "\"{key}\" is not a schedule, so it cannot change during a run; schedules are: {}",
                        params
                            .iter()
                            .filter(|p| p.is_schedule())
                            .map(|p| p.key.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
                .into());
        }
        let current = schedule_of(&self.world.scenario, key)?;
        let sc = &self.world.scenario;
        let burn_in = crate::model::burn_in_steps(sc);
        let schedule = if self.months == 0 {
            // Before the first month (the burn-in ran at the start year, as the first month
            // will): the lever takes its new value from the start, burn-in included.
            Schedule::Constant(value)
        } else {
            // The values every simulated month used, at their schedule times, then the new one.
            let mut keys: Vec<[f64; 2]> = (1..=self.months)
                .map(|k| {
                    let t = schedule_time(sc, burn_in + k);
                    [t, current.at(t)]
                })
                .collect();
            keys.push([schedule_time(sc, burn_in + self.months + 1), value]);
            Schedule::Keyframes(compress(keys))
        };
        let mut changes = self.changes.clone();
        changes.insert(key.to_string(), schedule);
        let mut resolved = self.loaded.with_sets(&sets(&changes))?;
        resolved.run.seed = self.seed;
        if self.months == 0 {
            // Nothing recorded yet: the region is built and brought to rest again under the
            // new value, as a run of the exported scenario will be.
            let mut world = World::new(&resolved);
            world.burn_in();
            self.world = world;
        } else {
            // The live world continues under the new scenario; everything but the changed
            // schedules is as before.
            self.world.scenario = resolved;
        }
        self.changes = changes;
        self.log.push((self.months, key.to_string(), value));
        Ok(())
    }

    /// The session as a scenario file: `extends` the starting scenario (written as `extends`,
    /// a path relative to where the file will be saved, or absolute), named `name`, with the
    /// seed and every changed schedule. `ruralgov run` of it reproduces the session's months
    /// bitwise.
    ///
    /// `sets` are the `--set` overrides the session was loaded with (`key=value`); their
    /// resolved values are written too.
    pub fn export(&self, extends: &Path, name: &str, sets: &[String]) -> Result<String> {
        if !crate::scenario::is_valid_name(name) {
            return Err(Error::option("name", name, "use letters, digits, '_' and '-' only"));
        }
        let mut root = toml::Table::new();
        root.insert("extends".into(), toml::Value::String(extends.display().to_string()));
        root.insert("name".into(), toml::Value::String(name.to_string()));
        let mut run = toml::Table::new();
        run.insert("seed".into(), toml::Value::Integer(self.seed as i64));
        root.insert("run".into(), toml::Value::Table(run));
        for key in sets.iter().filter_map(|s| s.split_once('=').map(|(k, _)| k.trim())) {
            if let Some(value) = lookup(&self.world.scenario, key) {
                insert(&mut root, key, value);
            }
        }
        for (key, schedule) in &self.changes {
            let value = toml::Value::try_from(schedule).map_err(|e| Error::render("the exported scenario", e))?;
            insert(&mut root, key, value);
        }
        let mut text = String::from("# Exported from a live ruralgov session: the starting scenario, its seed, and every lever\n# changed during the session as a schedule that holds each simulated month's value.\n# `ruralgov run` of this file reproduces the session bitwise.\n");
        if !self.log.is_empty() {
            text.push_str("# Changes (month after which each was made):\n");
            for (m, k, v) in &self.log {
                text.push_str(&format!("#   month {m}: {k} = {v}\n"));
            }
        }
        text.push_str(&toml::to_string(&root).map_err(|e| Error::render("the exported scenario", e))?);
        Ok(text)
    }
}

/// The resolved value at dotted `key` of a scenario.
fn lookup(sc: &Scenario, key: &str) -> Option<toml::Value> {
    lookup_in(&toml::Value::try_from(sc).ok()?, key)
}

/// The value at dotted `key` of a rendered scenario.
fn lookup_in(root: &toml::Value, key: &str) -> Option<toml::Value> {
    let mut v = root;
    for part in key.split('.') {
        v = v.get(part)?;
    }
    Some(v.clone())
}

/// The current schedule at dotted `key` of a scenario.
fn schedule_of(sc: &Scenario, key: &str) -> Result<Schedule> {
    let v = lookup(sc, key).ok_or_else(|| Error::render(key, "no such setting in the resolved scenario"))?;
    v.try_into().map_err(|e| Error::render(key, e))
}

/// Keyframes with every run of equal values cut down to its two ends.
fn compress(keys: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    let mut out: Vec<[f64; 2]> = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let same_before = i > 0 && keys[i - 1][1].to_bits() == k[1].to_bits();
        let same_after = i + 1 < keys.len() && keys[i + 1][1].to_bits() == k[1].to_bits();
        if !(same_before && same_after) {
            out.push(*k);
        }
    }
    out
}

/// The changes as `--set` overrides.
fn sets(changes: &BTreeMap<String, Schedule>) -> Vec<String> {
    changes
        .iter()
        .map(|(k, s)| {
            let value = toml::Value::try_from(s).map(|v| v.to_string()).unwrap_or_default();
            format!("{k}={value}")
        })
        .collect()
}

/// Insert `value` at dotted `key` into nested tables.
fn insert(root: &mut toml::Table, key: &str, value: toml::Value) {
    let parts: Vec<&str> = key.split('.').collect();
    let mut table = root;
    for part in &parts[..parts.len() - 1] {
        let entry = table
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(t) = entry else { return };
        table = t;
    }
    if let Some(last) = parts.last() {
        table.insert(last.to_string(), value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Loaded<Scenario> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join("tiny.toml");
        Scenario::load(&path, &["output.villages=false".to_string()]).expect("tiny loads")
    }

    fn csv(metrics: &[Metrics]) -> Vec<u8> {
        let mut b = Vec::new();
        crate::output::write_metrics(&mut b, metrics).expect("writes");
        b
    }

    #[test]
    fn an_exported_session_reruns_bitwise_and_its_changes_matter() {
        let mut s = Session::new(tiny(), Some(11)).expect("session");
        let mut live = Vec::new();
        for _ in 0..10 {
            live.extend(s.step());
        }
        s.set_lever("paths.legal.intensity", 1.0).expect("a schedule");
        for _ in 0..17 {
            live.extend(s.step());
        }
        // The baseline's market exposure interpolates between keyframes: the months simulated
        // so far must keep their exact values.
        s.set_lever("region.market_exposure", 0.95).expect("a schedule");
        s.set_lever("paths.legal.intensity", 0.2).expect("again");
        while let Some(m) = s.step() {
            live.push(m);
        }
        assert_eq!(live.len() as u32, s.total_months());

        let dir = tempfile::tempdir().expect("tempdir");
        let tiny_path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join("tiny.toml");
        let text = s.export(&tiny_path, "tiny-session", &[]).expect("exports");
        let file = dir.path().join("session.toml");
        std::fs::write(&file, &text).expect("write");
        let loaded = Scenario::load(&file, &["output.villages=false".to_string()]).expect("the export loads");
        assert_eq!(loaded.value.run.seed, 11);
        let rerun = crate::sim::run(&loaded.value, 2, |_, _| {}).expect("runs");
        assert!(csv(&rerun.metrics) == csv(&live), "the export must rerun bitwise");

        // Without the changes the run differs (so the comparison above can fail).
        let mut plain = Session::new(tiny(), Some(11)).expect("session");
        let mut untouched = Vec::new();
        while let Some(m) = plain.step() {
            untouched.push(m);
        }
        assert!(csv(&untouched) != csv(&live), "the levers must change the run");
    }

    #[test]
    fn a_change_before_the_first_month_and_refusals() {
        let mut s = Session::new(tiny(), None).expect("session");
        s.set_lever("paths.culture.intensity", 1.0)
            .expect("before the first month");
        let mut live = Vec::new();
        while let Some(m) = s.step() {
            live.push(m);
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let tiny_path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenarios")
            .join("tiny.toml");
        let file = dir.path().join("s.toml");
        std::fs::write(&file, s.export(&tiny_path, "s", &[]).expect("exports")).expect("write");
        let loaded = Scenario::load(&file, &["output.villages=false".to_string()]).expect("loads");
        let rerun = crate::sim::run(&loaded.value, 1, |_, _| {}).expect("runs");
        assert!(
            csv(&rerun.metrics) == csv(&live),
            "a change before the first month reruns bitwise"
        );
        let err = s
            .set_lever("region.villages", 3.0)
            .expect_err("not a schedule")
            .to_string();
        assert!(
            err.contains("is not a schedule") && err.contains("paths.legal.intensity"),
            "{err}"
        );
        let err = s
            .set_lever("paths.legal.intensty", 1.0)
            .expect_err("unknown")
            .to_string();
        assert!(err.contains("unknown setting"), "{err}");
        let err = s
            .set_lever("paths.legal.intensity", 7.0)
            .expect_err("out of range")
            .to_string();
        assert!(err.contains("paths.legal.intensity"), "{err}");
        assert!(s.export(Path::new("tiny.toml"), "bad name!", &[]).is_err());
    }

    #[test]
    fn equal_runs_are_cut_to_their_ends() {
        let k = compress(vec![[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 1.0], [5.0, 1.0]]);
        assert_eq!(k, vec![[1.0, 0.0], [3.0, 0.0], [4.0, 1.0], [5.0, 1.0]]);
    }
}
