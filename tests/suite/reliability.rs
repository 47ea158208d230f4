//! Regression tests of the reliability review (issue 10): each test is named after the item
//! it reproduces (`issue10_N_...`) and failed before its fix.
//!
//! What is promised, and which test checks each promise, is listed in `docs/reliability.md`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{arg, assert_clean_error, names_in, root, ruralgov, snapshot, tiny, write, Csv, BIN};

/// A scenario of one village of 20 adults over one year, recorded yearly: a run takes about a
/// millisecond, so a sweep of thousands of them measures the sweep machinery alone.
fn speck(dir: &Path) -> PathBuf {
    write(
        dir,
        "speck.toml",
        &format!(
            "extends = '{}'\nname = \"speck\"\n[run]\nstart_year = 2004\nend_year = 2005\n[region]\nvillages = 1\n[population]\nadults_per_village = 20\n[output]\nrecord_every = 12\nvillages = false\n",
            tiny().display()
        ),
    )
}

/// An experiment of `replications` runs of the speck scenario, one arm.
fn speck_experiment(dir: &Path, name: &str, replications: u32) -> PathBuf {
    let base = speck(dir);
    write(
        dir,
        &format!("{name}.toml"),
        &format!(
            "name = \"{name}\"\ndescription = \"Many tiny runs.\"\nbase = '{}'\nseed = 3\nreplications = {replications}\n\n[[metric]]\nname = \"governance_index\"\nstat = \"end\"\n",
            base.display()
        ),
    )
}

/// `ruralgov sweep EXP --out OUT <extra>` (not quiet: the summary line is read).
fn sweep(exp: &Path, out: &Path, extra: &[&str]) -> crate::util::Output {
    let mut args = vec!["sweep".to_string(), arg(exp), "--out".into(), arg(out)];
    args.extend(extra.iter().map(|s| s.to_string()));
    ruralgov(&args)
}

/// The peak memory the sweep's summary line reports, in MB.
fn peak_mb(stdout: &str) -> f64 {
    let at = stdout
        .find("peak memory ")
        .unwrap_or_else(|| panic!("no peak memory in {stdout}"));
    let rest = &stdout[at + "peak memory ".len()..];
    let mut it = rest.split_whitespace();
    let x: f64 = it.next().and_then(|x| x.parse().ok()).expect("a number");
    match it.next().map(|u| u.trim_end_matches(')')) {
        Some("kB") => x / 1e3,
        Some("MB") => x,
        Some("GB") => x * 1e3,
        u => panic!("unit {u:?}"),
    }
}

/// Modification times of the run records, by run id.
fn record_times(out: &Path, runs: usize) -> Vec<std::time::SystemTime> {
    (0..runs)
        .map(|i| {
            let p = out.join(".sweep").join("runs").join(format!("{i:06}.json"));
            fs::metadata(&p)
                .and_then(|m| m.modified())
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect()
}

#[test]
fn issue10_1_sweep_of_10000_tiny_runs_finishes_in_plan_order_in_constant_memory() {
    let dir = tempfile::tempdir().unwrap();
    let small = speck_experiment(dir.path(), "hundred", 100);
    let o = sweep(&small, &dir.path().join("small"), &["--jobs", "2"]);
    o.assert_success();
    let small_peak = peak_mb(&o.stdout);

    let big = speck_experiment(dir.path(), "many", 10_000);
    let out = dir.path().join("many");
    let o = sweep(&big, &out, &["--jobs", "2"]);
    o.assert_success();
    let runs = Csv::read(&out.join("runs.csv"));
    assert_eq!(runs.rows.len(), 10_000);
    let ids: Vec<u32> = runs.rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert!(
        ids.iter().enumerate().all(|(i, &id)| id == i as u32),
        "runs.csv is not in run order"
    );
    let peak = peak_mb(&o.stdout);
    assert!(
        peak < small_peak * 2.0 + 30.0,
        "memory grows with the number of runs: {small_peak} MB for 100 runs, {peak} MB for 10,000"
    );
    // Runs start in plan order, two at a time: a run can overtake the one just before it (on
    // the other worker), but hardly one 16 places earlier (a worker would have to stall for
    // 16 runs of the other). The old sweep finished runs in reverse order.
    let times = record_times(&out, 10_000);
    let out_of_order = (16..times.len()).filter(|&i| times[i] < times[i - 16]).count();
    assert!(
        out_of_order < 100,
        "{out_of_order} runs finished before a run 16 places earlier: runs do not go in plan order"
    );
}

#[test]
fn issue10_1_sweep_with_one_job_runs_every_run_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let exp = speck_experiment(dir.path(), "one_job", 2_000);
    let out = dir.path().join("out");
    sweep(&exp, &out, &["--jobs", "1", "--quiet"]).assert_success();
    let times = record_times(&out, 2_000);
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "with --jobs 1 runs must finish in plan order"
    );
    assert_eq!(Csv::read(&out.join("runs.csv")).rows.len(), 2_000);
}

