//! What a labeller writes (`marks.json`: per sheet the cells that are not fine) into label
//! lines, and the disputed cells a third pass looks at.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::sheets::{Cell, Cells, Sheet};
use super::{Label, LabelLine, Pass, draw_without_replacement};
use crate::data::CLASS_NAMES;

/// What a labeller writes for a pass over sheets (`marks.json`): per sheet the cells that
/// are not fine; every other cell of a listed sheet is fine, a sheet not listed is not
/// labelled in this pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Marks {
    pub labeller: String,
    pub pass: Pass,
    pub sheets: BTreeMap<String, SheetMarks>,
}

/// The cells of one sheet that are not fine.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetMarks {
    #[serde(default)]
    pub malformed: Vec<usize>,
    /// Cell -> the garment a person would name first.
    #[serde(default)]
    pub other: BTreeMap<usize, String>,
    /// Cell -> the other garment it is between.
    #[serde(default)]
    pub ambiguous: BTreeMap<usize, String>,
}

/// The label lines of a pass: every cell of every sheet the marks list; an error names a
/// sheet or cell that is not in `cells`, a cell marked twice, or a garment that is no class.
pub fn label_lines(cells: &Cells, marks: &Marks) -> Result<Vec<LabelLine>, String> {
    let mut out = Vec::new();
    for (name, m) in &marks.sheets {
        let sheet = cells
            .sheets
            .iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| format!("no sheet {name:?} in this set"))?;
        let mut label: BTreeMap<usize, (Label, Option<String>)> = BTreeMap::new();
        let marked = m.malformed.iter().map(|&c| (c, Label::Malformed, None));
        let other = m.other.iter().map(|(&c, g)| (c, Label::Other, Some(g)));
        let ambiguous = m
            .ambiguous
            .iter()
            .map(|(&c, g)| (c, Label::Ambiguous, Some(g)));
        for (cell, l, garment) in marked.chain(other).chain(ambiguous) {
            if !sheet.cells.iter().any(|c| c.cell == cell) {
                return Err(format!("{name}: no cell {cell}"));
            }
            let garment = match garment {
                Some(g) => Some(
                    crate::data::class_index(g)
                        .map(|c| CLASS_NAMES[c].to_string())
                        .ok_or_else(|| {
                            format!(
                                "{name} cell {cell}: {g:?} is not a garment ({})",
                                CLASS_NAMES.join(", ")
                            )
                        })?,
                ),
                None => None,
            };
            if label.insert(cell, (l, garment)).is_some() {
                return Err(format!("{name}: cell {cell} is marked twice"));
            }
        }
        for c in &sheet.cells {
            let (l, looks_like) = label.remove(&c.cell).unwrap_or((Label::Fine, None));
            out.push(LabelLine {
                set: cells.set.clone(),
                sheet: name.clone(),
                cell: c.cell,
                class: sheet.class.clone(),
                seed: c.seed,
                steps: cells.steps,
                perturb: cells.perturb,
                label: l,
                looks_like,
                labeller: marks.labeller.clone(),
                pass: marks.pass,
            });
        }
    }
    Ok(out)
}

/// The sheets of a third look: the generations of `cells` whose first and second passes in
/// `lines` disagree, per class in a random order (stream `LabelSample(200 + class)`), numbered
/// anew on sheets named `<set>-third-<class>-<page>`; no label of either pass on them.
pub fn disputed(cells: &Cells, lines: &[LabelLine], seed: u32, per_sheet: usize) -> Cells {
    let label_of = |class: &str, s: u32, pass: Pass| {
        lines
            .iter()
            .find(|l| l.class == class && l.seed == s && l.pass == pass)
            .map(|l| l.label)
    };
    let mut sheets = Vec::new();
    for (class, name) in CLASS_NAMES.iter().enumerate() {
        let mine: Vec<&Cell> = cells
            .sheets
            .iter()
            .filter(|s| s.class == *name)
            .flat_map(|s| &s.cells)
            .filter(|c| {
                match (
                    label_of(name, c.seed, Pass::First),
                    label_of(name, c.seed, Pass::Second),
                ) {
                    (Some(a), Some(b)) => a != b,
                    _ => false,
                }
            })
            .collect();
        let order = draw_without_replacement(mine.len(), mine.len(), seed, 200 + class as u32);
        for (page, chunk) in order.chunks(per_sheet.max(1)).enumerate() {
            let numbered = chunk
                .iter()
                .enumerate()
                .map(|(n, &k)| Cell {
                    cell: n + 1,
                    ..mine[k].clone()
                })
                .collect();
            let sheet = format!("{}-third-{name}-{}", cells.set, page + 1);
            sheets.push(Sheet {
                name: sheet,
                class: name.to_string(),
                cells: numbered,
            });
        }
    }
    Cells {
        sheets,
        ..cells.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uncertainty::Perturb;

    /// The marks file as label.html writes it (tests/e2e/label.test.mjs checks the page's side)
    /// becomes one line per cell of each listed sheet; a wrong cell or garment is refused.
    #[test]
    fn marks_become_label_lines() {
        let cell = |cell, seed| Cell {
            cell,
            seed,
            image_png: String::new(),
        };
        let cells = Cells {
            set: "e2e".into(),
            steps: 2,
            perturb: Perturb::Last,
            sheets: vec![
                Sheet {
                    name: "e2e-sandal-1".into(),
                    class: "sandal".into(),
                    cells: (1..=4).map(|c| cell(c, 10 + c as u32)).collect(),
                },
                Sheet {
                    name: "e2e-shirt-1".into(),
                    class: "shirt".into(),
                    cells: vec![cell(1, 21), cell(2, 22)],
                },
            ],
        };
        let marks: Marks = serde_json::from_str(
            r#"{"labeller": "e2e", "pass": "second", "sheets": {
                "e2e-sandal-1": {"malformed": [2], "other": {"3": "sneaker"}, "ambiguous": {}}}}"#,
        )
        .unwrap();
        let lines = label_lines(&cells, &marks).unwrap();
        let got: Vec<(usize, u32, Label, Option<&str>)> = lines
            .iter()
            .map(|l| (l.cell, l.seed, l.label, l.looks_like.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 11, Label::Fine, None),
                (2, 12, Label::Malformed, None),
                (3, 13, Label::Other, Some("sneaker")),
                (4, 14, Label::Fine, None),
            ]
        );
        assert!(
            lines
                .iter()
                .all(|l| l.class == "sandal" && l.pass == Pass::Second && l.labeller == "e2e")
        );
        let bad =
            |json: &str| label_lines(&cells, &serde_json::from_str(json).unwrap()).unwrap_err();
        assert!(bad(r#"{"labeller": "x", "pass": "first", "sheets": {"e2e-sandal-1": {"malformed": [9]}}}"#).contains("no cell 9"));
        assert!(bad(r#"{"labeller": "x", "pass": "first", "sheets": {"e2e-sandal-1": {"other": {"1": "cat"}}}}"#).contains("not a garment"));
        assert!(bad(r#"{"labeller": "x", "pass": "first", "sheets": {"e2e-sandal-1": {"malformed": [1], "other": {"1": "bag"}}}}"#).contains("twice"));
        assert!(
            bad(r#"{"labeller": "x", "pass": "first", "sheets": {"nope": {}}}"#)
                .contains("no sheet")
        );
    }
}
