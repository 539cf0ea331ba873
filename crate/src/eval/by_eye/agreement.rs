//! Two independent passes of labels by eye: how well they agree (Cohen's kappa on the
//! generations both labelled) and the label each generation ends with (a third look wins,
//! else the first pass).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::eval::labels::{Label, LabelLine, Pass, Target};

/// How two independent passes agree on the generations both labelled.
#[derive(Debug, Clone, Serialize)]
pub struct Agreement {
    pub labellers: Vec<String>,
    /// Generations with a first and a second pass.
    pub both: usize,
    pub kappa_malformed: f64,
    pub kappa_bad: f64,
    pub kappa_other: f64,
    /// Over the four labels.
    pub kappa_labels: f64,
    pub disagreements: usize,
    /// Disagreements a third look resolved; the rest keep the first pass's label.
    pub resolved: usize,
    /// Each pass's count of each label on the generations both labelled.
    pub counts: BTreeMap<String, BTreeMap<Label, usize>>,
}

/// Cohen's kappa of two raters' categories (`0..k`) on the same items: observed agreement
/// against the agreement their marginals give by chance. NaN when chance agreement is 1.
pub fn cohen_kappa(a: &[usize], b: &[usize], k: usize) -> f64 {
    let n = a.len() as f64;
    let observed = a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / n;
    let share = |r: &[usize], c: usize| r.iter().filter(|&&x| x == c).count() as f64 / n;
    let chance: f64 = (0..k).map(|c| share(a, c) * share(b, c)).sum();
    (observed - chance) / (1.0 - chance)
}

/// A generation of a set: its requested class and seed (a third look's sheets number it
/// anew, so it is not its sheet and cell).
pub type Generated = (String, u32);

/// The labels of a set resolved per generation: a third look wins, else the first pass's
/// (which the second agrees with, or which stands unresolved); and the agreement.
pub fn resolve(lines: &[LabelLine]) -> (BTreeMap<Generated, Label>, Agreement) {
    let mut by: BTreeMap<Generated, BTreeMap<Pass, &LabelLine>> = BTreeMap::new();
    for l in lines {
        by.entry((l.class.clone(), l.seed))
            .or_default()
            .insert(l.pass, l);
    }
    let mut names: Vec<String> = lines
        .iter()
        .map(|l| format!("{} ({:?})", l.labeller, l.pass).to_lowercase())
        .collect();
    names.sort();
    names.dedup();
    let (mut a, mut b, mut resolved, mut counts) = (Vec::new(), Vec::new(), 0, BTreeMap::new());
    let mut out = BTreeMap::new();
    for (at, passes) in &by {
        let first = passes
            .get(&Pass::First)
            .or(passes.get(&Pass::Second))
            .copied();
        let third = passes.get(&Pass::Third).map(|l| l.label);
        if let (Some(f), Some(s)) = (passes.get(&Pass::First), passes.get(&Pass::Second)) {
            a.push(f.label);
            b.push(s.label);
            for l in [f, s] {
                let counts: &mut BTreeMap<Label, usize> =
                    counts.entry(l.labeller.clone()).or_default();
                *counts.entry(l.label).or_default() += 1;
            }
            resolved += usize::from(f.label != s.label && third.is_some());
        }
        if let Some(label) = third.or(first.map(|l| l.label)) {
            out.insert(at.clone(), label);
        }
    }
    let kappa = |t: Target| {
        let code = |v: &[Label]| {
            v.iter()
                .map(|&l| usize::from(t.holds(l)))
                .collect::<Vec<_>>()
        };
        cohen_kappa(&code(&a), &code(&b), 2)
    };
    let code = |v: &[Label]| {
        v.iter()
            .map(|l| Label::ALL.iter().position(|x| x == l).unwrap_or(0))
            .collect::<Vec<_>>()
    };
    let agreement = Agreement {
        labellers: names,
        both: a.len(),
        kappa_malformed: kappa(Target::Malformed),
        kappa_bad: kappa(Target::Bad),
        kappa_other: kappa(Target::Other),
        kappa_labels: cohen_kappa(&code(&a), &code(&b), Label::ALL.len()),
        disagreements: a.iter().zip(&b).filter(|(x, y)| x != y).count(),
        resolved,
        counts,
    };
    (out, agreement)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cohen (1960)'s worked example as usually quoted: 50 items, both yes 20, both no 15,
    /// yes/no 5, no/yes 10: p_o = 0.7, p_e = 0.5 -> kappa 0.4.
    #[test]
    fn kappa_of_the_textbook_table() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        for (x, y, n) in [(1, 1, 20), (0, 0, 15), (1, 0, 5), (0, 1, 10)] {
            a.extend(std::iter::repeat_n(x, n));
            b.extend(std::iter::repeat_n(y, n));
        }
        assert!((cohen_kappa(&a, &b, 2) - 0.4).abs() < 1e-12);
        assert!((cohen_kappa(&a, &a, 2) - 1.0).abs() < 1e-12);
    }

    fn line(cell: usize, label: Label, pass: Pass) -> LabelLine {
        LabelLine {
            set: "t".into(),
            sheet: "t-bag-1".into(),
            cell,
            class: "bag".into(),
            seed: cell as u32,
            steps: 2,
            perturb: crate::uncertainty::Perturb::Last,
            label,
            looks_like: None,
            labeller: format!("{pass:?}"),
            pass,
        }
    }

    #[test]
    fn a_third_look_resolves_and_agreement_counts() {
        use Label::*;
        let lines = vec![
            line(1, Fine, Pass::First),
            line(1, Fine, Pass::Second),
            line(2, Malformed, Pass::First),
            line(2, Fine, Pass::Second),
            line(2, Fine, Pass::Third),
            line(3, Other, Pass::First),
            line(3, Malformed, Pass::Second),
            line(4, Malformed, Pass::First),
        ];
        let (labels, agreement) = resolve(&lines);
        let at = |c: usize| labels[&("bag".to_string(), c as u32)];
        assert_eq!((at(1), at(2), at(3), at(4)), (Fine, Fine, Other, Malformed));
        assert_eq!(
            (agreement.both, agreement.disagreements, agreement.resolved),
            (3, 2, 1)
        );
        // bad vs fine on the three both labelled: (0,0), (1,0), (1,1): p_o 2/3, p_e 2/3*1/3 + 1/3*2/3
        let pe = 4.0 / 9.0;
        assert!((agreement.kappa_bad - (2.0 / 3.0 - pe) / (1.0 - pe)).abs() < 1e-12);
    }
}