/// Start `ruralgov run` on a scenario that takes a few seconds, into `out`, and wait until it
/// holds the folder's lock.
fn start_slow_run(dir: &Path, out: &Path, seed: &str) -> std::process::Child {
    let slow = write(
        dir,
        "slow.toml",
        &format!(
            "extends = '{}'\nname = \"slow\"\n[run]\nstart_year = 2000\nend_year = 2030\n[region]\nvillages = 60\n[population]\nadults_per_village = 400\n",
            tiny().display()
        ),
    );
    let child = Command::new(BIN)
        .args([
            "run",
            &arg(&slow),
            "--out",
            &arg(out),
            "--quiet",
            "--threads",
            "1",
            "--seed",
            seed,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ruralgov");
    let lock = out.join(".ruralgov.lock");
    let t = Instant::now();
    while !lock.exists() {
        assert!(t.elapsed() < Duration::from_secs(20), "the run never took its lock");
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

#[test]
fn issue10_2_a_second_writer_is_refused_while_a_run_holds_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut first = start_slow_run(dir.path(), &out, "1");
    // A second run (another seed), a sweep, a plot and a report into the same folder.
    let second = ruralgov(&[
        "run".to_string(),
        arg(&dir.path().join("slow.toml")),
        "--out".into(),
        arg(&out),
        "--seed".into(),
        "2".into(),
        "--force".into(),
    ]);
    let msg = assert_clean_error(&second, &["another ruralgov process is writing", "pid"]);
    assert!(msg.contains(&arg(&out)), "{msg}");
    let exp = speck_experiment(dir.path(), "into_locked", 2);
    let o = sweep(&exp, &out, &[]);
    assert_clean_error(&o, &["another ruralgov process is writing"]);
    for cmd in ["plot", "report"] {
        let o = ruralgov(&[cmd.to_string(), arg(&out)]);
        assert_clean_error(&o, &["another ruralgov process is writing"]);
    }
    let status = first.wait().unwrap();
    assert!(status.success(), "the first run failed");
    // The folder holds the first run alone, whole.
    let manifest: serde_json::Value = serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["seed"], 1);
    assert!(!out.join(".ruralgov.lock").exists(), "the lock file was left behind");
    // And with the first run gone, the second writer may go ahead.
    ruralgov(&["plot".to_string(), arg(&out), "--quiet".into()]).assert_success();
}

#[test]
fn issue10_2_concurrent_runs_never_splice_their_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let base = speck(dir.path());
    // Many pairs of runs of different seeds started at once into one folder: each ends either
    // with success or with the lock refusal, and the folder always holds one run whole.
    for round in 0..8 {
        let spawn = |seed: u32| {
            Command::new(BIN)
                .args([
                    "run",
                    &arg(&base),
                    "--out",
                    &arg(&out),
                    "--quiet",
                    "--force",
                    "--seed",
                    &seed.to_string(),
                    "--set",
                    "run.end_year=2008",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start")
        };
        let (a, b) = (spawn(2 * round + 1), spawn(2 * round + 2));
        for c in [a, b] {
            let o = c.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(
                o.status.success() || err.contains("another ruralgov process is writing"),
                "a concurrent run failed otherwise: {err}"
            );
        }
        let manifest: serde_json::Value =
            serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
        let seed = manifest["seed"].as_u64().unwrap();
        // metrics.csv must be the one of that seed: re-run it alone and compare.
        let alone = dir.path().join(format!("alone{round}"));
        ruralgov(&[
            "run".to_string(),
            arg(&base),
            "--out".into(),
            arg(&alone),
            "--quiet".into(),
            "--seed".into(),
            seed.to_string(),
            "--set".into(),
            "run.end_year=2008".into(),
        ])
        .assert_success();
        assert_eq!(
            fs::read(out.join("metrics.csv")).unwrap(),
            fs::read(alone.join("metrics.csv")).unwrap(),
            "round {round}: metrics.csv is not the run the manifest names (seed {seed})"
        );
    }
}

#[test]
fn issue10_3_seeds_are_limited_to_53_bits_and_every_seed_has_its_own_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let base = speck(dir.path());
    for seed in ["9223372036854775808", "18446744073709551615", "9007199254740992"] {
        let o = ruralgov(&[
            "run".to_string(),
            arg(&base),
            "--seed".into(),
            seed.into(),
            "--out".into(),
            arg(&dir.path().join("x")),
        ]);
        assert_clean_error(&o, &["seed", "too large", "9007199254740991"]);
    }
    // The largest seed runs, and a neighbour is a different run (refused without --force).
    let out = dir.path().join("big");
    let run = |seed: &str| {
        ruralgov(&[
            "run".to_string(),
            arg(&base),
            "--seed".into(),
            seed.into(),
            "--out".into(),
            arg(&out),
            "--quiet".into(),
        ])
    };
    run("9007199254740991").assert_success();
    assert_clean_error(&run("9007199254740990"), &["results of a different run"]);
    // Experiment seeds are below 2^53 and survive a double exactly.
    let exp = speck_experiment(dir.path(), "seeds", 50);
    let sout = dir.path().join("seeds");
    sweep(&exp, &sout, &["--quiet"]).assert_success();
    for r in Csv::read(&sout.join("runs.csv")).rows {
        let s: u64 = r[4].parse().unwrap();
        assert!(s < 1 << 53, "seed {s} has more than 53 bits");
        assert_eq!((s as f64) as u64, s);
    }
}

/// Ways a run's files can be damaged, each applied to run 3's files of a finished sweep.
fn damage(runs: &Path, how: &str) {
    let csv = runs.join("000003.csv");
    let json = runs.join("000003.json");
    match how {
        "truncated csv" => {
            let b = fs::read(&csv).unwrap();
            fs::write(&csv, &b[..b.len() / 2]).unwrap();
        }
        "emptied csv" => fs::write(&csv, b"").unwrap(),
        "bit-flipped csv" => {
            let mut b = fs::read(&csv).unwrap();
            let i = b.len() / 3;
            b[i] ^= 0x04;
            fs::write(&csv, b).unwrap();
        }
        "swapped csv" => fs::copy(runs.join("000004.csv"), &csv).map(|_| ()).unwrap(),
        "deleted csv" => fs::remove_file(&csv).unwrap(),
        "edited json value" => {
            let t = fs::read_to_string(&json).unwrap();
            let at = t.find("\"values\":[").unwrap() + "\"values\":[".len();
            let mut b = t.into_bytes();
            b[at + 3] = if b[at + 3] == b'1' { b'2' } else { b'1' };
            fs::write(&json, b).unwrap();
        }
        "json of another run" => fs::copy(runs.join("000005.json"), &json).map(|_| ()).unwrap(),
        "truncated json" => {
            let b = fs::read(&json).unwrap();
            fs::write(&json, &b[..b.len() - 5]).unwrap();
        }
        "emptied json" => fs::write(&json, b"").unwrap(),
        other => panic!("{other}"),
    }
}

#[test]
fn issue10_4_damaged_run_files_are_reported_rerun_and_never_used() {
    let dir = tempfile::tempdir().unwrap();
    let exp = speck_experiment(dir.path(), "damaged", 8);
    let clean = dir.path().join("clean");
    sweep(&exp, &clean, &["--quiet"]).assert_success();
    for how in [
        "truncated csv",
        "emptied csv",
        "bit-flipped csv",
        "swapped csv",
        "deleted csv",
        "edited json value",
        "json of another run",
        "truncated json",
        "emptied json",
    ] {
        let out = dir.path().join(how.replace(' ', "_"));
        sweep(&exp, &out, &["--quiet"]).assert_success();
        damage(&out.join(".sweep").join("runs"), how);
        let o = sweep(&exp, &out, &[]);
        o.assert_success();
        assert!(
            o.stderr.contains("000003.json") && o.stderr.contains("damaged"),
            "{how}: the damaged run is not reported by name\n{o}"
        );
        assert!(
            o.stdout.contains("7 already finished, 1 run now"),
            "{how}: only run 3 must run again\n{o}"
        );
        for f in ["runs.csv", "model.csv", "summary.csv", "manifest.json"] {
            assert_eq!(
                fs::read(out.join(f)).unwrap(),
                fs::read(clean.join(f)).unwrap(),
                "{how}: {f} differs from the clean sweep's"
            );
        }
    }
}

#[test]
fn issue10_5_sizes_beyond_the_machine_are_refused_with_an_estimate_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let o = ruralgov(&[
        "run".to_string(),
        arg(&tiny()),
        "--set".into(),
        "region.villages=10000000".into(),
        "--set".into(),
        "population.adults_per_village=100000".into(),
        "--out".into(),
        arg(&dir.path().join("huge")),
    ]);
    let msg = assert_clean_error(&o, &["needs about", "TB of memory", "--no-memory-check"]);
    assert!(msg.contains("this machine"), "{msg}");
    assert!(!dir.path().join("huge").exists(), "a refused run created its folder");
    let o = ruralgov(&["bench", "--villagers", "100000000000"]);
    assert_clean_error(&o, &["needs about", "of memory"]);
    let o = ruralgov(&["bench", "--villagers", "100000000001"]);
    assert_clean_error(&o, &["--villagers"]);
    // compare --bootstrap is bounded before anything is read or allocated.
    let o = ruralgov(&["compare", &arg(dir.path()), "--bootstrap", "10000000000"]);
    assert_clean_error(&o, &["--bootstrap", "at most"]);
}

#[cfg(unix)]
#[test]
fn issue10_6_only_regular_files_of_bounded_size_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let o = ruralgov(&["validate", "/dev/zero"]);
    assert_clean_error(&o, &["/dev/zero", "not a regular file"]);
    let child = write(dir.path(), "child.toml", "extends = \"/dev/zero\"\nname = \"x\"\n");
    let o = ruralgov(&["validate".to_string(), arg(&child)]);
    assert_clean_error(&o, &["child.toml", "line 1", "extends", "not a regular file"]);
    // A FIFO is refused at once, not read forever.
    let fifo = dir.path().join("fifo.toml");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let o = ruralgov(&["run".to_string(), arg(&fifo)]);
        assert_clean_error(&o, &["fifo.toml", "not a regular file"]);
    }
    // A file over 4 MiB.
    let big = dir.path().join("big.toml");
    let mut text = format!("extends = '{}'\nname = \"big\"\n", tiny().display());
    text.push_str(&"# padding padding padding padding padding padding padding padding\n".repeat(70_000));
    fs::write(&big, text).unwrap();
    let o = ruralgov(&["validate".to_string(), arg(&big)]);
    assert_clean_error(&o, &["big.toml", "MiB"]);
    // A chain of 40 extends.
    let mut prev = tiny();
    for i in 0..40 {
        prev = write(
            dir.path(),
            &format!("chain{i}.toml"),
            &format!("extends = '{}'\n", prev.display()),
        );
    }
    let o = ruralgov(&["validate".to_string(), arg(&prev)]);
    assert_clean_error(&o, &["extends", "deeper than 32"]);
    // A schedule of 6,000 keyframes.
    let keys: Vec<String> = (0..6000)
        .map(|i| format!("[{}, 0.5]", 2000.0 + i as f64 / 100.0))
        .collect();
    let sched = write(
        dir.path(),
        "sched.toml",
        &format!(
            "extends = '{}'\nname = \"s\"\n[region]\nmarket_exposure = [{}]\n",
            tiny().display(),
            keys.join(", ")
        ),
    );
    let o = ruralgov(&["validate".to_string(), arg(&sched)]);
    assert_clean_error(&o, &["region.market_exposure", "at most 5000 keyframes"]);
}

