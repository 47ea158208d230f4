//! `report.html`: one self-contained page (inline CSS and SVG, no scripts, no fonts or
//! anything else fetched) that reads well on a projector and prints cleanly.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::charts::{Chart, KEY};
use super::data::{Calibration, Folder, Kind, Run, Sensitivity, Sweep};
use super::style::{self, sig};
use super::Skipped;
use crate::experiment::stats;

/// Escape text for HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// An SVG document made fit for inlining into HTML5: no XML namespace (not needed in HTML, and
/// the page must not name any URL), sized by CSS through its viewBox, labelled for screen
/// readers.
pub(crate) fn inline_svg(svg: &str, title: &str) -> String {
    let svg = svg.trim();
    let Some(start) = svg.find("<svg") else {
        return String::new();
    };
    let Some(end) = svg[start..].find('>').map(|e| start + e) else {
        return String::new();
    };
    let open = &svg[start..end];
    let view_box = open
        .split("viewBox=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or("0 0 1600 900");
    format!(
        "<svg viewBox=\"{}\" role=\"img\" aria-label=\"{}\" preserveAspectRatio=\"xMidYMid meet\">{}",
        esc(view_box),
        esc(title),
        &svg[end + 1..]
    )
}

const CSS: &str = r#"
:root { --ink: #1b1b1b; --muted: #555; --rule: #d6d6d6; --accent: #0072b2; --panel: #f3f5f7; }
* { box-sizing: border-box; }
html { font-size: 20px; }
body { margin: 0; font-family: "DejaVu Sans", "Segoe UI", Verdana, Arial, sans-serif; color: var(--ink);
  background: #fff; line-height: 1.5; }
header.top { padding: 2rem max(3rem, calc((100% - 1480px) / 2 + 3rem)) 1.2rem; border-bottom: 6px solid var(--accent); }
header.top .kicker { margin: 0; color: var(--accent); font-weight: 700; letter-spacing: .04em; text-transform: uppercase; font-size: .8rem; }
h1 { font-size: 2.2rem; margin: .2rem 0 .5rem; line-height: 1.15; }
.lede { font-size: 1.15rem; max-width: 60em; margin: 0 0 .6rem; }
.meta { color: var(--muted); margin: 0; font-size: .85rem; }
nav ol { display: flex; flex-wrap: wrap; gap: .3rem 1.6rem; list-style: none; padding: 0; margin: 1rem 0 0; }
nav a { color: var(--accent); text-decoration: none; font-weight: 600; }
nav a:hover, nav a:focus { text-decoration: underline; }
main { max-width: 1480px; margin: 0 auto; padding: .5rem 3rem 3rem; }
section { margin: 2.4rem 0 3rem; }
h2 { font-size: 1.65rem; margin: 0 0 1rem; padding-bottom: .3rem; border-bottom: 2px solid var(--rule); }
h3 { font-size: 1.2rem; margin: 1.8rem 0 .6rem; }
p { max-width: 64em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1.6rem; margin: 1rem 0; }
dl.facts dt { font-weight: 700; color: var(--muted); }
dl.facts dd { margin: 0; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); padding: 0 0 .5rem; }
th, td { padding: .42rem .55rem; border-bottom: 1px solid var(--rule); text-align: left; vertical-align: top; }
th.num, td.num { text-align: right; }
td.num { white-space: nowrap; }
td.ci { font-variant-numeric: tabular-nums; }
section.headline { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); gap: 0 1.6rem; align-items: start; margin: 1.2rem 0 2.4rem; }
section.headline h2 { grid-column: 1 / -1; }
section.headline ul.effects { grid-column: 1; font-size: .85rem; margin: 0 0 .6rem; padding-left: 1.1rem; }
section.headline ul.effects li { margin: 0 0 .45rem; }
section.headline .what { font-weight: 700; }
section.headline .what .sub { display: inline; }
section.headline > p.note { grid-column: 1; font-size: .75rem; margin: 0; }
section.headline figure { grid-column: 2; grid-row: 2 / span 2; margin: 0; }
section.headline figcaption { font-size: .75rem; }
td.arm, thead th.arm { white-space: nowrap; }
td.metric { min-width: 12em; }
thead th { background: var(--panel); border-bottom: 2px solid #8a8a8a; }
tbody tr:nth-child(even) { background: #fafbfc; }
tr.clear td.effect { font-weight: 700; }
tr.unclear td { color: var(--muted); }
.sub { display: block; color: var(--muted); font-size: .8rem; }
.swatch { display: inline-block; width: .85em; height: .85em; border-radius: 2px; margin-right: .45em; vertical-align: -.08em; }
figure { margin: 2rem 0 3.2rem; }
figure svg { display: block; width: 100%; height: auto; border: 1px solid var(--rule); border-radius: 4px; background: #fff; }
svg text { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; }
figcaption { margin-top: .7rem; color: var(--muted); font-size: .95rem; max-width: 72em; }
figcaption strong { color: var(--ink); }
code, pre { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
pre { background: var(--panel); border: 1px solid var(--rule); border-radius: 4px; padding: 1rem 1.2rem; overflow-x: auto; font-size: .85rem; line-height: 1.45; }
details summary { cursor: pointer; font-weight: 700; }
details[open] summary { margin-bottom: .6rem; }
.note { color: var(--muted); }
ul.skipped li { margin: .2rem 0; }
footer { color: var(--muted); font-size: .8rem; border-top: 1px solid var(--rule); padding: 1rem max(3rem, calc((100% - 1480px) / 2 + 3rem)) 2rem; }
@media (max-width: 1500px) {
  /* Projectors of 1280 or 1366 pixels: keep every table column on screen, and the headline
     (numbers and key chart) on the first screen. */
  header.top { padding: 1rem 1.5rem .6rem; }
  h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
  .lede { font-size: .85rem; margin: 0 0 .3rem; }
  .meta { font-size: .7rem; }
  nav ol { margin: .4rem 0 0; font-size: .8rem; }
  section.headline { margin-top: .6rem; }
  section.headline h2 { font-size: 1.1rem; margin-bottom: .5rem; }
  main { padding: .5rem 1.5rem 2.5rem; }
  table { font-size: .8rem; }
  th, td { padding: .32rem .4rem; }
  td.metric { min-width: 9em; }
  code { word-break: break-word; }
}
@media print {
  .table-wrap { overflow: visible; }
  table { font-size: 8pt; }
  td.num, td.arm, thead th.arm { white-space: normal; }
  @page { size: A4 landscape; margin: 14mm; }
  html { font-size: 10.5pt; }
  body { background: #fff; color: #000; }
  header.top { padding: 0 0 8pt; border-bottom: 3pt solid #000; }
  header.top .kicker { color: #000; }
  nav { display: none; }
  main { max-width: none; padding: 0; }
  section { break-before: page; margin: 0; }
  h2 { break-after: avoid; }
  figure { break-inside: avoid; margin: 0 0 12pt; }
  figure svg { border: none; max-height: 150mm; }
  thead th { background: #eee; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  tbody tr:nth-child(even) { background: none; }
  pre { white-space: pre-wrap; word-break: break-all; background: #fff; border: 1px solid #999; }
  a { color: inherit; text-decoration: none; }
  footer { padding: 8pt 0 0; }
}
"#;

fn flatten(v: &Value, prefix: &str, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(x, &key, out);
            }
        }
        _ => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}

fn json_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// A setting's value in few characters: schedules as `year: value` keyframes.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_f64().map(json_num).unwrap_or_else(|| n.to_string()),
        Value::Array(a) => {
            let pairs: Option<Vec<String>> = a
                .iter()
                .map(|p| match p.as_array().map(|p| p.as_slice()) {
                    Some([y, x]) => Some(format!("{}: {}", json_num(y.as_f64()?), json_num(x.as_f64()?))),
                    _ => None,
                })
                .collect();
            match pairs {
                Some(p) if !p.is_empty() => p.join(", "),
                _ => a.iter().map(show).collect::<Vec<_>>().join(", "),
            }
        }
        Value::Object(m) => m
            .iter()
            .map(|(k, x)| format!("{k} = {}", show(x)))
            .collect::<Vec<_>>()
            .join("; "),
        Value::Null => "–".into(),
        Value::Bool(b) => b.to_string(),
    }
}

fn defaults() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    if let Ok(v) = serde_json::to_value(crate::scenario::Scenario::default()) {
        flatten(&v, "", &mut out);
    }
    out
}

/// Settings of `scenario` that differ from the defaults, except `skip` and the texts.
fn differing_from_defaults(scenario: &Value, skip: &[String]) -> Vec<(String, String, String)> {
    let d = defaults();
    let mut flat = BTreeMap::new();
    flatten(scenario, "", &mut flat);
    flat.into_iter()
        .filter(|(k, _)| k != "name" && k != "description" && !skip.contains(k))
        .filter(|(k, v)| d.get(k) != Some(v))
        .map(|(k, v)| {
            let def = d.get(&k).map(show).unwrap_or_else(|| "–".into());
            (k, show(&v), def)
        })
        .collect()
}

fn settings_table(rows: &[(String, String, String)], caption: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<div class=\"table-wrap\"><table><caption>{}</caption><thead><tr><th>setting</th><th>value</th><th>default</th></tr></thead><tbody>",
        esc(caption)
    );
    for (k, v, d) in rows {
        let _ = write!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"note\">{}</td></tr>",
            esc(k),
            esc(v),
            esc(d)
        );
    }
    s.push_str("</tbody></table></div>");
    s
}

fn swatch(i: usize) -> String {
    format!(
        "<span class=\"swatch\" style=\"background:{}\" aria-hidden=\"true\"></span>",
        style::hex(style::arm_colour(i))
    )
}

fn get_str<'a>(v: Option<&'a Value>, path: &str) -> Option<&'a str> {
    v.and_then(|v| v.pointer(path)).and_then(|x| x.as_str())
}

fn short_commit(m: Option<&Value>) -> String {
    let c = get_str(m, "/git_commit").unwrap_or("unknown");
    c.chars().take(10).collect()
}

fn metric_cell(label: &str) -> String {
    let (_, title, how, unit) = style::label(label);
    let sub: Vec<String> = [how, unit].into_iter().filter(|x| !x.is_empty()).collect();
    format!("{}<span class=\"sub\">{}</span>", esc(&title), esc(&sub.join(" · ")))
}

fn metric_inline(label: &str) -> String {
    let (_, title, how, unit) = style::label(label);
    let sub: Vec<String> = [how, unit].into_iter().filter(|x| !x.is_empty()).collect();
    if sub.is_empty() {
        title
    } else {
        format!("{title} ({})", sub.join(", "))
    }
}

fn interval(lo: f64, hi: f64) -> String {
    if lo.is_finite() && hi.is_finite() {
        format!("[{}, {}]", sig(lo), sig(hi))
    } else {
        "–".into()
    }
}

/// The command that produced a run, with the program named `ruralgov`.
fn run_command(m: Option<&Value>) -> Option<String> {
    let c = get_str(m, "/command")?;
    let mut parts = c.split_whitespace();
    let first = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    let prog = if first.ends_with("ruralgov") { "ruralgov" } else { first };
    Some(std::iter::once(prog).chain(rest).collect::<Vec<_>>().join(" "))
}

/// Find the experiment file of a sweep: bundled location or next to the base scenario, and
/// only if it is the very experiment recorded.
fn experiment_file(exp: &Value) -> Option<String> {
    let name = exp.get("name")?.as_str()?;
    let file = format!("{name}.toml");
    let mut candidates = vec![PathBuf::from("scenarios/experiments").join(&file)];
    if let Some(dir) = exp
        .get("base")
        .and_then(|b| b.as_str())
        .and_then(|b| Path::new(b).parent())
    {
        candidates.push(dir.join("experiments").join(&file));
        candidates.push(dir.join(&file));
    }
    let cwd = std::env::current_dir().ok();
    for c in candidates {
        let Ok(loaded) = crate::experiment::spec::load(&c) else {
            continue;
        };
        let e = &loaded.experiment;
        let same = e.name == name
            && Some(e.seed) == exp.get("seed").and_then(|x| x.as_u64())
            && Some(e.replications as u64) == exp.get("replications").and_then(|x| x.as_u64())
            && Some(e.arm.len()) == exp.get("arm").and_then(|x| x.as_array()).map(|a| a.len())
            && Some(e.factor.len()) == exp.get("factor").and_then(|x| x.as_array()).map(|a| a.len())
            && serde_json::to_value(&e.metric).ok().as_ref() == exp.get("metric")
            && serde_json::to_value(&e.set).ok().as_ref() == exp.get("set");
        if same {
            let shown = match &cwd {
                Some(d) => c.strip_prefix(d).map(Path::to_path_buf).unwrap_or(c.clone()),
                None => c.clone(),
            };
            return Some(shown.display().to_string());
        }
    }
    None
}

/// The experiment file a sweep's manifest records, shown relative to the working folder when
/// it lies below it, if it still exists.
fn recorded_experiment_file(m: Option<&Value>) -> Option<String> {
    let p = PathBuf::from(get_str(m, "/experiment_file")?);
    if !p.is_file() {
        return None;
    }
    let cwd = std::env::current_dir().ok();
    let shown = match &cwd {
        Some(d) => p.strip_prefix(d).map(Path::to_path_buf).unwrap_or(p.clone()),
        None => p,
    };
    Some(shown.display().to_string())
}

/// The whole page.
pub(crate) fn render(f: &Folder, charts: &[Chart], svgs: &[String], skipped: &[Skipped], report_cmd: &str) -> String {
    let m = f.manifest.as_ref();
    let dir = f.dir.display().to_string();
    let (name, description, kind_phrase) = match &f.kind {
        Kind::Run(_) => (
            get_str(m, "/scenario_name").unwrap_or("run").to_string(),
            get_str(m, "/scenario/description").unwrap_or("").to_string(),
            "Single run".to_string(),
        ),
        Kind::Sweep(s) => (
            get_str(m, "/experiment_name")
                .or_else(|| {
                    s.experiment
                        .as_ref()
                        .and_then(|e| e.get("name"))
                        .and_then(|x| x.as_str())
                })
                .unwrap_or("sweep")
                .to_string(),
            s.experiment
                .as_ref()
                .and_then(|e| e.get("description"))
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .to_string(),
            format!("Sweep · {} runs", s.runs.len()),
        ),
        Kind::Calibration(c) => (
            c.spec.name.clone(),
            c.spec.description.clone(),
            format!(
                "Calibration · {} waves · {} parameter sets retained",
                c.waves.len(),
                c.retained.as_ref().map_or(0, Vec::len)
            ),
        ),
    };
    let mut h = String::new();
    let _ = writeln!(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"ruralgov {}\">\n<title>ruralgov report: {}</title>\n<style>{}</style>\n</head>\n<body>",
        env!("CARGO_PKG_VERSION"),
        esc(&name),
        CSS
    );
    let _ = writeln!(
        h,
        "<header class=\"top\">\n<p class=\"kicker\">ruralgov report · {}</p>\n<h1>{}</h1>",
        esc(&kind_phrase),
        esc(&name)
    );
    if !description.is_empty() {
        let _ = writeln!(h, "<p class=\"lede\">{}</p>", esc(&description));
    }
    let _ = writeln!(
        h,
        "<p class=\"meta\">Results in <code>{}</code> · ruralgov {} · commit {}</p>",
        esc(&dir),
        esc(get_str(m, "/ruralgov_version").unwrap_or("?")),
        esc(&short_commit(m))
    );
    h.push_str(
        "<nav aria-label=\"Contents\"><ol><li><a href=\"#headline\">Headline</a></li><li><a href=\"#run\">What was run</a></li><li><a href=\"#findings\">Findings</a></li><li><a href=\"#charts\">Charts</a></li><li><a href=\"#reproduce\">Reproduce</a></li><li><a href=\"#manifest\">Manifest</a></li></ol></nav>\n</header>\n<main>\n",
    );

    let key = key_chart_index(charts);
    h.push_str(&headline(f, key.map(|k| (&charts[k], svgs[k].as_str()))));

    // What was run.
    h.push_str("<section id=\"run\">\n<h2>What was run</h2>\n");
    match &f.kind {
        Kind::Run(run) => h.push_str(&run_summary(m, run)),
        Kind::Sweep(s) => h.push_str(&sweep_summary(m, s)),
        Kind::Calibration(c) => h.push_str(&calibration_summary(m, c)),
    }
    if let Some(why) = &f.manifest_missing {
        let _ = write!(
            h,
            "<p class=\"note\">{} (so little is known about what was run).</p>",
            esc(why)
        );
    }
    h.push_str("</section>\n");

    // Findings.
    h.push_str("<section id=\"findings\">\n<h2>Findings</h2>\n");
    match &f.kind {
        Kind::Run(run) => h.push_str(&run_findings(run)),
        Kind::Sweep(s) => h.push_str(&sweep_findings(s, &dir)),
        Kind::Calibration(c) => h.push_str(&calibration_findings(c)),
    }
    h.push_str("</section>\n");

    // Charts.
    h.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n");
    let _ = writeln!(h, "<p class=\"note\">{} chart{}. The same charts as PNG or SVG files: <code>ruralgov plot {} --format both</code>.</p>",
        charts.len(),
        if charts.len() == 1 { "" } else { "s" },
        esc(&crate::output::shell_quote(&dir))
    );
    if let Some(k) = key {
        let _ = writeln!(
            h,
            "<p class=\"note\">Figure 1, {}, is at the top of the page.</p>",
            esc(&charts[k].title)
        );
    }
    let mut number = 1;
    for (k, (c, svg)) in charts.iter().zip(svgs).enumerate() {
        if Some(k) == key {
            continue;
        }
        number += 1;
        let _ = writeln!(h, "<figure id=\"chart-{}\">\n{}\n<figcaption><strong>Figure {}. {}.</strong> {} <span class=\"sub\">File: {}.png / {}.svg</span></figcaption>\n</figure>",
            esc(&c.name),
            inline_svg(svg, &c.title),
            number,
            esc(&c.title),
            esc(&c.caption),
            esc(&c.name),
            esc(&c.name)
        );
    }
    if !skipped.is_empty() {
        h.push_str("<h3>Not drawn</h3>\n<ul class=\"skipped\">\n");
        for s in skipped {
            let _ = writeln!(h, "<li><strong>{}</strong>: {}</li>", esc(&s.chart), esc(&s.reason));
        }
        h.push_str("</ul>\n");
    }
    h.push_str("</section>\n");

    // Reproduce.
    h.push_str("<section id=\"reproduce\">\n<h2>Reproduce</h2>\n");
    let mut cmds: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    match &f.kind {
        Kind::Calibration(_) => match get_str(m, "/calibration_file") {
            Some(p) => cmds.push(format!(
                "ruralgov calibrate {} --out {}",
                crate::output::shell_quote(p),
                crate::output::shell_quote(&dir)
            )),
            None => notes.push("The manifest does not record the calibration file.".into()),
        },
        Kind::Run(_) => match run_command(m) {
            Some(c) => cmds.push(c),
            None => notes.push("The manifest does not record the command of the run.".into()),
        },
        Kind::Sweep(s) => {
            let file = recorded_experiment_file(m).or_else(|| s.experiment.as_ref().and_then(experiment_file));
            match file {
                Some(p) => cmds.push(format!(
                    "ruralgov sweep {} --out {}",
                    crate::output::shell_quote(&p),
                    crate::output::shell_quote(&dir)
                )),
                None => {
                    cmds.push(format!(
                        "ruralgov sweep EXPERIMENT.toml --out {}",
                        crate::output::shell_quote(&dir)
                    ));
                    notes.push(format!(
                        "EXPERIMENT.toml is the experiment file named \"{}\"; it was not found at its bundled place, but its resolved content is recorded in the manifest below.",
                        name
                    ));
                }
            }
            if s.compare_from_file {
                let baseline = match &s.compare {
                    Ok(rows) => rows.first().map(|r| r.baseline.clone()),
                    Err(_) => None,
                };
                let mut c = format!("ruralgov compare {}", crate::output::shell_quote(&dir));
                if let Some(b) = baseline.filter(|b| Some(b) != s.arms.first()) {
                    let _ = write!(c, " --baseline {}", crate::output::shell_quote(&b));
                }
                let boot = match &s.compare {
                    Ok(rows) => rows.iter().map(|r| r.bootstrap).max().unwrap_or(0),
                    Err(_) => 0,
                };
                let has_intervals = matches!(&s.compare, Ok(rows) if rows.iter().any(|r| r.boot_low.is_some()));
                if boot > 0 {
                    let _ = write!(c, " --bootstrap {boot}");
                } else if has_intervals {
                    c.push_str(" --bootstrap N");
                    notes.push("compare.csv holds bootstrap intervals from an older ruralgov that did not record their number of resamples N.".into());
                }
                cmds.push(c);
            }
        }
    }
    cmds.push(report_cmd.to_string());
    let _ = writeln!(h, "<p>From the root of the ruralgov repository at commit <code>{}</code>, with the <code>ruralgov</code> binary built by <code>cargo build --release</code> (<code>target/release/ruralgov</code>); the same inputs give bitwise-identical results:</p>\n<pre><code>{}</code></pre>",
        esc(&short_commit(m)),
        esc(&cmds.join("\n"))
    );
    for n in notes {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(&n));
    }
    h.push_str("</section>\n");

    // Manifest.
    h.push_str("<section id=\"manifest\">\n<h2>Manifest</h2>\n");
    match m {
        Some(v) => {
            let text = serde_json::to_string_pretty(v).unwrap_or_default();
            let _ = writeln!(h, "<details>\n<summary>manifest.json ({} lines): versions, seeds and every resolved parameter</summary>\n<pre><code>{}</code></pre>\n</details>",
                text.lines().count(),
                esc(&text)
            );
        }
        None => {
            let _ = writeln!(
                h,
                "<p class=\"note\">{}.</p>",
                esc(f.manifest_missing.as_deref().unwrap_or("no manifest"))
            );
        }
    }
    h.push_str("</section>\n</main>\n");
    let _ = writeln!(h, "<footer>Generated by ruralgov {} from <code>{}</code>. Self-contained: no scripts, fonts or images are loaded from anywhere.</footer>\n</body>\n</html>",
        env!("CARGO_PKG_VERSION"),
        esc(&dir)
    );
    h
}

