//! Checks on the source itself: imports point down the data flow, never up (the layers of
//! `crate/src/lib.rs`); the web files' copies of the crate's facts match their owners; the
//! defaults are what the evaluation picked; the Pages workflow deploys the tested build; the
//! npm package has the crate's version; every file docs/architecture.md names exists.
#![cfg(not(target_arch = "wasm32"))]

use std::path::{Path, PathBuf};

/// The modules of `crate/src` from the bottom of the flow to the top. A module may import from
/// modules on lower layers only; modules on one layer do not import each other.
const LAYERS: &[&[&str]] = &[
    &["rng", "manifest", "store", "gpu"],
    &["data"],
    &["model"],
    &["diffusion"],
    &["train"],
    &["posterior"],
    &["kernels"],
    &["uncertainty"],
    &["bench"],
    &["eval"],
    &["commands", "wasm"],
    &["bin"],
];

/// Items of the crate root (lib.rs) that any module may use.
const ROOT_ITEMS: &[&str] = &["Error"];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The crate-level modules named in `source` (`crate::NAME` in code, or `genuq::NAME` in the
/// binary), comments left out.
fn imports(source: &str, prefix: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if name.is_empty() {
                // `crate::{a, b}`
                let list: String = rest
                    .strip_prefix('{')
                    .map(|r| r.chars().take_while(|&c| c != '}').collect())
                    .unwrap_or_default();
                for item in list.split(',') {
                    let item = item.trim().split("::").next().unwrap_or("").trim();
                    if !item.is_empty() {
                        out.push((n + 1, item.to_string()));
                    }
                }
            } else {
                out.push((n + 1, name));
            }
        }
    }
    out
}

