//! The `ruralgov` command: a thin layer that parses flags, calls the library, shows progress
//! and maps every error to exit code 2 with a one-paragraph message.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use ruralgov::checkpoint;
use ruralgov::output::{self, Lock, RunInfo};
use ruralgov::scenario::Scenario;

/// Examples shown under `ruralgov --help`.
const EXAMPLES: &str = "\
Examples:
  ruralgov run scenarios/baseline.toml
  ruralgov report results/baseline
  ruralgov sweep scenarios/experiments/paths.toml
  ruralgov compare results/paths
Each command has its own examples: ruralgov <command> --help";

const RUN_EXAMPLES: &str = "\
Examples:
  ruralgov run scenarios/baseline.toml                      # writes results/baseline/
  ruralgov run scenarios/legal.toml --seed 7 --out results/legal-7
  ruralgov run scenarios/baseline.toml --set region.villages=50 --set paths.culture.intensity=1
  ruralgov run scenarios/tiny.toml --threads 1 --quiet
  ruralgov run scenarios/baseline.toml --out results/b --checkpoint-every 1   # a checkpoint every year
  ruralgov run --resume results/b                           # killed? continue from the latest one";

const VALIDATE_EXAMPLES: &str = "\
Examples:
  ruralgov validate scenarios/*.toml                        # scenarios
  ruralgov validate scenarios/experiments/paths.toml        # an experiment, planned in full";

const SHOW_EXAMPLES: &str = "\
Examples:
  ruralgov show scenarios/combined.toml
  ruralgov show scenarios/baseline.toml --set run.end_year=2040 > my_scenario.toml";

const DIFF_EXAMPLES: &str = "\
Examples:
  ruralgov diff scenarios/baseline.toml scenarios/combined.toml";

const SWEEP_EXAMPLES: &str = "\
Examples:
  ruralgov sweep scenarios/experiments/paths.toml           # writes results/paths/
  ruralgov sweep scenarios/experiments/morris.toml --jobs 2 --out results/morris
  ruralgov sweep X.toml --out part0 --shard 0/2 && ruralgov sweep X.toml --out part1 --shard 1/2
  ruralgov sweep X.toml --restart                           # discard an earlier sweep of X";

const CALIBRATE_EXAMPLES: &str = "\
Examples:
  ruralgov calibrate scenarios/calibration/china_2000_2020.toml   # writes results/china_2000_2020_calibration/
  ruralgov calibrate C.toml --jobs 2 --out results/cal            # killed? run it again: it resumes
  ruralgov calibrate C.toml --restart                             # discard an earlier calibration
  ruralgov calibrate C.toml --out cal --shard 0/4 &  ... --shard 3/4   # 4 processes share the waves
Exit codes: 0 finished (or, with --wait 0, this shard's part done), 2 bad input or failure,
3 this shard's part done but other shards of a wave did not finish within --wait.";

const SERVE_EXAMPLES: &str = "\
Examples:
  ruralgov serve                                            # http://127.0.0.1:8700/, the baseline
  ruralgov serve scenarios/hollowing.toml --port 8080
  ruralgov serve --host 0.0.0.0                             # a classroom network (prints a warning)";

const COMPARE_EXAMPLES: &str = "\
Examples:
  ruralgov compare results/paths
  ruralgov compare results/paths --baseline baseline --bootstrap 2000";

const SENSITIVITY_EXAMPLES: &str = "\
Examples:
  ruralgov sensitivity results/morris
  ruralgov sensitivity results/sobol";

const PLOT_EXAMPLES: &str = "\
Examples:
  ruralgov plot results/baseline                            # PNGs in results/baseline/charts
  ruralgov plot results/paths --format both --size 1280x720";

const REPORT_EXAMPLES: &str = "\
Examples:
  ruralgov report results/baseline                          # results/baseline/report.html
  ruralgov report results/paths --out slides";

const BENCH_EXAMPLES: &str = "\
Examples:
  ruralgov bench
  ruralgov bench --villagers 10000000 --threads 2 --months 7
  ruralgov bench --villagers 1000000 --months 12 --profile";

const MERGE_EXAMPLES: &str = "\
Examples:
  ruralgov merge part0 part1 --out results/all";

/// Agent-based simulation of rural governance: villagers, elites, the party branch, the
/// villagers' committee and the township, under four policy paths.
#[derive(Debug, Parser)]
#[command(name = "ruralgov", version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario and write metrics.csv, villages.csv (if asked) and manifest.json.
    #[command(after_help = RUN_EXAMPLES)]
    Run {
        /// Scenario file (TOML); not with --resume.
        #[arg(required_unless_present = "resume")]
        scenario: Option<PathBuf>,
        /// Output folder [default: results/<scenario name>/].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Seed (overrides run.seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads [default: all cores]. Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Override a setting, e.g. --set region.villages=50 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Replace the results of a different run in the output folder.
        #[arg(long)]
        force: bool,
        /// Table files: csv, parquet or both (Parquet with typed columns; docs/metrics.md).
        #[arg(long, default_value = "csv", value_name = "FORMAT")]
        format: String,
        /// Run even if the scenario's estimated memory exceeds the machine's.
        #[arg(long)]
        no_memory_check: bool,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Save a checkpoint every YEARS simulated years (burn-in included) in the output
        /// folder's checkpoints/, so a killed run continues with --resume (docs/checkpoints.md).
        #[arg(long, value_name = "YEARS", value_parser = clap::value_parser!(u32).range(1..))]
        checkpoint_every: Option<u32>,
        /// Continue the unfinished run in DIR from its latest checkpoint, with the scenario and
        /// settings recorded there; it ends with the files an uninterrupted run writes.
        #[arg(
            long,
            value_name = "DIR",
            conflicts_with_all = ["scenario", "out", "seed", "sets", "force", "format", "checkpoint_every"]
        )]
        resume: Option<PathBuf>,
    },
    /// Check scenario and experiment files (each by what it is); prints nothing on success.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate {
        /// Scenario or experiment files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the fully resolved scenario (after extends and --set) as TOML.
    #[command(after_help = SHOW_EXAMPLES)]
    Show {
        /// Scenario file.
        scenario: PathBuf,
        /// Override a setting (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
    },
    /// List the settings whose resolved values differ between two scenarios.
    #[command(after_help = DIFF_EXAMPLES)]
    Diff {
        /// First scenario.
        a: PathBuf,
        /// Second scenario.
        b: PathBuf,
    },
    /// Run an experiment (arms x design points x replications), resumably.
    #[command(after_help = SWEEP_EXAMPLES)]
    Sweep {
        /// Experiment file (TOML).
        experiment: PathBuf,
        /// Output folder [default: results/<experiment name>/].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs in parallel [default: all cores]. Results do not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only every N-th run starting at I (0 <= I < N), e.g. --shard 0/4; merge shards with `merge`.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Discard an earlier sweep (finished or not, of any plan) in the output folder.
        #[arg(long)]
        restart: bool,
        /// Table files: csv, parquet or both (parquet: runs, summary and sensitivity stay CSV too, for compare and report).
        #[arg(long, default_value = "csv", value_name = "FORMAT")]
        format: String,
        /// Run even if the runs' estimated memory exceeds the machine's.
        #[arg(long)]
        no_memory_check: bool,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Calibrate a scenario to observed data by history matching (resumable).
    #[command(after_help = CALIBRATE_EXAMPLES)]
    Calibrate {
        /// Calibration file (TOML).
        calibration: PathBuf,
        /// Output folder [default: results/<calibration name>/].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Runs in parallel [default: all cores]. Results do not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// Discard an earlier calibration in the output folder.
        #[arg(long)]
        restart: bool,
        /// Run only shard I of N of every wave's runs (0 <= I < N), e.g. --shard 0/4: one
        /// process per shard, sharing the output folder; between waves each waits for the others.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// With --shard: seconds to wait for the other shards of a wave (0: run this shard's
        /// part of the first unfinished wave and stop).
        #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
        wait: u64,
        /// Run even if the runs' estimated memory exceeds the machine's.
        #[arg(long)]
        no_memory_check: bool,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Paired differences of every arm against a baseline arm, with 95% confidence intervals.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare {
        /// A finished sweep folder.
        dir: PathBuf,
        /// Baseline arm [default: the first arm].
        #[arg(long)]
        baseline: Option<String>,
        /// Also give percentile bootstrap intervals with this many resamples.
        #[arg(long, default_value_t = 0)]
        bootstrap: usize,
    },
    /// Morris or Sobol sensitivity indices of a finished sweep (writes sensitivity.csv).
    #[command(after_help = SENSITIVITY_EXAMPLES)]
    Sensitivity {
        /// A finished sweep folder.
        dir: PathBuf,
    },
    /// Draw the charts of a run or sweep folder (PNG and/or SVG, 1600x900) into DIR/charts.
    #[command(after_help = PLOT_EXAMPLES)]
    Plot {
        /// A run folder (`ruralgov run`) or a finished sweep folder (`ruralgov sweep`).
        dir: PathBuf,
        /// Image format.
        #[arg(long, default_value = "png", value_parser = ["png", "svg", "both"])]
        format: String,
        /// Output folder [default: DIR/charts].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Size of every chart in pixels.
        #[arg(long, default_value = "1600x900", value_name = "WxH")]
        size: String,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Write one self-contained report.html (inline SVG charts, no scripts) of a run or sweep folder.
    #[command(after_help = REPORT_EXAMPLES)]
    Report {
        /// A run folder (`ruralgov run`) or a finished sweep folder (`ruralgov sweep`).
        dir: PathBuf,
        /// Output folder for report.html [default: DIR].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Measure the engine: villager-steps per second, initialisation time, memory per villager.
    #[command(after_help = BENCH_EXAMPLES)]
    Bench {
        /// Registered adults in the region (villages of 1,000).
        #[arg(long, default_value_t = 1_000_000)]
        villagers: u64,
        /// Worker threads [default: all cores].
        #[arg(long)]
        threads: Option<usize>,
        /// Timed months (after three untimed ones).
        #[arg(long, default_value_t = 5)]
        months: u32,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Time every process of every village (the timed months then run on one thread).
        #[arg(long)]
        profile: bool,
        /// Run even if the region's estimated memory exceeds the machine's.
        #[arg(long)]
        no_memory_check: bool,
    },
    /// The seminar view: a local web page with the villages, the paths as sliders and an A/B comparison.
    #[command(after_help = SERVE_EXAMPLES)]
    Serve {
        /// Starting scenario; the page offers every scenario of its folder [default: scenarios/baseline.toml].
        scenario: Option<PathBuf>,
        /// Port [default: 8700; 0 for any free port].
        #[arg(long, default_value_t = 8700)]
        port: u16,
        /// Address to listen on; 0.0.0.0 opens it to the local network (a warning is printed).
        #[arg(long, default_value = "127.0.0.1")]
        host: String,
        /// Worker threads per session [default: all cores].
        #[arg(long)]
        threads: Option<usize>,
        /// Open the page in the default browser.
        #[arg(long)]
        open: bool,
    },
    /// Combine shard folders into what one unsharded sweep writes.
    #[command(after_help = MERGE_EXAMPLES)]
    Merge {
        /// Shard folders.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
        /// Table files: csv, parquet or both (parquet: runs, summary and sensitivity stay CSV too, for compare and report).
        #[arg(long, default_value = "csv", value_name = "FORMAT")]
        format: String,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            scenario,
            out,
            seed,
            threads,
            sets,
            force,
            format,
            no_memory_check,
            quiet,
            checkpoint_every,
            resume,
        } => match (resume, scenario) {
            (Some(dir), _) => resume_run(&dir, threads, no_memory_check, quiet),
            (None, Some(scenario)) => run(
                &scenario,
                out,
                seed,
                threads,
                &sets,
                force,
                format.parse()?,
                no_memory_check,
                quiet,
                checkpoint_every,
            ),
            (None, None) => Err(ruralgov::Error::option("run", "", "give a scenario file, or --resume DIR").into()),
        },
        Command::Validate { files } => {
            for f in files {
                ruralgov::validate::file(&f)?;
            }
            Ok(())
        }
        Command::Show { scenario, sets } => {
            let loaded = Scenario::load(&scenario, &sets)?;
            print_out(&loaded.value.to_toml())
        }
        Command::Diff { a, b } => {
            let (x, y) = (Scenario::load(&a, &[])?.value, Scenario::load(&b, &[])?.value);
            let show = |v: &Option<toml::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "(absent)".into());
            let text: String = ruralgov::scenario::diff(&x, &y)
                .iter()
                .map(|d| format!("{}: {} -> {}\n", d.key, show(&d.a), show(&d.b)))
                .collect();
            print_out(&text)
        }
        Command::Sweep {
            experiment,
            out,
            jobs,
            shard,
            restart,
            format,
            no_memory_check,
            quiet,
        } => sweep(
            &experiment,
            out,
            jobs,
            shard.as_deref(),
            restart,
            format.parse()?,
            no_memory_check,
            quiet,
        ),
        Command::Calibrate {
            calibration,
            out,
            jobs,
            restart,
            shard,
            wait,
            no_memory_check,
            quiet,
        } => calibrate(
            &calibration,
            out,
            jobs,
            restart,
            (shard.as_deref(), wait),
            no_memory_check,
            quiet,
        ),
        Command::Compare {
            dir,
            baseline,
            bootstrap,
        } => {
            let _lock = Lock::acquire(&existing(&dir)?, &output::command_line())?;
            let rows = ruralgov::experiment::compare::compare(&dir, baseline.as_deref(), bootstrap)?;
            let path = ruralgov::experiment::compare::write(&dir, &rows)?;
            let ranks = ruralgov::experiment::compare::ranking(&dir, baseline.as_deref())?;
            let ranked = ruralgov::experiment::compare::write_ranking(&dir, &ranks)?;
            print_out(&ruralgov::experiment::compare::render(&rows))?;
            eprintln!("wrote {}", path.display());
            if let Some(p) = ranked {
                eprintln!("wrote {}", p.display());
            }
            Ok(())
        }
        Command::Sensitivity { dir } => {
            let _lock = Lock::acquire(&existing(&dir)?, &output::command_line())?;
            let text = ruralgov::experiment::sensitivity::from_dir(&dir)?;
            print_out(&ruralgov::experiment::sensitivity::pretty(&text))?;
            eprintln!("wrote {}", dir.join("sensitivity.csv").display());
            Ok(())
        }
        Command::Plot {
            dir,
            format,
            out,
            size,
            quiet,
        } => {
            let (width, height) = ruralgov::report::parse_size(&size)?;
            let _lock = Lock::acquire(out.as_deref().unwrap_or(&existing(&dir)?), &output::command_line())?;
            let opts = ruralgov::report::PlotOptions {
                format: format.parse()?,
                out,
                width,
                height,
            };
            let done = ruralgov::report::plot(&dir, &opts)?;
            if !quiet {
                println!(
                    "wrote {} chart file{} ({width}x{height}) in {} in {:.2} s",
                    done.written.len(),
                    if done.written.len() == 1 { "" } else { "s" },
                    done.out.display(),
                    done.seconds
                );
                for s in &done.skipped {
                    println!("not drawn: {}: {}", s.chart, s.reason);
                }
            }
            Ok(())
        }
        Command::Report { dir, out, quiet } => {
            let _lock = Lock::acquire(out.as_deref().unwrap_or(&existing(&dir)?), &output::command_line())?;
            let done = ruralgov::report::report(&dir, &ruralgov::report::ReportOptions { out })?;
            if !quiet {
                println!(
                    "wrote {} ({} charts, {:.1} MB, self-contained) in {:.2} s",
                    done.path.display(),
                    done.charts,
                    done.bytes as f64 / 1e6,
                    done.seconds
                );
                for s in &done.skipped {
                    println!("not drawn: {}: {}", s.chart, s.reason);
                }
            }
            Ok(())
        }
        Command::Bench {
            villagers,
            threads,
            months,
            json,
            profile,
            no_memory_check,
        } => {
            let threads = ruralgov::limits::threads("--threads", threads.unwrap_or_else(ruralgov::limits::cores))?;
            let report = ruralgov::bench::run(villagers, threads, months, 3, profile, no_memory_check)?;
            if json {
                print_out(&(serde_json::to_string_pretty(&report)? + "\n"))
            } else {
                print_out(&report.render())
            }
        }
        Command::Serve {
            scenario,
            port,
            host,
            threads,
            open,
        } => serve(scenario, port, host, threads, open),
        Command::Merge { dirs, out, format } => {
            let format = format.parse()?;
            let _lock = Lock::acquire(&out, &output::command_line())?;
            let merged = ruralgov::experiment::sweep::merge(&dirs, &out, &output::command_line(), format)?;
            for (p, why) in &merged.damaged {
                eprintln!("warning: {} is damaged ({why}); it was not copied", p.display());
            }
            eprintln!(
                "merged {} folders into {} ({} files)",
                dirs.len(),
                out.display(),
                merged.written.len()
            );
            Ok(())
        }
    }
}

/// `dir` if it is an existing folder (commands that read results lock the folder they read,
/// and must not create it).
fn existing(dir: &Path) -> anyhow::Result<PathBuf> {
    if !dir.is_dir() {
        return Err(ruralgov::Error::folder(
            dir,
            if dir.exists() {
                "this is a file, not a results folder; give a folder written by `ruralgov run` or `ruralgov sweep`"
            } else {
                "no such folder; give a folder written by `ruralgov run` or `ruralgov sweep`"
            },
        )
        .into());
    }
    Ok(dir.to_path_buf())
}

fn parse_shard(s: &str) -> anyhow::Result<(u32, u32)> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| ruralgov::Error::option("--shard", s, "expected I/N, e.g. 0/4"))?;
    let (i, n): (u32, u32) = (
        i.trim()
            .parse()
            .map_err(|_| ruralgov::Error::option("--shard", s, "I must be a whole number"))?,
        n.trim()
            .parse()
            .map_err(|_| ruralgov::Error::option("--shard", s, "N must be a whole number"))?,
    );
    if n == 0 || i >= n {
        return Err(ruralgov::Error::option("--shard", s, "expected I/N with 0 <= I < N, e.g. 0/4 ... 3/4").into());
    }
    Ok((i, n))
}

fn calibrate(
    path: &Path,
    out: Option<PathBuf>,
    jobs: Option<usize>,
    restart: bool,
    (shard, wait): (Option<&str>, u64),
    no_memory_check: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    use ruralgov::calibration::history_matching::{self, Progress};
    let shard = shard.map(parse_shard).transpose()?;
    if restart && shard.is_some() {
        return Err(ruralgov::Error::option(
            "--restart",
            "",
            "cannot be combined with --shard (one shard would discard the others' work); restart the calibration without --shard first",
        )
        .into());
    }
    let loaded = ruralgov::calibration::load(path)?;
    let out = out.unwrap_or_else(|| PathBuf::from("results").join(&loaded.calibration.name));
    let opts = history_matching::Options {
        out: out.clone(),
        jobs: jobs.unwrap_or_else(ruralgov::limits::cores),
        restart,
        no_memory_check,
        command: output::command_line(),
        shard,
        wait: std::time::Duration::from_secs(wait),
    };
    let show_bar = !quiet && std::io::stderr().is_terminal();
    let bar = std::sync::Mutex::new(None::<ProgressBar>);
    let started = Instant::now();
    let progress = |p: Progress| {
        let Ok(mut guard) = bar.lock() else { return };
        match p {
            Progress::Message(text) => {
                if quiet {
                    return;
                }
                match guard.as_ref() {
                    Some(b) => b.println(text),
                    None => eprintln!("{text}"),
                }
            }
            Progress::Wave { wave, runs, .. } => {
                if let Some(b) = guard.take() {
                    b.finish_and_clear();
                }
                if show_bar {
                    let b = ProgressBar::new(runs as u64);
                    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} runs, ETA {eta}") {
                        b.set_style(style.progress_chars("=> "));
                    }
                    b.set_message(format!("wave {wave}"));
                    *guard = Some(b);
                }
            }
            Progress::Runs { done, .. } => {
                if let Some(b) = guard.as_ref() {
                    b.set_position(done as u64);
                }
            }
        }
    };
    let report = history_matching::run(&loaded, &opts, &progress);
    if let Ok(mut guard) = bar.lock() {
        if let Some(b) = guard.take() {
            b.finish_and_clear();
        }
    }
    let report = report?;
    if let Some(why) = &report.waiting {
        // Not an error of the input: this shard's work is done and kept. With --wait 0 that
        // is what was asked for (exit 0); a wait that ran out exits 3, so a job script can
        // tell it from success and from bad input (2).
        if wait == 0 {
            if !quiet {
                println!("not finished: {why}");
            }
            return Ok(());
        }
        eprintln!("not finished: {why}");
        std::process::exit(3);
    }
    if !quiet {
        if let Some(why) = &report.stopped {
            println!("stopped early: {why}");
        }
        println!(
            "{}: {} waves, {} parameter sets retained, {:.3}% of the parameter space left, in {:.1} s (peak memory {})",
            loaded.calibration.name,
            report.waves.len(),
            report.retained,
            100.0 * report.space_left,
            started.elapsed().as_secs_f64(),
            ruralgov::limits::bytes(output::peak_memory_bytes())
        );
        println!(
            "wrote retained.csv, fit.csv, waves.csv and the waves' runs in {}",
            out.display()
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn sweep(
    path: &Path,
    out: Option<PathBuf>,
    jobs: Option<usize>,
    shard: Option<&str>,
    restart: bool,
    format: ruralgov::columnar::Format,
    no_memory_check: bool,
    quiet: bool,
) -> anyhow::Result<()> {
    let jobs = jobs.unwrap_or_else(ruralgov::limits::cores);
    let shard = shard.map(parse_shard).transpose()?;
    let prepared = ruralgov::experiment::sweep::Prepared::open(
        path,
        out,
        jobs,
        shard,
        restart,
        no_memory_check,
        output::command_line(),
        format,
    )?;
    let (name, out, jobs) = (
        prepared.name().to_string(),
        prepared.opts.out.clone(),
        prepared.opts.jobs,
    );
    let show_bar = !quiet && std::io::stderr().is_terminal();
    let bar = std::sync::Mutex::new(None::<ProgressBar>);
    let started = Instant::now();
    let progress = |done: usize, total: usize| {
        if !show_bar {
            return;
        }
        let Ok(mut guard) = bar.lock() else { return };
        if guard.is_none() && done < total {
            let b = ProgressBar::new(total as u64);
            if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} runs, ETA {eta}") {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_message(name.clone());
            *guard = Some(b);
        }
        if let Some(b) = guard.as_ref() {
            b.set_position(done as u64);
        }
    };
    let report = prepared.run(&progress);
    if let Ok(mut guard) = bar.lock() {
        if let Some(b) = guard.take() {
            b.finish_and_clear();
        }
    }
    let report = report?;
    for (p, why) in &report.damaged {
        eprintln!(
            "warning: {} was damaged ({why}); that run was simulated again",
            p.display()
        );
    }
    if !quiet {
        println!(
            "{}: {} runs in the plan, {} in this {}; {} already finished, {} run now in {:.1} s ({} jobs, peak memory {})",
            name,
            report.total,
            report.mine,
            if shard.is_some() { "shard" } else { "sweep" },
            report.skipped,
            report.ran,
            started.elapsed().as_secs_f64(),
            jobs,
            ruralgov::limits::bytes(output::peak_memory_bytes())
        );
        if report.written.is_empty() {
            println!("shard done; combine the shards with: ruralgov merge <shard folders> --out <folder>");
        } else {
            let names: Vec<String> = report
                .written
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect();
            println!("wrote {} in {}", names.join(", "), out.display());
        }
    }
    Ok(())
}

#[cfg(feature = "serve")]
fn serve(scenario: Option<PathBuf>, port: u16, host: String, threads: Option<usize>, open: bool) -> anyhow::Result<()> {
    let opts = ruralgov::serve::Options {
        scenario: scenario.unwrap_or_else(|| PathBuf::from("scenarios").join("baseline.toml")),
        host: host.clone(),
        port,
        threads: threads.unwrap_or_else(ruralgov::limits::cores),
    };
    if open {
        let url = format!(
            "http://{}:{}/",
            if host == "0.0.0.0" { "127.0.0.1" } else { &host },
            port
        );
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(800));
            if std::process::Command::new("xdg-open").arg(&url).status().is_err() {
                eprintln!("could not open a browser; open {url} yourself");
            }
        });
    }
    Ok(ruralgov::serve::serve(&opts)?)
}

#[cfg(not(feature = "serve"))]
fn serve(_: Option<PathBuf>, _: u16, _: String, _: Option<usize>, _: bool) -> anyhow::Result<()> {
    anyhow::bail!("this ruralgov was built without the seminar view (the default cargo feature `serve`)")
}

fn print_out(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// A progress bar on a terminal for runs that take longer than 0.8 s (never in pipes).
struct Bar {
    show: bool,
    started: Instant,
    name: String,
    bar: Option<ProgressBar>,
}

impl Bar {
    fn new(name: &str, quiet: bool) -> Bar {
        Bar {
            show: !quiet && std::io::stderr().is_terminal(),
            started: Instant::now(),
            name: name.to_string(),
            bar: None,
        }
    }

    fn update(&mut self, done: u32, total: u32) {
        if !self.show {
            return;
        }
        if self.bar.is_none() && self.started.elapsed() > Duration::from_millis(800) && done < total {
            let b = ProgressBar::new(total as u64);
            if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} months, ETA {eta}") {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_message(self.name.clone());
            self.bar = Some(b);
        }
        if let Some(b) = &self.bar {
            b.set_position(done as u64);
        }
    }

    fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    path: &Path,
    out: Option<PathBuf>,
    seed: Option<u64>,
    threads: Option<usize>,
    sets: &[String],
    force: bool,
    format: ruralgov::columnar::Format,
    no_memory_check: bool,
    quiet: bool,
    checkpoint_every: Option<u32>,
) -> anyhow::Result<()> {
    let threads = ruralgov::limits::threads("--threads", threads.unwrap_or_else(ruralgov::limits::cores))?;
    let loaded = Scenario::load(path, sets)?;
    let mut sc = loaded.value;
    if let Some(s) = seed {
        ruralgov::scenario::check_seed(s)?;
        sc.run.seed = s;
    }
    ruralgov::sim::check_memory(&sc, no_memory_check)?;
    let dir = out.unwrap_or_else(|| PathBuf::from("results").join(&sc.name));
    let command = output::command_line();
    // The lock creates the folder if needed: that also checks, before any simulating, that
    // the folder can be created and written.
    let _lock = Lock::acquire(&dir, &command)?;
    output::check_dir(&dir, &sc, force)?;

    let pool = ruralgov::sim::pool(threads)?;
    let mut bar = Bar::new(&sc.name, quiet);
    let result = match checkpoint_every {
        None => ruralgov::sim::run_on(&pool, &sc, |d, t| bar.update(d, t)),
        Some(every) => {
            let setup = checkpoint::Setup {
                every_years: every,
                format: format.name().to_string(),
                files: loaded.files.clone(),
                sets: sets.to_vec(),
                command: command.clone(),
            };
            checkpoint::prepare(&dir, &sc, &setup)?;
            ruralgov::sim::Run::start(&pool, &sc)
                .and_then(|run| checkpoint::complete(&pool, run, &dir, every, |d, t| bar.update(d, t)))
        }
    };
    bar.finish();
    let info = RunInfo {
        files: &loaded.files,
        sets,
        threads,
        command,
        format,
    };
    finish_run(&dir, &sc, &result?, &info, quiet)
}

/// `ruralgov run --resume DIR`: continue the run recorded in DIR from its latest checkpoint.
fn resume_run(dir: &Path, threads: Option<usize>, no_memory_check: bool, quiet: bool) -> anyhow::Result<()> {
    let threads = ruralgov::limits::threads("--threads", threads.unwrap_or_else(ruralgov::limits::cores))?;
    if !dir.is_dir() {
        return Err(ruralgov::Error::folder(
            dir,
            "no such folder; give the output folder of a run started with --checkpoint-every",
        )
        .into());
    }
    let _lock = Lock::acquire(dir, &output::command_line())?;
    if dir.join("manifest.json").is_file() {
        // Finished (perhaps killed before it removed its checkpoints): nothing to do.
        checkpoint::clear(dir)?;
        if !quiet {
            println!(
                "{}: the run has already finished (its manifest.json is written); nothing to resume",
                dir.display()
            );
        }
        return Ok(());
    }
    let recorded = checkpoint::open(dir)?;
    let sc = recorded.loaded.value;
    let setup = recorded.setup;
    ruralgov::sim::check_memory(&sc, no_memory_check)?;
    let format: ruralgov::columnar::Format = setup.format.parse()?;
    let pool = ruralgov::sim::pool(threads)?;
    let latest = checkpoint::latest(&pool, dir, &sc)?;
    for e in &latest.skipped {
        eprintln!("warning: {e}; resuming from an older checkpoint");
    }
    if !quiet {
        match &latest.from {
            Some(p) => println!(
                "{}: resuming from {} (month {} of {}, burn-in included)",
                sc.name,
                p.display(),
                latest.run.world.step,
                latest.run.total_months()
            ),
            None => println!(
                "{}: no checkpoint was written yet; starting from the first month",
                sc.name
            ),
        }
    }
    let mut bar = Bar::new(&sc.name, quiet);
    let result = checkpoint::complete(&pool, latest.run, dir, setup.every_years, |d, t| bar.update(d, t));
    bar.finish();
    let info = RunInfo {
        files: &setup.files,
        sets: &setup.sets,
        threads,
        command: setup.command.clone(),
        format,
    };
    finish_run(dir, &sc, &result?, &info, quiet)
}

/// Write a finished run's outputs into `dir` (then drop its checkpoints) and print a summary.
fn finish_run(
    dir: &Path,
    sc: &Scenario,
    result: &ruralgov::sim::RunOutput,
    info: &RunInfo,
    quiet: bool,
) -> anyhow::Result<()> {
    let written = output::write_all(dir, sc, result, info)?;
    checkpoint::clear(dir)?;
    if !quiet {
        let last = result.metrics.last();
        let threads = info.threads;
        println!(
            "{}: {} villages, {} registered adults at start, {} months in {:.2} s ({} thread{})",
            sc.name,
            sc.region.villages,
            result.initial_registered,
            sc.steps(),
            result.wall_seconds,
            threads,
            if threads == 1 { "" } else { "s" }
        );
        if let Some(m) = last {
            println!(
                "{}-{:02}: residents {:.0}, migrants {:.0}, share 60+ {:.2}, trust in branch {:.2}, governance index {:.3}",
                m.year, m.month, m.residents, m.migrants, m.share_60_plus, m.trust_branch, m.governance_index
            );
        }
        let names: Vec<String> = written
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        println!("wrote {} in {}", names.join(", "), dir.display());
    }
    Ok(())
}
