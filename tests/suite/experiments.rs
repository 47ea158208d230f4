//! Experiments through the command line: `sweep` outputs, independence of `--jobs`, crash
//! safety under a real `kill -9`, shards and `merge`, refusal of a changed experiment, bad
//! experiment files, `compare`, equal budgets, Morris and Sobol sensitivity, and the bundled
//! experiment files.
//!
//! Every experiment here is based on `scenarios/tiny.toml` (by absolute path) and made smaller
//! still, so a run takes milliseconds in a debug build.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{arg, assert_clean_error, root, run_refused, ruralgov, snapshot, tiny, write, Csv, Output, BIN};

/// The final outputs of every sweep.
const OUTPUTS: [&str; 4] = ["runs.csv", "model.csv", "summary.csv", "manifest.json"];

/// An experiment file's text: three header lines (`name`, `description`, `base` = the absolute
/// path of tiny.toml), then `body` from line 4 on.
fn experiment_text(name: &str, body: &str) -> String {
    format!(
        "name = \"{name}\"\ndescription = \"A test experiment.\"\nbase = '{}'\n{body}",
        tiny().display()
    )
}

/// Write an experiment file (see [`experiment_text`]: `body` starts on line 4).
fn experiment(dir: &Path, file: &str, name: &str, body: &str) -> PathBuf {
    write(dir, file, &experiment_text(name, body))
}

/// Two arms (legal path off and strong) x two factor values x two replications = 8 short runs.
const SMALL: &str = r#"seed = 7
replications = 2
set = { "run.end_year" = 2006, "region.villages" = 3 }

[[arm]]
name = "baseline"
set = { "paths.legal.intensity" = 0 }

[[arm]]
name = "legal"
set = { "paths.legal.intensity" = 1.5 }

[[factor]]
key = "values.market_drift"
values = [0.02, 0.05]

[[metric]]
name = "governance_index"
stat = "mean"

[[metric]]
name = "order"
stat = "end"
"#;

/// `ruralgov sweep EXP --out OUT --quiet <extra>`.
fn sweep(exp: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "sweep".to_string(),
        arg(exp),
        "--out".into(),
        arg(out),
        "--quiet".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    ruralgov(&args)
}

/// Contents of `dir/name`.
fn read(dir: &Path, name: &str) -> Vec<u8> {
    let p = dir.join(name);
    fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// Assert that `a/f` and `b/f` are byte-identical for every `f` in `files`.
#[track_caller]
fn assert_same_files(a: &Path, b: &Path, files: &[&str]) {
    for f in files {
        let (x, y) = (read(a, f), read(b, f));
        if x != y {
            let (x, y) = (String::from_utf8_lossy(&x), String::from_utf8_lossy(&y));
            let first = x
                .lines()
                .zip(y.lines())
                .enumerate()
                .find(|(_, (p, q))| p != q)
                .map(|(i, (p, q))| format!("first difference on line {}:\n  {p}\n  {q}", i + 1))
                .unwrap_or_else(|| format!("lengths {} and {}", x.len(), y.len()));
            panic!("{f} differs between {} and {}; {first}", a.display(), b.display());
        }
    }
}

/// Every file under `dir` (recursively) whose name ends with `.partial`.
fn partial_files(dir: &Path) -> Vec<PathBuf> {
    snapshot(dir)
        .into_keys()
        .filter(|p| p.to_string_lossy().ends_with(".partial"))
        .collect()
}

/// Finished-run markers (`*.json`) in `OUT/.sweep/runs/`.
fn finished_runs(out: &Path) -> usize {
    fs::read_dir(out.join(".sweep").join("runs"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                .count()
        })
        .unwrap_or(0)
}

/// A field parsed as a number (panics with context otherwise).
#[track_caller]
fn num(s: &str, what: &str) -> f64 {
    s.parse::<f64>()
        .unwrap_or_else(|_| panic!("{what}: {s:?} is not a number"))
}

/// `"line N"` for the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> String {
    let i = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {text}"));
    format!("line {}", i + 1)
}

/// The number just before `marker` in `text` (e.g. "12 already finished").
fn number_before(text: &str, marker: &str) -> Option<usize> {
    let at = text.find(marker)?;
    text[..at].split_whitespace().last()?.parse().ok()
}

