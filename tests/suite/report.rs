//! Charts and the HTML report: `ruralgov plot` draws every chart kind from small fixture
//! folders (a tiny run; tiny sweeps with arms, Morris, Sobol and a two-factor design) as valid
//! PNG and SVG files of the requested size; missing files and NaN values skip charts or points
//! rather than fail; `ruralgov report` writes one self-contained page with one inline SVG per
//! chart and nothing fetched from anywhere; and, when Chromium is installed (CI installs it),
//! the page loads in headless Chromium without console errors and renders something.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{arg, assert_clean_error, names_in, run_tiny, ruralgov, tiny, write, Output};

/// Chart size every test expects by default.
const W: u32 = 1600;
const H: u32 = 900;

/// The time series drawn for every run and sweep.
const SERIES: [&str; 10] = [
    "governance_index",
    "trust_branch",
    "market_mean",
    "civic_mean",
    "elite_capture",
    "order",
    "residents",
    "migrants",
    "share_60_plus",
    "party_mean_age",
];

/// `ruralgov <args>` with path arguments.
fn cli(args: &[&str]) -> Output {
    ruralgov(args)
}

/// A tiny run into `dir/run`, shortened to three years.
fn tiny_run(dir: &Path) -> PathBuf {
    let out = dir.join("run");
    run_tiny(&out, &["--set", "run.end_year=2007"]);
    out
}

/// Write an experiment on tiny.toml (by absolute path) and sweep it into `dir/<name>`.
fn sweep(dir: &Path, name: &str, body: &str) -> PathBuf {
    let text = format!(
        "name = \"{name}\"\ndescription = \"A test experiment for charts.\"\nbase = '{}'\n{body}",
        tiny().display()
    );
    let exp = write(dir, &format!("{name}.toml"), &text);
    let out = dir.join(name);
    cli(&["sweep", &arg(&exp), "--out", &arg(&out), "--quiet", "--jobs", "2"]).assert_success();
    out
}

/// Three arms, three paired replications.
const ARMS: &str = r#"seed = 5
replications = 3
set = { "run.end_year" = 2007, "region.villages" = 3, "output.record_every" = 12 }

[[arm]]
name = "baseline"
set = { "paths.legal.intensity" = 0, "paths.culture.intensity" = 0 }

[[arm]]
name = "legal"
set = { "paths.legal.intensity" = 1.5, "paths.culture.intensity" = 0 }

[[arm]]
name = "culture"
set = { "paths.legal.intensity" = 0, "paths.culture.intensity" = 1.5 }

[[metric]]
name = "governance_index"
stat = "mean"
from = 2005
to = 2007

[[metric]]
name = "order"
stat = "end"

[[metric]]
name = "residents"
stat = "end"
"#;

/// Two factors with ranges; `DESIGN` is replaced by the `[sampling]` table.
const SENSITIVITY: &str = r#"seed = 9
replications = 1
set = { "run.end_year" = 2006, "region.villages" = 2, "output.record_every" = 12 }

DESIGN

[[factor]]
key = "values.market_drift"
range = [0.01, 0.08]

[[factor]]
key = "paths.legal.intensity"
range = [0.0, 1.5]

[[factor]]
key = "governance.admin_pressure"
range = [0.2, 0.8]

[[metric]]
name = "governance_index"
stat = "mean"

[[metric]]
name = "order"
stat = "end"
"#;

/// A two-factor factorial design.
const TWO_FACTORS: &str = r#"seed = 4
replications = 2
set = { "run.end_year" = 2006, "region.villages" = 2, "output.record_every" = 12 }

[[factor]]
key = "values.market_drift"
values = [0.02, 0.05, 0.08]

[[factor]]
key = "governance.admin_pressure"
values = [0.3, 0.6]

[[metric]]
name = "governance_index"
stat = "mean"
"#;