fn facts(rows: &[(&str, String)]) -> String {
    let mut s = String::from("<dl class=\"facts\">\n");
    for (k, v) in rows {
        if !v.is_empty() {
            let _ = writeln!(s, "<dt>{}</dt><dd>{}</dd>", esc(k), v);
        }
    }
    s.push_str("</dl>\n");
    s
}

fn calibration_summary(m: Option<&Value>, c: &Calibration) -> String {
    let cal = &c.spec;
    let runs: usize = c.waves.iter().map(|w| w.1).sum::<usize>() * cal.replications as usize;
    let mut out = facts(&[
        ("Base scenario", format!("<code>{}</code>", esc(&cal.base))),
        (
            "Method",
            "Bayesian history matching with Gaussian-process emulators (docs/calibration.md)".into(),
        ),
        (
            "Waves",
            format!(
                "{} of {} points x {} seeds ({runs} runs), cut-off {}",
                c.waves.len(),
                cal.method.points,
                cal.replications,
                cal.method.cutoff
            ),
        ),
        ("Calibration file", esc(get_str(m, "/calibration_file").unwrap_or("?"))),
    ]);
    out.push_str("<h3>Targets</h3>\n<div class=\"table-wrap\"><table><thead><tr><th>target</th><th>model output</th><th>observed</th><th>sd</th><th>discrepancy</th><th>source</th></tr></thead><tbody>\n");
    for t in &cal.target {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"note\">{}</td></tr>",
            esc(&t.name),
            esc(&t.metric_spec().label()),
            sig(t.value),
            sig(t.sd),
            sig(t.discrepancy),
            esc(&t.source)
        );
    }
    out.push_str("</tbody></table></div>\n<h3>Free parameters</h3>\n<div class=\"table-wrap\"><table><thead><tr><th>parameter</th><th>prior range</th><th>retained, 5-95%</th><th>reason for the range</th></tr></thead><tbody>\n");
    for (i, p) in cal.parameter.iter().enumerate() {
        let retained = match &c.retained {
            Ok(sets) if !sets.is_empty() => {
                let v: Vec<f64> = sets.iter().map(|s| s[i]).collect();
                format!(
                    "{} to {}",
                    sig(stats::quantile(&v, 0.05)),
                    sig(stats::quantile(&v, 0.95))
                )
            }
            _ => "-".into(),
        };
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{} to {}{}</td><td>{}</td><td class=\"note\">{}</td></tr>",
            esc(&p.key),
            sig(p.range.first().copied().unwrap_or(f64::NAN)),
            sig(p.range.get(1).copied().unwrap_or(f64::NAN)),
            if p.scale == crate::calibration::Scale::Log {
                " (log)"
            } else {
                ""
            },
            retained,
            esc(&p.reason)
        );
    }
    out.push_str("</tbody></table></div>\n");
    out
}

