//! The code's structure as `docs/ARCHITECTURE.md` describes it: no import cycles between the
//! modules of a layer, every source file and every command in the map, every output file
//! documented.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use crate::util::{root, ruralgov};

/// Sibling modules each file of `src/<layer>/` refers to (`super::x`, `crate::<layer>::x`),
/// ignoring `#[cfg(test)]` modules.
fn sibling_refs(layer: &str) -> BTreeMap<String, BTreeSet<String>> {
    let dir = root().join("src").join(layer);
    let mut names = BTreeSet::new();
    for e in fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "rs") {
            names.insert(p.file_stem().unwrap().to_string_lossy().into_owned());
        }
    }
    names.remove("mod");
    let mut graph = BTreeMap::new();
    for n in &names {
        let text = fs::read_to_string(dir.join(format!("{n}.rs"))).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let mut refs = BTreeSet::new();
        for m in &names {
            if m != n
                && (code.contains(&format!("super::{m}"))
                    || code.contains(&format!("crate::{layer}::{m}"))
                    || code.contains(&format!("super::{{{m}")))
            {
                refs.insert(m.clone());
            }
        }
        // `use super::{a, b}` lists.
        for line in code.lines().filter(|l| l.trim_start().starts_with("use super::{")) {
            for m in &names {
                if m != n && line.split(|c: char| !c.is_alphanumeric() && c != '_').any(|w| w == m) {
                    refs.insert(m.clone());
                }
            }
        }
        graph.insert(n.clone(), refs);
    }
    graph
}

/// A cycle in `graph`, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            let mut c = stack[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        if let Some(c) = visit(n, graph, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn no_import_cycles_between_sibling_modules() {
    for layer in ["experiment", "report", "model", "model/process", "scenario"] {
        let g = sibling_refs(layer);
        if let Some(c) = find_cycle(&g) {
            panic!("src/{layer}: modules import one another in a cycle: {}", c.join(" -> "));
        }
    }
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["c".to_string()]));
    g.insert("c".to_string(), BTreeSet::from(["a".to_string()]));
    assert!(find_cycle(&g).is_some());
    g.insert("c".to_string(), BTreeSet::new());
    assert!(find_cycle(&g).is_none());
}

fn architecture() -> String {
    fs::read_to_string(root().join("docs").join("ARCHITECTURE.md")).unwrap()
}

#[test]
fn architecture_map_names_every_source_file() {
    let doc = architecture();
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, base, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p.strip_prefix(base).unwrap().display().to_string());
            }
        }
    }
    let mut files = Vec::new();
    walk(&root().join("src"), &root(), &mut files);
    let missing: Vec<&String> = files
        .iter()
        .filter(|f| {
            let name = Path::new(f.as_str())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            !doc.contains(f.as_str()) && !doc.contains(&format!(" {name} "))
        })
        .collect();
    assert!(missing.is_empty(), "docs/ARCHITECTURE.md does not name: {missing:?}");
}

#[test]
fn architecture_lists_every_command() {
    let doc = architecture();
    let help = ruralgov(&["--help"]).stdout;
    let commands: Vec<&str> = help
        .split("Commands:")
        .nth(1)
        .unwrap_or("")
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .take_while(|w| *w != "Options:")
        .filter(|w| *w != "help")
        .collect();
    assert!(commands.len() >= 11, "{commands:?}");
    for c in commands {
        assert!(
            doc.contains(&format!("`ruralgov {c}")),
            "docs/ARCHITECTURE.md does not describe `ruralgov {c}`"
        );
    }
}

#[test]
fn every_output_file_is_documented() {
    let metrics = fs::read_to_string(root().join("docs").join("metrics.md")).unwrap();
    let experiments = fs::read_to_string(root().join("docs").join("experiments.md")).unwrap();
    let arch = architecture();
    for f in ruralgov::output::FILES {
        assert!(metrics.contains(f), "docs/metrics.md does not document {f}");
        assert!(arch.contains(f), "docs/ARCHITECTURE.md does not name {f}");
    }
    for f in ruralgov::experiment::folder::OUTPUTS {
        assert!(
            experiments.contains(&format!("`{f}`")),
            "docs/experiments.md does not document {f}"
        );
        assert!(arch.contains(f), "docs/ARCHITECTURE.md does not name {f}");
    }
}

#[test]
fn parameters_md_matches_the_declarations() {
    let text = ruralgov::scenario::params::markdown(&ruralgov::scenario::Scenario::params());
    let path = root().join("docs").join("parameters.md");
    if std::env::var_os("RURALGOV_UPDATE_DOCS").is_some() {
        fs::write(&path, &text).unwrap();
    }
    let doc = fs::read_to_string(&path).unwrap_or_default();
    assert!(
        doc == text,
        "docs/parameters.md is out of date with the declarations in src/scenario/mod.rs; regenerate it with RURALGOV_UPDATE_DOCS=1 cargo test --test tests parameters"
    );
}