#[test]
fn issue10_7_plan_sizes_are_checked_when_the_experiment_is_validated() {
    let dir = tempfile::tempdir().unwrap();
    let base = speck(dir.path());
    let head = format!("name = \"big\"\nbase = '{}'\n", base.display());
    let metric = "\n[[metric]]\nname = \"governance_index\"\n";
    let cases = [
        (
            "lhs.toml",
            format!("{head}[sampling]\nmethod = \"lhs\"\nsamples = 1000000\n[[factor]]\nkey = \"paths.legal.intensity\"\nrange = [0, 1]\n{metric}"),
            "1000000 points",
        ),
        (
            "sobol.toml",
            format!("{head}replications = 100000\n[sampling]\nmethod = \"sobol\"\nsamples = 1000000\n[[factor]]\nkey = \"paths.legal.intensity\"\nrange = [0, 1]\n{metric}"),
            "points",
        ),
        (
            "factorial.toml",
            {
                let factors: String = [
                    "paths.legal.intensity",
                    "paths.services.intensity",
                    "paths.culture.intensity",
                    "paths.self_government.intensity",
                    "values.market_drift",
                    "values.civic_erosion",
                    "values.convergence",
                    "values.rewire",
                    "migration.leave_base",
                    "migration.return_base",
                    "governance.dispute_rate",
                    "governance.conflict_rate",
                ]
                .iter()
                .map(|k| format!("[[factor]]\nkey = \"{k}\"\nvalues = [0.1, 0.2, 0.3]\n"))
                .collect();
                format!("{head}{factors}{metric}")
            },
            "531441 points",
        ),
        (
            "runs.toml",
            format!("{head}replications = 100000\n[[arm]]\nname = \"a\"\n[[arm]]\nname = \"b\"\n[[arm]]\nname = \"c\"\n[[arm]]\nname = \"d\"\n[[arm]]\nname = \"e\"\n[[arm]]\nname = \"f\"\n[[arm]]\nname = \"g\"\n[[arm]]\nname = \"h\"\n[[arm]]\nname = \"i\"\n[[arm]]\nname = \"j\"\n[[arm]]\nname = \"k\"\n{metric}"),
            "1100000 runs",
        ),
    ];
    for (file, text, fragment) in cases {
        let p = write(dir.path(), file, &text);
        let t = Instant::now();
        let o = ruralgov(&["validate".to_string(), arg(&p)]);
        assert_clean_error(&o, &[file, fragment]);
        let o = ruralgov(&[
            "sweep".to_string(),
            arg(&p),
            "--out".into(),
            arg(&dir.path().join("never")),
        ]);
        assert_clean_error(&o, &[file, fragment]);
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{file}: the check took {:?}",
            t.elapsed()
        );
        assert!(!dir.path().join("never").exists());
    }
}

