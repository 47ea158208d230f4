//! One seminar session: a thread that owns the region (one copy, or two for A/B) and steps it
//! while playing, takes commands from the page's requests, and publishes frames of what
//! changed (new months of the time series, the village tiles, the age pyramid).
//!
//! A/B mode runs two copies of the same scenario with the same seed (common random numbers):
//! copy A keeps the starting scenario, the speaker's lever changes go to copy B, so the
//! difference between them is the changes' effect and not noise.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::{broadcast, oneshot};

use crate::model::census;
use crate::model::observe::Metrics;
use crate::scenario::Scenario;
use crate::session::Session;

/// The series the page plots, by metric name (`docs/metrics.md`), in frame order after `x`.
pub const SERIES: [&str; 7] = [
    "governance_index",
    "turnout",
    "elite_capture",
    "market_mean",
    "civic_mean",
    "share_60_plus",
    "migrants",
];

/// Frames are published at most this often while playing (20 a second).
const FRAME_INTERVAL: Duration = Duration::from_millis(50);

/// What a session is made of.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The scenario file.
    pub path: PathBuf,
    /// `--set` overrides chosen at the start (the two-committee arrangement).
    pub sets: Vec<String>,
    /// The seed (the scenario's own if `None`).
    pub seed: Option<u64>,
    /// Two copies (A keeps the start, B takes the changes).
    pub ab: bool,
}

/// Which copy a command is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The starting copy (the only one outside A/B mode).
    A,
    /// The copy that takes the speaker's changes in A/B mode.
    B,
}

/// A request to the session thread.
#[derive(Debug)]
pub enum Command {
    /// Step continuously at the set speed.
    Play,
    /// Stop stepping.
    Pause,
    /// Step this many months now.
    Step(u32),
    /// Months per second while playing (0: as fast as the machine goes).
    Speed(f64),
    /// Back to month 0 of the starting scenario (changes dropped).
    Reset,
    /// Change a schedule from the next month on (in copy B in A/B mode).
    Lever {
        /// Dotted key.
        key: String,
        /// New value.
        value: f64,
        /// The outcome, as the message to show.
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// The whole state (every month so far), for a page that (re)connects.
    Snapshot(oneshot::Sender<Arc<str>>),
    /// One village's figures.
    Village(Side, usize, oneshot::Sender<Option<Value>>),
    /// The session's scenario file (the changed copy's) for `ruralgov run`.
    Export(String, oneshot::Sender<Result<String, String>>),
    /// A copy's metrics as `metrics.csv`.
    Csv(Side, oneshot::Sender<Vec<u8>>),
}

struct Run {
    session: Session,
    metrics: Vec<Metrics>,
}

struct State {
    spec: Spec,
    loaded: crate::scenario::load::Loaded<Scenario>,
    pool: rayon::ThreadPool,
    runs: Vec<Run>,
    playing: bool,
    speed: f64,
    /// Months already published to subscribers.
    published: usize,
}

/// Build the copies of a session (each through its burn-in).
fn build(
    loaded: &crate::scenario::load::Loaded<Scenario>,
    spec: &Spec,
    pool: &rayon::ThreadPool,
) -> crate::Result<Vec<Run>> {
    let copies = if spec.ab { 2 } else { 1 };
    (0..copies)
        .map(|_| {
            let session = pool.install(|| Session::new(loaded.clone(), spec.seed))?;
            Ok(Run {
                session,
                metrics: Vec::new(),
            })
        })
        .collect()
}

/// Load and build a session; errors are the messages the page shows.
pub fn start(spec: Spec, threads: usize) -> crate::Result<(StateHandle, Arc<str>)> {
    let loaded = Scenario::load(&spec.path, &spec.sets)?;
    let pool = crate::sim::pool(threads)?;
    let runs = build(&loaded, &spec, &pool)?;
    let mut state = State {
        spec,
        loaded,
        pool,
        runs,
        playing: false,
        speed: 12.0,
        published: 0,
    };
    let first = state.frame(true);
    Ok((StateHandle(state), first))
}

/// A built session, ready to be moved onto its thread.
pub struct StateHandle(State);

impl std::fmt::Debug for StateHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateHandle").field("months", &self.0.months()).finish()
    }
}

