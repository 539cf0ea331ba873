//! How well a score ranks the positives (poor generations) first: AUROC (Mann-Whitney U, also
//! for a weighted sample) and average precision, f64 throughout, ties counted half or together.

/// Area under the ROC curve of `scores` for telling positives (`true`) from negatives
/// (Mann-Whitney U, ties counted half).
pub fn auroc(scores: &[f64], positive: &[bool]) -> f64 {
    weighted_auroc(scores, positive, &vec![1.0; scores.len()])
}

/// The AUROC of a weighted sample: every (positive i, negative j) pair counts `w_i * w_j`
/// (ties half), so with `w = 1 / inclusion probability` it estimates the AUROC of the
/// population the sample was drawn from (Horvitz-Thompson). Unit weights give [`auroc`].
pub fn weighted_auroc(scores: &[f64], positive: &[bool], weights: &[f64]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // sweep up the scores: each tie group's positives beat the negatives below it
    let (mut neg_below, mut sum, mut pos_total) = (0.0, 0.0, 0.0);
    for group in ties(&idx, scores) {
        let weight_of = |want: bool| -> f64 {
            group
                .iter()
                .filter(|&&k| positive[k] == want)
                .map(|&k| weights[k])
                .sum()
        };
        let (pos, neg) = (weight_of(true), weight_of(false));
        sum += pos * (neg_below + 0.5 * neg);
        neg_below += neg;
        pos_total += pos;
    }
    sum / (pos_total * neg_below)
}

/// Average precision of `scores` for finding the positives (`true`), higher scores first:
/// the area under the precision-recall curve as a step function, tied scores taken together.
pub fn average_precision(scores: &[f64], positive: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let total = positive.iter().filter(|&&p| p).count() as f64;
    let (mut seen, mut hits, mut ap) = (0.0, 0.0, 0.0);
    for group in ties(&idx, scores) {
        let new_hits = group.iter().filter(|&&k| positive[k]).count() as f64;
        seen += group.len() as f64;
        hits += new_hits;
        ap += new_hits / total * (hits / seen);
    }
    ap
}

/// `idx` (indices of `scores`, sorted by score) cut into runs of equal scores, in order.
fn ties<'a>(idx: &'a [usize], scores: &'a [f64]) -> impl Iterator<Item = &'a [usize]> {
    idx.chunk_by(move |&a, &b| scores[a] == scores[b])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auroc_closed_forms() {
        assert_eq!(
            auroc(&[1.0, 2.0, 3.0, 4.0], &[false, false, true, true]),
            1.0
        );
        assert_eq!(
            auroc(&[1.0, 2.0, 3.0, 4.0], &[true, true, false, false]),
            0.0
        );
        assert_eq!(auroc(&[1.0, 1.0], &[true, false]), 0.5);
    }

    /// Average precision: a perfect ranking is 1, the worst with 1 positive in 4 is 1/4, and
    /// a hand-computed mixed case; ties count as one block.
    /// A weight is a repeat count: weights 2 give the AUROC of the sample with those rows
    /// twice, counted pair by pair by hand here.
    #[test]
    fn weighted_auroc_equals_repeated_rows() {
        let scores = [0.1, 0.4, 0.35, 0.8, 0.4, 0.2];
        let positive = [false, true, false, true, false, true];
        let weights = [1.0, 2.0, 1.0, 1.0, 3.0, 2.0];
        let (mut s, mut p) = (Vec::new(), Vec::new());
        for k in 0..scores.len() {
            for _ in 0..weights[k] as usize {
                s.push(scores[k]);
                p.push(positive[k]);
            }
        }
        // pairs of the repeated sample by hand: positives {0.4 x2, 0.8, 0.2 x2},
        // negatives {0.1, 0.35, 0.4 x3}: 0.4 beats 0.1, 0.35 and ties 0.4 three times (x2 each);
        // 0.8 beats all five; 0.2 beats 0.1 (x2) -> (2 * (2 + 1.5) + 5 + 2) / (5 * 5)
        let by_hand = (2.0 * 3.5 + 5.0 + 2.0) / 25.0;
        assert!((weighted_auroc(&scores, &positive, &weights) - by_hand).abs() < 1e-12);
        assert!((auroc(&s, &p) - by_hand).abs() < 1e-12);
    }

    #[test]
    fn average_precision_closed_forms() {
        let s = [4.0, 3.0, 2.0, 1.0];
        assert_eq!(average_precision(&s, &[true, true, false, false]), 1.0);
        assert_eq!(average_precision(&s, &[false, false, false, true]), 0.25);
        // positives at ranks 1 and 3: (1/1 + 2/3) / 2
        let ap = average_precision(&s, &[true, false, true, false]);
        assert!((ap - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12);
        assert_eq!(average_precision(&[1.0, 1.0], &[true, false]), 0.5);
    }
}