#[test]
fn sweep_writes_runs_model_summary_and_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path(), "small.toml", "small", SMALL);
    let out = dir.path().join("out");
    sweep(&exp, &out, &["--jobs", "2"]).assert_success();

    // runs.csv: arm x point x replicate, in that order.
    let runs = Csv::read(&out.join("runs.csv"));
    assert_eq!(
        runs.header[..5],
        ["run_id", "arm", "point", "replicate", "seed"],
        "runs.csv header: {:?}",
        runs.header
    );
    for c in [
        "values.market_drift",
        "budget_scale",
        "spend_per_village_year",
        "governance_index_mean",
        "order_end",
    ] {
        runs.col(c);
    }
    assert_eq!(runs.rows.len(), 2 * 2 * 2, "one row per arm x point x replicate");
    let (id, arm, point, rep, seed) = (
        runs.col("run_id"),
        runs.col("arm"),
        runs.col("point"),
        runs.col("replicate"),
        runs.col("seed"),
    );
    let drift = runs.col("values.market_drift");
    let mut k = 0;
    for a in ["baseline", "legal"] {
        for (p, d) in [(0, 0.02), (1, 0.05)] {
            for r in 0..2 {
                let row = &runs.rows[k];
                assert_eq!(row[id], k.to_string(), "run_id is the position: {row:?}");
                assert_eq!(row[arm], a, "row {k}: {row:?}");
                assert_eq!(row[point], p.to_string(), "row {k}: {row:?}");
                assert_eq!(row[rep], r.to_string(), "row {k}: {row:?}");
                assert_eq!(num(&row[drift], "market_drift"), d, "row {k}: {row:?}");
                for c in ["governance_index_mean", "order_end"] {
                    num(&row[runs.col(c)], c);
                }
                k += 1;
            }
        }
    }
    // Common random numbers: the seed depends on the replicate only.
    let seed_of = |r: &str| -> Vec<&String> {
        runs.rows
            .iter()
            .filter(|row| row[rep] == r)
            .map(|row| &row[seed])
            .collect()
    };
    let (s0, s1) = (seed_of("0"), seed_of("1"));
    assert!(
        s0.iter().all(|s| *s == s0[0]),
        "replicate 0 seeds differ across arms/points: {s0:?}"
    );
    assert!(
        s1.iter().all(|s| *s == s1[0]),
        "replicate 1 seeds differ across arms/points: {s1:?}"
    );
    assert_ne!(s0[0], s1[0], "replicates must have different seeds");

    // model.csv: every recorded month of every run.
    let model = Csv::read(&out.join("model.csv"));
    assert_eq!(
        model.header[..7],
        ["run_id", "arm", "point", "replicate", "step", "year", "month"],
        "{:?}",
        model.header
    );
    for c in ["governance_index", "order", "trust_branch"] {
        model.col(c);
    }
    let per_run: Vec<usize> = (0..8)
        .map(|k| model.rows.iter().filter(|r| r[0] == k.to_string()).count())
        .collect();
    assert!(per_run[0] > 0, "model.csv has no rows for run 0");
    assert!(
        per_run.iter().all(|n| *n == per_run[0]),
        "months per run differ: {per_run:?}"
    );
    assert_eq!(model.rows.len(), 8 * per_run[0], "model.csv has rows of unknown runs");
    let ids: Vec<u32> = model.rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] <= w[1]), "model.csv is not in run order");
    let year = model.col("year");
    assert!(
        model
            .rows
            .iter()
            .all(|r| (2004..2006).contains(&r[year].parse::<i32>().unwrap())),
        "model.csv years outside the 2004-2005 of the experiment"
    );

    // summary.csv: arm x point x metric, with the mean of runs.csv's values.
    let summary = Csv::read(&out.join("summary.csv"));
    for c in ["arm", "point", "metric", "n", "mean", "sd", "ci_low", "ci_high"] {
        summary.col(c);
    }
    assert_eq!(summary.rows.len(), 2 * 2 * 2, "one row per arm x point x metric");
    for row in &summary.rows {
        let (a, p, m) = (
            &row[summary.col("arm")],
            &row[summary.col("point")],
            &row[summary.col("metric")],
        );
        assert_eq!(row[summary.col("n")], "2", "{row:?}");
        let xs: Vec<f64> = runs
            .rows
            .iter()
            .filter(|r| &r[arm] == a && &r[point] == p)
            .map(|r| num(&r[runs.col(m)], m))
            .collect();
        assert_eq!(xs.len(), 2, "{row:?}");
        let mean = num(&row[summary.col("mean")], "mean");
        assert!(
            (mean - (xs[0] + xs[1]) / 2.0).abs() <= 1e-9 * (1.0 + mean.abs()),
            "summary mean {mean} is not the mean of {xs:?}"
        );
        let (lo, hi) = (
            num(&row[summary.col("ci_low")], "ci_low"),
            num(&row[summary.col("ci_high")], "ci_high"),
        );
        assert!(
            lo <= mean && mean <= hi,
            "CI [{lo}, {hi}] does not contain the mean {mean}"
        );
        num(&row[summary.col("sd")], "sd");
    }

    // manifest.json
    let manifest: serde_json::Value = serde_json::from_slice(&read(&out, "manifest.json")).unwrap();
    assert_eq!(manifest["runs"], 8, "{manifest}");
    assert_eq!(manifest["arms"], serde_json::json!(["baseline", "legal"]), "{manifest}");
    assert_eq!(manifest["experiment_name"], "small", "{manifest}");
    assert_eq!(manifest["replications"], 2, "{manifest}");

    let partial = partial_files(&out);
    assert!(partial.is_empty(), "temporary files left behind: {partial:?}");
    assert!(
        !out.join("sensitivity.csv").exists(),
        "a factorial design has no sensitivity.csv"
    );
}

