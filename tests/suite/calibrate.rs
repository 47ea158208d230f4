//! `ruralgov calibrate` (history matching, docs/calibration.md) and experiments that take
//! their parameter sets from a file (`[parameters] from`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ruralgov::calibration::history_matching::{self, Options};
use ruralgov::scenario::Scenario;

use crate::util::{arg, assert_clean_error, ruralgov, tiny, write, Csv, BIN};

/// The truth of the synthetic calibration.
const TRUE_LEAVE: f64 = 0.06;
const TRUE_TURNOUT: f64 = 0.3;

/// One run of tiny at the true parameters with a seed the calibration never uses: the
/// "world", one realisation of the model (migrant share 2008-09 and turnout 2007-09).
fn synthetic_world() -> (f64, f64) {
    let mut sc = Scenario::load(
        &tiny(),
        &[
            format!("migration.leave_base={TRUE_LEAVE}"),
            format!("governance.turnout_base={TRUE_TURNOUT}"),
        ],
    )
    .unwrap()
    .value;
    sc.run.seed = 987_654;
    let out = ruralgov::sim::run(&sc, 1, |_, _| {}).unwrap();
    let mean = |from: i32, to: i32, f: &dyn Fn(&ruralgov::model::observe::Metrics) -> f64| {
        let xs: Vec<f64> = out
            .metrics
            .iter()
            .filter(|m| m.year >= from && m.year < to)
            .map(f)
            .collect();
        xs.iter().sum::<f64>() / xs.len() as f64
    };
    (mean(2008, 2010, &|m| m.migrant_share), mean(2007, 2010, &|m| m.turnout))
}

fn calibration_text(migrants: f64, turnout: f64, waves: u32, points: u32) -> String {
    format!(
        r#"name = "synthetic"
description = "Recover known parameters from targets made by the model itself."
base = '{}'
seed = 11
replications = 2

[[target]]
name = "migrants"
metric = "migrant_share"
from = 2008
to = 2010
value = {migrants}
sd = 0.002
source = "one run of the model at the true parameters"

[[target]]
name = "turnout"
metric = "turnout"
from = 2007
to = 2010
value = {turnout}
sd = 0.002
source = "one run of the model at the true parameters"

[[parameter]]
key = "migration.leave_base"
range = [0.01, 0.2]
scale = "log"
reason = "test"

[[parameter]]
key = "governance.turnout_base"
range = [0.0, 0.7]
reason = "test"

[method]
waves = {waves}
points = {points}
candidates = 4000
nroy_samples = 400
"#,
        tiny().display()
    )
}

