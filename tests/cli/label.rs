//! `genuq label` end to end: from `score` pools to the by-eye section of eval.json.

use super::{fails, genuq, models, scratch};

/// Labels by eye from end to end: two `score` pools (the weight samples at the last and the
/// first step), blind sheets with the recipe's inclusion probabilities, a labeller's marks
/// imported once (not twice), and `eval --labels` writing the by-eye section.
#[test]
fn labels_by_eye_from_pools_to_the_report() {
    let dir = scratch("label");
    let m = models();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    for perturb in ["last", "first"] {
        let out = path(&format!("{perturb}.jsonl"));
        let args = [
            "score",
            "--class",
            "all",
            "--seeds",
            "0..3",
            "--samples",
            "2",
            "--perturb",
            perturb,
            "--compute",
            "cpu",
            "--models",
            &m,
            "--out",
            &out,
        ];
        let (code, stderr) = genuq(&args);
        assert_eq!(code, 0, "{stderr}");
    }
    let (last, first, set) = (path("last.jsonl"), path("first.jsonl"), path("set"));
    let sheets = [
        "label",
        "sheets",
        "--set",
        "t",
        "--random",
        "2",
        "--top",
        "1",
        "--by",
        "u-last,darkness",
        "--per-sheet",
        "3",
        "--pool",
        &last,
        &first,
        "--out",
        &set,
    ];
    let (code, stderr) = genuq(&sheets);
    assert_eq!(code, 0, "{stderr}");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("set").join(name)).unwrap()).unwrap()
    };
    // the sheets carry no score: every cell is its number, seed and image, nothing else
    let cells = read("cells.json");
    for sheet in cells["sheets"].as_array().unwrap() {
        assert!(
            dir.join("set/sheets")
                .join(format!("{}.png", sheet["name"].as_str().unwrap()))
                .exists()
        );
        for cell in sheet["cells"].as_array().unwrap() {
            let keys: Vec<&String> = cell.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["cell", "image_png", "seed"], "{cell}");
        }
    }
    // a pool of 3 per class, 2 drawn at random: 2/3 for a generation in no top set, else 1
    let key = read("key.json");
    for item in key["items"].as_array().unwrap() {
        let top = item["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.get("top").is_some());
        let expected = if top { 1.0 } else { 2.0 / 3.0 };
        assert!(
            (item["inclusion"].as_f64().unwrap() - expected).abs() < 1e-12,
            "{item}"
        );
    }
    let name = cells["sheets"][0]["name"].as_str().unwrap().to_string();
    let marks = path("marks.json");
    let text = format!(
        r#"{{"labeller": "test", "pass": "first", "sheets": {{"{name}": {{"malformed": [1]}}}}}}"#
    );
    std::fs::write(&marks, text).unwrap();
    let (cells_json, labels) = (path("set/cells.json"), path("set/labels.jsonl"));
    let import = [
        "label",
        "import",
        "--cells",
        &cells_json,
        "--marks",
        &marks,
        "--out",
        &labels,
    ];
    let (code, stderr) = genuq(&import);
    assert_eq!(code, 0, "{stderr}");
    let n = cells["sheets"][0]["cells"].as_array().unwrap().len();
    assert_eq!(std::fs::read_to_string(&labels).unwrap().lines().count(), n);
    fails(&import, 1, "already has pass First");
    let report = path("report");
    std::fs::create_dir_all(&report).unwrap();
    let (code, stderr) = genuq(&["eval", "--labels", &set, "--out", &report]);
    assert_eq!(code, 0, "{stderr}");
    let eval: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report/eval.json")).unwrap())
            .unwrap();
    assert_eq!(eval["by_eye"]["t"]["labelled"], n);
}
