//! Captions for the tiny CLIP, built only from what a Fashion-MNIST image honestly tells: its
//! class (names, synonyms, a broader category) and how light or dark the item is (measured on
//! the pixels). Word-level tokens; 0 is padding.

use std::collections::BTreeSet;

use super::{CLASS_NAMES, NUM_CLASSES};
use crate::rng::{self, Stream};

/// Names a caption may use for each class.
const SYNONYMS: [&[&str]; NUM_CLASSES] = [
    &["t-shirt", "tee", "top", "short-sleeved top"],
    &["trousers", "pants", "slacks", "pair of trousers"],
    &["pullover", "sweater", "jumper", "knitted pullover"],
    &["dress", "gown", "frock", "summer dress"],
    &["coat", "jacket", "overcoat", "winter coat"],
    &["sandal", "open shoe", "strappy sandal", "summer shoe"],
    &["shirt", "blouse", "button-up shirt", "long-sleeved shirt"],
    &["sneaker", "trainer", "running shoe", "sports shoe"],
    &["bag", "handbag", "purse", "tote bag"],
    &["ankle boot", "boot", "bootie", "short boot"],
];

const CATEGORY: [&str; NUM_CLASSES] = [
    "top",
    "legwear",
    "top",
    "one-piece garment",
    "outerwear",
    "footwear",
    "top",
    "footwear",
    "accessory",
    "footwear",
];

const TEMPLATES: [&str; 8] = [
    "a photo of a {}",
    "a picture of a {}",
    "a {}",
    "a grayscale image of a {}",
    "a small photo of the {}",
    "a {} , a kind of {cat}",
    "a {tone} {}",
    "a photo of a {tone} {}",
];

/// The zero-shot prompts for class `c`: every template with every name of the class (no
/// tone), whose embeddings are averaged (prompt ensembling, as in CLIP).
pub fn prompts(c: usize) -> Vec<String> {
    let mut out = Vec::new();
    for template in TEMPLATES {
        for name in SYNONYMS[c] {
            let text = template
                .replace("{cat}", CATEGORY[c])
                .replace("{tone}", "")
                .replace("{}", name);
            out.push(text.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    out
}

/// "dark", "light" or "" from the mean brightness of an image in [-1, 1] (item pixels only).
pub fn tone(image: &[f32]) -> &'static str {
    let item: Vec<f32> = image.iter().copied().filter(|&v| v > -0.9).collect();
    if item.is_empty() {
        return "";
    }
    let mean = item.iter().sum::<f32>() / item.len() as f32;
    if mean < -0.3 {
        "dark"
    } else if mean > 0.3 {
        "light"
    } else {
        ""
    }
}

/// Caption number `draw` for an image of class `c` with tone `tone`.
pub fn caption(c: usize, tone: &str, seed: u32, draw: u32) -> String {
    let r = rng::block(seed, Stream::Captions, draw);
    let names = SYNONYMS[c];
    let name = names[r[0] as usize % names.len()];
    let template = TEMPLATES[r[1] as usize % TEMPLATES.len()];
    let text = template
        .replace("{cat}", CATEGORY[c])
        .replace("{tone}", tone)
        .replace("{}", name);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Word-level tokenizer over every word a caption or prompt can contain.
pub struct Tokenizer {
    words: Vec<String>,
    pub max_len: usize,
}

impl Default for Tokenizer {
    fn default() -> Self {
        let mut words = BTreeSet::new();
        let texts = TEMPLATES
            .iter()
            .chain(SYNONYMS.iter().flat_map(|s| s.iter()))
            .chain(CATEGORY.iter())
            .chain(CLASS_NAMES.iter())
            .chain(["dark", "light", "ankle boot"].iter());
        for t in texts {
            for w in words_of(t) {
                if !w.starts_with('{') {
                    words.insert(w);
                }
            }
        }
        Self {
            words: words.into_iter().collect(),
            max_len: 12,
        }
    }
}

fn words_of(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace('-', " ")
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

impl Tokenizer {
    /// Vocabulary size including padding (0) and unknown (1).
    pub fn vocab(&self) -> usize {
        self.words.len() + 2
    }

    /// `max_len` ids, 0-padded; unknown words map to 1.
    pub fn encode(&self, text: &str) -> Vec<i64> {
        let mut ids: Vec<i64> = words_of(text)
            .iter()
            .map(|w| self.words.binary_search(w).map_or(1, |i| i as i64 + 2))
            .take(self.max_len)
            .collect();
        ids.resize(self.max_len, 0);
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_caption_word_is_known() {
        let tok = Tokenizer::default();
        for c in 0..NUM_CLASSES {
            for d in 0..64 {
                for tone in ["", "dark", "light"] {
                    let text = caption(c, tone, 1, d);
                    let ids = tok.encode(&text);
                    assert!(!ids.contains(&1), "unknown word in {text:?}");
                    assert!(ids[0] > 1);
                }
            }
            for p in prompts(c) {
                assert!(!tok.encode(&p).contains(&1), "unknown word in {p:?}");
            }
        }
    }
}
