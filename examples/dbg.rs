use ruralgov::model::World;
use ruralgov::scenario::Scenario;
fn main() {
    let sc = Scenario::load(std::path::Path::new("scenarios/baseline.toml"), &["region.villages=20".into()]).unwrap().value;
    let mut w = World::new(&sc);
    for s in 1..=360 {
        w.step();
        if s % 60 == 0 {
            let a = &w.agents;
            let mut ages = [0u32; 10];
            let mut fem = 0;
            for i in 0..a.len() { if a.residence[i] != 0 { ages[(a.age[i] as usize/120).min(9)] += 1; if a.flags[i] & 1 != 0 && (20*12..40*12).contains(&a.age[i]) { fem += 1; } } }
            let kids: u32 = w.villages.iter().map(|v| v.children.iter().map(|&c| c as u32).sum::<u32>()).sum();
            let young_kids: u32 = w.villages.iter().map(|v| v.children[..12].iter().map(|&c| c as u32).sum::<u32>()).sum();
            println!("step {s} ages by decade {:?} fertile women {fem} kids {kids} kids<1 {young_kids}", ages);
        }
    }
}
