//! Output folders: a run never overwrites results of a different run or unrelated files
//! without `--force`, and re-running the same command into the same folder is allowed.

use std::fs;

use crate::util::{arg, assert_clean_error, names_in, run_tiny, ruralgov, snapshot, tiny, write};

fn run_tiny_args(out: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["run".into(), arg(&tiny()), "--out".into(), arg(out), "--quiet".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

#[test]
fn different_run_into_results_folder_is_refused_and_leaves_results_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_tiny(&out, &["--seed", "11"]);
    let before = snapshot(&out);
    assert!(
        before.len() >= 3,
        "the first run wrote {:?}",
        before.keys().collect::<Vec<_>>()
    );

    let o = ruralgov(&run_tiny_args(&out, &["--seed", "12"]));
    assert_clean_error(&o, &["--force", &arg(&out)]);
    assert!(
        snapshot(&out) == before,
        "the refused run changed {}: now {:?}",
        out.display(),
        names_in(&out)
    );

    run_tiny(&out, &["--seed", "12", "--force"]);
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["seed"], 12,
        "--force should replace the results with the new run's"
    );
    assert_ne!(
        fs::read(out.join("metrics.csv")).unwrap(),
        before[&std::path::PathBuf::from("metrics.csv")].clone().unwrap(),
        "metrics.csv was not replaced by --force"
    );
}

#[test]
fn rerunning_identical_command_into_same_folder_succeeds_with_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_tiny(&out, &["--seed", "5"]);
    let first_metrics = fs::read(out.join("metrics.csv")).unwrap();
    let first_villages = fs::read(out.join("villages.csv")).unwrap();
    run_tiny(&out, &["--seed", "5"]);
    assert!(
        fs::read(out.join("metrics.csv")).unwrap() == first_metrics,
        "metrics.csv differs on the re-run"
    );
    assert!(
        fs::read(out.join("villages.csv")).unwrap() == first_villages,
        "villages.csv differs on the re-run"
    );
    assert_eq!(
        names_in(&out),
        vec![
            "distributions.csv",
            "manifest.json",
            "metrics.csv",
            "pyramid.csv",
            "villages.csv"
        ]
    );
}

#[test]
fn folder_with_unrelated_files_is_refused_without_force_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    write(&out, "notes.txt", "my notes\n");
    fs::create_dir(out.join("data")).unwrap();
    write(&out.join("data"), "metrics.csv", "not ruralgov's\n");
    let before = snapshot(&out);

    let o = ruralgov(&run_tiny_args(&out, &[]));
    assert_clean_error(&o, &["--force", &arg(&out)]);
    assert!(
        snapshot(&out) == before,
        "the refused run changed {}: now {:?}",
        out.display(),
        names_in(&out)
    );
}

/// An empty folder (made by the user beforehand) is fine to write into.
#[test]
fn empty_existing_folder_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    run_tiny(&out, &[]);
    assert_eq!(
        names_in(&out),
        vec![
            "distributions.csv",
            "manifest.json",
            "metrics.csv",
            "pyramid.csv",
            "villages.csv"
        ]
    );
}

/// Charts and a report drawn from earlier results would describe the old run: new results
/// written into the folder remove them.
#[test]
fn new_results_remove_charts_and_report_of_the_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    run_tiny(&out, &[]);
    ruralgov(&["plot".to_string(), arg(&out), "--quiet".into()]).assert_success();
    ruralgov(&["report".to_string(), arg(&out), "--quiet".into()]).assert_success();
    assert!(out.join("charts").join("pyramid.png").exists());
    run_tiny(&out, &["--seed", "99", "--force"]);
    assert!(!out.join("charts").exists(), "stale charts/ left beside new results");
    assert!(
        !out.join("report.html").exists(),
        "stale report.html left beside new results"
    );
    assert!(out.join("metrics.csv").exists());
}
