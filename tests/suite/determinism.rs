//! Determinism: results depend on the scenario and seed only, never on the thread count.

use std::fs;

use ruralgov::scenario::Scenario;

use crate::util::{run_tiny, tiny};

#[test]
fn cli_results_are_byte_identical_for_1_2_4_and_7_threads() {
    let dir = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for threads in ["1", "2", "4", "7"] {
        let out = dir.path().join(format!("threads-{threads}"));
        run_tiny(&out, &["--threads", threads]);
        let metrics = fs::read(out.join("metrics.csv")).unwrap();
        let villages = fs::read(out.join("villages.csv")).unwrap();
        results.push((threads, metrics, villages));
    }
    let (_, m1, v1) = &results[0];
    for (threads, m, v) in &results[1..] {
        assert!(
            m == m1,
            "metrics.csv with {threads} threads differs from 1 thread (first difference at line {})",
            first_diff_line(m1, m)
        );
        assert!(
            v == v1,
            "villages.csv with {threads} threads differs from 1 thread (first difference at line {})",
            first_diff_line(v1, v)
        );
    }
}

#[test]
fn same_seed_gives_identical_files_and_different_seed_gives_different_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let read = |name: &str| {
        let out = dir.path().join(name);
        (
            fs::read(out.join("metrics.csv")).unwrap(),
            fs::read(out.join("villages.csv")).unwrap(),
        )
    };
    run_tiny(&dir.path().join("a"), &["--seed", "3"]);
    run_tiny(&dir.path().join("b"), &["--seed", "3"]);
    run_tiny(&dir.path().join("c"), &["--seed", "4"]);
    let (ma, va) = read("a");
    let (mb, vb) = read("b");
    let (mc, _) = read("c");
    assert!(
        ma == mb,
        "metrics.csv differs between two runs with seed 3 (line {})",
        first_diff_line(&ma, &mb)
    );
    assert!(
        va == vb,
        "villages.csv differs between two runs with seed 3 (line {})",
        first_diff_line(&va, &vb)
    );
    assert!(
        ma != mc,
        "metrics.csv is the same for seeds 3 and 4: the seed is ignored"
    );
}

#[test]
fn library_run_does_not_depend_on_thread_count() {
    let sc = Scenario::load(&tiny(), &[]).expect("load tiny").value;
    let one = ruralgov::sim::run(&sc, 1, |_, _| {}).expect("run with 1 thread");
    let three = ruralgov::sim::run(&sc, 3, |_, _| {}).expect("run with 3 threads");
    assert_eq!(one.metrics.len(), sc.steps() as usize);
    for (a, b) in one.metrics.iter().zip(&three.metrics) {
        assert!(
            a == b,
            "metrics of step {} differ between 1 and 3 threads:\n{a:?}\n{b:?}",
            a.step
        );
    }
    assert!(
        one.villages == three.villages,
        "village rows differ between 1 and 3 threads"
    );
    assert_eq!(one.initial_registered, three.initial_registered);
}

/// 1-based line of the first difference between two texts.
fn first_diff_line(a: &[u8], b: &[u8]) -> usize {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    a.lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .map(|i| i + 1)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()) + 1)
}

/// A growing population outgrows its reserved slots, so the villager columns are repacked
/// mid-run; results must still not depend on the thread count.
#[test]
fn repacking_a_growing_population_is_thread_count_invariant() {
    let dir = tempfile::tempdir().unwrap();
    let grow = [
        "--set",
        "population.tfr=8",
        "--set",
        "population.life_expectancy=78",
        "--set",
        "migration.settle_rate=0",
        "--set",
        "run.end_year=2025",
    ];
    let mut outputs = Vec::new();
    for threads in ["1", "3"] {
        let out = dir.path().join(format!("grow-{threads}"));
        let mut args = grow.to_vec();
        args.extend(["--threads", threads]);
        run_tiny(&out, &args);
        let manifest: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
        assert!(
            manifest["repacks"].as_u64().unwrap() > 0,
            "the scenario must force a repack: {manifest}"
        );
        outputs.push((
            fs::read(out.join("metrics.csv")).unwrap(),
            fs::read(out.join("villages.csv")).unwrap(),
        ));
    }
    assert!(
        outputs[0].0 == outputs[1].0,
        "metrics.csv differs (line {})",
        first_diff_line(&outputs[0].0, &outputs[1].0)
    );
    assert!(
        outputs[0].1 == outputs[1].1,
        "villages.csv differs (line {})",
        first_diff_line(&outputs[0].1, &outputs[1].1)
    );
}
