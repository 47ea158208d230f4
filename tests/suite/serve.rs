//! The seminar view (`ruralgov serve`) as a browser meets it: the HTTP API on an ephemeral
//! port (sessions, steps, levers, the event stream, refusals), the export re-run bitwise by
//! `ruralgov run`, the session limit, a port in use, and the page end to end in headless
//! Chromium (tests/web/seminar.mjs, with playwright-core from `RURALGOV_NODE_MODULES`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::util::{arg, root, scenario, BIN};

/// A running `ruralgov serve`, stopped when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `ruralgov serve SCENARIO --port 0` and read the address it prints.
fn serve(scenario: &Path) -> Server {
    let mut child = Command::new(BIN)
        .args(["serve", &arg(scenario), "--port", "0", "--threads", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ruralgov serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("a first line");
    if line.is_empty() {
        let mut err = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        panic!("ruralgov serve printed no address: {err}");
    }
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server { child, addr }
}

/// One HTTP/1.1 request; returns (status, body).
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("writes");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("reads");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        unchunk(rest)
    } else {
        rest.to_string()
    };
    (status, body)
}

fn unchunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n..];
        s = s.strip_prefix("\r\n").unwrap_or(s);
    }
    out
}

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

/// The metrics a session recorded must be the first rows of `ruralgov run` of its export.
fn assert_export_reruns(export: &str, metrics: &str, dir: &Path) {
    let file = dir.join("export.toml");
    std::fs::write(&file, export).expect("write export");
    let out = dir.join("rerun");
    let o = Command::new(BIN)
        .args(["run", &arg(&file), "--out", &arg(&out), "--quiet"])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rerun = std::fs::read_to_string(out.join("metrics.csv")).expect("metrics");
    let live: Vec<&str> = metrics.lines().collect();
    assert!(live.len() > 2, "the session recorded months");
    let again: Vec<&str> = rerun.lines().take(live.len()).collect();
    assert_eq!(
        live, again,
        "the exported scenario must re-run the session's months bitwise"
    );
}

