//! The workspace's shape as tests: steps share code through `shared/` and never through another
//! step's crate — only the hosts (`functions/local`, `functions/jobs`, later `functions/portal`)
//! depend on step crates, and no shared crate depends on anything under `functions/` — and no
//! crate's modules import each other in a circle.

#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on what it does not expect"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The host crates (by directory under `functions/`), which put steps together.
const HOSTS: [&str; 3] = ["local", "jobs", "portal"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A workspace crate: its package name, its directory, and the `swi-*` crates it depends on
/// (normal dependencies only; tests may use what they like).
struct Crate {
    name: String,
    dir: PathBuf,
    deps: BTreeSet<String>,
}

fn crates() -> Vec<Crate> {
    let mut out = Vec::new();
    for group in ["shared", "functions"] {
        for entry in std::fs::read_dir(root().join(group)).unwrap() {
            let dir = entry.unwrap().path();
            let manifest = dir.join("Cargo.toml");
            if !manifest.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&manifest).unwrap();
            out.push(Crate {
                name: package_name(&text),
                deps: swi_dependencies(&text),
                dir,
            });
        }
    }
    out
}

fn package_name(manifest: &str) -> String {
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("name = \""))
        .and_then(|r| r.strip_suffix('"'))
        .unwrap()
        .to_owned()
}

/// The `swi-*` names under `[dependencies]`.
fn swi_dependencies(manifest: &str) -> BTreeSet<String> {
    let mut in_deps = false;
    let mut out = BTreeSet::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && line.starts_with("swi-") {
            let name: String = line
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            out.insert(name.trim_end_matches(".workspace").to_owned());
        }
    }
    out
}

fn is_under(c: &Crate, group: &str) -> bool {
    c.dir
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|g| g == group)
}

fn is_host(c: &Crate) -> bool {
    is_under(c, "functions")
        && c.dir
            .file_name()
            .is_some_and(|n| HOSTS.contains(&n.to_string_lossy().as_ref()))
}

/// Breaches of the dependency rules, each a sentence.
fn dependency_breaches(all: &[Crate]) -> Vec<String> {
    let steps: BTreeSet<&str> = all
        .iter()
        .filter(|c| is_under(c, "functions") && !is_host(c))
        .map(|c| c.name.as_str())
        .collect();
    let functions: BTreeSet<&str> = all
        .iter()
        .filter(|c| is_under(c, "functions"))
        .map(|c| c.name.as_str())
        .collect();
    let mut out = Vec::new();
    for c in all {
        for d in &c.deps {
            if is_under(c, "shared") && functions.contains(d.as_str()) {
                out.push(format!("shared crate {} depends on {d}", c.name));
            }
            if !is_host(c) && steps.contains(d.as_str()) {
                out.push(format!(
                    "{} depends on the step {d} (only hosts may)",
                    c.name
                ));
            }
        }
    }
    out
}

#[test]
fn only_hosts_depend_on_steps_and_shared_crates_on_no_function() {
    let all = crates();
    assert!(all.iter().any(|c| c.name == "swi-enrollment"));
    let breaches = dependency_breaches(&all);
    assert!(breaches.is_empty(), "{breaches:#?}");
    // What depends on the enrollment step: the hosts, and nothing else.
    let dependants: Vec<&str> = all
        .iter()
        .filter(|c| c.deps.contains("swi-enrollment"))
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        dependants,
        ["swi-jobs", "swi", "swi-portal"],
        "{dependants:?}"
    );
}

/// The top-level modules of a crate's `src/`, and which others each names as `crate::<module>`
/// or `super::<module>` from its top level.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = Vec::new();
    collect(src, &mut files);
    let top = |path: &Path| -> Option<String> {
        let rel = path.strip_prefix(src).ok()?;
        let first = rel
            .components()
            .next()?
            .as_os_str()
            .to_string_lossy()
            .into_owned();
        let name = first.trim_end_matches(".rs").to_owned();
        (name != "lib" && name != "main" && name != "bin").then_some(name)
    };
    for f in &files {
        let Some(module) = top(f) else { continue };
        let entry = graph.entry(module.clone()).or_default();
        let text = std::fs::read_to_string(f).unwrap();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let mut rest = line;
            while let Some(i) = rest.find("crate::") {
                rest = &rest[i + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    entry.insert(name);
                }
            }
        }
    }
    let known: BTreeSet<String> = graph.keys().cloned().collect();
    for targets in graph.values_mut() {
        targets.retain(|t| known.contains(t));
    }
    graph
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A cycle in `graph`, if there is one, as the modules along it.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut c = path[i..].to_vec();
            c.push(n.to_owned());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_owned());
        for next in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_imports_its_own_modules_in_a_circle() {
    let mut circles = Vec::new();
    for c in crates() {
        let src = c.dir.join("src");
        if let Some(found) = cycle(&module_graph(&src)) {
            circles.push(format!("{}: {}", c.name, found.join(" → ")));
        }
    }
    assert!(circles.is_empty(), "{circles:#?}");
}

#[test]
fn the_structure_checks_can_fail() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("units", vec!["jobs"]),
        ("jobs", vec!["declarations"]),
        ("declarations", vec!["units"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert!(cycle(&graph).is_some());
    let fake = |name: &str, group: &str, deps: &[&str]| Crate {
        name: name.to_owned(),
        dir: root().join(group).join(name.trim_start_matches("swi-")),
        deps: deps.iter().map(|d| (*d).to_owned()).collect(),
    };
    let breaches = dependency_breaches(&[
        fake("swi-enrollment", "functions", &[]),
        fake("swi-claims", "functions", &["swi-enrollment"]),
        fake("swi-registry", "shared", &["swi-jobs"]),
        fake("swi-jobs", "functions", &["swi-enrollment"]),
    ]);
    assert_eq!(breaches.len(), 2, "{breaches:#?}");
}