impl StateHandle {
    /// Run the session until every sender of `rx` is gone, publishing frames on `frames`.
    pub fn run(self, rx: Receiver<Command>, frames: broadcast::Sender<Arc<str>>) {
        let mut s = self.0;
        let mut last_frame = Instant::now();
        let mut next_step = Instant::now();
        loop {
            let cmd = if s.playing && !s.finished() {
                let wait = next_step.saturating_duration_since(Instant::now());
                match rx.recv_timeout(wait) {
                    Ok(c) => Some(c),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            } else {
                match rx.recv() {
                    Ok(c) => Some(c),
                    Err(_) => return,
                }
            };
            if let Some(c) = cmd {
                if matches!(c, Command::Play) {
                    next_step = Instant::now();
                }
                let publish = s.handle(c);
                if publish {
                    let _ = frames.send(s.frame(false));
                    last_frame = Instant::now();
                }
                continue;
            }
            // Playing: one month, then a frame if one is due.
            s.step_all();
            let interval = if s.speed > 0.0 {
                Duration::from_secs_f64(1.0 / s.speed)
            } else {
                Duration::ZERO
            };
            // A fixed cadence (not "interval after the step ended"), so the speed holds while
            // a month takes less than the interval; a session that falls behind does not
            // rush to catch up.
            next_step += interval;
            let now = Instant::now();
            if next_step + interval < now {
                next_step = now;
            }
            if s.finished() {
                s.playing = false;
            }
            if last_frame.elapsed() >= FRAME_INTERVAL || !s.playing {
                let _ = frames.send(s.frame(false));
                last_frame = Instant::now();
            }
        }
    }
}

impl State {
    fn months(&self) -> u32 {
        self.runs.first().map_or(0, |r| r.session.months())
    }

    fn finished(&self) -> bool {
        self.runs
            .first()
            .is_none_or(|r| r.session.months() >= r.session.total_months())
    }

    fn step_all(&mut self) {
        let pool = &self.pool;
        for r in &mut self.runs {
            if let Some(m) = pool.install(|| r.session.step()) {
                r.metrics.push(m);
            }
        }
    }

    fn copy(&self, c: Side) -> Option<&Run> {
        match c {
            Side::A => self.runs.first(),
            Side::B => self.runs.get(1),
        }
    }

    /// Handle a command; true if the state changed and a frame should go out.
    fn handle(&mut self, c: Command) -> bool {
        match c {
            Command::Play => {
                self.playing = !self.finished();
                true
            }
            Command::Pause => {
                self.playing = false;
                true
            }
            Command::Step(n) => {
                for _ in 0..n {
                    if self.finished() {
                        break;
                    }
                    self.step_all();
                }
                true
            }
            Command::Speed(v) => {
                self.speed = v.max(0.0);
                false
            }
            Command::Reset => {
                if let Ok(runs) = build(&self.loaded, &self.spec, &self.pool) {
                    self.runs = runs;
                }
                self.playing = false;
                self.published = 0;
                true
            }
            Command::Lever { key, value, reply } => {
                let target = if self.runs.len() > 1 { 1 } else { 0 };
                let pool = &self.pool;
                let result = match self.runs.get_mut(target) {
                    Some(r) => pool
                        .install(|| r.session.set_lever(&key, value))
                        .map_err(|e| e.to_string()),
                    None => Err("no session".into()),
                };
                let changed = result.is_ok();
                let _ = reply.send(result);
                changed
            }
            Command::Snapshot(reply) => {
                let _ = reply.send(self.frame(true));
                false
            }
            Command::Village(c, v, reply) => {
                let _ = reply.send(self.copy(c).and_then(|r| village(r, v)));
                false
            }
            Command::Export(name, reply) => {
                let run = self.runs.last();
                let extends = self.spec.path.canonicalize().unwrap_or_else(|_| self.spec.path.clone());
                let result = match run {
                    Some(r) => r
                        .session
                        .export(&extends, &name, &self.spec.sets)
                        .map_err(|e| e.to_string()),
                    None => Err("no session".into()),
                };
                let _ = reply.send(result);
                false
            }
            Command::Csv(c, reply) => {
                let mut bytes = Vec::new();
                if let Some(r) = self.copy(c) {
                    let _ = crate::output::write_metrics(&mut bytes, &r.metrics);
                }
                let _ = reply.send(bytes);
                false
            }
        }
    }

