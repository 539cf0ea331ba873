//! Step 6 and 7b: what ships. The candidates of the pick (every score at M = 8 of each
//! candidate sampler, and the MAP image's `clip_margin`), the pick with its paired
//! comparisons, and the flag on the shipped score.

use serde_json::{Value, json};

use super::{Setup, TeacherRun};
use crate::eval::detect::detection;
use crate::eval::generations::{MAIN_M, Scored, Variant};
use crate::eval::methods::as_f64;
use crate::eval::paired::{Candidate, Paired, paired, pick};
use crate::eval::tables::{Poor, head, sampler_scores};
use crate::uncertainty::ScoreName;

/// Trunk passes per generation of a sampler's weight-sample scores (the browser's cost):
/// one trajectory until the first perturbed step, M + 1 from there on.
fn passes(v: &Variant) -> usize {
    use crate::uncertainty::Perturb;
    let s = v.max_samples + 1;
    match (v.steps, v.perturb) {
        (1, _) => 1,
        (steps, Perturb::All) => steps * s,
        (steps, Perturb::First) => 1 + (steps - 1) * s,
        (steps, Perturb::Last) => steps,
    }
}

/// A candidate of the pick and what shipping it means: its score's name and its sampler (for
/// `clip_margin`, the candidate sampler of its step count, whose u is shown beside it).
pub(super) struct Pickable {
    candidate: Candidate,
    method: String,
    variant: Variant,
}

impl Pickable {
    /// `{"method", "steps", "perturb", "samples"}`: what eval.json's "shipped" holds.
    fn shipped(&self) -> Value {
        json!({
            "method": self.method,
            "steps": self.variant.steps,
            "perturb": self.variant.perturb.name(),
            "samples": MAIN_M,
        })
    }
}

/// The candidates of the pick: every score at M = 8 of each candidate sampler, and the MAP
/// image's `clip_margin` (one trajectory: `steps` passes) of each (distinct) step count.
pub(super) fn pick_candidates(s: &Setup, full: &[(Variant, Vec<Scored>)]) -> Vec<Pickable> {
    let mut out = Vec::new();
    for (v, draws) in full {
        let poor = s.wrong(v.steps).to_vec();
        let fid = s.fid[&v.steps];
        for (method, perturb, m, d) in sampler_scores(v, draws, &[MAIN_M], s.n) {
            let p = perturb.map(|p| format!(" {p}")).unwrap_or_default();
            let m = m.map(|m| format!(" M={m}")).unwrap_or_default();
            let candidate = Candidate {
                name: format!("{method} {}-step{p}{m}", v.steps),
                cost: passes(v),
                fid,
                draws: d,
                poor: poor.clone(),
            };
            out.push(Pickable {
                candidate,
                method,
                variant: *v,
            });
        }
        let candidate = Candidate {
            name: format!("clip_margin {}-step", v.steps),
            cost: v.steps,
            fid,
            draws: vec![crate::eval::methods::one_minus(&draws[0].class.probability)],
            poor,
        };
        out.push(Pickable {
            candidate,
            method: "clip_margin".into(),
            variant: *v,
        });
    }
    out
}