#[test]
fn issue10_8_an_unwritable_or_unnamable_folder_fails_before_simulating() {
    let dir = tempfile::tempdir().unwrap();
    // A folder name longer than the file system allows.
    let long = dir.path().join("x".repeat(300));
    let o = ruralgov(&[
        "run".to_string(),
        arg(&crate::util::scenario("baseline")),
        "--out".into(),
        arg(&long),
    ]);
    assert_clean_error(&o, &["cannot create the output folder"]);
    assert!(!o.stderr.contains("registered adults at start"));
    // A read-only folder (only where permissions apply: not for root).
    let ro = dir.path().join("ro");
    fs::create_dir(&ro).unwrap();
    set_mode(&ro, 0o555);
    let writable = fs::write(ro.join("probe"), b"x").is_ok();
    let _ = fs::remove_file(ro.join("probe"));
    if !writable {
        let o = ruralgov(&[
            "run".to_string(),
            arg(&crate::util::scenario("baseline")),
            "--out".into(),
            arg(&ro),
        ]);
        assert_clean_error(&o, &["cannot write", ".ruralgov.lock"]);
    }
    set_mode(&ro, 0o755);
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_p: &Path, _mode: u32) {}

#[test]
fn issue10_8_a_failed_rewrite_leaves_the_earlier_results_whole() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let base = speck(dir.path());
    let args = |extra: &[&str]| {
        let mut a = vec![
            "run".to_string(),
            arg(&base),
            "--out".into(),
            arg(&out),
            "--quiet".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    ruralgov(&args(&[])).assert_success();
    let before = snapshot(&out);
    // Writing pyramid.csv fails (its temporary name is taken by a folder that cannot be
    // removed), as a full disk would make it fail: the earlier results must stay as they were.
    let blocker = out.join(".pyramid.csv.partial");
    fs::create_dir(&blocker).unwrap();
    fs::write(blocker.join("keep"), b"x").unwrap();
    let o = ruralgov(&args(&["--seed", "5", "--force"]));
    assert_clean_error(&o, &["cannot write", "pyramid.csv"]);
    let after: std::collections::BTreeMap<_, _> = snapshot(&out)
        .into_iter()
        .filter(|(p, _)| !p.starts_with(".pyramid.csv.partial"))
        .collect();
    assert_eq!(after, before, "a failed rewrite changed the earlier results");
}

#[test]
fn issue10_9_duplicate_factors_are_refused_and_whole_number_settings_can_be_factors() {
    let dir = tempfile::tempdir().unwrap();
    let base = speck(dir.path());
    let dup = write(
        dir.path(),
        "dup.toml",
        &format!("name = \"dup\"\nbase = '{}'\n[[factor]]\nkey = \"paths.legal.intensity\"\nvalues = [0, 1]\n[[factor]]\nkey = \"paths.legal.intensity\"\nvalues = [0.5]\n[[metric]]\nname = \"order\"\n", base.display()),
    );
    let o = ruralgov(&["validate".to_string(), arg(&dup)]);
    assert_clean_error(&o, &["dup.toml", "line 7", "factor[1].key", "given twice"]);
    let ints = write(
        dir.path(),
        "ints.toml",
        &format!("name = \"ints\"\nbase = '{}'\nreplications = 1\n[sampling]\nmethod = \"lhs\"\nsamples = 4\n[[factor]]\nkey = \"region.villages\"\nrange = [1, 4]\n[[factor]]\nkey = \"population.clans\"\nrange = [2, 6]\n[[metric]]\nname = \"registered\"\nstat = \"end\"\n", base.display()),
    );
    let out = dir.path().join("ints");
    sweep(&ints, &out, &["--quiet"]).assert_success();
    let runs = Csv::read(&out.join("runs.csv"));
    let (v, c) = (runs.col("region.villages"), runs.col("population.clans"));
    for r in &runs.rows {
        for i in [v, c] {
            assert!(!r[i].contains('.'), "a whole-number setting got {}", r[i]);
        }
    }
    let villages: std::collections::BTreeSet<&str> = runs.rows.iter().map(|r| r[v].as_str()).collect();
    assert!(villages.len() > 1, "the factor did not vary: {villages:?}");
}

#[test]
fn issue10_10_force_removes_only_what_ruralgov_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let base = speck(dir.path());
    let run = |seed: &str| {
        ruralgov(&[
            "run".to_string(),
            arg(&base),
            "--out".into(),
            arg(&out),
            "--quiet".into(),
            "--force".into(),
            "--seed".into(),
            seed.into(),
        ])
        .assert_success();
    };
    run("1");
    ruralgov(&["plot".to_string(), arg(&out), "--quiet".into()]).assert_success();
    fs::write(out.join("charts").join("my_own.png"), b"mine").unwrap();
    fs::write(out.join("notes.txt"), b"mine").unwrap();
    run("2");
    assert_eq!(
        names_in(&out.join("charts")),
        vec!["my_own.png"],
        "plot's files must go, the user's stay"
    );
    assert_eq!(fs::read(out.join("notes.txt")).unwrap(), b"mine");
    // A report.html of the user's own (not generated by ruralgov) stays too.
    fs::write(out.join("report.html"), b"<html><body>my notes</body></html>").unwrap();
    run("3");
    assert_eq!(
        fs::read(out.join("report.html")).unwrap(),
        b"<html><body>my notes</body></html>"
    );
    // One that ruralgov generated goes.
    fs::remove_file(out.join("report.html")).unwrap();
    ruralgov(&["report".to_string(), arg(&out), "--quiet".into()]).assert_success();
    run("4");
    assert!(!out.join("report.html").exists());
}