#[test]
fn history_matching_recovers_known_parameters_from_a_synthetic_target_set() {
    let (migrants, turnout) = synthetic_world();
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "synthetic.toml",
        &calibration_text(migrants, turnout, 3, 16),
    );
    let loaded = ruralgov::calibration::load(&file).unwrap();
    let out = dir.path().join("out");
    let opts = Options {
        out: out.clone(),
        jobs: 2,
        restart: false,
        no_memory_check: false,
        command: "test".into(),
        shard: None,
        wait: std::time::Duration::ZERO,
    };
    let report = history_matching::run(&loaded, &opts, &|_| {}).unwrap();
    assert_eq!(report.waves.len(), 3, "{report:?}");
    assert!(report.stopped.is_none(), "{report:?}");
    // The data rule out most of the space ...
    assert!(
        report.space_left < 0.25,
        "history matching left {:.1}% of the space",
        100.0 * report.space_left
    );
    // ... but not the truth: the sample of the space left spans it, with points close to it.
    let nroy = Csv::read(&out.join("nroy.csv"));
    let leave: Vec<f64> = nroy.column("migration.leave_base");
    let turn: Vec<f64> = nroy.column("governance.turnout_base");
    assert!(leave.len() > 50, "only {} samples of the space left", leave.len());
    let span = |xs: &[f64]| {
        (
            xs.iter().cloned().fold(f64::INFINITY, f64::min),
            xs.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let (l0, l1) = span(&leave);
    let (t0, t1) = span(&turn);
    assert!(
        (l0..=l1).contains(&TRUE_LEAVE) && (t0..=t1).contains(&TRUE_TURNOUT),
        "the truth ({TRUE_LEAVE}, {TRUE_TURNOUT}) was ruled out: the space left spans leave [{l0}, {l1}], turnout [{t0}, {t1}]"
    );
    let near = leave
        .iter()
        .zip(&turn)
        .filter(|(l, t)| ((l.ln() - TRUE_LEAVE.ln()) / 3.0).abs() < 0.1 && ((*t - TRUE_TURNOUT) / 0.7).abs() < 0.1)
        .count();
    assert!(near > 0, "no sample of the space left lies near the truth");
    // The leaving hazard is identified by the migrant share: its range shrinks.
    assert!(
        l1.ln() - l0.ln() < 0.6 * (0.2f64.ln() - 0.01f64.ln()),
        "leave_base not narrowed: [{l0}, {l1}]"
    );
    // Retained sets were simulated and fit the targets.
    let retained = Csv::read(&out.join("retained.csv"));
    assert!(retained.rows.len() >= 3, "{} sets retained", retained.rows.len());
    for w in 1..=3 {
        let loo = Csv::read(&out.join(format!("wave-{w}/loo.csv")));
        let z = loo.column("z");
        let within = z.iter().filter(|z| z.abs() < 3.0).count() as f64 / z.len() as f64;
        assert!(
            within >= 0.85,
            "wave {w}: only {:.0}% of leave-one-out errors within 3 sd",
            100.0 * within
        );
    }
    // The best point is a scenario that runs.
    let best = out.join("best.toml");
    let sc = Scenario::load(&best, &[]).unwrap().value;
    assert!((0.01..=0.2).contains(&sc.migration.leave_base));
}

fn files_of() -> Vec<PathBuf> {
    let mut names: Vec<PathBuf> = [
        "waves.csv",
        "implausibility.csv",
        "retained.csv",
        "nroy.csv",
        "fit.csv",
        "best.toml",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    for w in 1..=3 {
        for f in [
            "design.csv",
            "experiment.toml",
            "loo.csv",
            "emulators.csv",
            "sweep/runs.csv",
            "sweep/model.csv",
        ] {
            names.push(PathBuf::from(format!("wave-{w}/{f}")));
        }
    }
    names
}

/// Every file of [`files_of`] is byte-identical in the calibration folders `a` and `b`.
#[track_caller]
fn assert_same_calibration(a: &Path, b: &Path, what: &str) {
    for f in files_of() {
        let x = fs::read(a.join(&f)).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let y = fs::read(b.join(&f)).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(x == y, "{} differs {what}", f.display());
    }
}

fn finished_runs(sweep: &Path) -> usize {
    fs::read_dir(sweep.join(".sweep/runs"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn a_killed_calibration_resumes_to_identical_outputs() {
    let (migrants, turnout) = synthetic_world();
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "synthetic.toml",
        &calibration_text(migrants, turnout, 3, 24),
    );
    let whole = dir.path().join("whole");
    let killed = dir.path().join("killed");
    let args = |out: &Path| {
        vec![
            "calibrate".to_string(),
            arg(&file),
            "--out".into(),
            arg(out),
            "--jobs".into(),
            "1".into(),
            "--quiet".into(),
        ]
    };
    ruralgov(&args(&whole)).assert_success();

    // Kill it once a few runs of the second wave have finished: the first wave's emulators
    // and the second wave's design must come out the same when it starts again.
    let mut child = Command::new(BIN)
        .args(args(&killed))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let wave2 = killed.join("wave-2/sweep");
    while finished_runs(&wave2) < 3 {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the calibration ended ({status}) before it could be killed in wave 2");
        }
        assert!(started.elapsed() < Duration::from_secs(120), "wave 2 never started");
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the calibration finished before it was killed");
    assert!(
        !killed.join("manifest.json").exists(),
        "an interrupted calibration looks complete"
    );
    let o = ruralgov(&args(&killed));
    o.assert_success();
    assert_same_calibration(&whole, &killed, "after resuming");
    // A changed calibration is refused in the same folder, and --restart discards the old one.
    let changed = write(
        dir.path(),
        "synthetic.toml",
        &calibration_text(migrants, turnout, 3, 25),
    );
    let o = ruralgov(&args(&killed));
    assert_clean_error(&o, &["a calibration of a different file", "--restart"]);
    let _ = changed;
}

#[test]
fn a_sharded_calibration_ends_identical_to_one_process() {
    let (migrants, turnout) = synthetic_world();
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "synthetic.toml",
        &calibration_text(migrants, turnout, 3, 24),
    );
    let args = |out: &Path, extra: &[&str]| {
        let mut a = vec![
            "calibrate".to_string(),
            arg(&file),
            "--out".into(),
            arg(out),
            "--jobs".into(),
            "1".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let whole = dir.path().join("whole");
    ruralgov(&args(&whole, &["--quiet"])).assert_success();
    let same_as_whole = |out: &Path| assert_same_calibration(&whole, out, "from the one-process calibration");

    // Two processes at once, one shard each, started as the two tasks of the Slurm job-array
    // template (examples/slurm/calibrate_array.sbatch run by bash, where #SBATCH lines are
    // comments): they wait for each other between waves.
    let shared = dir.path().join("shared");
    let template = crate::util::root().join("examples/slurm/calibrate_array.sbatch");
    let children: Vec<_> = ["0", "1"]
        .iter()
        .map(|task| {
            Command::new("bash")
                .arg(&template)
                .env("RURALGOV", BIN)
                .env("CALIBRATION", &file)
                .env("SHARDS", "2")
                .env("OUT", &shared)
                .env("WAIT", "300")
                .env("SLURM_ARRAY_TASK_ID", task)
                .env("SLURM_CPUS_PER_TASK", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    same_as_whole(&shared);
    // Each shard ran its own runs and only those.
    for w in 1..=3 {
        for j in 0..2u32 {
            let runs = finished_runs(&shared.join(format!("wave-{w}/shard-{j}-of-2")));
            assert!(runs > 0, "shard {j} of wave {w} ran nothing");
        }
        let a = finished_runs(&shared.join(format!("wave-{w}/shard-0-of-2")));
        let b = finished_runs(&shared.join(format!("wave-{w}/shard-1-of-2")));
        assert_eq!(a + b, finished_runs(&shared.join(format!("wave-{w}/sweep"))));
    }

    // A shard alone waits for the others, then stops with exit code 3; nothing looks done.
    let alone = dir.path().join("alone");
    let o = ruralgov(&args(&alone, &["--shard", "0/3", "--wait", "1"]));
    assert_eq!(o.code, Some(3), "{}", o.stderr);
    assert!(
        o.stderr.contains("wave 1") && o.stderr.contains("--shard J/3"),
        "{}",
        o.stderr
    );
    assert!(!alone.join("manifest.json").exists());
    assert!(!alone.join("wave-1/sweep/manifest.json").exists());
    // With --wait 0 a shard does its part and stops (exit 0); a run without --shard takes
    // over what the shards finished and runs the rest.
    let o = ruralgov(&args(&alone, &["--shard", "1/3", "--wait", "0"]));
    o.assert_success();
    assert!(o.stdout.contains("not finished"), "{}", o.stdout);
    let shard_runs =
        finished_runs(&alone.join("wave-1/shard-0-of-3")) + finished_runs(&alone.join("wave-1/shard-1-of-3"));
    assert!(shard_runs > 0);
    ruralgov(&args(&alone, &["--quiet"])).assert_success();
    same_as_whole(&alone);

    // A restart must not come from one shard.
    let o = ruralgov(&args(&alone, &["--shard", "0/2", "--restart"]));
    assert_clean_error(&o, &["--restart", "--shard"]);
    let o = ruralgov(&args(&alone, &["--shard", "2/2"]));
    assert_clean_error(&o, &["--shard", "2/2"]);
}

fn bad(dir: &Path, text: &str) -> (PathBuf, String) {
    let file = write(dir, "bad.toml", text);
    let out = dir.join("never");
    let o = ruralgov(&["calibrate".to_string(), arg(&file), "--out".into(), arg(&out)]);
    let err = assert_clean_error(&o, &["bad.toml"]);
    assert!(!out.exists(), "a refused calibration created its output folder");
    // validate says the same.
    let v = ruralgov(&["validate".to_string(), arg(&file)]);
    assert_clean_error(&v, &["bad.toml"]);
    (file, err)
}

#[test]
fn bad_calibration_files_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = calibration_text(0.3, 0.7, 2, 10);
    // An unknown key, with the line and the closest known key.
    let (_, e) = bad(dir.path(), &good.replace("value = 0.3", "vaule = 0.3"));
    assert!(
        e.contains("line 12") && e.contains("vaule") && e.contains("value"),
        "{e}"
    );
    // A target without its source.
    let (_, e) = bad(
        dir.path(),
        &good.replacen("source = \"one run of the model at the true parameters\"\n", "", 1),
    );
    assert!(e.contains("target[0].source"), "{e}");
    // A metric that is not a column.
    let (_, e) = bad(dir.path(), &good.replace("metric = \"turnout\"", "metric = \"turnot\""));
    assert!(e.contains("turnot") && e.contains("did you mean \"turnout\""), "{e}");
    // A parameter that is not a setting; a reversed range; a range the scenario refuses.
    let (_, e) = bad(
        dir.path(),
        &good.replace("key = \"migration.leave_base\"", "key = \"migration.leave\""),
    );
    assert!(
        e.contains("parameter[0].key") && e.contains("not a scenario setting"),
        "{e}"
    );
    let (_, e) = bad(dir.path(), &good.replace("range = [0.0, 0.7]", "range = [0.7, 0.0]"));
    assert!(e.contains("parameter[1].range") && e.contains("low < high"), "{e}");
    let (_, e) = bad(dir.path(), &good.replace("range = [0.0, 0.7]", "range = [0.0, 7.0]"));
    assert!(
        e.contains("parameter[1].range") && e.contains("governance.turnout_base"),
        "{e}"
    );
    // A window outside the simulated years.
    let (_, e) = bad(
        dir.path(),
        &good.replace("from = 2008\nto = 2010", "from = 2008\nto = 2031"),
    );
    assert!(e.contains("target[0].from") && e.contains("outside the runs"), "{e}");
    // No uncertainty.
    let (_, e) = bad(dir.path(), &good.replacen("sd = 0.002", "sd = 0", 1));
    assert!(e.contains("target[0].sd") && e.contains("standard deviation"), "{e}");
    // Too few points for the parameters.
    let (_, e) = bad(dir.path(), &good.replace("points = 10", "points = 4"));
    assert!(e.contains("method.points"), "{e}");
}

const SETS: &str = "set,migration.leave_base,governance.turnout_base,max_implausibility\n\
0,0.03,0.2,1.5\n\
1,0.05,0.3,0.9\n\
2,0.08,0.4,2.1\n";

fn parameter_experiment(dir: &Path, sets: &str, draws: u32) -> PathBuf {
    write(dir, "sets.csv", sets);
    write(
        dir,
        "exp.toml",
        &format!(
            r#"name = "from_sets"
base = '{}'
seed = 3
replications = 2

[[arm]]
name = "baseline"

[[arm]]
name = "legal"
set = {{ "paths.legal.intensity" = 1.0 }}

[[arm]]
name = "culture"
set = {{ "paths.culture.intensity" = 1.0 }}

[parameters]
from = "sets.csv"
draws = {draws}

[[metric]]
name = "governance_index"
"#,
            tiny().display()
        ),
    )
}

#[test]
fn an_experiment_takes_its_parameter_sets_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let exp = parameter_experiment(dir.path(), SETS, 0);
    let out = dir.path().join("out");
    ruralgov(&[
        "sweep".to_string(),
        arg(&exp),
        "--out".into(),
        arg(&out),
        "--quiet".into(),
    ])
    .assert_success();
    let runs = Csv::read(&out.join("runs.csv"));
    assert_eq!(runs.rows.len(), 3 * 3 * 2);
    let leave = runs.column("migration.leave_base");
    let point = runs.column("point");
    for (l, p) in leave.iter().zip(&point) {
        assert_eq!(*l, [0.03, 0.05, 0.08][*p as usize]);
    }

    // compare: parameter uncertainty apart from seed noise, and ranking probabilities.
    ruralgov(&["compare".to_string(), arg(&out)]).assert_success();
    let cmp = Csv::read(&out.join("compare.csv"));
    let (arm_c, metric) = (cmp.col("arm"), cmp.col("metric"));
    let value = |r: &Vec<String>, c: &str| -> f64 { r[cmp.col(c)].parse().unwrap() };
    let mut p_first_sum = 0.0;
    for r in &cmp.rows {
        assert_eq!(r[metric], "governance_index_mean");
        assert_eq!(value(r, "sets"), 3.0);
        let (lo, hi, d) = (value(r, "param_low"), value(r, "param_high"), value(r, "difference"));
        assert!(
            lo <= d && d <= hi,
            "difference {d} outside its parameter range [{lo}, {hi}]"
        );
        let share = value(r, "param_share");
        assert!((0.0..=1.0).contains(&share));
        p_first_sum += value(r, "p_first");
        // The split: the variance of the per-set means is the parameter part plus the seed
        // part over the replicates (when the parameter part is not clipped at zero).
        let arm_i = ["baseline", "legal", "culture"]
            .iter()
            .position(|a| *a == r[arm_c])
            .unwrap();
        let g = runs.column("governance_index_mean");
        let arm_col = runs.col("arm");
        let mut set_means = Vec::new();
        for p in 0..3 {
            let d: Vec<f64> = (0..runs.rows.len())
                .filter(|&k| point[k] == p as f64 && runs.rows[k][arm_col] == r[arm_c])
                .map(|k| {
                    let rep = &runs.rows[k][runs.col("replicate")];
                    let b = (0..runs.rows.len())
                        .find(|&j| {
                            point[j] == p as f64
                                && runs.rows[j][arm_col] == "baseline"
                                && &runs.rows[j][runs.col("replicate")] == rep
                        })
                        .unwrap();
                    g[k] - g[b]
                })
                .collect();
            set_means.push(d.iter().sum::<f64>() / d.len() as f64);
        }
        let m = set_means.iter().sum::<f64>() / 3.0;
        let between = set_means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / 2.0;
        let (ps, ss) = (value(r, "param_sd"), value(r, "seed_sd"));
        if ps > 0.0 {
            assert!(
                (ps * ps + ss * ss / 2.0 - between).abs() < 1e-12,
                "arm {arm_i}: {ps}^2 + {ss}^2/2 != {between}"
            );
        }
    }
    assert!((p_first_sum - 1.0).abs() < 1e-12, "P(first) sums to {p_first_sum}");
    let ranking = Csv::read(&out.join("ranking.csv"));
    assert_eq!(ranking.rows.len(), 2);
    let pr = ranking.column("probability");
    assert!((pr[0] + pr[1] - 1.0).abs() < 1e-12);
    // The sets are part of the plan: a changed file is a changed plan.
    write(dir.path(), "sets.csv", &SETS.replace("0.08", "0.09"));
    let o = ruralgov(&["sweep".to_string(), arg(&exp), "--out".into(), arg(&out)]);
    assert_clean_error(&o, &["different plan"]);
    // draws takes the first rows.
    let dir2 = tempfile::tempdir().unwrap();
    let exp2 = parameter_experiment(dir2.path(), SETS, 2);
    let loaded = ruralgov::experiment::spec::load(&exp2).unwrap();
    let plan = ruralgov::experiment::plan::Plan::build(&loaded).unwrap();
    assert_eq!(plan.points, vec![vec![0.03, 0.2], vec![0.05, 0.3]]);
}

#[test]
fn parameter_sets_from_a_file_are_completed_by_prior_draws_of_other_factors() {
    let dir = tempfile::tempdir().unwrap();
    let exp = parameter_experiment(dir.path(), SETS, 0);
    let text = fs::read_to_string(&exp).unwrap();
    let with_priors = |method: &str, key: &str| {
        format!(
            "{text}\n[sampling]\nmethod = \"{method}\"\nsamples = 7\nseed = 4\n\n[[factor]]\nkey = \"{key}\"\nrange = [0.2, 0.8]\nreason = \"a prior\"\n\n[[factor]]\nkey = \"governance.base_meetings\"\nrange = [0.5, 2.0]\nreason = \"a prior\"\n"
        )
    };
    write(dir.path(), "exp.toml", &with_priors("lhs", "governance.court"));
    let loaded = ruralgov::experiment::spec::load(&exp).unwrap();
    let plan = ruralgov::experiment::plan::Plan::build(&loaded).unwrap();
    assert_eq!(
        plan.factors,
        [
            "migration.leave_base",
            "governance.turnout_base",
            "governance.court",
            "governance.base_meetings"
        ]
    );
    // 7 points: the file's rows in turn (row i mod 3), each with its own Latin-hypercube draw
    // of the two factors: one draw in each seventh of each range.
    assert_eq!(plan.points.len(), 7);
    assert_eq!(plan.runs.len(), 7 * 3 * 2);
    let rows = [[0.03, 0.2], [0.05, 0.3], [0.08, 0.4]];
    for (i, p) in plan.points.iter().enumerate() {
        assert_eq!(p[..2], rows[i % 3]);
    }
    for (f, (lo, hi)) in [(2, (0.2, 0.8)), (3, (0.5, 2.0))] {
        let mut strata: Vec<usize> = plan
            .points
            .iter()
            .map(|p| (((p[f] - lo) / (hi - lo)) * 7.0).floor() as usize)
            .collect();
        strata.sort_unstable();
        assert_eq!(
            strata,
            (0..7).collect::<Vec<_>>(),
            "factor {f} is not a Latin hypercube"
        );
    }
    // The draws are part of the plan: another design seed is another plan.
    write(
        dir.path(),
        "exp.toml",
        &with_priors("lhs", "governance.court").replace("seed = 4", "seed = 5"),
    );
    let other = ruralgov::experiment::plan::Plan::build(&ruralgov::experiment::spec::load(&exp).unwrap()).unwrap();
    assert_ne!(other.fingerprint, plan.fingerprint);
    assert_ne!(other.points, plan.points);
    // Only a Latin hypercube completes the sets; a key comes from the file or a range, not both.
    write(dir.path(), "exp.toml", &with_priors("morris", "governance.court"));
    let o = ruralgov(&["validate".to_string(), arg(&exp)]);
    assert_clean_error(&o, &["exp.toml", "sampling.method", "lhs"]);
    write(dir.path(), "exp.toml", &with_priors("lhs", "governance.turnout_base"));
    let o = ruralgov(&["validate".to_string(), arg(&exp)]);
    assert_clean_error(&o, &["governance.turnout_base", "either from the file or from a range"]);
}

#[test]
fn bad_parameter_files_name_the_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let exp = parameter_experiment(dir.path(), &SETS.replace("0.05,0.3", "0.05,high"), 0);
    let o = ruralgov(&["validate".to_string(), arg(&exp)]);
    assert_clean_error(
        &o,
        &[
            "sets.csv",
            "line 3",
            "governance.turnout_base",
            "\"high\" is not a finite number",
        ],
    );
    let exp = parameter_experiment(
        dir.path(),
        &SETS.replace("governance.turnout_base", "governance.turnout"),
        0,
    );
    let o = ruralgov(&["validate".to_string(), arg(&exp)]);
    assert_clean_error(
        &o,
        &["sets.csv", "line 1", "governance.turnout", "not a scenario setting"],
    );
    let exp = parameter_experiment(dir.path(), &SETS.replace("0.08,0.4", "0.08,4.0"), 0);
    let o = ruralgov(&["validate".to_string(), arg(&exp)]);
    assert_clean_error(&o, &["governance.turnout_base"]);
    fs::remove_file(dir.path().join("sets.csv")).unwrap();
    let o = ruralgov(&["validate".to_string(), arg(&exp)]);
    assert_clean_error(&o, &["sets.csv"]);
}

#[test]
fn a_calibration_gets_charts_and_a_report() {
    let (migrants, turnout) = synthetic_world();
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "synthetic.toml",
        &calibration_text(migrants, turnout, 2, 12),
    );
    let out = dir.path().join("cal");
    let run = |extra: &[&str]| {
        let mut a = vec![
            "calibrate".to_string(),
            arg(&file),
            "--out".into(),
            arg(&out),
            "--quiet".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        ruralgov(&a)
    };
    run(&[]).assert_success();
    ruralgov(&["plot".to_string(), arg(&out), "--format".into(), "both".into()]).assert_success();
    for chart in [
        "calibration_implausibility",
        "calibration_pairs",
        "calibration_fit_migrants",
        "calibration_fit_turnout",
    ] {
        for ext in ["png", "svg"] {
            let p = out.join("charts").join(format!("{chart}.{ext}"));
            assert!(p.exists(), "{} was not drawn", p.display());
        }
    }
    ruralgov(&["report".to_string(), arg(&out)]).assert_success();
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    for part in [
        "Calibration · 2 waves",
        "Fit to the targets",
        "Free parameters",
        "migration.leave_base",
        "The parameter space the data leave",
        "ruralgov calibrate",
    ] {
        assert!(html.contains(part), "the report lacks {part:?}");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the report refers to a URL"
    );
    if let Some(browser) = crate::report::chromium_or_skip() {
        crate::report::assert_loads_in_chromium(&browser, &out.join("report.html"), dir.path());
    }
    // Finishing the calibration again (nothing to run) leaves no report of other files behind.
    run(&[]).assert_success();
    assert!(!out.join("report.html").exists(), "a stale report survived");
    // A finished calibration is not reported as a sweep, and an unfinished one says so.
    fs::remove_file(out.join("manifest.json")).unwrap();
    let o = ruralgov(&["report".to_string(), arg(&out)]);
    assert_clean_error(&o, &["calibration is not finished"]);
}