/// Step 6: the pick ([`crate::eval::paired::RULE`]) and the paired comparisons the report
/// states: the shipped score, `class_bald` and the paper's best u against u on the one-step
/// path, and the teacher's u against the student's on the teacher's generations.
pub(super) fn selection(
    s: &Setup,
    pickables: &[Pickable],
    teacher: Option<&TeacherRun>,
    seed: u32,
) -> (Value, Value) {
    let classes = s.classes();
    let candidates: Vec<Candidate> = pickables.iter().map(|p| p.candidate.clone()).collect();
    let candidates = candidates.as_slice();
    let chosen = pick(candidates, classes, seed);
    // candidates by what they are (score and sampler), not by their names
    let of = |score: ScoreName| {
        pickables
            .iter()
            .filter(move |p| p.method == score.name())
            .map(|p| &p.candidate)
    };
    let u_one = pickables
        .iter()
        .find(|p| p.method == ScoreName::U.name() && p.variant.steps == 1)
        .map(|p| &p.candidate);
    let best_u = of(ScoreName::U)
        .max_by(|a, b| auroc_of(a, classes, seed).total_cmp(&auroc_of(b, classes, seed)));
    let shipped_candidate = candidates.iter().find(|c| c.name == chosen.shipped);
    let mut comparisons: Vec<Paired> = Vec::new();
    if let Some(base) = u_one {
        for other in [shipped_candidate, best_u].into_iter().flatten() {
            if other.name != base.name {
                comparisons.push(paired(base, other, classes, seed));
            }
        }
        for c in of(ScoreName::ClassBald) {
            comparisons.push(paired(base, c, classes, seed));
        }
        if let Some(t) = teacher {
            comparisons.push(teacher_against(base, t, s, seed));
        }
    }
    let shipped = pickables
        .iter()
        .find(|p| p.candidate.name == chosen.shipped)
        .map_or(Value::Null, Pickable::shipped);
    let json = json!({
        "rule": chosen.rule,
        "label": "wrong_class",
        "generations": s.n,
        "candidates": candidates.iter().map(|c| json!({"name": c.name, "cost_trunk_passes": c.cost, "fid": c.fid, "macro_auroc": auroc_of(c, classes, seed)})).collect::<Vec<_>>(),
        "default": chosen.default,
        "shipped": chosen.shipped,
        "against_default": chosen.against_default,
        "steps": chosen.steps,
        "comparisons": comparisons,
    });
    (json, shipped)
}

/// The macro AUROC of a candidate for its label.
fn auroc_of(c: &Candidate, classes: &[usize], seed: u32) -> f64 {
    detection(&c.draws, &c.poor, classes, seed).macro_auroc
}

/// The teacher's u (M = 8) against the student's one-step u on the teacher's generations.
fn teacher_against(base: &Candidate, t: &TeacherRun, s: &Setup, seed: u32) -> Paired {
    let n = t.judged.maps.classes.len();
    let cut = |c: &Candidate| Candidate {
        draws: c.draws.iter().map(|d| head(d, n)).collect(),
        poor: head(&c.poor, n),
        ..c.clone()
    };
    let teacher = Candidate {
        name: format!("u_teacher {}-step Heun M={MAIN_M}", t.steps),
        cost: 0,
        fid: f64::NAN,
        draws: vec![as_f64(&t.scored.u[&MAIN_M])],
        poor: t.judged.poor(Poor::WrongClass).to_vec(),
    };
    paired(&cut(base), &teacher, &s.classes()[..n], seed)
}

/// Step 7b: the flag: for the shipped score on all generations of its sampler, the precision
/// (share wrong-class) and recall of flagging the top 1, 2, 5, 10, 20% (across classes); the
/// flag is the largest share whose precision is at least 0.5, or none.
pub(super) fn flag(s: &Setup, pickables: &[Pickable], shipped: &str) -> Value {
    let Some(c) = pickables
        .iter()
        .map(|p| &p.candidate)
        .find(|c| c.name == shipped)
    else {
        return Value::Null;
    };
    let score = &c.draws[0];
    let mut sorted = score.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let positives = c.poor.iter().filter(|&&p| p).count().max(1);
    let points: Vec<Value> = [0.01, 0.02, 0.05, 0.10, 0.20]
        .iter()
        .map(|&share| {
            let k = ((s.n as f64 * share).round() as usize).clamp(1, s.n);
            let threshold = sorted[k - 1];
            let flagged: Vec<usize> = (0..s.n).filter(|&i| score[i] >= threshold).collect();
            let hits = flagged.iter().filter(|&&i| c.poor[i]).count();
            json!({
                "share": share,
                "threshold": threshold,
                "flagged": flagged.len(),
                "precision": hits as f64 / flagged.len().max(1) as f64,
                "recall": hits as f64 / positives as f64,
            })
        })
        .collect();
    let chosen = points
        .iter()
        .rev()
        .find(|p| p["precision"].as_f64().unwrap_or(0.0) >= 0.5)
        .cloned();
    json!({"score": shipped, "label": "wrong_class", "generations": s.n, "points": points, "flag": chosen})
}