    /// A frame: every month since the last frame (all months for a snapshot), and the current
    /// tiles and pyramid of each copy.
    fn frame(&mut self, snapshot: bool) -> Arc<str> {
        let from = if snapshot {
            0
        } else {
            self.published.min(self.months() as usize)
        };
        let copies: Vec<Value> = self.runs.iter().map(|r| copy_frame(r, from)).collect();
        let world = self.runs.first().map(|r| r.session.world());
        let (year, month) = world.map_or((0, 0), |w| w.date(w.step));
        let changes: Vec<Value> = self
            .runs
            .last()
            .map(|r| r.session.changes().iter().map(|(m, k, v)| json!([m, k, v])).collect())
            .unwrap_or_default();
        let text = json!({
            "kind": if snapshot { "snapshot" } else { "frame" },
            "from": from,
            "month": self.months(),
            "total": self.runs.first().map_or(0, |r| r.session.total_months()),
            "date": format!("{year}-{month:02}"),
            "playing": self.playing,
            "speed": self.speed,
            "ab": self.runs.len() > 1,
            "series": SERIES,
            "levers": self.runs.last().map(|r| {
                r.session
                    .values_next(super::SLIDERS.iter().map(|s| s.0))
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), json!(v)))
                    .collect::<serde_json::Map<_, _>>()
            }),
            "copies": copies,
            "changes": changes,
        })
        .to_string();
        if !snapshot {
            self.published = self.months() as usize;
        }
        Arc::from(text)
    }
}

/// The part of a frame for one copy.
fn copy_frame(r: &Run, from: usize) -> Value {
    let cols: Vec<usize> = SERIES
        .iter()
        .filter_map(|n| Metrics::COLUMNS.iter().position(|c| c.name == *n))
        .collect();
    let rows: Vec<Value> = r.metrics[from.min(r.metrics.len())..]
        .iter()
        .map(|m| {
            let v = m.values();
            let mut row = vec![json!(m.year as f64 + (m.month as f64 - 0.5) / 12.0)];
            row.extend(cols.iter().map(|&c| json!(v[c])));
            Value::Array(row)
        })
        .collect();
    let w = r.session.world();
    let tiles: Vec<&str> = w.villages.iter().map(|v| v.committee.controller.name()).collect();
    // Per-village figures the tiles can be coloured by (three decimals keep frames small).
    let (year, _) = w.date(w.step);
    let village_rows: Vec<crate::sim::VillageRow> = w
        .villages
        .iter()
        .map(|v| crate::sim::VillageRow::of(w.step, year, v))
        .collect();
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    let values = json!({
        "governance_index": village_rows.iter().map(|r| round(r.governance_index)).collect::<Vec<_>>(),
        "trust_branch": village_rows.iter().map(|r| round(r.trust_branch)).collect::<Vec<_>>(),
        "share_60_plus": village_rows.iter().map(|r| round(r.share_60_plus)).collect::<Vec<_>>(),
        "elite_capture": village_rows.iter().map(|r| round(r.elite_capture)).collect::<Vec<_>>(),
    });
    let contested: Vec<u8> = w.villages.iter().map(|v| v.committee.contested as u8).collect();
    let pyramid = census::pyramid(&w.agents, "now", year);
    let groups: Vec<&str> = pyramid
        .iter()
        .filter(|p| p.sex == "female")
        .map(|p| p.age_group.as_str())
        .collect();
    let pick = |sex: &str, migrants: bool| -> Vec<u64> {
        pyramid
            .iter()
            .filter(|p| p.sex == sex)
            .map(|p| if migrants { p.migrants } else { p.residents })
            .collect()
    };
    json!({
        "rows": rows,
        "tiles": tiles,
        "contested": contested,
        "values": values,
        "pyramid": {
            "groups": groups,
            "female_residents": pick("female", false),
            "male_residents": pick("male", false),
            "female_migrants": pick("female", true),
            "male_migrants": pick("male", true),
        },
    })
}

/// One village's figures, for the page's tooltip.
fn village(r: &Run, v: usize) -> Option<Value> {
    let w = r.session.world();
    let village = w.villages.get(v)?;
    let (year, _) = w.date(w.step);
    let row = crate::sim::VillageRow::of(w.step, year, village);
    serde_json::to_value(row).ok()
}
