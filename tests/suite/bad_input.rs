//! Bad input through the command line: every case exits with code 2, prints one paragraph on
//! stderr that names what is wrong (file, line, key, expected value), and writes nothing.

use std::fs;

use crate::util::{arg, extends_tiny, run_refused, tiny, tiny_child, write};

/// `run <scenario>` arguments.
fn run_args(scenario: &std::path::Path) -> Vec<String> {
    vec!["run".into(), arg(scenario)]
}

/// `run <tiny> --set <set>` arguments.
fn run_tiny_with_set(set: &str) -> Vec<String> {
    vec!["run".into(), arg(&tiny()), "--set".into(), set.into()]
}

/// True if `message` states the range from `lo` to `hi` in one of the usual ways.
fn names_range(message: &str, lo: &str, hi: &str) -> bool {
    [
        format!("between {lo} and {hi}"),
        format!("[{lo}, {hi}]"),
        format!("[{lo},{hi}]"),
        format!("{lo} to {hi}"),
    ]
    .iter()
    .any(|r| message.contains(r.as_str()))
}

#[test]
fn missing_scenario_file_is_refused_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no_such_scenario.toml");
    run_refused(dir.path(), &run_args(&missing), &[&arg(&missing)]);
}

#[test]
fn malformed_toml_is_refused_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = tiny_child(dir.path(), "malformed.toml", "[run]\nseed = = 3\n");
    let err = run_refused(dir.path(), &run_args(&p), &[&arg(&p), "line 3"]);
    assert!(
        err.contains("TOML"),
        "the message should say the file is not valid TOML: {err}"
    );
}

#[test]
fn unknown_key_is_refused_with_line_and_closest_valid_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = tiny_child(dir.path(), "unknown.toml", "[migration]\nleave_bse = 0.1\n");
    run_refused(
        dir.path(),
        &run_args(&p),
        &[&arg(&p), "line 3", "leave_bse", "leave_base"],
    );
}

#[test]
fn wrong_type_is_refused_naming_dotted_key_line_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let p = tiny_child(dir.path(), "wrong_type.toml", "[region]\nvillages = \"many\"\n");
    let err = run_refused(
        dir.path(),
        &run_args(&p),
        &[&arg(&p), "line 3", "region.villages", "many"],
    );
    assert!(
        err.contains("whole number") || err.contains("integer"),
        "the message should say what is expected: {err}"
    );
}

#[test]
fn out_of_range_value_is_refused_naming_key_value_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let p = tiny_child(dir.path(), "out_of_range.toml", "[paths.legal]\nintensity = 5\n");
    let err = run_refused(
        dir.path(),
        &run_args(&p),
        &[&arg(&p), "line 3", "paths.legal.intensity", "5"],
    );
    assert!(
        names_range(&err, "0", "2"),
        "the message should name the allowed range 0 to 2: {err}"
    );
}

#[test]
fn extends_cycle_is_refused_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "cycle_a.toml", "extends = \"cycle_b.toml\"\n");
    write(dir.path(), "cycle_b.toml", "extends = \"cycle_a.toml\"\n");
    let err = run_refused(dir.path(), &run_args(&a), &["cycle_a.toml", "cycle_b.toml", "extends"]);
    assert!(
        err.contains("loop") || err.contains("cycle"),
        "the message should say the files extend each other in a loop: {err}"
    );
}

#[test]
fn missing_extends_target_is_refused_naming_file_line_and_target() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "child.toml",
        "# a child of a missing base\n\nextends = \"no_such_base.toml\"\n",
    );
    run_refused(
        dir.path(),
        &run_args(&p),
        &[&arg(&p), "line 3", "extends", "no_such_base.toml"],
    );
}

#[test]
fn set_unknown_key_is_refused_with_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    run_refused(
        dir.path(),
        &run_tiny_with_set("migration.leave_bse=0.1"),
        &["--set", "migration.leave_bse", "migration.leave_base"],
    );
}

#[test]
fn set_wrong_type_is_refused_naming_key_and_value() {
    let dir = tempfile::tempdir().unwrap();
    run_refused(
        dir.path(),
        &run_tiny_with_set("region.villages=many"),
        &["--set", "region.villages", "many"],
    );
}

