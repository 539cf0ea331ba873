//! The by-eye sections of `eval.json` (`{"by_eye": {SET: ByEye}}`): read, written from the
//! labelled sets, and printed.

use super::pick::{DETECTOR_RULE, PICK_RULE, detector, pick};
use super::{ByEye, Estimate, by_eye};
use crate::eval::labels::{Key, LabelLine, Target};
use crate::eval::pool::EyeScore;

/// The key of the by-eye sections in `eval.json`: `{"by_eye": {SET: ByEye}}`.
pub const SECTION: &str = "by_eye";

/// The by-eye section of an `eval.json`, if it has one.
pub fn read_section(path: &std::path::Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get_mut(SECTION).map(serde_json::Value::take)
}

/// Reads a set's `key.json` and `labels.jsonl` from `dir`.
pub fn read_set(dir: &std::path::Path) -> anyhow::Result<(Key, Vec<LabelLine>)> {
    use anyhow::Context;
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let key: Key = serde_json::from_str(&read("key.json")?).context("key.json")?;
    let lines = read("labels.jsonl")?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(n, l)| {
            serde_json::from_str(l).with_context(|| format!("labels.jsonl line {}", n + 1))
        })
        .collect::<anyhow::Result<Vec<LabelLine>>>()?;
    Ok((key, lines))
}

/// `genuq eval --labels DIR...`: each set's by-eye section into `out/eval.json` (the other
/// sections kept), and its table on stdout; `judge_errors` (the class-space scores against
/// the judge's errors on real images) beside them where given (else the file's is kept).
pub fn write_sections(
    dirs: &[std::path::PathBuf],
    out: &std::path::Path,
    seed: u32,
    judge_errors: Option<serde_json::Value>,
) -> anyhow::Result<()> {
    let path = out.join("eval.json");
    let mut report: serde_json::Value = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)?,
        Err(_) => serde_json::json!({}),
    };
    let mut sections = read_section(&path).unwrap_or_else(|| serde_json::json!({}));
    for dir in dirs {
        let (key, lines) = read_set(dir)?;
        let section = by_eye(&key, &lines, seed);
        print_section(&section);
        if section.set == "dev" {
            let pick = pick(&section);
            println!("the pick ({PICK_RULE}): {pick:?}");
            let next = pick.as_ref().and_then(|p| detector(&section, p.perturb));
            println!("the detector ({DETECTOR_RULE}): {next:?}");
            sections["pick"] = serde_json::to_value(&pick)?;
            sections["detector"] = serde_json::to_value(&next)?;
        }
        sections[section.set.clone()] = serde_json::to_value(&section)?;
    }
    if let Some(j) = judge_errors {
        sections["judge_errors"] = j;
    }
    report[SECTION] = sections;
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("wrote {}", path.display());
    Ok(())
}

fn print_section(s: &ByEye) {
    let a = &s.agreement;
    println!(
        "\n{}: {} labelled of a pool of {}; counts {:?}; pool shares {}",
        s.set,
        s.labelled,
        s.pool,
        s.counts,
        s.share
            .iter()
            .map(|(l, v)| format!("{l:?} {:.3}", v))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "agreement on {} ({}): kappa malformed {:.2}, bad {:.2}, other {:.2}, labels {:.2}; {} disagreements, {} resolved",
        a.both,
        a.labellers.join(" / "),
        a.kappa_malformed,
        a.kappa_bad,
        a.kappa_other,
        a.kappa_labels,
        a.disagreements,
        a.resolved
    );
    println!(
        "{:<22} {:>22} {:>22} {:>22} {:>22} {:>22} {:>18}",
        "score", "malformed", "- darkness", "- u_last", "other", "bad", "top 5%: malformed"
    );
    let e = |x: &Estimate| format!("{:.3} [{:.3}, {:.3}]", x.value, x.ci[0], x.ci[1]);
    for r in &s.rows {
        let t = |t: Target| &r.targets[&t];
        let m = t(Target::Malformed);
        println!(
            "{:<22} {:>22} {:>22} {:>22} {:>22} {:>22} {:>18}",
            r.score.name(),
            e(&m.macro_auroc),
            e(&m.minus[&EyeScore::Darkness]),
            e(&m.minus[&EyeScore::ULast]),
            e(&t(Target::Other).macro_auroc),
            e(&t(Target::Bad).macro_auroc),
            format!("{} (r {:.2})", e(&m.flag_precision), m.flag_recall),
        );
    }
}