#[cfg(unix)]
#[test]
fn issue10_11_partial_files_are_never_written_through_links_and_leftovers_do_not_block() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    let victim = dir.path().join("victim.txt");
    fs::write(&victim, b"precious").unwrap();
    std::os::unix::fs::symlink(&victim, out.join(".metrics.csv.partial")).unwrap();
    let base = speck(dir.path());
    ruralgov(&[
        "run".to_string(),
        arg(&base),
        "--out".into(),
        arg(&out),
        "--quiet".into(),
    ])
    .assert_success();
    assert_eq!(
        fs::read(&victim).unwrap(),
        b"precious",
        "the link's target was overwritten"
    );
    // A leftover .partial of a killed run does not block running the same command again.
    let out2 = dir.path().join("out2");
    ruralgov(&[
        "run".to_string(),
        arg(&base),
        "--out".into(),
        arg(&out2),
        "--quiet".into(),
    ])
    .assert_success();
    fs::remove_file(out2.join("manifest.json")).unwrap();
    fs::remove_file(out2.join("metrics.csv")).unwrap();
    fs::remove_file(out2.join("pyramid.csv")).unwrap();
    fs::remove_file(out2.join("distributions.csv")).unwrap();
    fs::write(out2.join(".metrics.csv.partial"), b"half a file").unwrap();
    ruralgov(&[
        "run".to_string(),
        arg(&base),
        "--out".into(),
        arg(&out2),
        "--quiet".into(),
    ])
    .assert_success();
    assert!(!out2.join(".metrics.csv.partial").exists());
}