#[test]
fn results_do_not_depend_on_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path(), "small.toml", "small", SMALL);
    let (one, three) = (dir.path().join("one"), dir.path().join("three"));
    sweep(&exp, &one, &["--jobs", "1"]).assert_success();
    sweep(&exp, &three, &["--jobs", "3"]).assert_success();
    assert_same_files(&one, &three, &OUTPUTS);
}

/// Two arms x 20 replications of a small tiny: about 60 ms a run, 2-3 s in all in a debug
/// build with one job, long enough to be killed after its first finished run.
const SLOW: &str = r#"seed = 3
replications = 20
set = { "run.end_year" = 2006, "region.villages" = 3 }

[[arm]]
name = "baseline"
set = { "paths.legal.intensity" = 0 }

[[arm]]
name = "legal"
set = { "paths.legal.intensity" = 1.5 }

[[metric]]
name = "governance_index"
stat = "mean"

[[metric]]
name = "order"
stat = "end"
"#;

#[test]
fn killed_sweep_resumes_to_identical_outputs() {
    const TOTAL: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path(), "slow.toml", "slow", SLOW);
    let out = dir.path().join("killed");
    let args = [
        "sweep".to_string(),
        arg(&exp),
        "--out".into(),
        arg(&out),
        "--jobs".into(),
        "1".into(),
    ];

    let mut child = Command::new(BIN)
        .args(&args)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ruralgov sweep");
    let started = Instant::now();
    loop {
        if finished_runs(&out) >= 1 {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the sweep ended ({status}) before any run was seen finished");
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no run finished within 120 s"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let finished_early = child.try_wait().unwrap();
    child.kill().expect("kill the sweep");
    let status = child.wait().unwrap();
    assert!(
        finished_early.is_none() && !status.success(),
        "the sweep had already finished ({status}) when it was killed; make the experiment bigger"
    );
    let done = finished_runs(&out);
    assert!(
        !out.join("manifest.json").exists() && done < TOTAL,
        "the sweep was not interrupted: {done} of {TOTAL} runs finished, manifest {}",
        if out.join("manifest.json").exists() {
            "written"
        } else {
            "absent"
        }
    );
    assert!(
        !out.join("runs.csv").exists(),
        "runs.csv written before the sweep finished"
    );
    eprintln!(
        "killed after {:.2} s with {done} of {TOTAL} runs finished",
        started.elapsed().as_secs_f64()
    );

    // Resume: the same command again.
    let resumed = ruralgov(&args);
    resumed.assert_success();
    let skipped = number_before(&resumed.stdout, " already finished")
        .unwrap_or_else(|| panic!("the resumed sweep does not say how many runs were already finished\n{resumed}"));
    assert!(
        skipped > 0 && skipped == done && skipped < TOTAL,
        "the resumed sweep skipped {skipped} runs, but {done} of {TOTAL} were finished when it was killed\n{resumed}"
    );
    let ran = number_before(&resumed.stdout, " run now").expect("runs run now");
    assert_eq!(skipped + ran, TOTAL, "skipped + run now must be all runs\n{resumed}");

    // An uninterrupted sweep of the same experiment.
    let clean = dir.path().join("clean");
    sweep(&exp, &clean, &["--jobs", "1"]).assert_success();
    assert_same_files(&out, &clean, &OUTPUTS);
    let partial = partial_files(&out);
    assert!(
        partial.is_empty(),
        "temporary files left behind after resuming: {partial:?}"
    );
}

#[test]
fn shards_merge_to_what_one_sweep_writes() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path(), "small.toml", "small", SMALL);
    let whole = dir.path().join("whole");
    sweep(&exp, &whole, &["--jobs", "2"]).assert_success();

    let shards: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("shard{i}"))).collect();
    for (i, s) in shards.iter().enumerate() {
        sweep(&exp, s, &["--jobs", "1", "--shard", &format!("{i}/3")]).assert_success();
        for f in OUTPUTS {
            assert!(
                !s.join(f).exists(),
                "a shard folder alone must not hold {f}: {}",
                s.display()
            );
        }
        let expected = (0..8).filter(|k| k % 3 == i).count();
        assert_eq!(finished_runs(s), expected, "runs finished in shard {i}");
    }

    let merged = dir.path().join("merged");
    let mut args = vec!["merge".to_string()];
    args.extend(shards.iter().map(|s| arg(s)));
    args.extend(["--out".to_string(), arg(&merged)]);
    ruralgov(&args).assert_success();
    assert_same_files(&whole, &merged, &OUTPUTS);

    // Two of three shards: runs are missing.
    let partial = dir.path().join("partial");
    let o = ruralgov(&[
        "merge".to_string(),
        arg(&shards[0]),
        arg(&shards[2]),
        "--out".into(),
        arg(&partial),
    ]);
    let err = assert_clean_error(&o, &["missing"]);
    assert!(err.contains("not finished") || err.contains("missing run"), "{o}");
    for f in OUTPUTS {
        assert!(!partial.join(f).exists(), "a failed merge wrote {f}");
    }
}