/// The layering violations of `source`, a file of module `module`.
fn violations(module: &str, source: &str) -> Vec<String> {
    let Some(own) = layer(module) else {
        return vec![format!("module `{module}` is on no layer of LAYERS")];
    };
    let prefix = if module == "bin" {
        "genuq::"
    } else {
        "crate::"
    };
    imports(source, prefix)
        .into_iter()
        .filter(|(_, name)| !ROOT_ITEMS.contains(&name.as_str()) && name != module)
        .filter_map(|(line, name)| match layer(&name) {
            Some(l) if l < own => None,
            Some(_) => Some(format!(
                "line {line}: `{module}` imports `{name}`, which is not below it"
            )),
            None => Some(format!("line {line}: `{name}` is on no layer of LAYERS")),
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn imports_point_down_the_flow() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut problems = Vec::new();
    for path in &files {
        let rel = path.strip_prefix(&root).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_str()
            .unwrap();
        let module = first.trim_end_matches(".rs");
        if module == "lib" {
            continue;
        }
        let source = std::fs::read_to_string(path).unwrap();
        for v in violations(module, &source) {
            problems.push(format!("{}: {v}", rel.display()));
        }
    }
    assert!(files.len() > 30, "found only {} files", files.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checker itself: an upward import, one within a layer and a list import are caught;
/// comments, the crate root's items and a module's own paths are not.
#[test]
fn the_checker_catches_upward_imports() {
    assert_eq!(violations("data", "use crate::kernels::rng;").len(), 1);
    assert_eq!(violations("rng", "use crate::gpu::Gpu;").len(), 1);
    assert_eq!(
        violations(
            "model",
            "use crate::{data::PIXELS, uncertainty::Generator};"
        )
        .len(),
        1
    );
    assert_eq!(
        violations("eval", "let x = crate::commands::run();").len(),
        1
    );
    assert!(violations("kernels", "// see crate::uncertainty\nuse crate::Error;").is_empty());
    assert!(violations("eval", "use crate::eval::metrics; use crate::data;").is_empty());
    assert!(violations("bin", "genuq::commands::main()").is_empty());
    assert_eq!(violations("nowhere", "").len(), 1);
}

/// The widget's copies of the crate's facts (it needs them before any wasm loads): the class
/// names, the grey range, and the pre-rendered posters' literal asset names, one pair per class
/// (in genuq-load.js, which the widget re-exports).
#[test]
fn the_widgets_copies_match_their_owners() {
    let load = std::fs::read_to_string(src().join("../../web/genuq-load.js")).unwrap();
    let strings = std::fs::read_to_string(src().join("../../web/genuq-strings.js")).unwrap();
    let classes = strings
        .split("const CLASSES = [")
        .nth(1)
        .and_then(|s| s.split("];").next())
        .expect("the widget's CLASSES");
    let classes: Vec<&str> = classes
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    assert_eq!(classes, genuq::data::CLASS_NAMES);
    let render = std::fs::read_to_string(src().join("../../web/genuq-render.js")).unwrap();
    let grey: f32 = render
        .split("const GREY_HALF = ")
        .nth(1)
        .and_then(|s| s.split(';').next())
        .expect("genuq-render.js's GREY_HALF")
        .parse()
        .unwrap();
    assert_eq!(grey, genuq::data::GREY_HALF);
    for name in genuq::data::CLASS_NAMES {
        for file in [format!("{name}.png"), format!("{name}-heatmap.png")] {
            let literal = format!("\"{file}\": new URL(\"./prerendered/{file}\", import.meta.url)");
            assert!(load.contains(&literal), "genuq-load.js lists {file}");
        }
    }
}

/// The sampler's steps come from the classifier-judged pick (`shipped`); the score and where
/// the weight samples act from the pick by eye (`by_eye.pick`, `genuq eval --labels`), which
/// overrules it where present, and the score from the detector by eye (`by_eye.detector`)
/// where it is one the product computes.
#[test]
fn defaults_are_what_the_evaluation_picked() {
    use genuq::uncertainty::{
        DEFAULT_PERTURB, DEFAULT_SAMPLES, DEFAULT_STEPS, SHIPPED_SCORE, ScoreName,
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/eval.json");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let shipped = &report["shipped"];
    let by_eye = &report["by_eye"]["pick"];
    assert_eq!(shipped["steps"], DEFAULT_STEPS, "the shipped steps");
    let (score, perturb) = match by_eye.is_object() {
        true => (by_eye["shipped"].clone(), &by_eye["perturb"]),
        false => (serde_json::json!(shipped["method"]), &shipped["perturb"]),
    };
    // the detector the labels picked among the candidates (`by_eye.detector`) is shipped
    // beside u where it is one the product computes
    let detector = &report["by_eye"]["detector"]["score"];
    let score = match detector.as_str().and_then(ScoreName::parse) {
        Some(_) => detector.clone(),
        None => score,
    };
    assert_eq!(score, SHIPPED_SCORE.name(), "the shipped score");
    if DEFAULT_STEPS > 1 {
        assert_eq!(perturb, DEFAULT_PERTURB.name(), "the shipped placement");
    }
    if let Some(m) = shipped["samples"].as_u64() {
        assert_eq!(m as usize, DEFAULT_SAMPLES, "the shipped M");
    }
}

/// The Pages workflow builds the site with the tested `./dev.sh build` (which `./dev.sh test`
/// runs before the end-to-end tests) and deploys what it writes, dist/.
#[test]
fn the_pages_workflow_deploys_the_tested_build() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows/pages.yml");
    let workflow = std::fs::read_to_string(path).unwrap();
    let runs: Vec<&str> = workflow
        .lines()
        .filter_map(|l| l.trim().strip_prefix("run: "))
        .collect();
    assert!(runs.contains(&"./dev.sh build"), "{runs:?}");
    assert!(
        runs.iter()
            .all(|r| r.starts_with("./dev.sh") || r.starts_with("rustup target add")),
        "every step is a script the tests exercise: {runs:?}"
    );
    assert!(workflow.contains("actions/upload-pages-artifact") && workflow.contains("path: dist"));
    assert!(workflow.contains("actions/deploy-pages"));
    let dev =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../dev.sh")).unwrap();
    let body = |function: &str| -> Vec<String> {
        let rest = dev.split(&format!("\n{function}() {{\n")).nth(1);
        let rest = rest.unwrap_or_else(|| panic!("dev.sh has a function {function}"));
        let lines = rest.split("\n}").next().unwrap().lines();
        lines.map(|l| l.trim().to_string()).collect()
    };
    assert_eq!(body("build"), ["build_start", "build_finish"]);
    let test = dev.split("\n  test)\n").nth(1).expect("a test command");
    let test = test.split(";;").next().unwrap();
    let (start, finish, e2e) = (
        test.find("stage build build_start"),
        test.find("build_finish &"),
        test.find("stage e2e test_e2e"),
    );
    assert!(
        start < finish && finish < e2e && start.is_some(),
        "./dev.sh test builds dist/ as `build` does before the e2e tests: {test}"
    );
    assert_eq!(
        body("test_e2e")[0],
        "wait \"$BUILD_FINISH\"",
        "the e2e tests wait for it"
    );
}

/// The npm package's version is the crate's.
#[test]
fn the_npm_package_has_the_crate_version() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/package.json");
    let pkg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(pkg["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(pkg["name"], "genuq");
}

/// Every file and folder docs/architecture.md names exists: under crate/src (the crate's
/// modules are named from there), or from the repository's root. A glob names its folder.
#[test]
fn the_architecture_page_names_files_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let page = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    let is_path = |w: &str| {
        let ext = [".rs", ".wgsl", ".js", ".json", ".md", ".html"];
        (w.contains('/') && !w.contains("//"))
            && (ext.iter().any(|e| w.ends_with(e)) || w.ends_with('/'))
    };
    let words: Vec<&str> = page
        .split(|c: char| c.is_whitespace() || "`(),;:".contains(c))
        .filter(|w| is_path(w))
        .collect();
    assert!(words.len() > 20, "the page names its files: {words:?}");
    let missing: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| {
            let path = w.split('*').next().unwrap();
            !(src().join(path).exists() || root.join(path).exists())
        })
        .collect();
    assert!(
        missing.is_empty(),
        "docs/architecture.md names what is not there: {missing:?}"
    );
}
