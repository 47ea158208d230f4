//! `ruralgov serve`: the seminar view. A local web server (axum on tokio) with the page, its
//! script and the vendored uPlot embedded in the binary (nothing is fetched from the
//! internet), and a small JSON API: sessions (one region, or two for A/B) stepped by their own
//! threads, lever changes, village figures, a server-sent event stream of frames, and the
//! session's scenario file and metrics. `docs/serve.md` documents the API and the limits.
//!
//! The page can read nothing but its own assets, the scenarios of the folder it was started
//! on (by name, from a fixed list), and its sessions' exports.

mod engine;

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{broadcast, oneshot};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;

use engine::{Command, Spec};
pub use engine::{Side, SERIES};

use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// Sessions (browser tabs) served at once; one more is refused with a message.
pub const MAX_SESSIONS: usize = 6;
/// Registered adults a live session may hold (per copy): larger scenarios are for `ruralgov run`.
pub const MAX_LIVE_VILLAGERS: u64 = 2_000_000;
/// A session no page listens to for this long is closed (a closed tab frees its session).
pub const IDLE: Duration = Duration::from_secs(60);
/// Months one `step` request may ask for.
pub const MAX_STEP: u32 = 120;

/// The levers the page shows as sliders: (key, label, min, max, step). Any other schedule can
/// be changed through the API.
pub const SLIDERS: [(&str, &str, f64, f64, f64); 8] = [
    ("paths.legal.intensity", "Legal services", 0.0, 1.5, 0.05),
    ("paths.services.intensity", "Public services", 0.0, 1.5, 0.05),
    ("paths.culture.intensity", "Community culture", 0.0, 1.5, 0.05),
    ("paths.self_government.intensity", "Self-government", 0.0, 1.5, 0.05),
    ("region.market_exposure", "Market exposure", 0.0, 1.0, 0.01),
    ("economy.urban_wage", "Urban wage (yuan/month)", 500.0, 12000.0, 100.0),
    ("governance.admin_pressure", "Administrative pressure", 0.0, 1.0, 0.01),
    (
        "party_state.supervision_committees",
        "Supervision committees (share)",
        0.0,
        1.0,
        0.05,
    ),
];

/// The page and its assets: (URL path, content type, bytes).
const ASSETS: [(&str, &str, &[u8]); 5] = [
    ("/", "text/html; charset=utf-8", include_bytes!("../../web/index.html")),
    (
        "/app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/app.js"),
    ),
    (
        "/app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/app.css"),
    ),
    (
        "/vendor/uPlot.iife.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../web/vendor/uPlot.iife.min.js"),
    ),
    (
        "/vendor/uPlot.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../web/vendor/uPlot.min.css"),
    ),
];

/// Options of `ruralgov serve`.
#[derive(Debug, Clone)]
pub struct Options {
    /// The starting scenario; its folder's scenarios are the page's choices.
    pub scenario: PathBuf,
    /// Address to listen on (loopback by default).
    pub host: String,
    /// Port (0: any free port).
    pub port: u16,
    /// Worker threads per session.
    pub threads: usize,
}

struct Entry {
    tx: Mutex<mpsc::Sender<Command>>,
    frames: broadcast::Sender<Arc<str>>,
    touched: Mutex<Instant>,
}

impl Entry {
    fn send(&self, c: Command) -> bool {
        if let Ok(mut t) = self.touched.lock() {
            *t = Instant::now();
        }
        self.tx.lock().map(|tx| tx.send(c).is_ok()).unwrap_or(false)
    }
}

struct App {
    scenarios: BTreeMap<String, PathBuf>,
    default: String,
    sessions: Mutex<HashMap<u64, Arc<Entry>>>,
    next: AtomicU64,
    threads: usize,
}

/// The scenarios the page may choose: every file of `dir` that loads as a scenario, by name.
fn bundled(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) != Some("toml") {
                continue;
            }
            if let Ok(l) = Scenario::load(&p, &[]) {
                if within_live_limit(&l.value) {
                    out.insert(l.value.name.clone(), p);
                }
            }
        }
    }
    out
}

fn within_live_limit(sc: &Scenario) -> bool {
    (sc.region.villages as u64).saturating_mul(sc.population.adults_per_village as u64) <= MAX_LIVE_VILLAGERS
}