/// Width and height from a PNG's IHDR chunk, after checking the signature.
#[track_caller]
fn png_size(path: &Path) -> (u32, u32) {
    let b = fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(b.len() > 33, "{} is too short for a PNG", path.display());
    assert_eq!(&b[..8], b"\x89PNG\r\n\x1a\n", "{} has no PNG signature", path.display());
    assert_eq!(&b[12..16], b"IHDR", "{} does not start with IHDR", path.display());
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

/// Assert a valid PNG of `w` x `h` that decodes and is not a blank canvas.
#[track_caller]
fn assert_png(path: &Path, w: u32, h: u32) {
    assert_eq!(png_size(path), (w, h), "{}", path.display());
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{} does not decode: {e}", path.display()))
        .to_rgb8();
    assert_eq!(img.dimensions(), (w, h));
    let dark = img.pixels().filter(|p| p.0.iter().all(|&c| c < 100)).count();
    assert!(dark > 1000, "{} is (nearly) blank: {dark} dark pixels", path.display());
}

/// Assert SVG text of `w` x `h` that declares its namespace (for standalone viewers).
#[track_caller]
fn assert_svg(path: &Path, w: u32, h: u32) {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let t = text.trim();
    assert!(t.starts_with("<svg"), "{} does not start with <svg", path.display());
    assert!(t.ends_with("</svg>"), "{} does not end with </svg>", path.display());
    let open = &t[..t.find('>').unwrap_or(0)];
    for attr in [
        format!("width=\"{w}\""),
        format!("height=\"{h}\""),
        format!("viewBox=\"0 0 {w} {h}\""),
        "xmlns=\"http://www.w3.org/2000/svg\"".to_string(),
    ] {
        assert!(open.contains(&attr), "{}: no {attr} in {open}", path.display());
    }
    assert!(t.contains("<text"), "{} has no text", path.display());
    assert_eq!(t.matches("<svg").count(), 1, "{}", path.display());
}

/// `ruralgov plot DIR <extra>`; must succeed.
fn plot(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["plot".to_string(), arg(dir)];
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = ruralgov(&args);
    o.assert_success();
    o
}

/// Names of the files in `dir` with extension `ext`, sorted.
fn files(dir: &Path, ext: &str) -> Vec<String> {
    names_in(dir)
        .into_iter()
        .filter(|n| n.ends_with(&format!(".{ext}")))
        .collect()
}

#[test]
fn plot_draws_a_single_runs_charts_as_valid_png() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let o = plot(&run, &[]);
    let charts = run.join("charts");
    let mut expected: Vec<String> = SERIES.iter().map(|s| format!("timeseries_{s}.png")).collect();
    expected.extend(["pyramid.png".to_string(), "distributions.png".to_string()]);
    expected.sort();
    assert_eq!(files(&charts, "png"), expected, "{o}");
    assert!(files(&charts, "svg").is_empty(), "--format defaults to png");
    for f in &expected {
        assert_png(&charts.join(f), W, H);
    }
    assert!(o.stdout.contains("wrote 12 chart files"), "{o}");
    assert!(
        o.stdout.contains("not drawn: differences"),
        "a single run says why it has no sweep charts\n{o}"
    );
}

#[test]
fn plot_respects_format_out_and_size() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let svg = tmp.path().join("svg");
    plot(&run, &["--format", "svg", "--out", &arg(&svg)]);
    assert!(files(&svg, "png").is_empty());
    assert_eq!(files(&svg, "svg").len(), 12);
    for f in files(&svg, "svg") {
        assert_svg(&svg.join(f), W, H);
    }

    let both = tmp.path().join("both");
    plot(&run, &["--format", "both", "--out", &arg(&both)]);
    let (png, svgs) = (files(&both, "png"), files(&both, "svg"));
    assert_eq!(png.len(), 12);
    assert_eq!(
        png.iter().map(|n| n.replace(".png", "")).collect::<Vec<_>>(),
        svgs.iter().map(|n| n.replace(".svg", "")).collect::<Vec<_>>(),
        "every chart in both formats"
    );

    let small = tmp.path().join("small");
    plot(&run, &["--size", "800x450", "--out", &arg(&small)]);
    assert_png(&small.join("pyramid.png"), 800, 450);

    assert!(!run.join("charts").exists(), "--out was given: nothing in DIR/charts");
}