#[test]
fn the_api_steps_changes_streams_and_exports_a_session_that_reruns_bitwise() {
    let server = serve(&scenario("tiny"));
    let a = server.addr.as_str();
    let (code, page) = http(a, "GET", "/", "");
    assert_eq!(code, 200);
    assert!(page.contains("seminar view") && !page.contains("http://") && !page.contains("https://"));
    assert_eq!(http(a, "GET", "/vendor/uPlot.iife.min.js", "").0, 200);
    // Nothing but the page's own files.
    for path in [
        "/../Cargo.toml",
        "/scenarios/tiny.toml",
        "/etc/passwd",
        "/api/sessions/99/state",
    ] {
        let (code, body) = http(a, "GET", path, "");
        assert_eq!(code, 404, "{path}: {body}");
    }
    let (code, body) = http(
        a,
        "POST",
        "/api/sessions",
        r#"{"scenario": "tiny", "ab": true, "seed": 5}"#,
    );
    assert_eq!(code, 200, "{body}");
    let created = json(&body);
    let id = created["id"].as_u64().expect("an id");
    assert_eq!(created["state"]["month"], 0);
    assert_eq!(created["state"]["copies"].as_array().map(Vec::len), Some(2));

    // The event stream starts with the whole state.
    let mut sse = TcpStream::connect(a).expect("connects");
    sse.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    write!(sse, "GET /api/sessions/{id}/events HTTP/1.1\r\nHost: {a}\r\n\r\n").expect("writes");
    let mut reader = BufReader::new(sse);
    let mut first = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("reads") == 0 {
            break;
        }
        if let Some(data) = line.strip_prefix("data: ") {
            first = data.trim().to_string();
            break;
        }
    }
    assert_eq!(json(&first)["kind"], "snapshot");

    let s = format!("/api/sessions/{id}");
    assert_eq!(
        http(
            a,
            "POST",
            &format!("{s}/control"),
            r#"{"action": "step", "months": 10}"#
        )
        .0,
        204
    );
    // Bad requests: 400 with a message, never a panic.
    for (path, body, fragment) in [
        (
            "lever",
            r#"{"key": "paths.legal.intensty", "value": 1}"#,
            "unknown setting",
        ),
        ("lever", r#"{"key": "region.villages", "value": 3}"#, "not a schedule"),
        (
            "lever",
            r#"{"key": "paths.legal.intensity", "value": 99}"#,
            "paths.legal.intensity",
        ),
        ("lever", r#"{"key": "paths.legal.intensity"}"#, "malformed"),
        ("lever", "not json", "malformed"),
        ("control", r#"{"action": "fly"}"#, "unknown action"),
        ("control", r#"{"action": "step", "months": 0}"#, "months must be"),
        ("control", r#"{"action": "step", "months": 100000}"#, "months must be"),
        ("control", r#"{"action": "speed", "speed": -1}"#, "speed must be"),
        ("control", r#"{"action": "play", "extra": 1}"#, "unknown field"),
    ] {
        let (code, body) = http(a, "POST", &format!("{s}/{path}"), body);
        assert_eq!(code, 400, "{path} {body}");
        assert!(body.contains(fragment), "{body} lacks {fragment:?}");
    }
    assert_eq!(
        http(
            a,
            "POST",
            &format!("{s}/lever"),
            r#"{"key": "paths.legal.intensity", "value": 1.2}"#
        )
        .0,
        204
    );
    assert_eq!(
        http(
            a,
            "POST",
            &format!("{s}/control"),
            r#"{"action": "step", "months": 14}"#
        )
        .0,
        204
    );
    assert_eq!(
        http(
            a,
            "POST",
            &format!("{s}/lever"),
            r#"{"key": "region.market_exposure", "value": 0.9}"#
        )
        .0,
        204
    );
    assert_eq!(http(a, "POST", &format!("{s}/control"), r#"{"action": "year"}"#).0, 204);
    let state = json(&http(a, "GET", &format!("{s}/state"), "").1);
    assert_eq!(state["month"], 36);
    assert_eq!(state["changes"].as_array().map(Vec::len), Some(2));
    let (code, v) = http(a, "GET", &format!("{s}/villages/2?copy=b"), "");
    assert_eq!(code, 200);
    assert!(json(&v)["residents"].as_u64().is_some());
    assert_eq!(http(a, "GET", &format!("{s}/villages/9999"), "").0, 404);
    assert_eq!(http(a, "GET", &format!("{s}/villages/1?copy=c"), "").0, 400);

    let (code, export) = http(a, "GET", &format!("{s}/scenario.toml?name=tiny-live"), "");
    assert_eq!(code, 200, "{export}");
    let (code, metrics) = http(a, "GET", &format!("{s}/metrics.csv?copy=b"), "");
    assert_eq!(code, 200);
    let dir = tempfile::tempdir().expect("tempdir");
    assert_export_reruns(&export, &metrics, dir.path());
    // Copy A kept the starting scenario: its months differ from B's.
    let (_, a_metrics) = http(a, "GET", &format!("{s}/metrics.csv?copy=a"), "");
    assert_ne!(a_metrics, metrics, "A/B: the changes must show in B only");

    assert_eq!(http(a, "DELETE", &s, "").0, 204);
    assert_eq!(http(a, "GET", &format!("{s}/state"), "").0, 404);
}

#[test]
fn sessions_are_limited_and_a_port_in_use_is_a_clear_error() {
    let server = serve(&scenario("tiny"));
    let a = server.addr.as_str();
    let limit = 6;
    for _ in 0..limit {
        let (code, body) = http(a, "POST", "/api/sessions", r#"{"scenario": "tiny"}"#);
        assert_eq!(code, 200, "{body}");
    }
    let (code, body) = http(a, "POST", "/api/sessions", r#"{"scenario": "tiny"}"#);
    assert_eq!(code, 429, "{body}");
    assert!(body.contains("sessions are open"), "{body}");
    let (code, body) = http(a, "POST", "/api/sessions", r#"{"scenario": "../Cargo"}"#);
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("unknown scenario"));

    let port = a.rsplit(':').next().expect("a port");
    let o = Command::new(BIN)
        .args(["serve", &arg(&scenario("tiny")), "--port", port])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is in use"), "{err}");
}

#[test]
fn the_page_works_end_to_end_in_headless_chromium() {
    let modules = std::env::var_os("RURALGOV_NODE_MODULES").map(PathBuf::from);
    let required = std::env::var("RURALGOV_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
    let Some(modules) = modules.filter(|m| m.join("playwright-core").exists()) else {
        assert!(
            !required,
            "RURALGOV_NODE_MODULES must name a node_modules folder with playwright-core"
        );
        eprintln!("skipped: set RURALGOV_NODE_MODULES to a node_modules folder with playwright-core");
        return;
    };
    let server = serve(&scenario("clan_capture"));
    let out = root().join("target").join("serve-e2e");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).expect("screenshot folder");
    let o = Command::new("node")
        .arg(root().join("tests").join("web").join("seminar.mjs"))
        .arg(format!("http://{}/", server.addr))
        .arg(&out)
        .env("NODE_MODULES", &modules)
        .output()
        .expect("node runs");
    assert!(
        o.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    for shot in ["serve-start.png", "serve-ab.png", "serve-tooltip.png"] {
        let size = std::fs::metadata(out.join(shot)).map(|m| m.len()).unwrap_or(0);
        assert!(size > 20_000, "{shot} is blank ({size} bytes)");
    }
    // The scenario the page downloaded re-runs the page's months bitwise.
    let export = std::fs::read_to_string(out.join("serve-export.toml")).expect("export");
    let metrics = std::fs::read_to_string(out.join("serve-metrics.csv")).expect("metrics");
    assert_export_reruns(&export, &metrics, &out);
}
