//! Fashion-MNIST: the facts every other module takes from here (image size, pixel count, the
//! classes), and, natively, the IDX reader, captions, teacher pairs and batching (training and
//! evaluation).

#[cfg(not(target_arch = "wasm32"))]
pub mod captions;
#[cfg(not(target_arch = "wasm32"))]
mod idx;
#[cfg(not(target_arch = "wasm32"))]
mod pairs;

#[cfg(not(target_arch = "wasm32"))]
pub use idx::{Dataset, IdxError, Split, default_dir};
#[cfg(not(target_arch = "wasm32"))]
pub use pairs::Pairs;

/// Number of classes.
pub const NUM_CLASSES: usize = 10;

/// The ten Fashion-MNIST classes, in label order.
pub const CLASS_NAMES: [&str; NUM_CLASSES] = [
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle-boot",
];

/// Side of the images the models see: 28x28 padded by two pixels of background.
pub const IMAGE_SIZE: usize = 32;
/// Pixels of one image.
pub const PIXELS: usize = IMAGE_SIZE * IMAGE_SIZE;
/// Half the grey range: a byte `b` is the pixel `b / GREY_HALF - 1` in [-1, 1].
pub const GREY_HALF: f32 = 127.5;

/// A pixel in [-1, 1] (clamped) as a grey byte, the one way images leave the models.
pub fn grey_byte(v: f32) -> u8 {
    ((v.clamp(-1.0, 1.0) + 1.0) * GREY_HALF).round() as u8
}

/// A grey byte as a pixel in [-1, 1], the one way images enter the models.
pub fn grey_pixel(b: u8) -> f32 {
    b as f32 / GREY_HALF - 1.0
}

/// Looks a class up by its name (as in [`CLASS_NAMES`], case-insensitive, `_` or ` ` for `-`)
/// or by its label number.
pub fn class_index(name: &str) -> Option<usize> {
    let norm = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    if let Ok(n) = norm.parse::<usize>() {
        return (n < CLASS_NAMES.len()).then_some(n);
    }
    let alias = match norm.as_str() {
        "tshirt" | "t-shirt/top" | "top" => "t-shirt",
        "boot" | "ankleboot" => "ankle-boot",
        other => other,
    };
    CLASS_NAMES.iter().position(|c| *c == alias)
}

#[cfg(not(target_arch = "wasm32"))]
use burn::tensor::{Device, Int, Tensor, TensorData};

#[cfg(not(target_arch = "wasm32"))]
impl Dataset {
    /// The first `limit` examples (all if `None`).
    pub fn limit(mut self, limit: Option<usize>) -> Self {
        if let Some(n) = limit.filter(|&n| n < self.len()) {
            self.images.truncate(n * PIXELS);
            self.labels.truncate(n);
        }
        self
    }

    /// Images `idx` as `[B, 1, 32, 32]`.
    pub fn images_tensor(&self, idx: &[usize], device: &Device) -> Tensor<4> {
        let mut v = Vec::with_capacity(idx.len() * PIXELS);
        for &i in idx {
            v.extend_from_slice(self.image(i));
        }
        Tensor::from_data(
            TensorData::new(v, [idx.len(), 1, IMAGE_SIZE, IMAGE_SIZE]),
            device,
        )
    }

    /// Labels `idx` as `[B]`.
    pub fn labels_tensor(&self, idx: &[usize], device: &Device) -> Tensor<1, Int> {
        let v: Vec<i64> = idx.iter().map(|&i| self.labels[i] as i64).collect();
        Tensor::from_data(TensorData::new(v, [idx.len()]), device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every grey byte survives the trip into [-1, 1] and back; the ends are -1 and 1, and
    /// values beyond them clamp.
    #[test]
    fn grey_bytes_round_trip() {
        for b in 0..=255u8 {
            assert_eq!(grey_byte(grey_pixel(b)), b);
        }
        assert_eq!((grey_pixel(0), grey_pixel(255)), (-1.0, 1.0));
        assert_eq!(
            (grey_byte(-3.0), grey_byte(7.0), grey_byte(0.0)),
            (0, 255, 128)
        );
    }
}