fn calibration_findings(c: &Calibration) -> String {
    let cal = &c.spec;
    let mut out = String::from("<h3>Waves</h3>\n<div class=\"table-wrap\"><table><thead><tr><th>wave</th><th>design points</th><th>share of the space left before it</th><th>points within the cut-off</th></tr></thead><tbody>\n");
    for (w, points, left, within) in &c.waves {
        let _ = writeln!(
            out,
            "<tr><td>{w}</td><td>{points}</td><td>{:.1}%</td><td>{within}</td></tr>",
            100.0 * left
        );
    }
    out.push_str("</tbody></table></div>\n<h3>Fit to the targets</h3>\n<div class=\"table-wrap\"><table><thead><tr><th>target</th><th>observed</th><th>retained sets: mean</th><th>min</th><th>max</th></tr></thead><tbody>\n");
    for (t, (m, lo, hi)) in cal.target.iter().zip(&c.fit) {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&t.name),
            sig(t.value),
            sig(*m),
            sig(*lo),
            sig(*hi)
        );
    }
    out.push_str("</tbody></table></div>\n");
    // Which parameters the data narrow: the retained sets' 5-95% span on the unit scale.
    if let Ok(sets) = &c.retained {
        if sets.len() >= 2 {
            let mut narrowed = Vec::new();
            let mut open = Vec::new();
            for (i, p) in cal.parameter.iter().enumerate() {
                let u: Vec<f64> = sets.iter().map(|s| p.to_unit(s[i])).collect();
                let span = stats::quantile(&u, 0.95) - stats::quantile(&u, 0.05);
                if span < 0.8 {
                    narrowed.push(format!("{} ({:.0}% of its prior range)", p.key, 100.0 * span));
                } else {
                    open.push(p.key.clone());
                }
            }
            let _ = writeln!(
                out,
                "<p>Narrowed by the data (the retained sets' 5-95% range on each parameter's scale is below 80% of the prior's): {}. Not narrowed on their own: {}. A parameter that is not narrowed may still be constrained jointly with another (see the pairs chart).</p>",
                if narrowed.is_empty() { "none".to_string() } else { esc(&narrowed.join(", ")) },
                if open.is_empty() { "none".to_string() } else { esc(&open.join(", ")) }
            );
        }
    }
    out
}