#[test]
fn set_out_of_range_is_refused_naming_key_value_and_range() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_refused(
        dir.path(),
        &run_tiny_with_set("paths.legal.intensity=5"),
        &["--set", "paths.legal.intensity", "5"],
    );
    assert!(
        names_range(&err, "0", "2"),
        "the message should name the allowed range 0 to 2: {err}"
    );
}

#[test]
fn set_without_equals_sign_is_refused_showing_the_form() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_refused(
        dir.path(),
        &run_tiny_with_set("region.villages"),
        &["--set", "region.villages"],
    );
    assert!(
        err.contains("=value") || err.contains("=VALUE"),
        "the message should show the KEY=VALUE form: {err}"
    );
}

/// The message for a malformed `--set` shows an example; the example must itself be accepted.
#[test]
fn set_without_equals_sign_example_is_a_real_setting() {
    let dir = tempfile::tempdir().unwrap();
    let err = run_refused(dir.path(), &run_tiny_with_set("region.villages"), &["--set "]);
    let example = err
        .split("--set ")
        .skip(1)
        .map(|rest| {
            rest.split(|c: char| c.is_whitespace() || c == ')' || c == ',')
                .next()
                .unwrap_or("")
        })
        .find(|e| e.contains('='))
        .unwrap_or_else(|| panic!("no `--set KEY=VALUE` example in the message: {err}"))
        .to_string();
    let o = crate::util::ruralgov(&["show".to_string(), arg(&tiny()), "--set".into(), example.clone()]);
    assert_eq!(
        o.code,
        Some(0),
        "the example `--set {example}` from the error message is itself refused\n{o}"
    );
}

#[test]
fn zero_threads_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = run_args(&tiny());
    args.extend(["--threads".into(), "0".into()]);
    run_refused(dir.path(), &args, &["--threads"]);
}

#[test]
fn output_folder_under_a_regular_file_is_refused_naming_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "f", "a regular file\n");
    let out = file.join("sub");
    let o = crate::util::ruralgov_in(
        dir.path(),
        &["run".into(), arg(&tiny()), "--out".into(), arg(&out), "--quiet".into()],
    );
    crate::util::assert_clean_error(&o, &[&arg(&out)]);
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "a regular file\n",
        "the file in the way was changed"
    );
    assert_eq!(
        crate::util::names_in(dir.path()),
        vec!["f".to_string()],
        "the failed run left files behind"
    );
}

/// The operating system's reason appears once, not once per layer of error wrapping.
#[test]
fn output_folder_error_states_the_os_reason_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "f", "");
    let out = file.join("sub");
    let o = crate::util::ruralgov_in(
        dir.path(),
        &["run".into(), arg(&tiny()), "--out".into(), arg(&out), "--quiet".into()],
    );
    let err = crate::util::assert_clean_error(&o, &[&arg(&out)]);
    let reason = std::io::Error::from_raw_os_error(20).to_string(); // ENOTDIR
    let times = err.matches(reason.as_str()).count();
    assert!(times <= 1, "the reason {reason:?} is repeated {times} times: {err}");
}

#[test]
fn output_path_that_is_a_regular_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "out", "not a folder\n");
    let o = crate::util::ruralgov_in(
        dir.path(),
        &["run".into(), arg(&tiny()), "--out".into(), arg(&file), "--quiet".into()],
    );
    crate::util::assert_clean_error(&o, &[&arg(&file)]);
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "not a folder\n",
        "the file in the way was changed"
    );
    assert_eq!(
        crate::util::names_in(dir.path()),
        vec!["out".to_string()],
        "the failed run left files behind"
    );
}

/// A bad key in a child file is reported against the child, not against tiny.toml.
#[test]
fn error_in_child_file_names_the_child_not_the_base() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "child.toml",
        &format!("# comment\n{}[region]\nvillages = -1\n", extends_tiny()),
    );
    let err = run_refused(
        dir.path(),
        &run_args(&p),
        &[&arg(&p), "line 4", "region.villages", "-1"],
    );
    assert!(
        !err.contains("tiny.toml"),
        "the error is in the child file, not tiny.toml: {err}"
    );
}