#[test]
fn changed_experiment_is_refused_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path(), "small.toml", "small", SMALL);
    let out = dir.path().join("out");
    sweep(&exp, &out, &["--jobs", "2"]).assert_success();
    let before = snapshot(&out);

    let changed = SMALL.replace("replications = 2", "replications = 3");
    assert_ne!(changed, SMALL);
    experiment(dir.path(), "small.toml", "small", &changed);
    let o = sweep(&exp, &out, &["--jobs", "2"]);
    let err = assert_clean_error(&o, &["replications", "--restart"]);
    assert!(err.contains(&arg(&out)), "the message should name the folder\n{o}");
    assert!(snapshot(&out) == before, "the refused sweep changed {}", out.display());

    // An arm's override changed too: named as well.
    let changed2 = changed.replace("\"paths.legal.intensity\" = 1.5", "\"paths.legal.intensity\" = 1.25");
    assert_ne!(changed2, changed);
    experiment(dir.path(), "small.toml", "small", &changed2);
    let o = sweep(&exp, &out, &["--jobs", "2"]);
    assert_clean_error(&o, &["replications", "paths.legal.intensity"]);
    assert!(snapshot(&out) == before, "the refused sweep changed {}", out.display());

    sweep(&exp, &out, &["--jobs", "2", "--restart"]).assert_success();
    let runs = Csv::read(&out.join("runs.csv"));
    assert_eq!(
        runs.rows.len(),
        2 * 2 * 3,
        "runs.csv after --restart with 3 replications"
    );
    let rep = runs.col("replicate");
    assert!(
        runs.rows.iter().any(|r| r[rep] == "2"),
        "no replicate 2 after --restart"
    );
    let manifest: serde_json::Value = serde_json::from_slice(&read(&out, "manifest.json")).unwrap();
    assert_eq!(manifest["replications"], 3, "{manifest}");
}

/// Run `sweep EXP --out DIR/out` and check it is refused cleanly, naming the experiment file
/// and each of `fragments`, and leaving no output folder.
fn refused(dir: &Path, exp: &Path, fragments: &[&str]) -> String {
    let mut all = vec![arg(exp)];
    all.extend(fragments.iter().map(|s| s.to_string()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let err = run_refused(dir, &["sweep".to_string(), arg(exp), "--quiet".into()], &all);
    assert!(!dir.join("out").exists(), "the refused sweep created its output folder");
    err
}

/// `"line N"` for the line of `needle` and for the `[[table]]` header above it: a problem in
/// an array-of-tables entry may be reported at either.
fn key_or_header_line(text: &str, needle: &str, table: &str) -> [String; 2] {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in {text}"));
    let header = lines[..at]
        .iter()
        .rposition(|l| l.trim() == format!("[[{table}]]"))
        .unwrap_or_else(|| panic!("no [[{table}]] above {needle:?}"));
    [format!("line {}", at + 1), format!("line {}", header + 1)]
}

/// Assert that `err` names one of `lines` and no other line.
#[track_caller]
fn assert_names_line(err: &str, lines: &[String]) {
    assert!(
        lines
            .iter()
            .any(|l| err.contains(&format!("{l}:")) || err.contains(&format!("{l},"))),
        "the message should point at {lines:?}: {err}"
    );
}

#[test]
fn experiment_with_unknown_key_is_refused_with_line_and_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let body = SMALL.replace("replications = 2\n", "replications = 2\nreplicatons = 3\n");
    let exp = experiment(dir.path(), "unknown_key.toml", "bad", &body);
    let line = line_of(&experiment_text("bad", &body), "replicatons");
    refused(
        dir.path(),
        &exp,
        &[&line, "replicatons", "did you mean \"replications\""],
    );
}

#[test]
fn experiment_with_unknown_metric_is_refused_with_closest_column() {
    let dir = tempfile::tempdir().unwrap();
    let body = SMALL.replace("name = \"governance_index\"", "name = \"governance_indx\"");
    let exp = experiment(dir.path(), "unknown_metric.toml", "bad", &body);
    let err = refused(
        dir.path(),
        &exp,
        &["metric[0].name", "governance_indx", "did you mean \"governance_index\""],
    );
    assert_names_line(
        &err,
        &key_or_header_line(&experiment_text("bad", &body), "governance_indx", "metric"),
    );
}

#[test]
fn experiment_with_empty_factor_range_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let body = r#"replications = 1
set = { "run.end_year" = 2006, "region.villages" = 3 }

[sampling]
method = "lhs"
samples = 2

[[factor]]
key = "values.market_drift"
range = [1, 0]

[[metric]]
name = "order"
"#;
    let exp = experiment(dir.path(), "bad_range.toml", "bad", body);
    let err = refused(
        dir.path(),
        &exp,
        &["factor[0].range", "values.market_drift", "low < high"],
    );
    assert_names_line(
        &err,
        &key_or_header_line(&experiment_text("bad", body), "range = [1, 0]", "factor"),
    );
}

