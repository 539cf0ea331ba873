//! The evaluation classifier's view of a set of images: its 128-d penultimate features (the
//! space of FID, precision and recall) and its predicted classes.

use burn::tensor::{Device, Tensor, TensorData};

use crate::data::{IMAGE_SIZE, PIXELS};
use crate::model::classifier::Classifier;

/// Width of the classifier's features.
pub const FEATURES: usize = 128;

/// Features `[N * FEATURES]` and predicted labels `[N]` of `images` (`[N * PIXELS]`).
pub fn classify(model: &Classifier, images: &[f32], device: &Device) -> (Vec<f32>, Vec<i64>) {
    let n = images.len() / PIXELS;
    let (mut feats, mut preds) = (Vec::new(), Vec::new());
    for start in (0..n).step_by(500) {
        let m = 500.min(n - start);
        let x = Tensor::<4>::from_data(
            TensorData::new(
                images[start * PIXELS..(start + m) * PIXELS].to_vec(),
                [m, 1, IMAGE_SIZE, IMAGE_SIZE],
            ),
            device,
        );
        let f = model.features(x);
        preds.extend(
            model
                .forward_features(f.clone())
                .argmax(1)
                .into_data()
                .iter::<i64>(),
        );
        feats.extend(f.into_data().iter::<f32>());
    }
    (feats, preds)
}

/// Fraction of `pred` equal to `truth`.
pub fn accuracy(pred: &[i64], truth: &[i64]) -> f64 {
    pred.iter().zip(truth).filter(|(a, b)| a == b).count() as f64 / truth.len().max(1) as f64
}
