//! Regression tests of what a new user and a reviewer found (issue 11), each named after
//! the item it fixes (`issue11_N_...`). Items 1 and 3 (tick labels, the report's headline)
//! are tested with the charts and the report in `report.rs` and in `src/report/charts.rs`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{arg, assert_clean_error, bundled_scenarios, root, ruralgov, ruralgov_in, tiny, write, Csv};

/// A small experiment on tiny.toml: two arms, two replications, three villages over 2004-2006.
fn small(dir: &Path, name: &str, extra: &str) -> PathBuf {
    write(
        dir,
        &format!("{name}.toml"),
        &format!(
            "name = \"{name}\"\ndescription = \"A test.\"\nbase = '{}'\nseed = 2\nreplications = 2\nset = {{ \"run.end_year\" = 2007, \"region.villages\" = 3 }}\n{extra}\n[[arm]]\nname = \"baseline\"\nset = {{ \"paths.legal.intensity\" = 0 }}\n\n[[arm]]\nname = \"same\"\nset = {{ \"paths.legal.intensity\" = 0 }}\n\n[[arm]]\nname = \"legal\"\nset = {{ \"paths.legal.intensity\" = 1.5 }}\n\n[[metric]]\nname = \"governance_index\"\nstat = \"mean\"\nfrom = 2005\nto = 2007\n",
            tiny().display()
        ),
    )
}

fn sweep(exp: &Path, out: &Path) {
    ruralgov(&[
        "sweep".to_string(),
        arg(exp),
        "--out".into(),
        arg(out),
        "--quiet".into(),
    ])
    .assert_success();
}

#[test]
fn issue11_2_an_arm_equal_to_the_baseline_is_marked_and_bands_stay_light() {
    let dir = tempfile::tempdir().unwrap();
    let exp = small(dir.path(), "same", "");
    let out = dir.path().join("out");
    sweep(&exp, &out);
    ruralgov(&[
        "plot".to_string(),
        arg(&out),
        "--format".into(),
        "svg".into(),
        "--quiet".into(),
    ])
    .assert_success();
    let svg = fs::read_to_string(out.join("charts").join("timeseries_governance_index.svg")).unwrap();
    assert!(
        svg.contains("same (= baseline)"),
        "the arm that never differs is not marked"
    );
    assert!(
        !svg.contains("legal (= baseline)"),
        "an arm that differs is marked as equal"
    );
    // It is drawn dashed over the baseline: many short segments in its colour (orange, the
    // second arm's), where a solid line is one segment.
    let dashes = svg.matches("stroke=\"#E69F00\"").count();
    assert!(dashes > 10, "the equal arm is not dashed ({dashes} segments)");
    // Bands are drawn at 10% opacity, so six overlapping ones stay apart.
    assert!(svg.contains("<polygon opacity=\"0.1\""), "bands are not light");
}

#[test]
fn issue11_4_the_sweep_manifest_records_the_experiment_and_the_report_reproduces_it_from_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let exp = small(dir.path(), "where", "");
    let out = dir.path().join("out");
    sweep(&exp, &out);
    let m: serde_json::Value = serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let file = m["experiment_file"].as_str().expect("experiment_file");
    assert_eq!(Path::new(file), fs::canonicalize(&exp).unwrap());
    assert!(m["reproduce"].as_str().unwrap().starts_with("ruralgov sweep "));
    assert!(fs::read_to_string(out.join(".sweep").join("commands.log"))
        .unwrap()
        .contains("sweep"));
    ruralgov(&["compare".to_string(), arg(&out), "--bootstrap".into(), "50".into()]).assert_success();
    // From a folder outside the repository and the experiment's folder.
    let elsewhere = tempfile::tempdir().unwrap();
    ruralgov_in(elsewhere.path(), &["report".to_string(), arg(&out), "--quiet".into()]).assert_success();
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains(&format!("ruralgov sweep {}", fs::canonicalize(&exp).unwrap().display())),
        "no sweep command with the experiment file"
    );
    assert!(html.contains("--bootstrap 50"), "the bootstrap count is not given");
    assert!(!html.contains("not recorded"), "something is still 'not recorded'");
}