/// Bind, print the address and serve until Ctrl-C. A port in use is an error (exit code 2).
pub fn serve(opts: &Options) -> Result<()> {
    let start = Scenario::load(&opts.scenario, &[])?.value;
    if !within_live_limit(&start) {
        return Err(Error::option(
            "SCENARIO",
            opts.scenario.display(),
            format!(
                "is too large for a live view ({} villages of about {} adults; at most {MAX_LIVE_VILLAGERS} adults); use ruralgov run",
                start.region.villages, start.population.adults_per_village
            ),
        ));
    }
    let dir = opts
        .scenario
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut scenarios = bundled(&dir);
    scenarios.insert(start.name.clone(), opts.scenario.clone());
    let threads = crate::limits::threads("--threads", opts.threads)?;
    let app = Arc::new(App {
        scenarios,
        default: start.name.clone(),
        sessions: Mutex::new(HashMap::new()),
        next: AtomicU64::new(1),
        threads,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::render("the web server", e))?;
    runtime.block_on(async move {
        let addr = format!("{}:{}", opts.host, opts.port);
        let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::AddrInUse {
                "is in use by another program: choose another with --port (or --port 0 for any free port)".to_string()
            } else {
                format!("cannot be opened: {e}")
            };
            Error::option("--port", format!("{} on {}", opts.port, opts.host), why)
        })?;
        let local: SocketAddr = listener.local_addr().map_err(|e| Error::render("the web server", e))?;
        if !local.ip().is_loopback() {
            eprintln!(
                "warning: serving on {} makes the seminar view reachable from other machines on this network; anyone who can reach it can start sessions",
                local.ip()
            );
        }
        println!("ruralgov serve: open http://{local}/ in a browser (Ctrl-C to stop)");
        tokio::spawn(reap(app.clone()));
        axum::serve(listener, router(app))
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| Error::render("the web server", e))
    })
}

/// Close sessions no page has listened to for [`IDLE`].
async fn reap(app: Arc<App>) {
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        if let Ok(mut s) = app.sessions.lock() {
            s.retain(|_, e| {
                e.frames.receiver_count() > 0 || e.touched.lock().map(|t| t.elapsed() < IDLE).unwrap_or(false)
            });
        }
    }
}

fn router(app: Arc<App>) -> Router {
    let mut r = Router::new();
    for (path, kind, bytes) in ASSETS {
        r = r.route(
            path,
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "no-cache")],
                    bytes,
                )
            }),
        );
    }
    r.route("/api/info", get(info))
        .route("/api/sessions", post(create))
        .route("/api/sessions/{id}", axum::routing::delete(close))
        .route("/api/sessions/{id}/control", post(control))
        .route("/api/sessions/{id}/lever", post(lever))
        .route("/api/sessions/{id}/state", get(state))
        .route("/api/sessions/{id}/events", get(events))
        .route("/api/sessions/{id}/villages/{v}", get(village))
        .route("/api/sessions/{id}/scenario.toml", get(export))
        .route("/api/sessions/{id}/metrics.csv", get(csv))
        .fallback(|| async {
            bad(
                StatusCode::NOT_FOUND,
                "no such page: the seminar view serves /, its assets and /api/",
            )
        })
        .with_state(app)
}

/// An error response with a JSON message.
fn bad(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "error": message.into() }))).into_response()
}

/// A JSON body, or 400 with what is wrong.
#[allow(clippy::result_large_err)] // the error is the response, returned at once
fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> std::result::Result<T, Response> {
    serde_json::from_slice(bytes).map_err(|e| bad(StatusCode::BAD_REQUEST, format!("malformed request body: {e}")))
}

#[allow(clippy::result_large_err)] // the error is the response, returned at once
fn entry(app: &App, id: u64) -> std::result::Result<Arc<Entry>, Response> {
    app.sessions
        .lock()
        .ok()
        .and_then(|s| s.get(&id).cloned())
        .ok_or_else(|| {
            bad(
                StatusCode::NOT_FOUND,
                format!(
                    "no session {id} (it may have been closed after {} s without a page)",
                    IDLE.as_secs()
                ),
            )
        })
}