#[test]
fn issue10_12_sweep_refusals_name_its_own_flags_and_restart_keeps_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("summary.csv"), b"my,own\n1,2\n").unwrap();
    fs::write(out.join("manifest.json"), b"{\"mine\": true}").unwrap();
    let exp = speck_experiment(dir.path(), "foreign", 2);
    for extra in [&[][..], &["--restart"][..]] {
        let o = sweep(&exp, &out, extra);
        let msg = assert_clean_error(&o, &["not a ruralgov sweep", "--out"]);
        assert!(!msg.contains("--force"), "sweep has no --force: {msg}");
    }
    assert_eq!(fs::read(out.join("summary.csv")).unwrap(), b"my,own\n1,2\n");
    assert_eq!(fs::read(out.join("manifest.json")).unwrap(), b"{\"mine\": true}");
}

#[test]
fn issue10_13_thread_and_job_counts_are_capped_before_any_thread_starts() {
    let t = Instant::now();
    for args in [
        vec!["run".to_string(), arg(&tiny()), "--threads".into(), "100000".into()],
        vec!["bench".to_string(), "--threads".into(), "100000".into()],
        vec![
            "sweep".to_string(),
            arg(&root().join("scenarios/experiments/paths.toml")),
            "--jobs".into(),
            "100000".into(),
        ],
    ] {
        let o = ruralgov(&args);
        assert_clean_error(&o, &["between 1 and 1024"]);
    }
    assert!(t.elapsed() < Duration::from_secs(20));
}