fn run_summary(m: Option<&Value>, run: &Run) -> String {
    let sc = m.and_then(|m| m.get("scenario"));
    let num = |p: &str| m.and_then(|m| m.pointer(p)).and_then(|x| x.as_f64());
    let mut rows: Vec<(&str, String)> = Vec::new();
    let files: Vec<String> = m
        .and_then(|m| m.get("scenario_files"))
        .and_then(|x| x.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str())
                .map(|x| format!("<code>{}</code>", esc(x)))
                .collect()
        })
        .unwrap_or_default();
    rows.push(("Scenario files", files.join(" → ")));
    let overrides: Vec<String> = m
        .and_then(|m| m.get("overrides"))
        .and_then(|x| x.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str())
                .map(|x| format!("<code>--set {}</code>", esc(x)))
                .collect()
        })
        .unwrap_or_default();
    rows.push(("Overrides", overrides.join(" ")));
    if let Some(seed) = m.and_then(|m| m.get("seed")) {
        rows.push(("Seed", esc(&seed.to_string())));
    }
    let first = run.metrics.year.first().copied();
    let last = run.metrics.year.last().copied();
    if let (Some(a), Some(b)) = (first, last) {
        let steps = num("/steps")
            .map(|s| format!(" ({} monthly steps)", json_num(s)))
            .unwrap_or_default();
        rows.push(("Years", format!("{a}–{b}{steps}")));
    }
    if let Some(v) = num("/villages") {
        rows.push(("Villages", style::number(v, 0)));
    }
    if let Some(v) = num("/initial_registered_adults") {
        rows.push(("Registered adults at the start", style::number(v, 0)));
    }
    if let (Some(w), Some(t)) = (num("/wall_seconds"), num("/threads")) {
        rows.push((
            "Wall time",
            format!("{w:.2} s on {} thread{}", json_num(t), if t == 1.0 { "" } else { "s" }),
        ));
    }
    let mut s = facts(&rows);
    match sc {
        Some(sc) => {
            let diff = differing_from_defaults(sc, &[]);
            if diff.is_empty() {
                s.push_str(
                    "<p>Every setting has ruralgov's default value (<code>ruralgov show</code> prints them all).</p>\n",
                );
            } else {
                s.push_str("<h3>Key parameters: settings that differ from ruralgov's defaults</h3>\n");
                s.push_str(&settings_table(
                    &diff,
                    "Schedules are written as year: value keyframes, interpolated linearly. Every other setting has its documented default; the manifest below lists all of them.",
                ));
            }
        }
        None => s.push_str("<p class=\"note\">The resolved scenario is unknown (no manifest).</p>\n"),
    }
    s
}