async fn info(State(app): State<Arc<App>>) -> Response {
    let sliders: Vec<_> = SLIDERS
        .iter()
        .map(|(k, l, lo, hi, step)| json!({"key": k, "label": l, "min": lo, "max": hi, "step": step}))
        .collect();
    axum::Json(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "scenarios": app.scenarios.keys().collect::<Vec<_>>(),
        "default": app.default,
        "sliders": sliders,
        "arrangements": ["separate", "cross_serving", "one_shoulder"],
        "series": SERIES,
        "max_sessions": MAX_SESSIONS,
        "max_step": MAX_STEP,
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Create {
    scenario: Option<String>,
    seed: Option<u64>,
    #[serde(default)]
    ab: bool,
    arrangement: Option<String>,
}

async fn create(State(app): State<Arc<App>>, bytes: Bytes) -> Response {
    let req: Create = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let name = req.scenario.unwrap_or_else(|| app.default.clone());
    let Some(path) = app.scenarios.get(&name).cloned() else {
        return bad(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown scenario \"{name}\"; choose one of: {}",
                app.scenarios.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        );
    };
    let mut sets = Vec::new();
    if let Some(a) = req.arrangement {
        if !["separate", "cross_serving", "one_shoulder"].contains(&a.as_str()) {
            return bad(
                StatusCode::BAD_REQUEST,
                format!("unknown arrangement \"{a}\": separate, cross_serving or one_shoulder"),
            );
        }
        sets.push(format!("paths.self_government.arrangement=\"{a}\""));
    }
    if app.sessions.lock().map(|s| s.len()).unwrap_or(MAX_SESSIONS) >= MAX_SESSIONS {
        return bad(
            StatusCode::TOO_MANY_REQUESTS,
            format!("{MAX_SESSIONS} sessions are open already (the limit); close a tab and try again"),
        );
    }
    let spec = Spec {
        path,
        sets,
        seed: req.seed,
        ab: req.ab,
    };
    let threads = app.threads;
    let built = tokio::task::spawn_blocking(move || engine::start(spec, threads)).await;
    let (handle, first) = match built {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return bad(StatusCode::BAD_REQUEST, e.to_string()),
        Err(e) => {
            return bad(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the session could not start: {e}"),
            )
        }
    };
    let id = app.next.fetch_add(1, Ordering::SeqCst);
    let (tx, rx) = mpsc::channel();
    let (frames, _) = broadcast::channel(256);
    let publisher = frames.clone();
    if std::thread::Builder::new()
        .name(format!("session-{id}"))
        .spawn(move || handle.run(rx, publisher))
        .is_err()
    {
        return bad(StatusCode::INTERNAL_SERVER_ERROR, "cannot start the session's thread");
    }
    let e = Arc::new(Entry {
        tx: Mutex::new(tx),
        frames,
        touched: Mutex::new(Instant::now()),
    });
    if let Ok(mut s) = app.sessions.lock() {
        s.insert(id, e);
    }
    let state: serde_json::Value = serde_json::from_str(&first).unwrap_or_default();
    axum::Json(json!({ "id": id, "state": state })).into_response()
}

async fn close(State(app): State<Arc<App>>, UrlPath(id): UrlPath<u64>) -> Response {
    match app.sessions.lock().ok().and_then(|mut s| s.remove(&id)) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => bad(StatusCode::NOT_FOUND, format!("no session {id}")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Control {
    action: String,
    speed: Option<f64>,
    months: Option<u32>,
}

async fn control(State(app): State<Arc<App>>, UrlPath(id): UrlPath<u64>, bytes: Bytes) -> Response {
    let req: Control = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let e = match entry(&app, id) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let cmd = match req.action.as_str() {
        "play" => Command::Play,
        "pause" => Command::Pause,
        "step" => {
            let n = req.months.unwrap_or(1);
            if n == 0 || n > MAX_STEP {
                return bad(
                    StatusCode::BAD_REQUEST,
                    format!("months must be 1 to {MAX_STEP}, not {n}"),
                );
            }
            Command::Step(n)
        }
        "year" => Command::Step(12),
        "reset" => Command::Reset,
        "speed" => match req.speed {
            Some(v) if v.is_finite() && (0.0..=1000.0).contains(&v) => Command::Speed(v),
            _ => {
                return bad(
                    StatusCode::BAD_REQUEST,
                    "speed must be 0 (as fast as possible) to 1000 months a second",
                )
            }
        },
        other => {
            return bad(
                StatusCode::BAD_REQUEST,
                format!("unknown action \"{other}\": play, pause, step, year, reset or speed"),
            )
        }
    };
    if e.send(cmd) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        bad(StatusCode::GONE, "the session has ended")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Lever {
    key: String,
    value: f64,
}

async fn lever(State(app): State<Arc<App>>, UrlPath(id): UrlPath<u64>, bytes: Bytes) -> Response {
    let req: Lever = match body(&bytes) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if !req.value.is_finite() {
        return bad(StatusCode::BAD_REQUEST, "the value must be a finite number");
    }
    let e = match entry(&app, id) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let answer = ask(&e, |reply| Command::Lever {
        key: req.key,
        value: req.value,
        reply,
    });
    match answer.await {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(message)) => bad(StatusCode::BAD_REQUEST, message),
        Err(r) => r,
    }
}

/// Send the command `make` builds around a reply channel and wait for the reply; a session
/// that has ended answers 410.
#[allow(clippy::result_large_err)] // the error is the response, returned at once
async fn ask<T>(e: &Entry, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> std::result::Result<T, Response> {
    let gone = || bad(StatusCode::GONE, "the session has ended");
    let (reply, answer) = oneshot::channel();
    if !e.send(make(reply)) {
        return Err(gone());
    }
    answer.await.map_err(|_| gone())
}

/// The whole state of a session (a snapshot frame).
async fn snapshot(e: &Entry) -> Option<Arc<str>> {
    ask(e, Command::Snapshot).await.ok()
}

async fn state(State(app): State<Arc<App>>, UrlPath(id): UrlPath<u64>) -> Response {
    let e = match entry(&app, id) {
        Ok(e) => e,
        Err(r) => return r,
    };
    match snapshot(&e).await {
        Some(s) => ([(header::CONTENT_TYPE, "application/json")], s.to_string()).into_response(),
        None => bad(StatusCode::GONE, "the session has ended"),
    }
}

async fn events(State(app): State<Arc<App>>, UrlPath(id): UrlPath<u64>) -> Response {
    let e = match entry(&app, id) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let rx = e.frames.subscribe();
    let first = snapshot(&e).await;
    let head = tokio_stream::iter(
        first
            .into_iter()
            .map(|s| Ok::<Event, Infallible>(Event::default().data(&*s))),
    );
    // A page that falls behind by more than the channel holds gets a note to fetch the state
    // again, not a silent gap.
    let rest = BroadcastStream::new(rx).map(|f| {
        Ok::<Event, Infallible>(match f {
            Ok(s) => Event::default().data(&*s),
            Err(_) => Event::default().event("lagged").data("{}"),
        })
    });
    Sse::new(head.chain(rest))
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Which {
    copy: Option<String>,
    name: Option<String>,
}

/// The session `id` and the copy the query names.
#[allow(clippy::result_large_err)] // the error is the response, returned at once
fn entry_side(app: &App, id: u64, q: &Which) -> std::result::Result<(Arc<Entry>, Side), Response> {
    Ok((entry(app, id)?, which(q)?))
}

#[allow(clippy::result_large_err)] // the error is the response, returned at once
fn which(q: &Which) -> std::result::Result<Side, Response> {
    match q.copy.as_deref() {
        None | Some("a") => Ok(Side::A),
        Some("b") => Ok(Side::B),
        Some(x) => Err(bad(
            StatusCode::BAD_REQUEST,
            format!("copy must be a or b, not \"{x}\""),
        )),
    }
}

async fn village(
    State(app): State<Arc<App>>,
    UrlPath((id, v)): UrlPath<(u64, usize)>,
    Query(q): Query<Which>,
) -> Response {
    let (e, copy) = match entry_side(&app, id, &q) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match ask(&e, |reply| Command::Village(copy, v, reply)).await {
        Ok(Some(row)) => axum::Json(row).into_response(),
        Ok(None) => bad(StatusCode::NOT_FOUND, format!("no village {v} in this session")),
        Err(r) => r,
    }
}

async fn export(State(app): State<Arc<App>>, UrlPath(id): UrlPath<u64>, Query(q): Query<Which>) -> Response {
    let e = match entry(&app, id) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let name = q.name.unwrap_or_else(|| format!("session-{id}"));
    match ask(&e, |reply| Command::Export(name.clone(), reply)).await {
        Ok(Ok(text)) => (
            [
                (header::CONTENT_TYPE, "application/toml; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.toml\""),
                ),
            ],
            text,
        )
            .into_response(),
        Ok(Err(m)) => bad(StatusCode::BAD_REQUEST, m),
        Err(r) => r,
    }
}

async fn csv(State(app): State<Arc<App>>, UrlPath(id): UrlPath<u64>, Query(q): Query<Which>) -> Response {
    let (e, copy) = match entry_side(&app, id, &q) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match ask(&e, |reply| Command::Csv(copy, reply)).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"session-{id}-metrics.csv\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(r) => r,
    }
}