#[test]
fn plot_draws_a_sweeps_series_and_paired_differences() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = sweep(tmp.path(), "arms", ARMS);
    let o = plot(&dir, &["--format", "both"]);
    let charts = dir.join("charts");
    for s in SERIES {
        assert_png(&charts.join(format!("timeseries_{s}.png")), W, H);
        assert_svg(&charts.join(format!("timeseries_{s}.svg")), W, H);
    }
    assert_png(&charts.join("differences.png"), W, H);
    assert_svg(&charts.join("differences.svg"), W, H);
    let svg = fs::read_to_string(charts.join("differences.svg")).unwrap();
    for label in [
        "legal",
        "culture",
        "Governance index",
        "Village order",
        "Resident adults",
    ] {
        assert!(svg.contains(label), "differences.svg lacks {label:?}");
    }
    assert!(
        !svg.contains("\nbaseline\n"),
        "the baseline arm is not a row of its own differences"
    );
    // Same colour for an arm in every chart: legal is Okabe-Ito orange.
    let series = fs::read_to_string(charts.join("timeseries_governance_index.svg")).unwrap();
    assert!(
        series.contains("#E69F00") && svg.contains("#E69F00"),
        "legal is orange everywhere"
    );
    assert!(
        o.stdout.contains("not drawn: pyramid, distributions"),
        "a sweep says why it has no pyramid\n{o}"
    );
    assert_eq!(files(&charts, "png").len(), 11, "{o}");
}

#[test]
fn plot_draws_morris_and_sobol_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let morris = sweep(
        tmp.path(),
        "morris",
        &SENSITIVITY.replace(
            "DESIGN",
            "[sampling]\nmethod = \"morris\"\ntrajectories = 3\nlevels = 4\nseed = 2",
        ),
    );
    plot(&morris, &["--format", "both"]);
    for m in ["governance_index_mean", "order_end"] {
        assert_png(&morris.join("charts").join(format!("morris_{m}.png")), W, H);
        let svg = morris.join("charts").join(format!("morris_{m}.svg"));
        assert_svg(&svg, W, H);
        let text = fs::read_to_string(&svg).unwrap();
        for f in [
            "values.market_drift",
            "paths.legal.intensity",
            "governance.admin_pressure",
            "μ*",
        ] {
            assert!(text.contains(f), "{} lacks {f}", svg.display());
        }
    }

    let sobol = sweep(
        tmp.path(),
        "sobol",
        &SENSITIVITY.replace(
            "DESIGN",
            "[sampling]\nmethod = \"sobol\"\nsamples = 4\nseed = 3\nbootstrap = 50",
        ),
    );
    let o = plot(&sobol, &[]);
    for m in ["governance_index_mean", "order_end"] {
        assert_png(&sobol.join("charts").join(format!("sobol_{m}.png")), W, H);
    }
    assert!(
        o.stdout.contains("not drawn: differences: the sweep has one arm"),
        "{o}"
    );
}

#[test]
fn plot_draws_a_heatmap_for_two_factors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = sweep(tmp.path(), "grid", TWO_FACTORS);
    plot(&dir, &["--format", "both"]);
    let charts = dir.join("charts");
    assert_png(&charts.join("heatmap_governance_index_mean.png"), W, H);
    let svg = charts.join("heatmap_governance_index_mean.svg");
    assert_svg(&svg, W, H);
    let text = fs::read_to_string(&svg).unwrap();
    for label in [
        "values.market_drift",
        "governance.admin_pressure",
        "\n0.05\n",
        "\n0.6\n",
    ] {
        assert!(text.contains(label), "the heatmap lacks {label:?}");
    }
}

