//! Which generations a method keeps: the lowest scores overall, or per class, or at a given
//! class mix, and how far a selection shifts the class mix.

use crate::data::NUM_CLASSES;

/// A count per class.
pub type ClassCounts = [usize; NUM_CLASSES];

/// Indices of the `n` lowest scores.
pub fn lowest(score: &[f64], n: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..score.len()).collect();
    idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    idx.truncate(n);
    idx
}

/// The generations of class `c`, lowest score first.
fn class_order(score: &[f64], classes: &[usize], c: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..score.len()).filter(|&i| classes[i] == c).collect();
    idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    idx
}

/// How many of `idx` are of each class.
pub fn class_counts(idx: &[usize], classes: &[usize]) -> ClassCounts {
    let mut counts = [0; NUM_CLASSES];
    for &i in idx {
        counts[classes[i]] += 1;
    }
    counts
}

/// A score whose lowest `sum(mix)` are the `mix[c]` lowest of `score` within each class c:
/// 0 for those, 1 for the rest.
pub fn with_class_mix(score: &[f64], classes: &[usize], mix: &ClassCounts) -> Vec<f64> {
    let mut out = vec![1.0; score.len()];
    for (c, &count) in mix.iter().enumerate() {
        for i in class_order(score, classes, c).into_iter().take(count) {
            out[i] = 0.0;
        }
    }
    out
}

/// The class a filter thinned most, and the share of that class's generations it dropped.
pub fn most_dropped(kept: &ClassCounts, generated: &ClassCounts) -> (usize, f64) {
    let share = |c: usize| 1.0 - kept[c] as f64 / generated[c].max(1) as f64;
    let c = (0..NUM_CLASSES)
        .max_by(|&a, &b| share(a).total_cmp(&share(b)))
        .unwrap_or(0);
    (c, share(c))
}

/// Each score's rank within its class, as a fraction of the class: keeping the lowest drops the
/// same share of every class, so filtering cannot change the class mix.
pub fn within_class_rank(score: &[f64], classes: &[usize]) -> Vec<f64> {
    let mut rank = vec![0.0; score.len()];
    for c in 0..NUM_CLASSES {
        let idx = class_order(score, classes, c);
        for (r, &i) in idx.iter().enumerate() {
            rank[i] = (r as f64 + 0.5) / idx.len() as f64;
        }
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_class_rank_drops_the_same_share_of_each_class() {
        // class 0 has high scores, class 1 low ones: a global cut would drop only class 0
        let classes = [0, 0, 0, 0, 1, 1, 1, 1];
        let score = [10.0, 13.0, 11.0, 12.0, 1.0, 3.0, 2.0, 0.0];
        let rank = within_class_rank(&score, &classes);
        let mut kept = lowest(&rank, 6);
        kept.sort();
        assert_eq!(kept, vec![0, 2, 3, 4, 6, 7]);
        assert_eq!(lowest(&score, 2), vec![7, 4]);
    }

    #[test]
    fn with_class_mix_keeps_the_asked_count_of_each_class_lowest_first() {
        let classes = [0, 1, 0, 1, 0, 1, 2];
        let score = [0.3, 0.9, 0.1, 0.2, 0.2, 0.5, 0.0];
        let mut mix = [0; NUM_CLASSES];
        mix[0] = 2;
        mix[1] = 1;
        let mixed = with_class_mix(&score, &classes, &mix);
        let mut kept = lowest(&mixed, 3);
        kept.sort();
        // class 0: its two lowest (0.1, 0.2); class 1: its lowest (0.2); class 2: none
        assert_eq!(kept, vec![2, 3, 4]);
        assert_eq!(class_counts(&kept, &classes)[..3], [2, 1, 0]);
    }

    #[test]
    fn most_dropped_names_the_thinnest_class() {
        let mut generated = [10; NUM_CLASSES];
        generated[5] = 20;
        let mut kept = [9; NUM_CLASSES];
        kept[5] = 5; // 75% of class 5 dropped
        kept[2] = 4; // 60% of class 2
        let (c, share) = most_dropped(&kept, &generated);
        assert_eq!(c, 5);
        assert!((share - 0.75).abs() < 1e-12);
    }
}
