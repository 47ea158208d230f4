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

/// Run `ruralgov` with `args`, and `RURALGOV_SCALAR=1` when `scalar` (the baseline copies of
/// the vector kernels); must succeed.
fn ruralgov_kernels(args: &[String], scalar: bool) -> String {
    let mut cmd = std::process::Command::new(crate::util::BIN);
    cmd.current_dir(crate::util::root()).args(args);
    if scalar {
        cmd.env("RURALGOV_SCALAR", "1");
    } else {
        cmd.env_remove("RURALGOV_SCALAR");
    }
    let out = cmd.output().expect("ruralgov starts");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn vector_kernels_and_the_scalar_fallback_give_byte_identical_outputs() {
    // The switch works: the fallback is chosen when asked for (on an AVX2 machine the default
    // is the AVX2 copy, so the comparison below compares two different compilations).
    let bench = |scalar| {
        let args: Vec<String> = ["bench", "--villagers", "2000", "--months", "1", "--threads", "1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        ruralgov_kernels(&args, scalar)
    };
    assert!(
        bench(true).contains("vector kernels          baseline"),
        "{}",
        bench(true)
    );
    let avx2 = std::arch::is_x86_feature_detected!("avx2");
    assert_eq!(
        bench(false).contains("vector kernels          AVX2"),
        avx2,
        "{}",
        bench(false)
    );
    let dir = tempfile::tempdir().unwrap();
    // The tiny scenario (every path at 0.5) and a variant with negative influence, random
    // mixing and a larger population, so every dense pass and its rarer branches run.
    let variant = crate::util::tiny_child(
        dir.path(),
        "variant.toml",
        "[values]\nrejection_bound = 0.5\nmixing = \"random\"\n\n[population]\nadults_per_village = 700\n",
    );
    for (name, scenario) in [("tiny", crate::util::tiny()), ("variant", variant)] {
        let mut files = Vec::new();
        for scalar in [false, true] {
            let out = dir.path().join(format!("{name}-{scalar}"));
            let args = vec![
                "run".to_string(),
                scenario.display().to_string(),
                "--out".into(),
                out.display().to_string(),
                "--quiet".into(),
                "--threads".into(),
                "2".into(),
            ];
            ruralgov_kernels(&args, scalar);
            let read = |f: &str| fs::read(out.join(f)).unwrap_or_default();
            files.push(["metrics.csv", "villages.csv", "pyramid.csv", "distributions.csv"].map(read));
        }
        for (k, f) in ["metrics.csv", "villages.csv", "pyramid.csv", "distributions.csv"]
            .iter()
            .enumerate()
        {
            assert!(!files[0][k].is_empty() || *f == "villages.csv", "{name}: {f} written");
            assert!(
                files[0][k] == files[1][k],
                "{name}: {f} differs between the vector kernels and the fallback (first difference at line {})",
                first_diff_line(&files[0][k], &files[1][k])
            );
        }
    }
}
