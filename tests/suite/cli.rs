//! Command-line behaviour on good input: `run`, `validate`, `show`, `diff`, `--help`.

use std::fs;

use ruralgov::model::observe::Metrics;
use ruralgov::scenario::Scenario;

use crate::util::{arg, bundled_scenarios, names_in, root, ruralgov, scenario, tiny, write, Csv};

fn load(path: &std::path::Path) -> Scenario {
    Scenario::load(path, &[])
        .unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()))
        .value
}

#[test]
fn run_tiny_quiet_writes_metrics_villages_and_manifest_and_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = ruralgov(&[
        "run",
        "scenarios/tiny.toml",
        "--out",
        &arg(&out),
        "--quiet",
        "--threads",
        "2",
    ]);
    o.assert_success();
    assert!(o.stdout.is_empty(), "--quiet printed on stdout\n{o}");
    assert!(o.stderr.is_empty(), "--quiet printed on stderr\n{o}");

    let files = names_in(&out);
    assert_eq!(
        files,
        vec![
            "distributions.csv",
            "manifest.json",
            "metrics.csv",
            "pyramid.csv",
            "villages.csv"
        ],
        "unexpected files (partial files left?)"
    );
    assert!(
        !files.iter().any(|f| f.ends_with(".partial")),
        "partial files remain: {files:?}"
    );

    let sc = load(&tiny());
    let months = sc.steps() as usize;
    assert_eq!(
        (sc.run.start_year, sc.run.end_year, months),
        (2004, 2010, 72),
        "tiny.toml changed its time span"
    );

    // metrics.csv: one row per month, in order.
    let text = fs::read_to_string(out.join("metrics.csv")).unwrap();
    assert!(
        text.starts_with("step,year,month,"),
        "metrics.csv header: {}",
        text.lines().next().unwrap_or("")
    );
    let m = Csv::read(&out.join("metrics.csv"));
    assert_eq!(m.rows.len(), months, "metrics.csv should have one row per month");
    let expected_header: Vec<String> = ["step", "year", "month"]
        .into_iter()
        .chain(Metrics::COLUMNS.iter().map(|c| c.name))
        .map(String::from)
        .collect();
    assert_eq!(
        m.header, expected_header,
        "metrics.csv columns differ from Metrics::COLUMNS"
    );
    for (i, row) in m.rows.iter().enumerate() {
        let want = [
            (i + 1).to_string(),
            (2004 + i / 12).to_string(),
            (i % 12 + 1).to_string(),
        ];
        assert_eq!(row[..3], want, "metrics.csv row {}", i + 1);
    }

    // villages.csv: one row per village per year.
    let v = Csv::read(&out.join("villages.csv"));
    let years: Vec<i32> = (sc.run.start_year..sc.run.end_year).collect();
    assert_eq!(
        v.rows.len(),
        sc.region.villages as usize * years.len(),
        "villages.csv should have one row per village per year"
    );
    let (yc, vc) = (v.col("year"), v.col("village"));
    let mut seen: Vec<(i32, u32)> = v
        .rows
        .iter()
        .map(|r| (r[yc].parse().unwrap(), r[vc].parse().unwrap()))
        .collect();
    seen.sort();
    let want: Vec<(i32, u32)> = years
        .iter()
        .flat_map(|&y| (0..sc.region.villages).map(move |id| (y, id)))
        .collect();
    assert_eq!(seen, want, "villages.csv should hold each (year, village) exactly once");

    // manifest.json
    let manifest: serde_json::Value = serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap())
        .expect("manifest.json is not valid JSON");
    for key in [
        "seed",
        "threads",
        "ruralgov_version",
        "git_commit",
        "dependencies",
        "wall_seconds",
        "peak_memory_bytes",
        "scenario",
    ] {
        assert!(
            manifest.get(key).is_some(),
            "manifest.json has no {key:?}: {manifest:#}"
        );
    }
    assert_eq!(manifest["seed"], sc.run.seed);
    assert_eq!(manifest["threads"], 2);
    assert_eq!(manifest["ruralgov_version"], env!("CARGO_PKG_VERSION"));
    assert!(
        manifest["git_commit"].as_str().is_some_and(|s| !s.is_empty()),
        "git_commit: {}",
        manifest["git_commit"]
    );
    assert!(
        manifest["dependencies"].as_object().is_some_and(|d| !d.is_empty()),
        "dependencies: {}",
        manifest["dependencies"]
    );
    assert!(
        manifest["wall_seconds"].as_f64().is_some_and(|s| s >= 0.0),
        "wall_seconds: {}",
        manifest["wall_seconds"]
    );
    assert!(
        manifest["peak_memory_bytes"].as_u64().is_some(),
        "peak_memory_bytes: {}",
        manifest["peak_memory_bytes"]
    );
    assert_eq!(
        manifest["scenario"]["name"], "tiny",
        "manifest scenario: {}",
        manifest["scenario"]
    );
}

#[test]
fn validate_accepts_every_bundled_scenario_silently() {
    let mut args = vec!["validate".to_string()];
    args.extend(bundled_scenarios().iter().map(|p| arg(p)));
    let o = ruralgov(&args);
    o.assert_success();
    assert!(
        o.stdout.is_empty() && o.stderr.is_empty(),
        "validate should print nothing on success\n{o}"
    );
}