fn sweep_summary(m: Option<&Value>, s: &Sweep) -> String {
    let e = s.experiment.as_ref();
    let reps = e
        .and_then(|e| e.get("replications"))
        .and_then(|x| x.as_u64())
        .unwrap_or(0);
    let mut rows: Vec<(&str, String)> = vec![(
        "Runs",
        format!(
            "{} = {} arm{} × {} design point{} × {} replication{}",
            s.runs.len(),
            s.arms.len(),
            if s.arms.len() == 1 { "" } else { "s" },
            s.points,
            if s.points == 1 { "" } else { "s" },
            reps,
            if reps == 1 { "" } else { "s" }
        ),
    )];
    rows.push((
        "Design",
        if s.factors.is_empty() {
            format!("{} (no factors)", esc(&s.method))
        } else {
            format!(
                "{} over {} factor{}",
                esc(&s.method),
                s.factors.len(),
                if s.factors.len() == 1 { "" } else { "s" }
            )
        },
    ));
    if let Some(seeds) = get_str(m, "/seeds") {
        let seed = e.and_then(|e| e.get("seed")).map(|x| x.to_string()).unwrap_or_default();
        rows.push(("Seeds", format!("experiment seed {}; {}", esc(&seed), esc(seeds))));
    }
    if let Some(set) = e.and_then(|e| e.get("set")).and_then(|x| x.as_object()) {
        if !set.is_empty() {
            let items: Vec<String> = set
                .iter()
                .map(|(k, v)| format!("<code>{} = {}</code>", esc(k), esc(&show(v))))
                .collect();
            rows.push(("Every run", items.join(", ")));
        }
    }
    if let Some(b) = e
        .and_then(|e| e.pointer("/budget/per_village_per_year"))
        .and_then(|x| x.as_f64())
    {
        if b > 0.0 {
            rows.push((
                "Equal budget",
                format!("{} yuan per village per year in every arm", style::number(b, 0)),
            ));
        }
    }
    let metrics: Vec<String> = s.metrics.iter().map(|l| esc(&metric_inline(l))).collect();
    rows.push(("Metrics", metrics.join("; ")));
    let mut out = facts(&rows);

    // Arms.
    let arm_specs: Vec<&Value> = e
        .and_then(|e| e.get("arm"))
        .and_then(|x| x.as_array())
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    out.push_str("<h3>Arms</h3>\n<div class=\"table-wrap\"><table><thead><tr><th>arm</th><th>scenario</th><th>overrides</th></tr></thead><tbody>\n");
    let base = e.and_then(|e| e.get("base")).and_then(|x| x.as_str()).unwrap_or("");
    for (i, arm) in s.arms.iter().enumerate() {
        let spec = arm_specs
            .iter()
            .find(|a| a.get("name").and_then(|x| x.as_str()) == Some(arm.as_str()));
        let file = spec
            .and_then(|a| a.get("scenario"))
            .and_then(|x| x.as_str())
            .filter(|x| !x.is_empty())
            .unwrap_or(base);
        let file = Path::new(file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let set = spec.and_then(|a| a.get("set")).map(show).unwrap_or_default();
        let _ = writeln!(
            out,
            "<tr><td>{}{}</td><td><code>{}</code></td><td>{}</td></tr>",
            swatch(i),
            esc(arm),
            esc(&file),
            if set.is_empty() {
                "–".into()
            } else {
                format!("<code>{}</code>", esc(&set))
            }
        );
    }
    out.push_str("</tbody></table></div>\n");

    // How the arms differ, and what all runs share.
    let scenarios: Vec<(String, BTreeMap<String, Value>)> = s
        .arms
        .iter()
        .filter_map(|a| {
            m.and_then(|m| m.pointer(&format!("/arm_scenarios/{}", a.replace('~', "~0").replace('/', "~1"))))
                .map(|v| {
                    let mut flat = BTreeMap::new();
                    flatten(v, "", &mut flat);
                    (a.clone(), flat)
                })
        })
        .collect();
    let mut differing: Vec<String> = Vec::new();
    if scenarios.len() > 1 {
        let keys: std::collections::BTreeSet<&String> = scenarios.iter().flat_map(|(_, f)| f.keys()).collect();
        for k in keys {
            if k == "name" || k == "description" {
                continue;
            }
            let first = scenarios[0].1.get(k);
            if scenarios.iter().any(|(_, f)| f.get(k) != first) {
                differing.push(k.clone());
            }
        }
        if !differing.is_empty() {
            out.push_str("<h3>Key parameters: how the arms differ</h3>\n<div class=\"table-wrap\"><table><thead><tr><th>setting</th>");
            for (i, (a, _)) in scenarios.iter().enumerate() {
                let idx = s.arms.iter().position(|x| x == a).unwrap_or(i);
                let _ = write!(out, "<th class=\"arm\">{}{}</th>", swatch(idx), esc(a));
            }
            out.push_str("</tr></thead><tbody>\n");
            for k in &differing {
                let _ = write!(out, "<tr><td><code>{}</code></td>", esc(k));
                for (_, f) in &scenarios {
                    let _ = write!(
                        out,
                        "<td>{}</td>",
                        esc(&f.get(k).map(show).unwrap_or_else(|| "–".into()))
                    );
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</tbody></table></div>\n");
        }
    }
    if let Some(factors) = e.and_then(|e| e.get("factor")).and_then(|x| x.as_array()) {
        if !factors.is_empty() {
            out.push_str("<h3>Factors</h3>\n<div class=\"table-wrap\"><table><thead><tr><th>setting</th><th>values or range</th></tr></thead><tbody>\n");
            for fct in factors {
                let key = fct.get("key").and_then(|x| x.as_str()).unwrap_or("?");
                let values = fct.get("values").and_then(|x| x.as_array()).filter(|a| !a.is_empty());
                let shown = match values {
                    Some(v) => v.iter().map(show).collect::<Vec<_>>().join(", "),
                    None => format!(
                        "range {}",
                        fct.get("range")
                            .map(|r| show(r).replace(", ", " to "))
                            .unwrap_or_default()
                    ),
                };
                let _ = writeln!(
                    out,
                    "<tr><td><code>{}</code></td><td>{}</td></tr>",
                    esc(key),
                    esc(&shown)
                );
            }
            out.push_str("</tbody></table></div>\n");
        }
    }
    if let Some((_, first)) = scenarios.first() {
        let d = defaults();
        let common: Vec<(String, String, String)> = first
            .iter()
            .filter(|(k, _)| *k != "name" && *k != "description" && !differing.contains(k))
            .filter(|(k, _)| !s.factors.contains(k) && *k != "run.seed")
            .filter(|(k, v)| d.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), show(v), d.get(k).map(show).unwrap_or_else(|| "–".into())))
            .collect();
        if !common.is_empty() {
            let _ = writeln!(out, "<h3>Settings shared by every run</h3>\n<details>\n<summary>{} setting{} that differ from ruralgov's defaults</summary>\n{}</details>",
                common.len(),
                if common.len() == 1 { "" } else { "s" },
                settings_table(
                    &common,
                    "Seeds are set per replicate (see Seeds above); factors, where there are any, vary around these values."
                )
            );
        }
    }
    out
}

fn run_findings(run: &Run) -> String {
    let t = &run.metrics;
    let n = t.year.len();
    let when = |i: usize| format!("{}-{:02}", t.year[i], t.month[i]);
    let mut rows: Vec<(f64, String)> = Vec::new();
    for name in KEY {
        let Some(col) = t.columns.get(name) else { continue };
        let first = col.iter().position(|v| v.is_finite());
        let last = col.iter().rposition(|v| v.is_finite());
        let (Some(a), Some(b)) = (first, last) else { continue };
        let (x0, x1) = (col[a], col[b]);
        let change = x1 - x0;
        let rel = if x0 != 0.0 { change / x0.abs() } else { f64::NAN };
        let (title, unit) = style::metric(name);
        let row = format!(
            "<tr><td>{}<span class=\"sub\">{}</span></td><td class=\"num\">{}<span class=\"sub\">{}</span></td><td class=\"num\">{}<span class=\"sub\">{}</span></td><td class=\"num effect\">{}</td><td class=\"num\">{}</td></tr>\n",
            esc(&title),
            esc(&unit),
            sig(x0),
            when(a),
            sig(x1),
            when(b),
            sig(change),
            if rel.is_finite() { format!("{:+.1}%", 100.0 * rel).replace('-', "−") } else { "–".into() }
        );
        rows.push((if rel.is_finite() { rel.abs() } else { -1.0 }, row));
    }
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut s = format!(
        "<p class=\"note\">Key observables at the first and the last recorded month ({} rows in metrics.csv), sorted by the size of the relative change, largest first. One run is one draw of a stochastic model: compare scenarios with a sweep of paired replications (<code>ruralgov sweep</code>, <code>ruralgov compare</code>).</p>\n",
        n
    );
    s.push_str("<div class=\"table-wrap\"><table><thead><tr><th>observable</th><th class=\"num\">first</th><th class=\"num\">last</th><th class=\"num\">change</th><th class=\"num\">relative change</th></tr></thead><tbody>\n");
    for (_, r) in rows {
        s.push_str(&r);
    }
    s.push_str("</tbody></table></div>\n");
    s
}

/// Whether a comparison's 95% interval excludes zero.
fn is_clear(r: &crate::experiment::compare::Row) -> bool {
    r.ci_low.is_finite() && r.ci_high.is_finite() && (r.ci_low > 0.0 || r.ci_high < 0.0)
}

/// A difference with its sign (+0.165, −0.020).
fn signed(x: f64) -> String {
    if x.is_finite() && x > 0.0 {
        format!("+{}", sig(x))
    } else {
        sig(x)
    }
}

/// Comparisons metric by metric (in `metrics` order), and within a metric by the size of the
/// effect in the metric's unit, largest first.
fn by_effect<'a>(
    rows: &'a [crate::experiment::compare::Row],
    metrics: &[String],
) -> Vec<&'a crate::experiment::compare::Row> {
    let order = |m: &str| metrics.iter().position(|x| x == m).unwrap_or(usize::MAX);
    let mut sorted: Vec<&crate::experiment::compare::Row> = rows.iter().collect();
    sorted.sort_by(|a, b| {
        order(&a.metric)
            .cmp(&order(&b.metric))
            .then(b.difference.abs().total_cmp(&a.difference.abs()))
    });
    sorted
}