#[test]
fn issue11_5_validate_checks_experiment_files_as_experiments() {
    let mut files: Vec<String> = fs::read_dir(root().join("scenarios").join("experiments"))
        .unwrap()
        .map(|e| arg(&e.unwrap().path()))
        .collect();
    files.sort();
    let mut args = vec!["validate".to_string()];
    args.extend(files);
    args.extend(bundled_scenarios().iter().map(|p| arg(p)));
    let o = ruralgov(&args);
    o.assert_success();
    assert!(
        o.stdout.is_empty() && o.stderr.is_empty(),
        "validate is silent on success\n{o}"
    );
    // A bad experiment is reported as an experiment error, with its line.
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.toml",
        &format!(
            "name = \"bad\"\nbase = '{}'\n[[metric]]\nname = \"governance_indx\"\n",
            tiny().display()
        ),
    );
    let o = ruralgov(&["validate".to_string(), arg(&bad)]);
    assert_clean_error(&o, &["bad.toml", "line 4", "did you mean \"governance_index\""]);
}

#[test]
fn issue11_6_villages_output_of_a_sweep_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let exp = small(dir.path(), "vil", "");
    let out = dir.path().join("out");
    sweep(&exp, &out);
    // tiny.toml asks for villages.csv.
    let v = Csv::read(&out.join("villages.csv"));
    assert_eq!(v.header[..5], ["run_id", "arm", "point", "replicate", "step"]);
    // 3 arms x 2 replications x 3 villages x 3 years.
    assert_eq!(v.rows.len(), 3 * 2 * 3 * 3);
    let run: Vec<&str> = v.rows.iter().map(|r| r[0].as_str()).collect();
    assert!(run
        .windows(2)
        .all(|w| w[0].parse::<u32>().unwrap() <= w[1].parse::<u32>().unwrap()));
}

#[test]
fn issue11_7_a_summary_window_past_the_runs_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(
        dir.path(),
        "late.toml",
        &format!(
            "name = \"late\"\nbase = '{}'\nset = {{ \"run.end_year\" = 2007 }}\n[[metric]]\nname = \"order\"\nstat = \"mean\"\nfrom = 2005\nto = 2012\n",
            tiny().display()
        ),
    );
    let o = ruralgov(&["validate".to_string(), arg(&exp)]);
    assert_clean_error(
        &o,
        &[
            "late.toml",
            "line 8",
            "metric[0].to",
            "ends after the runs",
            "to = 2007",
        ],
    );
}

#[test]
fn issue11_8_compare_of_a_one_arm_sweep_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(
        dir.path(),
        "one.toml",
        &format!(
            "name = \"one\"\nbase = '{}'\nreplications = 2\nset = {{ \"run.end_year\" = 2005, \"region.villages\" = 2 }}\n[[metric]]\nname = \"order\"\nstat = \"end\"\n",
            tiny().display()
        ),
    );
    let out = dir.path().join("out");
    sweep(&exp, &out);
    let o = ruralgov(&["compare".to_string(), arg(&out)]);
    assert_clean_error(&o, &["one arm", "nothing to compare"]);
    assert!(!out.join("compare.csv").exists(), "an empty compare.csv was written");
}

#[test]
fn issue11_9_model_csv_carries_arm_and_replicate() {
    let dir = tempfile::tempdir().unwrap();
    let exp = small(dir.path(), "model", "");
    let out = dir.path().join("out");
    sweep(&exp, &out);
    let m = Csv::read(&out.join("model.csv"));
    let (arm, rep) = (m.col("arm"), m.col("replicate"));
    let arms: std::collections::BTreeSet<&str> = m.rows.iter().map(|r| r[arm].as_str()).collect();
    assert_eq!(arms, ["baseline", "legal", "same"].into_iter().collect());
    assert!(m.rows.iter().all(|r| r[rep] == "0" || r[rep] == "1"));
}

#[test]
fn issue11_11_every_subcommand_has_its_own_examples() {
    for cmd in [
        "run",
        "validate",
        "show",
        "diff",
        "sweep",
        "compare",
        "sensitivity",
        "merge",
        "plot",
        "report",
        "bench",
        "serve",
    ] {
        let o = ruralgov(&[cmd, "--help"]);
        o.assert_success();
        let examples = o
            .stdout
            .split("Examples:")
            .nth(1)
            .unwrap_or_else(|| panic!("{cmd} --help has no examples"));
        let lines: Vec<&str> = examples
            .lines()
            .filter(|l| l.trim_start().starts_with("ruralgov "))
            .collect();
        assert!(!lines.is_empty(), "{cmd}: no example lines");
        assert!(
            lines
                .iter()
                .all(|l| l.trim_start().starts_with(&format!("ruralgov {cmd}"))
                    || (cmd == "sweep" && l.contains("ruralgov sweep"))),
            "{cmd} --help shows another command's examples: {lines:?}"
        );
    }
}