/// A problem in the second `[[metric]]` or `[[factor]]` table must point at that table, not at
/// the first one.
#[test]
fn errors_in_a_later_array_table_name_its_own_line() {
    // The second metric is misspelt.
    let dir = tempfile::tempdir().unwrap();
    let body = SMALL.replace("name = \"order\"", "name = \"ordr\"");
    let exp = experiment(dir.path(), "second_metric.toml", "bad", &body);
    let err = refused(dir.path(), &exp, &["metric[1].name", "ordr", "did you mean \"order\""]);
    assert_names_line(
        &err,
        &key_or_header_line(&experiment_text("bad", &body), "\"ordr\"", "metric"),
    );

    // The second factor has no values.
    let dir = tempfile::tempdir().unwrap();
    let body = SMALL.replace(
        "values = [0.02, 0.05]\n",
        "values = [0.02, 0.05]\n\n[[factor]]\nkey = \"values.civic_erosion\"\nvalues = []\n",
    );
    let exp = experiment(dir.path(), "second_factor.toml", "bad", &body);
    let err = refused(dir.path(), &exp, &["factor[1].values", "values.civic_erosion"]);
    assert_names_line(
        &err,
        &key_or_header_line(&experiment_text("bad", &body), "values = []", "factor"),
    );
}

#[test]
fn arm_with_unknown_scenario_key_is_refused_naming_the_arm() {
    let dir = tempfile::tempdir().unwrap();
    let body = SMALL.replace("\"paths.legal.intensity\" = 1.5", "\"paths.legal.intensty\" = 1.5");
    let exp = experiment(dir.path(), "bad_arm.toml", "bad", &body);
    refused(
        dir.path(),
        &exp,
        &["arm \"legal\"", "paths.legal.intensty", "paths.legal.intensity"],
    );
}

#[test]
fn experiment_with_missing_base_is_refused_naming_the_base() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no_such_base.toml");
    let text = experiment_text("bad", SMALL).replace(&tiny().display().to_string(), &arg(&missing));
    let exp = write(dir.path(), "missing_base.toml", &text);
    refused(dir.path(), &exp, &[&arg(&missing)]);
}

/// Baseline arm without the legal path against a strong legal path, 5 paired replications.
const LEGAL: &str = r#"seed = 42
replications = 5
set = { "run.end_year" = 2008, "region.villages" = 3 }

[[arm]]
name = "baseline"
set = { "paths.legal.intensity" = 0 }

[[arm]]
name = "legal"
set = { "paths.legal.intensity" = 1.5 }

[[metric]]
name = "order"
stat = "end"

[[metric]]
name = "governance_index"
stat = "mean"
"#;

