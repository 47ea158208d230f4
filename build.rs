//! Records the git commit and the resolved dependency versions for run manifests.
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    let commit = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=RURALGOV_GIT_COMMIT={commit}");
    let wanted = [
        "rand",
        "rand_chacha",
        "rand_distr",
        "rayon",
        "serde",
        "toml",
        "toml_edit",
        "clap",
        "thiserror",
        "anyhow",
        "csv",
        "serde_json",
        "indicatif",
    ];
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let mut deps = Vec::new();
    let mut name: Option<String> = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_string());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            if wanted.contains(&n.as_str()) {
                deps.push(format!("{n}={}", v.trim_matches('"')));
            }
        }
    }
    println!("cargo:rustc-env=RURALGOV_DEPS={}", deps.join(","));
}