#[test]
fn every_parameter_has_a_documented_reason() {
    let params = ruralgov::scenario::Scenario::params();
    // Every key that the loader accepts is declared (the schema comes from the same structs).
    assert!(params.len() > 100, "{} parameters", params.len());
    let missing: Vec<&str> = params
        .iter()
        .filter(|p| p.source.trim().is_empty() || p.doc.trim().is_empty())
        .map(|p| p.key.as_str())
        .collect();
    assert!(missing.is_empty(), "parameters without a doc or a reason: {missing:?}");
}

/// The prior ranges of the guessed parameters, as `docs/ODD.md` shows them: generated from
/// `scenarios/experiments/morris_all.toml` (one declaration: the experiment that varies them).
fn priors_table() -> String {
    let loaded = ruralgov::experiment::spec::load(&root().join("scenarios/experiments/morris_all.toml")).unwrap();
    let params = ruralgov::scenario::Scenario::params();
    let mut t = String::from(
        "<!-- priors:begin (generated from scenarios/experiments/morris_all.toml; RURALGOV_UPDATE_DOCS=1 cargo test --test tests priors rewrites it) -->\n\
         | Key | Default | Prior range | Reason |\n|---|---|---|---|\n",
    );
    for f in &loaded.experiment.factor {
        let default = params
            .iter()
            .find(|p| p.key == f.key)
            .map(|p| p.default.clone())
            .unwrap_or_default();
        t.push_str(&format!(
            "| `{}` | `{}` | [{}, {}] | {} |\n",
            f.key,
            default,
            f.range[0],
            f.range[1],
            f.reason.replace('|', "/")
        ));
    }
    t.push_str("<!-- priors:end -->");
    t
}

#[test]
fn priors_of_every_guessed_parameter_are_in_the_odd() {
    let loaded = ruralgov::experiment::spec::load(&root().join("scenarios/experiments/morris_all.toml")).unwrap();
    let varied: std::collections::BTreeSet<String> = loaded.experiment.factor.iter().map(|f| f.key.clone()).collect();
    // Every scalar setting whose default is a guess has a prior range with a reason, which
    // contains the default.
    for p in ruralgov::scenario::Scenario::params() {
        let guess = p.source.to_lowercase().contains("guess");
        let scalar = !p.is_schedule() && p.default.parse::<f64>().is_ok();
        let set_by_arms = p.key.starts_with("paths.") && p.key.ends_with(".intensity");
        let fixed = ["region.villages", "population.adults_per_village"].contains(&p.key.as_str())
            || p.key.starts_with("output.")
            || p.key.starts_with("run.");
        if guess && scalar && !set_by_arms && !fixed {
            assert!(
                varied.contains(&p.key),
                "{} is a guess without a prior range in morris_all.toml",
                p.key
            );
        }
    }
    for f in &loaded.experiment.factor {
        assert!(
            !f.reason.trim().is_empty(),
            "{} has no reason for its prior range",
            f.key
        );
        let default: f64 = ruralgov::scenario::Scenario::params()
            .iter()
            .find(|p| p.key == f.key)
            .and_then(|p| p.default.parse().ok())
            .unwrap_or(f64::NAN);
        assert!(
            f.range[0] <= default && default <= f.range[1],
            "{}: the prior range {:?} does not contain the default {default}",
            f.key,
            f.range
        );
    }
    let table = priors_table();
    let path = root().join("docs").join("ODD.md");
    let doc = fs::read_to_string(&path).unwrap();
    let (Some(a), Some(b)) = (doc.find("<!-- priors:begin"), doc.find("<!-- priors:end -->")) else {
        panic!("docs/ODD.md has no priors table (<!-- priors:begin --> ... <!-- priors:end -->)");
    };
    let current = &doc[a..b + "<!-- priors:end -->".len()];
    if std::env::var_os("RURALGOV_UPDATE_DOCS").is_some() && current != table {
        fs::write(&path, doc.replace(current, &table)).unwrap();
        return;
    }
    assert!(
        current == table,
        "docs/ODD.md's prior ranges are out of date with scenarios/experiments/morris_all.toml; regenerate with RURALGOV_UPDATE_DOCS=1 cargo test --test tests priors"
    );
}

/// Experiments that carry guessed parameters' uncertainty use the priors of
/// `scenarios/experiments/morris_all.toml` unchanged (one declaration of a prior range).
#[test]
fn experiments_over_guessed_parameters_use_the_declared_priors() {
    let load = |name: &str| {
        ruralgov::experiment::spec::load(&root().join("scenarios/experiments").join(name))
            .unwrap()
            .experiment
    };
    let priors = load("morris_all.toml");
    for name in ["sobol_paths.toml", "paths_uncertain.toml"] {
        let e = load(name);
        assert!(!e.factor.is_empty(), "{name} varies nothing");
        for f in &e.factor {
            let prior = priors
                .factor
                .iter()
                .find(|p| p.key == f.key)
                .unwrap_or_else(|| panic!("{name}: {} has no prior range in morris_all.toml", f.key));
            assert_eq!(
                (&f.range, &f.reason),
                (&prior.range, &prior.reason),
                "{name}: the prior of {} differs from morris_all.toml's",
                f.key
            );
        }
    }
}