#[test]
fn show_output_loads_again_to_the_same_text_and_keeps_legal_keyframes() {
    let o = ruralgov(&["show", "scenarios/legal.toml"]);
    o.assert_success();
    let shown = o.stdout.clone();

    let dir = tempfile::tempdir().unwrap();
    let copy = write(dir.path(), "resolved.toml", &shown);
    let again = ruralgov(&["show".to_string(), arg(&copy)]);
    again.assert_success();
    assert!(
        again.stdout == shown,
        "show of the shown scenario differs\n--- first ---\n{shown}\n--- second ---\n{}",
        again.stdout
    );

    // The keyframes written in legal.toml appear in the resolved scenario.
    let file: toml::Table = fs::read_to_string(scenario("legal")).unwrap().parse().unwrap();
    let written = &file["paths"]["legal"]["intensity"];
    let resolved: toml::Table = shown.parse().expect("show prints valid TOML");
    let got = &resolved["paths"]["legal"]["intensity"];
    let as_pairs = |v: &toml::Value| -> Vec<(f64, f64)> {
        v.as_array()
            .unwrap_or_else(|| panic!("legal intensity is not keyframes: {v}"))
            .iter()
            .map(|p| {
                let p = p.as_array().expect("a [year, value] pair");
                let num = |x: &toml::Value| x.as_float().or(x.as_integer().map(|i| i as f64)).expect("a number");
                (num(&p[0]), num(&p[1]))
            })
            .collect()
    };
    assert_eq!(
        as_pairs(got),
        as_pairs(written),
        "show lost the legal intensity keyframes:\n{shown}"
    );
}

#[test]
fn show_applies_set_override() {
    let o = ruralgov(&["show", "scenarios/tiny.toml", "--set", "region.villages=7"]);
    o.assert_success();
    assert!(
        o.stdout.lines().any(|l| l.trim() == "villages = 7"),
        "no `villages = 7` line\n{o}"
    );
    let resolved: toml::Table = o.stdout.parse().expect("show prints valid TOML");
    assert_eq!(
        resolved["region"]["villages"].as_integer(),
        Some(7),
        "region.villages in\n{o}"
    );
}

#[test]
fn diff_baseline_legal_lists_changed_keys_only() {
    let o = ruralgov(&["diff", "scenarios/baseline.toml", "scenarios/legal.toml"]);
    o.assert_success();
    let keys: Vec<&str> = o
        .stdout
        .lines()
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    for k in ["paths.legal.intensity", "name"] {
        assert!(keys.contains(&k), "diff does not list {k}\n{o}");
    }
    assert!(
        !keys.contains(&"region.villages"),
        "diff lists region.villages, which is the same in both\n{o}"
    );
}

#[test]
fn help_mentions_examples() {
    let o = ruralgov(&["--help"]);
    o.assert_success();
    assert!(o.stdout.contains("Examples:"), "--help has no examples\n{o}");
    assert!(
        o.stdout.contains("ruralgov run scenarios/"),
        "--help has no run example\n{o}"
    );
    let o = ruralgov(&["run", "--help"]);
    o.assert_success();
    assert!(o.stdout.contains("Examples:"), "run --help has no examples\n{o}");
}

#[test]
fn run_without_scenario_exits_2_naming_the_missing_argument() {
    let dir = tempfile::tempdir().unwrap();
    let o = crate::util::ruralgov_in(dir.path(), &["run"]);
    assert_eq!(o.code, Some(2), "{o}");
    assert!(o.stdout.is_empty(), "{o}");
    assert!(
        o.stderr.contains("SCENARIO") || o.stderr.contains("scenario"),
        "should name the missing argument\n{o}"
    );
    assert!(!o.stderr.contains("panicked"), "{o}");
    assert!(
        names_in(dir.path()).is_empty(),
        "run without arguments wrote {:?}",
        names_in(dir.path())
    );
}

#[test]
fn every_bundled_scenario_has_a_description() {
    for p in bundled_scenarios() {
        let sc = load(&p);
        assert!(!sc.description.trim().is_empty(), "{} has no description", p.display());
    }
}

#[test]
fn every_metric_column_is_documented() {
    let path = root().join("docs").join("metrics.md");
    let doc = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let documented = |name: &str| {
        doc.contains(&format!("`{name}`"))
            || doc.lines().any(|l| l.split('|').any(|cell| cell.trim() == name))
            || doc.lines().any(|l| l.trim_start_matches('#').trim() == name)
    };
    let missing: Vec<&str> = ["step", "year", "month"]
        .into_iter()
        .chain(Metrics::COLUMNS.iter().map(|c| c.name))
        .filter(|n| !documented(n))
        .collect();
    assert!(
        missing.is_empty(),
        "{} does not document these metrics.csv columns (as `name`, a table cell or a heading): {missing:?}",
        path.display()
    );
    // The metrics.csv table gives each column's unit as the column's declaration does.
    let table: Vec<Vec<String>> = doc
        .split("\n## metrics.csv")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .unwrap_or("")
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.split('|').map(|c| c.trim().to_string()).collect())
        .collect();
    for c in Metrics::COLUMNS {
        let row = table
            .iter()
            .find(|r| r[1] == format!("`{}`", c.name))
            .unwrap_or_else(|| panic!("no row for `{}` in the metrics.csv table of {}", c.name, path.display()));
        assert_eq!(
            row[3], c.unit,
            "docs/metrics.md gives `{}` the unit {:?}; its declaration in src/model/observe.rs says {:?}",
            c.name, row[3], c.unit
        );
    }
}
