//! Run checkpoints (`run --checkpoint-every`, `run --resume`; `docs/checkpoints.md`): a run
//! killed with SIGKILL at random moments and resumed, perhaps killed again, at one thread or
//! two, ends with the files of an uninterrupted run; damaged checkpoints, checkpoints of
//! another build and edited scenarios are refused with a clear message, changing nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{arg, assert_clean_error, ruralgov, snapshot, tiny, BIN};

/// Tables every run writes (the manifest is compared field by field).
const TABLES: [&str; 4] = ["metrics.csv", "villages.csv", "pyramid.csv", "distributions.csv"];

/// A tiny run that migrates, holds elections (every three years from 2002) and outgrows its
/// slots (high fertility, nobody settles in the city), so the columns are repacked mid-run.
fn scenario_args() -> Vec<String> {
    [
        "run.end_year=2013",
        "region.villages=12",
        "population.tfr=8",
        "population.life_expectancy=78",
        "migration.settle_rate=0",
    ]
    .iter()
    .flat_map(|s| ["--set".to_string(), s.to_string()])
    .collect()
}

fn run_args(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a = vec![
        "run".to_string(),
        arg(&tiny()),
        "--out".into(),
        arg(out),
        "--quiet".into(),
    ];
    a.extend(scenario_args());
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// The uninterrupted run without checkpoints, and how long it took.
fn reference(dir: &Path) -> (PathBuf, Duration) {
    let out = dir.join("reference");
    let t = Instant::now();
    ruralgov(&run_args(&out, &[])).assert_success();
    let took = t.elapsed();
    let m = manifest(&out);
    assert!(m["repacks"].as_u64().unwrap() > 0, "the scenario must repack: {m}");
    (out, took)
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Every table byte for byte, and every manifest field but those of the process (time,
/// memory, threads, command line, working folder) equal to the reference run's.
#[track_caller]
fn assert_same_outputs(reference: &Path, out: &Path) {
    for t in TABLES {
        let (a, b) = (fs::read(reference.join(t)).unwrap(), fs::read(out.join(t)).unwrap());
        assert!(a == b, "{t} differs from the uninterrupted run's");
    }
    let (mut a, mut b) = (manifest(reference), manifest(out));
    for m in [&mut a, &mut b] {
        let o = m.as_object_mut().unwrap();
        for k in [
            "wall_seconds",
            "peak_memory_bytes",
            "threads",
            "command",
            "working_directory",
        ] {
            o.remove(k);
        }
    }
    assert_eq!(a, b, "the manifests differ");
    let mut names = crate::util::names_in(out);
    names.retain(|n| n != "manifest.json" && !TABLES.contains(&n.as_str()));
    assert!(names.is_empty(), "a finished run left {names:?} in {}", out.display());
}

/// A small deterministic generator for the moments of the kills (xorshift).
struct Moments(u64);

impl Moments {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn spawn(args: &[String]) -> std::process::Child {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ruralgov")
}

/// Run `args` and kill it with SIGKILL after `after`, unless it finishes first. Returns
/// whether it finished (successfully).
fn run_or_kill(args: &[String], after: Duration) -> bool {
    let mut child = spawn(args);
    let t = Instant::now();
    while t.elapsed() < after {
        if let Some(status) = child.try_wait().unwrap() {
            let o = child.wait_with_output().unwrap();
            assert!(
                status.success(),
                "{args:?} failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().expect("kill -9");
    child.wait().unwrap();
    false
}

/// An interrupted folder never looks finished: no manifest, or else all of the run.
#[track_caller]
fn assert_never_half_finished(reference: &Path, out: &Path) {
    if out.join("manifest.json").exists() {
        for t in TABLES {
            assert_eq!(
                fs::read(reference.join(t)).ok(),
                fs::read(out.join(t)).ok(),
                "{t} of a folder with a manifest"
            );
        }
    } else {
        for t in TABLES {
            assert!(!out.join(t).exists(), "{t} written before the manifest");
        }
    }
}

/// The whole loop: start with checkpoints every year, kill at seeded random moments, resume
/// (alternating the thread counts in `threads`), kill again, until the run finishes.
fn killed_and_resumed(seed: u64, threads: [&str; 2]) {
    let dir = tempfile::tempdir().unwrap();
    let (reference, took) = reference(dir.path());
    let out = dir.path().join("killed");
    let mut moments = Moments(seed);
    let start = run_args(&out, &["--checkpoint-every", "1", "--threads", threads[0]]);
    let mut kills = 0;
    let mut finished = run_or_kill(&start, took.mul_f64(0.1 + 0.8 * moments.next()));
    let mut attempt = 0;
    let mut from_checkpoint = 0;
    while !finished {
        kills += 1;
        assert_never_half_finished(&reference, &out);
        from_checkpoint += !checkpoints(&out).is_empty() as u32;
        attempt += 1;
        assert!(attempt < 40, "the run never finished");
        // Killed before its start was recorded, the run is started again (as the Slurm
        // template does); otherwise resumed.
        let resume = if out.join("checkpoints").join("run.json").exists() {
            vec![
                "run".to_string(),
                "--resume".into(),
                arg(&out),
                "--quiet".into(),
                "--threads".into(),
                threads[attempt % 2].into(),
            ]
        } else {
            run_args(&out, &["--checkpoint-every", "1", "--threads", threads[attempt % 2]])
        };
        // Later attempts run longer, so the run finishes in a few rounds.
        let after = took.mul_f64(0.2 + 0.6 * moments.next() + 0.1 * attempt as f64);
        finished = run_or_kill(&resume, after);
    }
    assert!(kills > 0, "the run was never killed; kill it earlier");
    assert!(
        from_checkpoint > 0,
        "no resume started from a checkpoint; kill it later"
    );
    eprintln!("seed {seed}: killed {kills} times, {from_checkpoint} resumed from a checkpoint");
    assert_same_outputs(&reference, &out);
}

#[test]
fn a_run_killed_at_random_moments_resumes_to_the_uninterrupted_outputs() {
    for seed in [0x9E37_79B9_7F4A_7C15, 0x2545_F491_4F6C_DD1D] {
        killed_and_resumed(seed, ["2", "2"]);
    }
}

#[test]
fn a_checkpoint_written_at_one_thread_resumes_at_two() {
    killed_and_resumed(0xD1B5_4A32_D192_ED03, ["1", "2"]);
}

/// A run with checkpoints killed once it has written two, for the refusal tests.
fn interrupted(dir: &Path) -> PathBuf {
    let out = dir.join("interrupted");
    let mut child = spawn(&run_args(&out, &["--checkpoint-every", "1", "--threads", "1"]));
    let t = Instant::now();
    while checkpoints(&out).len() < 2 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run finished before it was killed"
        );
        assert!(t.elapsed() < Duration::from_secs(60), "no checkpoint written in 60 s");
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.join("manifest.json").exists());
    out
}

/// Checkpoint files of a run folder, newest first.
fn checkpoints(out: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(out.join("checkpoints"))
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "ckpt"));
    files.sort();
    files.reverse();
    files
}

/// Copy a run folder (its files and the checkpoints folder).
fn copy(from: &Path, to: &Path) -> PathBuf {
    fs::create_dir_all(to.join("checkpoints")).unwrap();
    for sub in ["", "checkpoints"] {
        for e in fs::read_dir(from.join(sub)).unwrap().filter_map(|e| e.ok()) {
            if e.path().is_file() && e.file_name() != ".ruralgov.lock" {
                fs::copy(e.path(), to.join(sub).join(e.file_name())).unwrap();
            }
        }
    }
    to.to_path_buf()
}

/// `run --resume out` must fail with exit code 2, a message with `fragments`, and change
/// nothing in the folder.
#[track_caller]
fn assert_refused(out: &Path, fragments: &[&str]) -> String {
    let before = snapshot(out);
    let o = ruralgov(&["run".to_string(), "--resume".into(), arg(out)]);
    let err = assert_clean_error(&o, fragments);
    assert!(snapshot(out) == before, "a refused resume changed {}", out.display());
    err
}

/// The end of the header of a checkpoint: magic and format (12 bytes), four strings, step and
/// total months (8 bytes), then its checksum (8 bytes).
fn header_end(b: &[u8]) -> usize {
    let mut at = 12;
    for _ in 0..4 {
        at += 2 + u16::from_le_bytes([b[at], b[at + 1]]) as usize;
    }
    at + 16
}

#[test]
fn damaged_foreign_and_mismatched_checkpoints_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, _) = reference(dir.path());
    let base = interrupted(dir.path());

    // Every checkpoint with a flipped byte: no usable checkpoint, named with the reason.
    let out = copy(&base, &dir.path().join("flipped"));
    for p in checkpoints(&out) {
        let mut b = fs::read(&p).unwrap();
        let n = b.len();
        b[n / 2] ^= 0x10;
        fs::write(&p, b).unwrap();
    }
    let newest = checkpoints(&out)[0].file_name().unwrap().to_string_lossy().into_owned();
    assert_refused(&out, &["no usable checkpoint", &newest, "checksum does not match"]);

    // Written by another version (a whole header, checksum and all).
    let out = copy(&base, &dir.path().join("version"));
    let ours = env!("CARGO_PKG_VERSION");
    for p in checkpoints(&out) {
        let mut b = fs::read(&p).unwrap();
        assert_eq!(
            &b[14..14 + ours.len()],
            ours.as_bytes(),
            "the version is the first string"
        );
        b[14..14 + ours.len()].copy_from_slice(&"9".repeat(ours.len()).into_bytes());
        let end = header_end(&b);
        let sum = ruralgov::checkpoint::checksum(&b[..end - 8]);
        b[end - 8..end].copy_from_slice(&sum.to_le_bytes());
        fs::write(&p, b).unwrap();
    }
    assert_refused(&out, &["another ruralgov", &"9".repeat(ours.len()), &newest]);

    // A version field changed by hand (header checksum not updated): damaged.
    let out = copy(&base, &dir.path().join("edited_version"));
    for p in checkpoints(&out) {
        let mut b = fs::read(&p).unwrap();
        b[14] ^= 1;
        fs::write(&p, b).unwrap();
    }
    assert_refused(&out, &["no usable checkpoint", "header's checksum"]);

    // Another checkpoint format.
    let out = copy(&base, &dir.path().join("format"));
    for p in checkpoints(&out) {
        let mut b = fs::read(&p).unwrap();
        b[8..12].copy_from_slice(&7u32.to_le_bytes());
        fs::write(&p, b).unwrap();
    }
    assert_refused(&out, &["checkpoint format 7", &newest]);

    // An edited scenario.
    let out = copy(&base, &dir.path().join("edited"));
    let toml = out.join("checkpoints").join("scenario.toml");
    let text = fs::read_to_string(&toml).unwrap();
    let edited = text.replacen("villages = 12", "villages = 13", 1);
    assert_ne!(text, edited, "scenario.toml names region.villages");
    fs::write(&toml, edited).unwrap();
    assert_refused(&out, &["holds another scenario", "scenario.toml", &newest]);

    // Not a run with checkpoints.
    let plain = dir.path().join("plain");
    fs::create_dir_all(&plain).unwrap();
    assert_refused(&plain, &["no run with checkpoints", "--checkpoint-every"]);

    // A fresh run into the interrupted folder is refused without --force and names --resume.
    let out = copy(&base, &dir.path().join("fresh"));
    let before = snapshot(&out);
    let o = ruralgov(&run_args(&out, &[]));
    assert_clean_error(&o, &["unfinished run with checkpoints", "--resume"]);
    assert!(snapshot(&out) == before);

    // Only the newest damaged: the one before is used, with a warning, to the same outputs.
    let out = copy(&base, &dir.path().join("fallback"));
    let p = &checkpoints(&out)[0];
    let mut b = fs::read(p).unwrap();
    let n = b.len();
    b[n - 20] ^= 1;
    fs::write(p, b).unwrap();
    let o = ruralgov(&["run".to_string(), "--resume".into(), arg(&out), "--quiet".into()]);
    o.assert_success();
    assert!(
        o.stderr.contains("warning") && o.stderr.contains(&newest) && o.stderr.contains("older checkpoint"),
        "{o}"
    );
    assert_same_outputs(&reference, &out);

    // The untouched copy resumes; resuming it again says it has finished.
    let out = copy(&base, &dir.path().join("whole"));
    ruralgov(&["run".to_string(), "--resume".into(), arg(&out), "--quiet".into()]).assert_success();
    assert_same_outputs(&reference, &out);
    let again = ruralgov(&["run".to_string(), "--resume".into(), arg(&out)]);
    again.assert_success();
    assert!(again.stdout.contains("already finished"), "{again}");
}

#[test]
fn a_run_killed_before_its_start_was_recorded_starts_again_with_the_same_command() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, _) = reference(dir.path());
    let out = dir.path().join("early");
    // What a kill between writing scenario.toml and run.json leaves (with a staged leftover).
    fs::create_dir_all(out.join("checkpoints")).unwrap();
    fs::copy(tiny(), out.join("checkpoints").join("scenario.toml")).unwrap();
    fs::write(out.join("checkpoints").join(".run.json.partial"), "{").unwrap();
    let o = ruralgov(&["run".to_string(), "--resume".into(), arg(&out)]);
    assert_clean_error(&o, &["no run with checkpoints", "--checkpoint-every"]);
    ruralgov(&run_args(&out, &["--checkpoint-every", "1"])).assert_success();
    assert_same_outputs(&reference, &out);
}

#[test]
fn checkpoint_flags_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for bad in [
        vec!["run".to_string(), arg(&tiny()), "--checkpoint-every".into(), "0".into()],
        vec!["run".to_string(), arg(&tiny()), "--resume".into(), arg(&out)],
        vec!["run".to_string()],
    ] {
        let o = ruralgov(&bad);
        assert_eq!(o.code, Some(2), "{o}");
    }
    assert!(!out.exists());
    let help = ruralgov(&["run", "--help"]);
    assert!(help.stdout.contains("--checkpoint-every") && help.stdout.contains("--resume"));
}