#[test]
fn missing_files_and_nan_values_skip_charts_and_points() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    fs::remove_file(run.join("pyramid.csv")).unwrap();
    fs::remove_file(run.join("manifest.json")).unwrap();
    // NaN and empty values in a few rows of metrics.csv.
    let text = fs::read_to_string(run.join("metrics.csv")).unwrap();
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if (3..6).contains(&i) {
                let f: Vec<&str> = l.split(',').collect();
                let mut out: Vec<String> = f[..3].iter().map(|s| s.to_string()).collect();
                out.extend(
                    f[3..]
                        .iter()
                        .enumerate()
                        .map(|(j, _)| if j % 2 == 0 { "NaN".into() } else { String::new() }),
                );
                out.join(",")
            } else {
                l.to_string()
            }
        })
        .collect();
    fs::write(run.join("metrics.csv"), lines.join("\n") + "\n").unwrap();
    let o = plot(&run, &[]);
    assert!(o.stdout.contains("not drawn: pyramid: pyramid.csv is missing"), "{o}");
    assert_png(&run.join("charts/timeseries_governance_index.png"), W, H);
    assert_png(&run.join("charts/distributions.png"), W, H);
    let r = cli(&["report", &arg(&run)]);
    r.assert_success();
    let html = fs::read_to_string(run.join("report.html")).unwrap();
    assert!(
        html.contains("manifest.json is missing"),
        "the report says why it knows little"
    );

    // A sweep without model.csv still gets its differences; one replicate gets no band.
    let dir = sweep(tmp.path(), "one", &ARMS.replace("replications = 3", "replications = 1"));
    fs::remove_file(dir.join("model.csv")).unwrap();
    let o = plot(&dir, &[]);
    assert!(o.stdout.contains("not drawn: timeseries: model.csv is missing"), "{o}");
    assert_eq!(files(&dir.join("charts"), "png"), ["differences.png"], "{o}");
    cli(&["report", &arg(&dir)]).assert_success();
}