/// The first screen: the headline numbers in words, beside the key chart.
fn headline(f: &Folder, key_chart: Option<(&Chart, &str)>) -> String {
    let mut h = String::from("<section id=\"headline\" class=\"headline\">\n<h2>Headline</h2>\n");
    match &f.kind {
        Kind::Calibration(c) => {
            let left = c.waves.last().map(|w| w.2).unwrap_or(f64::NAN);
            let space = f
                .manifest
                .as_ref()
                .and_then(|m| m.get("space_left"))
                .and_then(|v| v.as_f64())
                .map(|v| format!("{:.1}%", 100.0 * v))
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                h,
                "<ul class=\"effects\">\n<li><span class=\"what\">Parameter sets retained</span>: <strong>{}</strong> (the last wave's design points that match every target when simulated)</li>\n<li><span class=\"what\">Share of the prior space left</span>: <strong>{}</strong> after {} waves (before the last wave: {})</li>\n<li><span class=\"what\">Targets</span>: {}</li>\n</ul>\n<p class=\"note\">History matching rules out the parameter values at which the model cannot match the data given the observation errors, the model discrepancy and seed noise, and keeps all the others. Experiments use the retained sets with <code>[parameters] from = \"retained.csv\"</code>.</p>",
                c.retained.as_ref().map_or(0, Vec::len),
                esc(&space),
                c.waves.len(),
                if left.is_finite() { format!("{:.1}%", 100.0 * left) } else { "-".into() },
                esc(&c.spec.target.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "))
            );
        }
        Kind::Sweep(s) => match &s.compare {
            Ok(rows) if !rows.is_empty() => {
                let baseline = &rows[0].baseline;
                h.push_str("<ul class=\"effects\">\n");
                for (mi, metric) in s.metrics.iter().enumerate() {
                    let of: Vec<&crate::experiment::compare::Row> = by_effect(rows, &s.metrics)
                        .into_iter()
                        .filter(|r| &r.metric == metric)
                        .collect();
                    let (_, title, how, unit) = style::label(metric);
                    let clear: Vec<String> = of
                        .iter()
                        .filter(|r| is_clear(r))
                        .take(if mi == 0 { 6 } else { 2 })
                        .map(|r| {
                            format!(
                                "<strong>{}</strong> {} {}",
                                esc(&r.arm),
                                signed(r.difference),
                                interval(r.ci_low, r.ci_high)
                            )
                        })
                        .collect();
                    let unclear: Vec<String> = of.iter().filter(|r| !is_clear(r)).map(|r| esc(&r.arm)).collect();
                    let mut line = format!(
                        "<li><span class=\"what\">{}{}{}:</span> ",
                        esc(&title),
                        if how.is_empty() {
                            String::new()
                        } else {
                            format!(", {}", esc(&how))
                        },
                        if unit.is_empty() {
                            String::new()
                        } else {
                            format!(" <span class=\"sub\">{}</span>", esc(&unit))
                        }
                    );
                    if clear.is_empty() {
                        line.push_str("no arm differs detectably from the baseline");
                    } else {
                        line.push_str(&clear.join("; "));
                    }
                    if !unclear.is_empty() && !clear.is_empty() {
                        let _ = write!(line, "; not distinguishable from the baseline: {}", unclear.join(", "));
                    }
                    line.push_str("</li>\n");
                    h.push_str(&line);
                    if mi >= 4 {
                        break;
                    }
                }
                h.push_str("</ul>\n");
                let n = rows.iter().map(|r| r.n).max().unwrap_or(0);
                let _ = writeln!(
                    h,
                    "<p class=\"note\">Differences from <strong>{}</strong> in each metric's unit, largest first, with 95% paired confidence intervals over {n} replications; they describe seed noise only, not uncertainty about the parameters. The full table is under Findings.</p>",
                    esc(baseline)
                );
            }
            _ => h.push_str(
                "<p>This sweep has no second arm to compare with; the means per arm are under Findings.</p>\n",
            ),
        },
        Kind::Run(run) => {
            let t = &run.metrics;
            let mut items = Vec::new();
            for name in [
                "governance_index",
                "share_60_plus",
                "trust_branch",
                "elite_capture",
                "turnout",
            ] {
                let Some(col) = t.columns.get(name) else { continue };
                let (Some(a), Some(b)) = (
                    col.iter().position(|v| v.is_finite()),
                    col.iter().rposition(|v| v.is_finite()),
                ) else {
                    continue;
                };
                let (title, _) = style::metric(name);
                items.push(format!(
                    "<li><span class=\"what\">{}</span>: {} in {} to <strong>{}</strong> in {}</li>",
                    esc(&title),
                    sig(col[a]),
                    t.year[a],
                    sig(col[b]),
                    t.year[b]
                ));
            }
            let _ = writeln!(h, "<ul class=\"effects\">\n{}\n</ul>\n<p class=\"note\">One run is one draw of a stochastic model; compare scenarios with a sweep of paired replications.</p>", items.join("\n"));
        }
    }
    if let Some((c, svg)) = key_chart {
        let _ = writeln!(
            h,
            "<figure id=\"chart-{}\">\n{}\n<figcaption><strong>Figure 1. {}.</strong> {} <span class=\"sub\">File: {}.png / {}.svg</span></figcaption>\n</figure>",
            esc(&c.name),
            inline_svg(svg, &c.title),
            esc(&c.title),
            esc(&c.caption),
            esc(&c.name),
            esc(&c.name)
        );
    }
    h.push_str("</section>\n");
    h
}