#[test]
fn compare_reports_paired_differences_with_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path(), "legal.toml", "legal", LEGAL);
    let out = dir.path().join("out");
    sweep(&exp, &out, &["--jobs", "2"]).assert_success();

    let o = ruralgov(&["compare".to_string(), arg(&out)]);
    o.assert_success();
    let lines: Vec<&str> = o.stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    let header = lines.first().copied().unwrap_or_default();
    assert!(
        header.contains("difference") && header.contains("95% CI"),
        "table header: {header:?}\n{o}"
    );
    assert_eq!(lines.len(), 2 + 2, "header, rule and one line per arm x metric\n{o}");
    let width = lines[0].chars().count();
    assert!(
        lines.iter().all(|l| l.chars().count() == width),
        "the table is not aligned (lines of different widths)\n{}",
        o.stdout
    );
    // The "difference" column ends at the same place in every line.
    let end = header.find("difference").unwrap() + "difference".len();
    for l in &lines[2..] {
        let before = &l[..end];
        let value = before.split_whitespace().last().unwrap();
        num(value, "difference cell");
        assert!(l[end..].starts_with("  "), "difference column misaligned in {l:?}");
    }

    let csv = Csv::read(&out.join("compare.csv"));
    assert_eq!(
        csv.header[..9],
        [
            "arm",
            "baseline",
            "metric",
            "n",
            "baseline_mean",
            "arm_mean",
            "difference",
            "ci_low",
            "ci_high"
        ],
        "compare.csv header {:?}",
        csv.header
    );
    for c in ["boot_low", "boot_high", "extra_spend", "per_100k_yuan"] {
        csv.col(c);
    }
    assert_eq!(csv.rows.len(), 2, "one row per arm x metric");
    let c = |name: &str| csv.col(name);
    for row in &csv.rows {
        assert_eq!(row[c("arm")], "legal", "{row:?}");
        assert_eq!(row[c("baseline")], "baseline", "{row:?}");
        assert_eq!(row[c("n")], "5", "{row:?}");
        let (b, a, d) = (
            num(&row[c("baseline_mean")], "b"),
            num(&row[c("arm_mean")], "a"),
            num(&row[c("difference")], "d"),
        );
        assert!(
            (a - b - d).abs() <= 1e-9 * (1.0 + d.abs()),
            "difference {d} is not {a} - {b}"
        );
        let (lo, hi) = (num(&row[c("ci_low")], "ci_low"), num(&row[c("ci_high")], "ci_high"));
        assert!(lo < d && d < hi, "CI [{lo}, {hi}] does not contain the difference {d}");
        assert!(
            row[c("boot_low")].is_empty() && row[c("boot_high")].is_empty(),
            "bootstrap without --bootstrap: {row:?}"
        );
        assert!(
            num(&row[c("extra_spend")], "extra_spend") > 0.0,
            "the legal arm spends more: {row:?}"
        );
    }
    // The legal path's mechanism: mediation settles disputes fairly, so order rises.
    let order = csv
        .rows
        .iter()
        .find(|r| r[c("metric")] == "order_end")
        .expect("order_end row");
    let (d, lo) = (num(&order[c("difference")], "d"), num(&order[c("ci_low")], "ci_low"));
    assert!(
        d > 0.0 && lo > 0.0,
        "legal path: order difference {d} with CI low {lo}, expected above 0: {order:?}"
    );

    // --bootstrap fills the bootstrap interval.
    let o = ruralgov(&["compare".to_string(), arg(&out), "--bootstrap".into(), "200".into()]);
    o.assert_success();
    let csv = Csv::read(&out.join("compare.csv"));
    for row in &csv.rows {
        let d = num(&row[c("difference")], "d");
        let (lo, hi) = (
            num(&row[c("boot_low")], "boot_low"),
            num(&row[c("boot_high")], "boot_high"),
        );
        assert!(lo <= d && d <= hi, "bootstrap CI [{lo}, {hi}] does not contain {d}");
        assert!(lo < hi, "bootstrap CI [{lo}, {hi}] is empty");
    }

    // An unknown baseline arm is refused, listing the arms, and changes nothing.
    let before = snapshot(&out);
    let o = ruralgov(&["compare".to_string(), arg(&out), "--baseline".into(), "NOPE".into()]);
    assert_clean_error(&o, &["NOPE", "baseline, legal"]);
    assert!(snapshot(&out) == before, "a refused compare changed the folder");
}

/// Paths off everywhere, then one arm per path; `BUDGET` is replaced by the budget.
const BUDGET: &str = r#"seed = 5
replications = 2
set = { "run.end_year" = 2006, "region.villages" = 3, "paths.legal.intensity" = 0, "paths.services.intensity" = 0, "paths.culture.intensity" = 0, "paths.self_government.intensity" = 0 }

[budget]
per_village_per_year = BUDGET

[[arm]]
name = "none"

[[arm]]
name = "legal"
set = { "paths.legal.intensity" = 1 }

[[arm]]
name = "services"
set = { "paths.services.intensity" = 1 }

[[arm]]
name = "mixed"
set = { "paths.culture.intensity" = 0.5, "paths.self_government.intensity" = 1.5 }

[[metric]]
name = "governance_index"
stat = "mean"
"#;