#[test]
fn report_is_one_self_contained_page_with_every_chart() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let dir = sweep(tmp.path(), "arms", ARMS);
    cli(&["compare", &arg(&dir), "--bootstrap", "200"]).assert_success();
    for (folder, out) in [(&run, None), (&dir, Some(tmp.path().join("pages")))] {
        let mut args = vec!["report".to_string(), arg(folder)];
        if let Some(o) = &out {
            args.extend(["--out".to_string(), arg(o)]);
        }
        let o = ruralgov(&args);
        o.assert_success();
        let page = out.clone().unwrap_or_else(|| folder.to_path_buf()).join("report.html");
        assert!(o.stdout.contains(&page.display().to_string()), "{o}");
        let html = fs::read_to_string(&page).unwrap();
        let charts = tmp.path().join(format!("svg-{}", names_in(tmp.path()).len()));
        plot(folder, &["--format", "svg", "--out", &arg(&charts)]);
        let n = files(&charts, "svg").len();
        assert!(n >= 11, "{n} charts");
        assert_eq!(
            html.matches("<svg").count(),
            n,
            "one inline SVG per chart in {}",
            page.display()
        );
        assert_eq!(html.matches("<figure").count(), n);
        for name in files(&charts, "svg") {
            let id = format!("id=\"chart-{}\"", name.trim_end_matches(".svg"));
            assert!(html.contains(&id), "no figure {id}");
        }
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.trim_end().ends_with("</html>"));
        let lower = html.to_lowercase();
        for banned in [
            "http", "<script", "<link", "<img", "<iframe", "@import", "url(", " src=",
        ] {
            assert!(!lower.contains(banned), "{} contains {banned:?}", page.display());
        }
        for needed in [
            "<section id=\"run\">",
            "<section id=\"findings\">",
            "<section id=\"charts\">",
            "<section id=\"reproduce\">",
            "<details>",
            "manifest.json",
            "@media print",
            "ruralgov report ",
        ] {
            assert!(html.contains(needed), "{} lacks {needed:?}", page.display());
        }
    }
    let run_html = fs::read_to_string(run.join("report.html")).unwrap();
    assert!(run_html.contains("ruralgov run "), "the run's command is given");
    assert!(run_html.contains("paths.legal.intensity"), "key parameters are listed");
    let sweep_html = fs::read_to_string(tmp.path().join("pages/report.html")).unwrap();
    assert!(sweep_html.contains("ruralgov sweep "), "the sweep's command is given");
    assert!(
        sweep_html.contains("bootstrap ["),
        "compare.csv's bootstrap intervals are shown"
    );
    assert!(sweep_html.contains(&format!("ruralgov report {} --out ", arg(&dir))));
    // Findings: metric by metric, and within a metric the largest effect (in its unit) first.
    let rows: Vec<(String, f64)> = sweep_html
        .split("<tr class=\"")
        .skip(1)
        .filter_map(|row| {
            let metric = row
                .split("<td class=\"metric\">")
                .nth(1)?
                .split('<')
                .next()?
                .to_string();
            let cell = row.split("<td class=\"num effect\">").nth(1)?;
            let x = cell.split('<').next()?.replace('−', "-").replace('+', "");
            Some((metric, x.parse::<f64>().ok()?))
        })
        .collect();
    assert!(rows.len() >= 4, "findings rows: {rows:?}");
    for w in rows.windows(2) {
        if w[0].0 == w[1].0 {
            assert!(
                w[0].1.abs() >= w[1].1.abs(),
                "findings not sorted by |difference| within a metric: {rows:?}"
            );
        }
    }
    let metrics: Vec<&String> = rows.iter().map(|r| &r.0).collect();
    let mut seen: Vec<&String> = Vec::new();
    for m in metrics {
        if seen.last() != Some(&m) {
            assert!(!seen.contains(&m), "a metric's rows are not together: {rows:?}");
            seen.push(m);
        }
    }
    // The first screen: a headline with the key chart and the largest effects.
    let head = sweep_html
        .split("<section id=\"headline\"")
        .nth(1)
        .expect("a headline section");
    let head = head.split("</section>").next().unwrap();
    assert!(head.contains("<svg"), "the headline shows the key chart");
    assert!(head.contains("Governance index"), "the headline names the first metric");
    let pos = sweep_html.find("id=\"headline\"").unwrap();
    assert!(pos < sweep_html.find("id=\"run\"").unwrap(), "the headline comes first");
}

#[test]
fn bad_folders_and_options_are_clean_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    for cmd in ["plot", "report"] {
        let o = cli(&[cmd, &arg(&missing)]);
        assert_clean_error(&o, &["nope", "no such folder"]);
    }
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    assert_clean_error(&cli(&["plot", &arg(&empty)]), &["not a ruralgov results folder"]);
    assert_clean_error(&cli(&["report", &arg(&empty)]), &["metrics.csv", "runs.csv"]);
    assert!(names_in(&empty).is_empty(), "nothing written on error");

    let run = tiny_run(tmp.path());
    let o = cli(&["plot", &arg(&run), "--format", "jpg"]);
    assert_eq!(o.code, Some(2), "{o}");
    assert_clean_error(
        &cli(&["plot", &arg(&run), "--size", "big"]),
        &["--size big", "1600x900"],
    );
    assert_clean_error(&cli(&["plot", &arg(&run), "--size", "10x10"]), &["10x10"]);
    let file = write(tmp.path(), "file", "x");
    assert_clean_error(&cli(&["plot", &arg(&run), "--out", &arg(&file)]), &["file"]);
}

/// Find Chromium (Debian's `chromium`, or the usual other names).
fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(String::from)
}

#[test]
fn report_loads_in_headless_chromium_without_errors() {
    let Some(browser) = chromium_or_skip() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = sweep(tmp.path(), "arms", ARMS);
    cli(&["report", &arg(&dir)]).assert_success();
    assert_loads_in_chromium(&browser, &dir.join("report.html"), tmp.path());
}