#[test]
fn issue11_12_a_malformed_schedule_says_which_forms_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "sched.toml",
        &format!(
            "extends = '{}'\n[region]\nmarket_exposure = \"rising\"\n",
            tiny().display()
        ),
    );
    let o = ruralgov(&["validate".to_string(), arg(&p)]);
    assert_clean_error(
        &o,
        &[
            "sched.toml",
            "line 3",
            "region.market_exposure",
            "a number for a constant",
            "[year, value] keyframes",
        ],
    );
}

#[test]
fn issue11_13_the_readme_lists_every_bundled_scenario_and_the_odd_stands_alone() {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    for p in bundled_scenarios() {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(readme.contains(&name), "README.md does not list {name}");
    }
    assert!(readme.contains("rustup"), "README.md does not say how to install Rust");
    assert!(
        readme.contains("report results/baseline"),
        "README.md does not say what to do after the first run"
    );
    let odd = fs::read_to_string(root().join("docs").join("ODD.md")).unwrap();
    assert!(
        !odd.contains("MODEL.md"),
        "docs/ODD.md cites MODEL.md, which is not in the repository"
    );
}

#[test]
fn a_damaged_runs_csv_is_an_error_naming_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let exp = small(dir.path(), "runs", "");
    let out = dir.path().join("out");
    sweep(&exp, &out);
    let path = out.join("runs.csv");
    let text = fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut cells: Vec<String> = lines[3].split(',').map(String::from).collect();
    cells[2] = "x".into();
    lines[3] = cells.join(",");
    fs::write(&path, lines.join("\n") + "\n").unwrap();
    let o = ruralgov(&["compare".to_string(), arg(&out)]);
    assert_clean_error(
        &o,
        &[
            "runs.csv is damaged",
            "row 4",
            "column \"point\"",
            "\"x\" is not a whole number",
        ],
    );
    // A missing header column.
    fs::write(&path, text.replacen("replicate", "repl", 1)).unwrap();
    let o = ruralgov(&["compare".to_string(), arg(&out)]);
    assert_clean_error(&o, &["runs.csv is damaged", "header", "replicate"]);
}

#[test]
fn issue11_14_each_path_scenario_changes_its_own_lever_from_2010_only() {
    use ruralgov::scenario::{load::flatten, Scenario};
    let table = |name: &str| {
        let sc = Scenario::load(&crate::util::scenario(name), &[]).unwrap().value;
        match toml::Value::try_from(&sc).unwrap() {
            toml::Value::Table(t) => (sc, flatten(&t)),
            _ => unreachable!(),
        }
    };
    let (_, base) = table("baseline");
    let cases: [(&str, &[&str]); 5] = [
        ("legal", &["legal"]),
        ("services", &["services"]),
        ("culture", &["culture"]),
        ("self_government", &["self_government"]),
        ("combined", &["legal", "services", "culture", "self_government"]),
    ];
    for (name, paths) in cases {
        let (sc, t) = table(name);
        let changed: Vec<&String> = t
            .keys()
            .filter(|k| t.get(*k) != base.get(*k) && *k != "name" && *k != "description")
            .collect();
        let mut expected: Vec<String> = paths.iter().map(|p| format!("paths.{p}.intensity")).collect();
        expected.sort();
        assert_eq!(
            changed.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            expected.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "{name}.toml changes more than its lever"
        );
        for p in ruralgov::scenario::PolicyPath::ALL
            .iter()
            .filter(|p| paths.contains(&p.key()))
        {
            let s = sc.paths.intensity(*p);
            assert_eq!(s.at(2009.0 + 11.0 / 12.0), 0.0, "{name}: {} is on before 2010", p.key());
            assert_eq!(s.at(2010.0), 1.0, "{name}: {} is not on in January 2010", p.key());
        }
    }
}