#[test]
fn issue10_14_long_and_odd_keys_and_empty_files_get_quick_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let long = write(
        dir.path(),
        "long.toml",
        &format!("extends = '{}'\n{} = 1\n", tiny().display(), "k".repeat(1 << 20)),
    );
    let t = Instant::now();
    let o = ruralgov(&["validate".to_string(), arg(&long)]);
    let msg = assert_clean_error(&o, &["long.toml", "line 2", "unknown"]);
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "rejecting a long key took {:?}",
        t.elapsed()
    );
    assert!(
        msg.len() < 2_000,
        "the message echoes the whole key ({} bytes)",
        msg.len()
    );
    let esc = write(dir.path(), "esc.toml", "name = \"e\"\n\"bad\\u001b[31mred\" = 1\n");
    let o = ruralgov(&["validate".to_string(), arg(&esc)]);
    assert_clean_error(&o, &["esc.toml", "\\u{1b}"]);
    assert!(
        !o.stderr.contains('\u{1b}'),
        "a raw escape character reached the terminal"
    );
    let empty = write(dir.path(), "empty.toml", "");
    for f in [arg(&empty), "/dev/null".to_string()] {
        let o = ruralgov(&[
            "run".to_string(),
            f.clone(),
            "--out".into(),
            arg(&dir.path().join("never")),
        ]);
        let msg = assert_clean_error(&o, &[]);
        assert!(
            msg.contains("sets no name") || msg.contains("not a regular file"),
            "{f}: {msg}"
        );
    }
    assert!(!dir.path().join("never").exists());
}

#[test]
fn issue10_15_runs_csv_values_round_trip_exactly() {
    use ruralgov::experiment::{plan::Plan, spec};
    let dir = tempfile::tempdir().unwrap();
    let base = speck(dir.path());
    let exp = write(
        dir.path(),
        "lhs.toml",
        &format!("name = \"lhs\"\nbase = '{}'\nreplications = 1\n[sampling]\nmethod = \"lhs\"\nsamples = 200\nseed = 9\n[[factor]]\nkey = \"paths.legal.intensity\"\nrange = [0, 1]\n[[factor]]\nkey = \"values.market_drift\"\nrange = [0.01, 0.07]\n[[metric]]\nname = \"order\"\nstat = \"end\"\n", base.display()),
    );
    let out = dir.path().join("out");
    sweep(&exp, &out, &["--quiet", "--jobs", "2"]).assert_success();
    let plan = Plan::build(&spec::load(&exp).unwrap()).unwrap();
    let runs = Csv::read(&out.join("runs.csv"));
    let f0 = runs.col("paths.legal.intensity");
    for (r, row) in plan.runs.iter().zip(&runs.rows) {
        for (j, x) in plan.points[r.point].iter().enumerate() {
            let y: f64 = row[f0 + j].parse().unwrap();
            assert_eq!(
                x.to_bits(),
                y.to_bits(),
                "run {}: factor {j} is {x} in the plan, {y} in runs.csv",
                r.run_id
            );
        }
    }
    // Merging (which reads the plan back from plan.json) gives the same file.
    let merged = dir.path().join("merged");
    ruralgov(&["merge".to_string(), arg(&out), "--out".into(), arg(&merged)]).assert_success();
    assert_eq!(
        fs::read(out.join("runs.csv")).unwrap(),
        fs::read(merged.join("runs.csv")).unwrap()
    );
}