/// The `chromium` found on this machine, or `None` after checking that the suite may skip
/// browser tests (`RURALGOV_REQUIRE_CHROMIUM` unset).
pub fn chromium_or_skip() -> Option<String> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var_os("RURALGOV_REQUIRE_CHROMIUM").is_none(),
            "RURALGOV_REQUIRE_CHROMIUM is set but no chromium was found"
        );
        eprintln!("skipped: no chromium on this machine (.ci/run installs it)");
    }
    found
}

/// Load `page` in headless Chromium: no console errors, no failed loads, a screenshot that is
/// not blank.
pub fn assert_loads_in_chromium(browser: &str, page: &Path, tmp: &Path) {
    let shot = tmp.join("shot.png");
    let profile = tmp.join("profile");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1600,900",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("start chromium");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed:\n{log}");
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Failed to load resource") || l.contains("net::ERR_"))
        .collect();
    assert!(
        errors.is_empty(),
        "console errors in the report:\n{}",
        errors.join("\n")
    );
    let img = image::open(&shot).expect("a screenshot").to_rgb8();
    assert_eq!(img.dimensions(), (1600, 900));
    let mut colours: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    colours.sort();
    colours.dedup();
    let white = img.pixels().filter(|p| p.0 == [255, 255, 255]).count();
    assert!(colours.len() > 50, "the screenshot is blank: {} colours", colours.len());
    assert!(white < 1600 * 900, "the screenshot is all white");
}

/// The tick labels of an SVG chart: runs of consecutive numeric `<text>` elements on one
/// axis (same `x` with `text-anchor="end"`: a y axis; same `y` with `text-anchor="middle"`: an
/// x axis). Any other text ends a run, so the axes of separate panels are separate runs.
fn svg_tick_groups(svg: &str) -> Vec<Vec<String>> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut current: (String, Vec<String>) = (String::new(), Vec::new());
    for part in svg.split("<text").skip(1) {
        let Some((attrs, rest)) = part.split_once('>') else {
            continue;
        };
        let label = rest.split("</text>").next().unwrap_or("").trim().to_string();
        let numeric = !label.is_empty()
            && label
                .trim_start_matches(['−', '-'])
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ',');
        let attr = |name: &str| {
            attrs
                .split(&format!(" {name}=\""))
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or("")
                .to_string()
        };
        let key = match (numeric && !attrs.contains("rotate("), attr("text-anchor").as_str()) {
            (true, "end") => format!("y x={}", attr("x")),
            (true, "middle") => format!("x y={}", attr("y")),
            _ => String::new(),
        };
        if key != current.0 || key.is_empty() {
            let done = std::mem::take(&mut current.1);
            if done.len() >= 2 {
                groups.push(done);
            }
            current.0 = key.clone();
        }
        if !key.is_empty() {
            current.1.push(label);
        }
    }
    if current.1.len() >= 2 {
        groups.push(current.1);
    }
    groups
}

#[test]
fn chart_tick_labels_are_distinct_and_as_precise_as_the_step() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let sweep_dir = sweep(tmp.path(), "arms", ARMS);
    let mut checked = 0;
    for dir in [run, sweep_dir] {
        plot(&dir, &["--format", "svg"]);
        for name in files(&dir.join("charts"), "svg") {
            // The pyramid's axis counts persons both ways from 0: 20 appears on each side.
            if name.starts_with("pyramid") {
                continue;
            }
            let svg = fs::read_to_string(dir.join("charts").join(&name)).unwrap();
            for g in svg_tick_groups(&svg) {
                let mut seen = std::collections::BTreeSet::new();
                for l in &g {
                    assert!(
                        seen.insert(l.clone()),
                        "{name}: tick label {l} repeats on one axis: {g:?}"
                    );
                }
                // Equal decimals on one axis, so 0.05 steps read 0.50, 0.55 and not 0.5, 0.6.
                let decimals: std::collections::BTreeSet<usize> = g
                    .iter()
                    .map(|l| l.split_once('.').map_or(0, |(_, f)| f.len()))
                    .collect();
                assert_eq!(decimals.len(), 1, "{name}: mixed precision on one axis: {g:?}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} axes found");
}