/// Which chart the headline shows: a sweep's paired differences, else the governance index.
fn key_chart_index(charts: &[Chart]) -> Option<usize> {
    charts
        .iter()
        .position(|c| c.name == "differences" || c.name == "calibration_pairs")
        .or_else(|| charts.iter().position(|c| c.name == "timeseries_governance_index"))
        .or(if charts.is_empty() { None } else { Some(0) })
}

fn sweep_findings(s: &Sweep, dir: &str) -> String {
    let comparisons = sweep_comparisons(s, dir);
    let sensitivity = sweep_sensitivity(s);
    if sensitivity.is_empty() {
        comparisons
    } else {
        // For a sensitivity design, which factors matter is the finding; the means follow.
        format!("{sensitivity}<h3>Metric means</h3>\n{comparisons}")
    }
}

fn sweep_comparisons(s: &Sweep, dir: &str) -> String {
    let mut out = String::new();
    match &s.compare {
        Ok(rows) if !rows.is_empty() => {
            let baseline = rows[0].baseline.clone();
            let n = rows.iter().map(|r| r.n).max().unwrap_or(0);
            let boot = rows.iter().any(|r| r.boot_low.is_some());
            let yuan = rows.iter().any(|r| r.per_100k_yuan.is_some());
            let sorted = by_effect(rows, &s.metrics);
            let _ = writeln!(out, "<p>Paired differences of every arm from <strong>{}</strong> (arm − {}, {} paired replication{} with common random numbers){}, metric by metric in the experiment's order, and within a metric the largest effect first: the size of the difference in the metric's own unit, with its 95% confidence interval. Bold: the interval excludes zero; grey: the replications cannot tell the arm from the baseline.</p>",
                esc(&baseline),
                esc(&baseline),
                n,
                if n == 1 { "" } else { "s" },
                if s.points > 1 { format!(", pooled over {} design points", s.points) } else { String::new() }
            );
            if !s.compare_from_file {
                let _ = writeln!(
                    out,
                    "<p class=\"note\">Computed now from runs.csv (no compare.csv yet; <code>ruralgov compare {}</code> writes it, with bootstrap intervals on request).</p>",
                    esc(&crate::output::shell_quote(dir))
                );
            }
            out.push_str("<div class=\"table-wrap\"><table><thead><tr><th>arm</th><th>metric</th><th class=\"num\">baseline</th><th class=\"num\">arm</th><th class=\"num\">difference</th>");
            out.push_str(if boot {
                "<th class=\"num\">95% CI<span class=\"sub\">paired t; bootstrap</span></th>"
            } else {
                "<th class=\"num\">95% CI</th>"
            });
            if yuan {
                out.push_str("<th class=\"num\">per 100,000 yuan</th>");
            }
            out.push_str("</tr></thead><tbody>\n");
            for r in sorted {
                let clear = is_clear(r);
                let idx = s.arms.iter().position(|a| *a == r.arm).unwrap_or(0);
                let _ = write!(
                    out,
                    "<tr class=\"{}\"><td class=\"arm\">{}{}</td><td class=\"metric\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num effect\">{}</td><td class=\"num ci\">{}{}</td>",
                    if clear { "clear" } else { "unclear" },
                    swatch(idx),
                    esc(&r.arm),
                    metric_cell(&r.metric),
                    sig(r.baseline_mean),
                    sig(r.arm_mean),
                    signed(r.difference),
                    interval(r.ci_low, r.ci_high),
                    if boot {
                        format!(
                            "<span class=\"sub\">bootstrap {}</span>",
                            interval(r.boot_low.unwrap_or(f64::NAN), r.boot_high.unwrap_or(f64::NAN))
                        )
                    } else {
                        String::new()
                    }
                );
                if yuan {
                    let _ = write!(
                        out,
                        "<td class=\"num\">{}</td>",
                        r.per_100k_yuan.map(sig).unwrap_or_else(|| "–".into())
                    );
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</tbody></table></div>\n");
        }
        _ => {
            let _ = writeln!(out, "<p>Mean of every summarised metric per arm over all its runs{}, with the 95% t interval of the mean across runs.</p>",
                if s.points > 1 {
                    format!(" ({} design points pooled, so the interval reflects the design as well as seed noise)", s.points)
                } else {
                    String::new()
                }
            );
            out.push_str("<div class=\"table-wrap\"><table><thead><tr><th>arm</th><th>metric</th><th class=\"num\">runs</th><th class=\"num\">mean</th><th class=\"num\">95% CI</th></tr></thead><tbody>\n");
            for (ai, arm) in s.arms.iter().enumerate() {
                for (mi, label) in s.metrics.iter().enumerate() {
                    let xs: Vec<f64> = s
                        .runs
                        .iter()
                        .filter(|r| r.arm == ai)
                        .filter_map(|r| r.values.get(mi).copied())
                        .filter(|v| v.is_finite())
                        .collect();
                    let sm = stats::summary(&xs, 0.95);
                    let _ = writeln!(
                        out,
                        "<tr><td class=\"arm\">{}{}</td><td class=\"metric\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                        swatch(ai),
                        esc(arm),
                        metric_cell(label),
                        xs.len(),
                        sig(sm.map_or(f64::NAN, |v| v.mean)),
                        interval(sm.map_or(f64::NAN, |v| v.ci_low), sm.map_or(f64::NAN, |v| v.ci_high))
                    );
                }
            }
            out.push_str("</tbody></table></div>\n");
        }
    }
    out
}

/// The distinct items in order of first appearance.
fn distinct<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for k in items {
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

fn sweep_sensitivity(s: &Sweep) -> String {
    let mut out = String::new();
    match &s.sensitivity {
        Ok(Sensitivity::Morris(rows)) => {
            out.push_str("<p>Which factors matter (Morris screening): per metric, factors sorted by μ*, the mean absolute elementary effect over the factor's full range (in the metric's unit); μ is the signed mean, σ the spread of the effects (high σ/μ*: non-linear or interacting).</p>\n");
            let keys = distinct(rows.iter().map(|r| (r.arm.clone(), r.metric.clone())));
            for (arm, metric) in keys {
                let mut sel: Vec<&super::data::MorrisRow> =
                    rows.iter().filter(|r| r.arm == arm && r.metric == metric).collect();
                sel.sort_by(|a, b| b.mu_star.total_cmp(&a.mu_star));
                let noise = sel.first().map_or(f64::NAN, |r| r.noise_share);
                let _ = writeln!(out, "<div class=\"table-wrap\"><table><caption>{}{} · seed noise {}</caption><thead><tr><th>factor</th><th class=\"num\">μ*</th><th class=\"num\">μ</th><th class=\"num\">σ</th></tr></thead><tbody>",
                    if s.arms.len() > 1 { format!("arm {} · ", esc(&arm)) } else { String::new() },
                    esc(&metric_inline(&metric)),
                    if noise.is_finite() { format!("{:.0}% of the variance", 100.0 * noise) } else { "–".into() }
                );
                for r in sel {
                    let _ = writeln!(
                        out,
                        "<tr><td><code>{}</code></td><td class=\"num effect\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                        esc(&r.factor),
                        sig(r.mu_star),
                        sig(r.mu),
                        sig(r.sigma)
                    );
                }
                out.push_str("</tbody></table></div>\n");
            }
        }
        Ok(Sensitivity::Sobol(rows)) => {
            out.push_str("<p>Which factors matter (Sobol variance decomposition): per metric, factors sorted by their total index (share of variance with all interactions), with the first-order index and 95% bootstrap intervals.</p>\n");
            let keys = distinct(rows.iter().map(|r| (r.arm.clone(), r.metric.clone())));
            for (arm, metric) in keys {
                let mut sel: Vec<&super::data::SobolRow> =
                    rows.iter().filter(|r| r.arm == arm && r.metric == metric).collect();
                sel.sort_by(|a, b| b.total.0.total_cmp(&a.total.0));
                let noise = sel.first().map_or(f64::NAN, |r| r.noise_share);
                let _ = writeln!(out, "<div class=\"table-wrap\"><table><caption>{}{} · seed noise {}</caption><thead><tr><th>factor</th><th class=\"num\">total</th><th class=\"num\">95% CI</th><th class=\"num\">first order</th><th class=\"num\">95% CI</th></tr></thead><tbody>",
                    if s.arms.len() > 1 { format!("arm {} · ", esc(&arm)) } else { String::new() },
                    esc(&metric_inline(&metric)),
                    if noise.is_finite() { format!("{:.0}% of the variance", 100.0 * noise) } else { "–".into() }
                );
                for r in sel {
                    let _ = writeln!(
                        out,
                        "<tr><td><code>{}</code></td><td class=\"num effect\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                        esc(&r.factor),
                        sig(r.total.0),
                        interval(r.total.1, r.total.2),
                        sig(r.first.0),
                        interval(r.first.1, r.first.2)
                    );
                }
                out.push_str("</tbody></table></div>\n");
            }
        }
        Err(_) => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_quotes() {
        assert_eq!(esc("a<b & \"c\"'"), "a&lt;b &amp; &quot;c&quot;&#39;");
        assert_eq!(crate::output::shell_quote("results/paths"), "results/paths");
        assert_eq!(crate::output::shell_quote("my dir"), "'my dir'");
        assert_eq!(crate::output::shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn inline_svg_drops_the_namespace_and_fixed_size() {
        let s = inline_svg(
            "<svg width=\"1600\" height=\"900\" viewBox=\"0 0 1600 900\" xmlns=\"http://www.w3.org/2000/svg\">\n<rect/></svg>",
            "A <title>",
        );
        assert!(s.starts_with("<svg viewBox=\"0 0 1600 900\" role=\"img\" aria-label=\"A &lt;title&gt;\""));
        assert!(!s.contains("http"));
        assert!(!s.contains("width=\"1600\""));
        assert!(s.ends_with("<rect/></svg>"));
    }

    #[test]
    fn schedules_are_shown_as_keyframes() {
        let v: Value = serde_json::json!([[2000.0, 0.4], [2030.0, 0.6]]);
        assert_eq!(show(&v), "2000: 0.4, 2030: 0.6");
        assert_eq!(show(&serde_json::json!(150)), "150");
        assert_eq!(show(&serde_json::json!("separate")), "separate");
    }

    #[test]
    fn effects_are_ranked_by_their_size_within_each_metric() {
        let row = |arm: &str, metric: &str, d: f64| crate::experiment::compare::Row {
            arm: arm.into(),
            baseline: "b".into(),
            metric: metric.into(),
            n: 10,
            baseline_mean: 0.0,
            arm_mean: d,
            difference: d,
            ci_low: d - 0.5,
            ci_high: d + 0.5,
            boot_low: None,
            boot_high: None,
            bootstrap: 0,
            extra_spend: 0.0,
            per_100k_yuan: None,
            ..Default::default()
        };
        // A large but uncertain effect ranks above a small precise one: size, not z.
        let rows = vec![row("small", "m1", 0.1), row("big", "m1", -2.0), row("x", "m0", 0.01)];
        let order: Vec<&str> = by_effect(&rows, &["m0".into(), "m1".into()])
            .iter()
            .map(|r| r.arm.as_str())
            .collect();
        assert_eq!(order, ["x", "big", "small"]);
    }
}