/// A bounded mutation fuzzer over the bundled scenario and experiment files: every mutant is
/// loaded (and an experiment planned) in a copy of `scenarios/`; nothing may panic.
#[test]
fn fuzz_parsers_with_mutants_of_the_bundled_files_never_panic() {
    use ruralgov::experiment::{plan::Plan, spec};
    use ruralgov::scenario::Scenario;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("scenarios");
    fs::create_dir_all(copy.join("experiments")).unwrap();
    let mut originals: Vec<(PathBuf, String)> = Vec::new();
    for sub in ["", "experiments"] {
        for e in fs::read_dir(root().join("scenarios").join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                let text = fs::read_to_string(&p).unwrap();
                let dst = copy.join(sub).join(p.file_name().unwrap());
                fs::write(&dst, &text).unwrap();
                originals.push((dst, text));
            }
        }
    }
    originals.sort();
    let tokens = [
        "",
        "=",
        "[",
        "]",
        "[[",
        "\"",
        "'",
        "\n",
        "#",
        ",",
        ".",
        "-1",
        "0",
        "1e308",
        "nan",
        "inf",
        "-inf",
        "18446744073709551616",
        "9223372036854775807",
        "true",
        "{",
        "}",
        "[[2000, 0.5], [1999, 1]]",
        "extends = \"baseline.toml\"",
        "extends = \"experiments\"",
        "[paths.legal]",
        "[[arm]]",
        "name = \"\"",
        "\u{1b}",
        "\u{0}",
        "é",
        "intensity = 3",
        "villages = 0",
        "replications = 0",
    ];
    let mut state: u64 = 0x5EED_F022;
    let mut next = move || {
        state = ruralgov::model::rng::mix(state);
        state
    };
    let iterations = 1500;
    for i in 0..iterations {
        let (path, text) = &originals[(next() as usize) % originals.len()];
        let mut bytes = text.clone().into_bytes();
        for _ in 0..1 + next() % 4 {
            let at = if bytes.is_empty() {
                0
            } else {
                (next() as usize) % bytes.len()
            };
            match next() % 5 {
                0 if !bytes.is_empty() => {
                    bytes.remove(at);
                }
                1 => {
                    let t = tokens[(next() as usize) % tokens.len()].as_bytes();
                    bytes.splice(at..at, t.iter().copied());
                }
                2 if !bytes.is_empty() => bytes[at] ^= 1 << (next() % 8),
                3 => {
                    // Duplicate a line.
                    let s = String::from_utf8_lossy(&bytes).into_owned();
                    let lines: Vec<&str> = s.lines().collect();
                    if !lines.is_empty() {
                        let l = lines[(next() as usize) % lines.len()].to_string();
                        bytes.splice(at..at, format!("\n{l}\n").into_bytes());
                    }
                }
                _ => {
                    // Replace a number with another.
                    let t = tokens[11 + (next() as usize) % 8].as_bytes();
                    if let Some(d) = bytes.iter().skip(at).position(|b| b.is_ascii_digit()) {
                        let j = at + d;
                        bytes.splice(j..j + 1, t.iter().copied());
                    }
                }
            }
        }
        let mutant = path.with_file_name(format!("mutant_{i}.toml"));
        fs::write(&mutant, &bytes).unwrap();
        let result = std::panic::catch_unwind(|| {
            if mutant.parent().is_some_and(|p| p.ends_with("experiments")) {
                if let Ok(l) = spec::load(&mutant) {
                    // Planning resolves every (arm, design point) scenario: a mutant of the
                    // large Morris design (5,800 of them, half a minute) is parsed and
                    // validated but not planned.
                    let size = spec::design_points(&l.experiment) * l.experiment.arm.len().max(1) as u64;
                    if size <= 2_000 {
                        let _ = Plan::build(&l);
                    }
                }
            } else {
                let _ = Scenario::load(&mutant, &[]);
            }
        });
        assert!(
            result.is_ok(),
            "mutant {i} of {} panicked; its text:\n{}",
            path.display(),
            String::from_utf8_lossy(&bytes)
        );
        fs::remove_file(&mutant).unwrap();
    }
}
