//! The Slurm templates of `examples/slurm/` (docs/slurm.md), run locally with bash: the job
//! array's tasks one after another (`SLURM_ARRAY_TASK_ID` set for each; the `#SBATCH` lines
//! are comments to bash), then the merge job, give what one `ruralgov sweep` writes; the
//! long-run template, killed and started again as a requeue would, gives the uninterrupted run.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{arg, root, ruralgov, tiny, write, BIN};

fn template(name: &str) -> PathBuf {
    root().join("examples").join("slurm").join(name)
}

/// `bash <template>` in the crate root with `env`; its output.
fn bash(name: &str, env: &[(&str, String)]) -> std::process::Output {
    let mut cmd = Command::new("bash");
    cmd.arg(template(name)).current_dir(root()).env("RURALGOV", BIN);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run bash")
}

#[track_caller]
fn assert_ok(o: &std::process::Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed ({}): {}{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_job_array_template_and_its_merge_give_what_one_sweep_writes() {
    let dir = tempfile::tempdir().unwrap();
    let exp = write(
        dir.path(),
        "small.toml",
        &format!(
            "name = \"small\"\ndescription = \"A test experiment.\"\nbase = '{}'\nseed = 5\nreplications = 3\nset = {{ \"run.end_year\" = 2006, \"region.villages\" = 3 }}\n\n[[arm]]\nname = \"baseline\"\nset = {{ \"paths.legal.intensity\" = 0 }}\n\n[[arm]]\nname = \"legal\"\nset = {{ \"paths.legal.intensity\" = 1.5 }}\n\n[[metric]]\nname = \"governance_index\"\nstat = \"mean\"\n",
            tiny().display()
        ),
    );
    let whole = dir.path().join("whole");
    ruralgov(&[
        "sweep".to_string(),
        arg(&exp),
        "--out".into(),
        arg(&whole),
        "--quiet".into(),
    ])
    .assert_success();

    let out = dir.path().join("array");
    let shards = 3;
    let env = |task: Option<usize>| {
        let mut e = vec![
            ("EXPERIMENT", arg(&exp)),
            ("SHARDS", shards.to_string()),
            ("OUT", arg(&out)),
            ("SLURM_CPUS_PER_TASK", "1".to_string()),
        ];
        if let Some(t) = task {
            e.push(("SLURM_ARRAY_TASK_ID", t.to_string()));
        }
        e
    };
    // Without a task id the array script refuses to run.
    assert!(!bash("sweep_array.sbatch", &env(None)).status.success());
    for task in 0..shards {
        assert_ok(
            &bash("sweep_array.sbatch", &env(Some(task))),
            &format!("array task {task}"),
        );
    }
    assert_ok(&bash("merge.sbatch", &env(None)), "the merge job");
    for f in ["runs.csv", "model.csv", "summary.csv", "manifest.json"] {
        assert!(
            fs::read(whole.join(f)).unwrap() == fs::read(out.join("merged").join(f)).unwrap(),
            "{f} of the merged shards differs from the one-process sweep's"
        );
    }
    // The submit script queues the merge after the whole array.
    let submit = fs::read_to_string(template("submit_sweep.sh")).unwrap();
    assert!(submit.contains("--dependency=afterok:\"$ARRAY_JOB\"") && submit.contains("--array=0-"));
}

#[test]
fn the_long_run_template_resumes_when_requeued() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "long.toml",
        &format!(
            "extends = '{}'\nname = \"long\"\n[run]\nend_year = 2012\n[region]\nvillages = 12\n",
            tiny().display()
        ),
    );
    let reference = dir.path().join("reference");
    ruralgov(&[
        "run".to_string(),
        arg(&scenario),
        "--out".into(),
        arg(&reference),
        "--quiet".into(),
    ])
    .assert_success();

    let out = dir.path().join("long");
    let env = [
        ("SCENARIO", arg(&scenario)),
        ("OUT", arg(&out)),
        ("EVERY", "1".to_string()),
        ("SLURM_CPUS_PER_TASK", "1".to_string()),
    ];
    // The first start, killed once it has written a checkpoint (the template `exec`s ruralgov,
    // so the job's process is ruralgov itself, as Slurm sees it).
    let mut cmd = Command::new("bash");
    cmd.arg(template("long_run.sbatch"))
        .current_dir(root())
        .env("RURALGOV", BIN)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in &env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start bash");
    let t = Instant::now();
    let checkpoint = |p: &Path| {
        fs::read_dir(p.join("checkpoints"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .any(|e| e.path().extension().is_some_and(|x| x == "ckpt"))
            })
            .unwrap_or(false)
    };
    while !checkpoint(&out) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run finished before it was killed"
        );
        assert!(t.elapsed() < Duration::from_secs(60), "no checkpoint in 60 s");
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().expect("kill -9");
    child.wait().unwrap();
    assert!(!out.join("manifest.json").exists());

    // The requeued job resumes and finishes; a second requeue finds it finished.
    assert_ok(&bash("long_run.sbatch", &env), "the requeued job");
    for f in ["metrics.csv", "villages.csv", "pyramid.csv", "distributions.csv"] {
        assert!(
            fs::read(reference.join(f)).unwrap() == fs::read(out.join(f)).unwrap(),
            "{f} differs from the uninterrupted run's"
        );
    }
    let again = bash("long_run.sbatch", &env);
    assert_ok(&again, "the job requeued after it finished");
    assert!(String::from_utf8_lossy(&again.stdout).contains("already finished"));
}