#[test]
fn equal_budget_scales_every_spending_arm_to_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let budget = 50_000.0;
    let exp = experiment(dir.path(), "budget.toml", "budget", &BUDGET.replace("BUDGET", "50000"));
    let out = dir.path().join("out");
    sweep(&exp, &out, &["--jobs", "2"]).assert_success();
    let runs = Csv::read(&out.join("runs.csv"));
    let (arm, scale, spend) = (
        runs.col("arm"),
        runs.col("budget_scale"),
        runs.col("spend_per_village_year"),
    );
    assert_eq!(runs.rows.len(), 4 * 2);
    let mut scales = std::collections::BTreeMap::new();
    for row in &runs.rows {
        let (s, x) = (num(&row[scale], "budget_scale"), num(&row[spend], "spend"));
        if row[arm] == "none" {
            assert_eq!((s, x), (1.0, 0.0), "an arm without paths is left as it is: {row:?}");
        } else {
            assert!(
                ((x - budget) / budget).abs() <= 1e-6,
                "arm {} spends {x}, not the budget {budget}: {row:?}",
                row[arm]
            );
        }
        scales.insert(row[arm].clone(), s);
    }
    // legal costs 60,000 at intensity 1, services 100,000: different scales.
    let (l, s, m) = (scales["legal"], scales["services"], scales["mixed"]);
    assert!((l - 50_000.0 / 60_000.0).abs() < 1e-9, "legal scale {l}");
    assert!((s - 0.5).abs() < 1e-9, "services scale {s}");
    assert!(
        l != s && s != m && l != m,
        "scales should differ between arms: {scales:?}"
    );

    // compare reports the extra spending (the budget) and the effect per 100,000 yuan.
    let o = ruralgov(&["compare".to_string(), arg(&out), "--baseline".into(), "none".into()]);
    o.assert_success();
    let csv = Csv::read(&out.join("compare.csv"));
    for row in &csv.rows {
        let extra = num(&row[csv.col("extra_spend")], "extra_spend");
        assert!((extra - budget).abs() <= 1e-6 * budget, "extra spend {extra}: {row:?}");
        let d = num(&row[csv.col("difference")], "difference");
        let per = num(&row[csv.col("per_100k_yuan")], "per_100k_yuan");
        assert!(
            (per - d * 2.0).abs() <= 1e-9 * (1.0 + per.abs()),
            "per 100k yuan {per} for difference {d}"
        );
    }

    // A budget that needs legal at intensity 2.5 (> 2) is refused, naming the arm.
    let dir = tempfile::tempdir().unwrap();
    let exp = experiment(dir.path(), "budget.toml", "budget", &BUDGET.replace("BUDGET", "150000"));
    let err = refused(dir.path(), &exp, &["arm \"legal\"", "paths.legal.intensity"]);
    assert!(err.contains("budget"), "the message should mention the budget: {err}");
}

/// Two factors with ranges over short runs; `DESIGN` is replaced by the `[sampling]` table.
const SENSITIVITY: &str = r#"seed = 9
replications = 2
set = { "run.end_year" = 2006, "region.villages" = 3 }

DESIGN

[[factor]]
key = "values.market_drift"
range = [0.01, 0.08]

[[factor]]
key = "paths.legal.intensity"
range = [0.0, 1.5]

[[metric]]
name = "governance_index"
stat = "mean"

[[metric]]
name = "order"
stat = "end"
"#;

#[test]
fn morris_sweep_writes_sensitivity_and_the_command_reproduces_it() {
    let dir = tempfile::tempdir().unwrap();
    let design = "[sampling]\nmethod = \"morris\"\ntrajectories = 3\nlevels = 4\nseed = 2";
    let exp = experiment(
        dir.path(),
        "morris.toml",
        "morris",
        &SENSITIVITY.replace("DESIGN", design),
    );
    let out = dir.path().join("out");
    sweep(&exp, &out, &["--jobs", "2"]).assert_success();
    let runs = Csv::read(&out.join("runs.csv"));
    assert_eq!(
        runs.rows.len(),
        3 * (2 + 1) * 2,
        "trajectories x (k + 1) points x replications"
    );

    let text = String::from_utf8(read(&out, "sensitivity.csv")).unwrap();
    let s = Csv::read(&out.join("sensitivity.csv"));
    assert_eq!(s.header.join(","), "arm,metric,factor,mu,mu_star,sigma,noise_share");
    assert_eq!(s.rows.len(), 2 * 2, "one row per metric x factor\n{text}");
    let mut pairs: Vec<(String, String)> = s.rows.iter().map(|r| (r[1].clone(), r[2].clone())).collect();
    pairs.sort();
    assert_eq!(
        pairs,
        [
            ("governance_index_mean", "paths.legal.intensity"),
            ("governance_index_mean", "values.market_drift"),
            ("order_end", "paths.legal.intensity"),
            ("order_end", "values.market_drift"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string())),
        "{text}"
    );
    for r in &s.rows {
        let (mu, mu_star, sigma) = (num(&r[3], "mu"), num(&r[4], "mu_star"), num(&r[5], "sigma"));
        assert!(mu_star >= mu.abs() - 1e-12, "mu_star {mu_star} < |mu| {mu}: {r:?}");
        assert!(sigma >= 0.0, "sigma {sigma}: {r:?}");
        let noise = num(&r[6], "noise_share");
        assert!((0.0..=1.0).contains(&noise), "noise_share {noise}: {r:?}");
    }

    fs::remove_file(out.join("sensitivity.csv")).unwrap();
    let o = ruralgov(&["sensitivity".to_string(), arg(&out)]);
    o.assert_success();
    assert_eq!(
        o.stdout,
        ruralgov::experiment::sensitivity::pretty(&text),
        "`ruralgov sensitivity` prints a different table than the sweep wrote"
    );
    assert_eq!(
        String::from_utf8(read(&out, "sensitivity.csv")).unwrap(),
        text,
        "recomputed sensitivity.csv differs"
    );
}

