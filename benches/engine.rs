//! Engine benchmarks: one monthly step and initialisation at a fixed region size.
//!
//! Run with `cargo bench --bench engine`. Report the median with the machine and command;
//! see README "Performance".
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use ruralgov::model::World;
use ruralgov::scenario::Scenario;

fn region(villages: u32) -> Scenario {
    let mut sc = Scenario::default();
    sc.region.villages = villages;
    sc.population.adults_per_village = 1000;
    sc.paths.legal.intensity = 1.0.into();
    sc.paths.services.intensity = 1.0.into();
    sc.paths.culture.intensity = 1.0.into();
    sc.paths.self_government.intensity = 1.0.into();
    sc
}

fn step(c: &mut Criterion) {
    let mut g = c.benchmark_group("step");
    g.sample_size(10);
    for villages in [100u32, 1000] {
        let sc = region(villages);
        let mut world = World::new(&sc);
        // Warm into the run so the state is typical, not initial.
        for _ in 0..13 {
            world.step();
        }
        g.throughput(Throughput::Elements(world.registered()));
        g.bench_with_input(BenchmarkId::new("villagers", world.registered()), &(), |b, _| {
            // Each sample steps a fresh copy of the same month, so the state does not drift.
            b.iter_batched_ref(|| world.clone(), |w| w.step(), BatchSize::LargeInput);
        });
    }
    g.finish();
}

fn init(c: &mut Criterion) {
    let mut g = c.benchmark_group("init");
    g.sample_size(10);
    let sc = region(200);
    g.bench_function("200_villages", |b| b.iter(|| World::new(&sc)));
    g.finish();
}

criterion_group!(benches, step, init);
criterion_main!(benches);
