//! How independent is the judge? The evaluation classifier labels generations wrong-class, and
//! the class-space scores ask CLIP the same question; both learned Fashion-MNIST. On the test
//! split (real images with true labels) this measures how often the two err together, against
//! what independent errors would give, so a reader can tell how much of a class-space score's
//! AUROC is the two models sharing a view rather than the score finding bad images.

use burn::tensor::Device;
use serde::Serialize;

use super::ranking::auroc;
use crate::Error;
use crate::data::Dataset;
use crate::uncertainty::Generator;

/// The two judges' errors on the test split.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Independence {
    pub images: usize,
    pub classifier_error: f64,
    pub clip_error: f64,
    /// Both wrong.
    pub both_wrong: f64,
    /// Both wrong with the same wrong class.
    pub both_wrong_same_class: f64,
    /// `classifier_error * clip_error`: both wrong if their errors were independent.
    pub both_wrong_if_independent: f64,
    /// Of the classifier's errors, the share CLIP makes too.
    pub clip_wrong_given_classifier_wrong: f64,
    /// Agreement of the two predictions, right or wrong.
    pub agreement: f64,
}

/// From the true labels and the two judges' predictions.
pub fn independence(labels: &[i64], classifier: &[i64], clip: &[i64]) -> Independence {
    let n = labels.len().max(1) as f64;
    let share = |f: &dyn Fn(usize) -> bool| (0..labels.len()).filter(|&i| f(i)).count() as f64 / n;
    let a = |i: usize| classifier[i] != labels[i];
    let b = |i: usize| clip[i] != labels[i];
    let (ea, eb) = (share(&a), share(&b));
    let both = share(&|i| a(i) && b(i));
    Independence {
        images: labels.len(),
        classifier_error: ea,
        clip_error: eb,
        both_wrong: both,
        both_wrong_same_class: share(&|i| a(i) && b(i) && classifier[i] == clip[i]),
        both_wrong_if_independent: ea * eb,
        clip_wrong_given_classifier_wrong: if ea > 0.0 { both / ea } else { f64::NAN },
        agreement: share(&|i| classifier[i] == clip[i]),
    }
}

/// CLIP's zero-shot class of each image of `data` (the class whose prompt embedding is the
/// nearest in cosine, as the class-space scores see it).
pub fn clip_predictions(g: &Generator, data: &Dataset, device: &Device) -> Result<Vec<i64>, Error> {
    let text = g
        .class_text
        .as_ref()
        .ok_or_else(|| Error::Model("the models folder has no class_text.json".into()))?;
    let mut out = Vec::with_capacity(data.len());
    for start in (0..data.len()).step_by(500) {
        let idx: Vec<usize> = (start..(start + 500).min(data.len())).collect();
        let x = data.images_tensor(&idx, device);
        let emb = g.embed(x);
        let logits = emb.matmul(text.tensor(&g.device).transpose());
        out.extend(logits.argmax(1).into_data().iter::<i64>());
    }
    Ok(out)
}

/// The class-space scores without weight samples, on real images: how well each finds the
/// judge's own errors on a set with no bad image (the test split), so a class-space score's AUROC
/// on generations can be read as detection or as agreement with the judge.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct JudgeErrors {
    pub images: usize,
    /// The classifier's error rate on them.
    pub classifier_error: f64,
    /// AUROC of `1 -` CLIP's probability of the true class (clip_margin) for the classifier's
    /// errors.
    pub clip_margin: f64,
    /// AUROC of CLIP's class entropy for them.
    pub class_entropy: f64,
}

/// [`JudgeErrors`] from the true labels, the classifier's predictions and, per image, CLIP's
/// probability of the true class and its class entropy.
pub fn judge_errors(
    labels: &[i64],
    classifier: &[i64],
    probability: &[f32],
    entropy: &[f32],
) -> JudgeErrors {
    let wrong: Vec<bool> = labels.iter().zip(classifier).map(|(a, b)| a != b).collect();
    let margin: Vec<f64> = probability.iter().map(|&p| 1.0 - p as f64).collect();
    let entropy: Vec<f64> = entropy.iter().map(|&e| e as f64).collect();
    JudgeErrors {
        images: labels.len(),
        classifier_error: wrong.iter().filter(|&&w| w).count() as f64 / labels.len().max(1) as f64,
        clip_margin: auroc(&margin, &wrong),
        class_entropy: auroc(&entropy, &wrong),
    }
}

/// CLIP's probability of the true class and its class entropy for every image of `data` (the
/// class-space scores of one image, no weight samples: [`Generator::class_scores`]).
pub fn real_class_scores(
    g: &Generator,
    data: &Dataset,
    device: &Device,
) -> Result<(Vec<f32>, Vec<f32>), Error> {
    let (mut probability, mut entropy) = (Vec::new(), Vec::new());
    for start in (0..data.len()).step_by(500) {
        let idx: Vec<usize> = (start..(start + 500).min(data.len())).collect();
        let x = data.images_tensor(&idx, device);
        let classes: Vec<usize> = idx.iter().map(|&i| data.labels[i] as usize).collect();
        let scores = g
            .class_scores(g.embed(x), &classes)?
            .ok_or_else(|| Error::Model("the models folder has no class_text.json".into()))?;
        probability.extend(scores.probability.into_data().iter::<f32>());
        entropy.extend(scores.entropy.into_data().iter::<f32>());
    }
    Ok((probability, entropy))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ten images: the classifier errs on 0, 1; CLIP on 1, 2 (image 1 with the classifier's
    /// wrong class); closed forms.
    #[test]
    fn independence_counts() {
        let labels = [0i64; 10];
        let mut classifier = [0i64; 10];
        let mut clip = [0i64; 10];
        classifier[0] = 1;
        classifier[1] = 2;
        clip[1] = 2;
        clip[2] = 3;
        let r = independence(&labels, &classifier, &clip);
        assert_eq!(r.classifier_error, 0.2);
        assert_eq!(r.clip_error, 0.2);
        assert_eq!(r.both_wrong, 0.1);
        assert_eq!(r.both_wrong_same_class, 0.1);
        assert!((r.both_wrong_if_independent - 0.04).abs() < 1e-12);
        assert_eq!(r.clip_wrong_given_classifier_wrong, 0.5);
        assert_eq!(r.agreement, 0.8); // seven both right, image 1 both class 2
    }

    /// Four images, the classifier wrong on the two CLIP is least sure of: both AUROCs are 1;
    /// swapped, 0; the error rate is a half.
    #[test]
    fn judge_errors_closed_form() {
        let labels = [0i64, 1, 2, 3];
        let classifier = [0i64, 1, 0, 0];
        let r = judge_errors(
            &labels,
            &classifier,
            &[0.9, 0.8, 0.3, 0.1],
            &[0.1, 0.2, 1.0, 2.0],
        );
        assert_eq!(
            (r.images, r.classifier_error, r.clip_margin, r.class_entropy),
            (4, 0.5, 1.0, 1.0)
        );
        let r = judge_errors(
            &labels,
            &classifier,
            &[0.1, 0.3, 0.8, 0.9],
            &[2.0, 1.0, 0.2, 0.1],
        );
        assert_eq!((r.clip_margin, r.class_entropy), (0.0, 0.0));
    }
}