#[test]
fn sobol_sweep_writes_first_and_total_indices() {
    let dir = tempfile::tempdir().unwrap();
    let design = "[sampling]\nmethod = \"sobol\"\nsamples = 4\nseed = 3\nbootstrap = 50";
    let exp = experiment(
        dir.path(),
        "sobol.toml",
        "sobol",
        &SENSITIVITY.replace("DESIGN", design),
    );
    let out = dir.path().join("out");
    sweep(&exp, &out, &["--jobs", "2"]).assert_success();
    let runs = Csv::read(&out.join("runs.csv"));
    assert_eq!(runs.rows.len(), 4 * (2 + 2) * 2, "N x (k + 2) points x replications");

    let text = String::from_utf8(read(&out, "sensitivity.csv")).unwrap();
    let s = Csv::read(&out.join("sensitivity.csv"));
    assert_eq!(
        s.header.join(","),
        "arm,metric,factor,first,first_low,first_high,total,total_low,total_high,noise_share"
    );
    assert_eq!(s.rows.len(), 2 * 2, "one row per metric x factor\n{text}");
    for r in &s.rows {
        for (i, c) in ["first", "total"].iter().enumerate() {
            let j = 3 + 3 * i;
            let (x, lo, hi) = (num(&r[j], c), num(&r[j + 1], "low"), num(&r[j + 2], "high"));
            assert!(x.is_finite() && lo <= hi, "{c} {x} [{lo}, {hi}]: {r:?}");
        }
    }
    let o = ruralgov(&["sensitivity".to_string(), arg(&out)]);
    o.assert_success();
    assert_eq!(
        o.stdout,
        ruralgov::experiment::sensitivity::pretty(&text),
        "`ruralgov sensitivity` prints a different table than the sweep wrote"
    );
}

#[test]
fn bundled_experiments_load_and_state_their_run_time() {
    use ruralgov::experiment::{plan::Plan, spec};
    let folder = root().join("scenarios").join("experiments");
    let mut files: Vec<PathBuf> = fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "bundled experiments: {files:?}");
    for f in &files {
        let loaded = spec::load(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let plan = Plan::build(&loaded).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let e = &loaded.experiment;
        assert!(!plan.runs.is_empty(), "{}: no runs", f.display());
        for k in [0, plan.runs.len() - 1] {
            let sc = plan
                .scenario(k)
                .unwrap_or_else(|e| panic!("{}: run {k}: {e}", f.display()));
            assert_eq!(sc.run.seed, plan.runs[k].seed, "{}", f.display());
        }
        assert_eq!(
            plan.runs.len(),
            plan.arms.len() * plan.points.len() * e.replications as usize,
            "{}: runs are not arms x points x replications",
            f.display()
        );
        assert!(!e.description.trim().is_empty(), "{}: empty description", f.display());
        assert!(
            e.description.contains("minute") || e.description.contains("second"),
            "{}: the description does not state the run time: {:?}",
            f.display(),
            e.description
        );
    }
}

#[test]
fn morris_analyses_paired_path_effects_too() {
    // Three arms: the base, a copy of it, and legal services. The copy's paired effect is
    // exactly zero at every design point (common random numbers), so its elementary effects
    // vanish while the arm's own do not; legal services' effect responds to the factors.
    let dir = tempfile::tempdir().unwrap();
    let design = "[sampling]\nmethod = \"morris\"\ntrajectories = 3\nlevels = 4\nseed = 2\n\n[[arm]]\nname = \"base\"\n\n[[arm]]\nname = \"copy\"\n\n[[arm]]\nname = \"legal\"\nset = { \"paths.legal.intensity\" = 1.0 }";
    let body = SENSITIVITY.replace("DESIGN", design).replace(
        "key = \"paths.legal.intensity\"\nrange = [0.0, 1.5]",
        "key = \"governance.court\"\nrange = [0.1, 0.9]",
    );
    let exp = experiment(dir.path(), "paired.toml", "paired", &body);
    let out = dir.path().join("out");
    sweep(&exp, &out, &["--jobs", "2"]).assert_success();
    let s = Csv::read(&out.join("sensitivity.csv"));
    let arms: std::collections::BTreeSet<&str> = s.rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        arms.into_iter().collect::<Vec<_>>(),
        ["base", "copy", "copy-base", "legal", "legal-base"]
    );
    for r in &s.rows {
        let (mu_star, sigma) = (num(&r[4], "mu_star"), num(&r[5], "sigma"));
        match r[0].as_str() {
            "copy-base" => assert!(
                mu_star == 0.0 && sigma == 0.0,
                "a null effect has elementary effects: {r:?}"
            ),
            "base" | "copy" if r[1] == "governance_index_mean" => {
                assert!(mu_star > 0.0, "the level does not respond to {}: {r:?}", r[2])
            }
            _ => {}
        }
    }
    let legal_court = s
        .rows
        .iter()
        .find(|r| r[0] == "legal-base" && r[1] == "governance_index_mean" && r[2] == "governance.court")
        .expect("a row for the legal effect and the court");
    assert!(
        num(&legal_court[4], "mu_star") > 0.0,
        "legal services' effect does not depend on the court: {legal_court:?}"
    );
}
