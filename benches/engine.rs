//! Engine benchmarks: one monthly step of the full model (all paths on) at 10^4, 10^6 and
//! 10^7 villagers on 1 and 2 threads; scenario loading; initialisation; a sweep of tiny runs.
//!
//! Run with `cargo bench --bench engine` (or a group: `cargo bench --bench engine -- step`).
//! Throughput is reported in villager-steps (registered adults x months) per second. Record
//! the median with the machine and the command (README "Performance", docs/performance.md).
use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use ruralgov::model::World;
use ruralgov::scenario::Scenario;

/// A region of about `villagers` registered adults in villages of 1,000, every path on.
fn region(villagers: u64) -> Scenario {
    let mut sc = Scenario::default();
    sc.region.villages = (villagers / 1000).max(1) as u32;
    sc.population.adults_per_village = if villagers < 1000 { villagers as u32 } else { 1000 };
    sc.paths.legal.intensity = 1.0.into();
    sc.paths.services.intensity = 1.0.into();
    sc.paths.culture.intensity = 1.0.into();
    sc.paths.self_government.intensity = 1.0.into();
    sc
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool")
}

fn step(c: &mut Criterion) {
    let mut g = c.benchmark_group("step");
    g.sample_size(10);
    for villagers in [10_000u64, 1_000_000, 10_000_000] {
        let sc = region(villagers);
        let mut world = pool(2).install(|| World::new(&sc));
        // Warm into the run so the state is typical, not initial (and an election is past).
        for _ in 0..15 {
            pool(2).install(|| world.step());
        }
        for threads in [1usize, 2] {
            let p = pool(threads);
            g.throughput(Throughput::Elements(world.registered()));
            g.bench_with_input(
                BenchmarkId::new(format!("{threads}_threads"), world.registered()),
                &(),
                |b, _| {
                    // Each sample steps a fresh copy of the same month, so the state does not drift.
                    b.iter_batched_ref(|| world.clone(), |w| p.install(|| w.step()), BatchSize::LargeInput);
                },
            );
        }
    }
    g.finish();
}

fn init(c: &mut Criterion) {
    let mut g = c.benchmark_group("init");
    g.sample_size(10);
    for villagers in [200_000u64, 1_000_000] {
        let sc = region(villagers);
        let p = pool(2);
        g.throughput(Throughput::Elements(villagers));
        g.bench_with_input(BenchmarkId::new("villagers", villagers), &(), |b, _| {
            b.iter(|| p.install(|| World::new(&sc)))
        });
    }
    g.finish();
}

fn load(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/combined.toml");
    c.bench_function("load/combined.toml", |b| {
        b.iter(|| Scenario::load(&path, &[]).expect("bundled scenario"))
    });
}

fn sweep(c: &mut Criterion) {
    use ruralgov::experiment::{plan::Plan, spec, sweep};
    let dir = tempfile::tempdir().expect("temporary folder");
    let tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/tiny.toml");
    let file = dir.path().join("many_tiny.toml");
    std::fs::write(
        &file,
        format!(
            "name = \"many_tiny\"\nbase = {:?}\nreplications = 40\nset = {{ \"region.villages\" = 2, \"run.end_year\" = 2006 }}\n\n[[metric]]\nname = \"governance_index\"\nstat = \"end\"\n",
            tiny.display().to_string()
        ),
    )
    .expect("write experiment");
    let loaded = spec::load(&file).expect("experiment");
    let plan = Plan::build(&loaded).expect("plan");
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    g.throughput(Throughput::Elements(plan.runs.len() as u64));
    g.bench_function("40_tiny_runs", |b| {
        b.iter(|| {
            let opts = sweep::Options {
                out: dir.path().join("out"),
                jobs: 2,
                shard: None,
                restart: true,
                no_memory_check: false,
                command: "bench".into(),
                format: ruralgov::columnar::Format::Csv,
            };
            sweep::sweep(&plan, &opts, &|_, _| {}).expect("sweep")
        })
    });
    g.finish();
}

criterion_group!(benches, step, init, load, sweep);
criterion_main!(benches);
