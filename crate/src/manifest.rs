//! `models/manifest.json`: every model file with its size, sha256 and what it is, plus the
//! measured metrics. Loading checks a file against it before using a byte of it.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;

/// The manifest's file name in a models folder.
pub const FILE: &str = "manifest.json";

/// The few-step student UNet (the generator).
pub const STUDENT: &str = "student.safetensors";
/// CLIP's image tower (the embedding of the score).
pub const CLIP_IMAGE: &str = "clip_image.safetensors";
/// The last layer's Laplace posterior.
pub const POSTERIOR: &str = "posterior.json";
/// Quantiles of u over reference generations (percentiles).
pub const REFERENCE: &str = "reference_u.json";
/// CLIP's class prompt embeddings (the class-space scores).
pub const CLASS_TEXT: &str = "class_text.json";
/// The rectified-flow teacher UNet.
pub const TEACHER: &str = "teacher.safetensors";
/// CLIP, both towers.
pub const CLIP: &str = "clip.safetensors";
/// The evaluation classifier.
pub const CLASSIFIER: &str = "classifier.safetensors";
/// The denoising autoencoder's encoder (the structure space).
pub const ENCODER: &str = "encoder.safetensors";
/// The encoder's embeddings of real training images (the realism score's neighbours).
pub const REAL_CODES: &str = "real_codes.safetensors";
/// The real-vs-generated discriminator (a baseline of the labels by eye).
pub const DISCRIMINATOR: &str = "discriminator.safetensors";

/// A model file's bytes that passed [`Manifest::check`] (size and sha256); only `check` makes
/// one, so whoever holds it need not hash the bytes again.
#[derive(Debug, Clone)]
pub struct VerifiedFile {
    name: String,
    bytes: Vec<u8>,
}

/// Verified model files by name: what a generator is built from
/// ([`crate::uncertainty::Generator::from_verified`]).
#[derive(Debug, Clone, Default)]
pub struct VerifiedFiles(HashMap<String, Vec<u8>>);

impl VerifiedFile {
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl VerifiedFiles {
    pub fn insert(&mut self, file: VerifiedFile) {
        self.0.insert(file.name, file.bytes);
    }

    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.0.get(name).map(Vec::as_slice)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Each file's name and bytes.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.0.iter().map(|(n, b)| (n.as_str(), b.as_slice()))
    }
}

impl FromIterator<VerifiedFile> for VerifiedFiles {
    fn from_iter<I: IntoIterator<Item = VerifiedFile>>(files: I) -> Self {
        let mut out = Self::default();
        files.into_iter().for_each(|f| out.insert(f));
        out
    }
}

/// Every file a models folder holds, with what it is (the manifest's `what`).
pub const FILES: [(&str, &str); 11] = [
    (
        STUDENT,
        "few-step student UNet distilled from the teacher (demo + CLI); its conv_out is the Laplace layer",
    ),
    (
        CLIP_IMAGE,
        "tiny CLIP image tower (ViT); its embeddings give the uncertainty score (demo + CLI)",
    ),
    (
        POSTERIOR,
        "diagonal Laplace posterior of the student's conv_out (std per weight and bias)",
    ),
    (
        REFERENCE,
        "quantiles of u and the class-space scores over reference generations per class, sampler and M, and the evaluation's flag (genuq reference): percentiles",
    ),
    (
        CLASS_TEXT,
        "CLIP's zero-shot class prompt embeddings and temperature (genuq class-text): the class-space scores (demo + CLI)",
    ),
    (
        TEACHER,
        "rectified-flow teacher UNet, class-conditional with classifier-free guidance (CLI: distillation, evaluation)",
    ),
    (
        CLIP,
        "tiny CLIP, image and text towers (CLI: zero-shot classification)",
    ),
    (
        CLASSIFIER,
        "evaluation CNN: 128-d features for FID and precision/recall, class predictions (CLI)",
    ),
    (
        ENCODER,
        "denoising autoencoder's encoder, code standardised over training images: the structure space, a second space for u and the realism score (CLI: evaluation)",
    ),
    (
        REAL_CODES,
        "the encoder's embeddings of the first 5,000 training images: the neighbours of the realism score (distance to the nearest real images)",
    ),
    (
        DISCRIMINATOR,
        "real-vs-generated CNN (the evaluation classifier's architecture, 2 outputs): the classic artefact detector, a baseline of the labels by eye (CLI: evaluation)",
    ),
];

/// What the file `name` is, for its manifest entry.
pub fn what(name: &str) -> &'static str {
    FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, what)| what)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
    pub what: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub files: Vec<FileEntry>,
    #[serde(default)]
    pub metrics: BTreeMap<String, serde_json::Value>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Manifest {
    pub fn parse(text: &str) -> Result<Self, Error> {
        serde_json::from_str(text)
            .map_err(|e| Error::Model(format!("manifest.json is not valid: {e}")))
    }

    pub fn entry(&self, name: &str) -> Result<&FileEntry, Error> {
        self.files
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| Error::Model(format!("manifest.json lists no file {name:?}")))
    }

    /// Checks `bytes` against the manifest's size and sha256 for `name`.
    pub fn verify(&self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        self.verify_digest(name, bytes, &Sha256::digest(bytes))
    }

    /// [`Manifest::verify`] with the bytes' sha256 (32 bytes) computed elsewhere: in the browser,
    /// by WebCrypto ([`crate::wasm`]'s loader).
    pub fn verify_digest(&self, name: &str, bytes: &[u8], sha256: &[u8]) -> Result<(), Error> {
        let entry = self.entry(name)?;
        if bytes.len() as u64 != entry.bytes {
            return Err(Error::Model(format!(
                "{name}: {} bytes, the manifest says {} (truncated or wrong file)",
                bytes.len(),
                entry.bytes
            )));
        }
        let sha = hex(sha256);
        if sha != entry.sha256 {
            return Err(Error::Model(format!(
                "{name}: sha256 {sha} does not match the manifest's {} (corrupt or from another version)",
                entry.sha256
            )));
        }
        Ok(())
    }

    /// `bytes` as the file `name`, once they pass [`Manifest::verify`].
    pub fn check(&self, name: &str, bytes: Vec<u8>) -> Result<VerifiedFile, Error> {
        let sha256 = Sha256::digest(&bytes);
        self.check_digest(name, bytes, &sha256)
    }

    /// `bytes` as the file `name`, once they pass [`Manifest::verify_digest`] with `sha256`, their
    /// digest (in the browser, WebCrypto's): the one maker of a [`VerifiedFile`].
    pub fn check_digest(
        &self,
        name: &str,
        bytes: Vec<u8>,
        sha256: &[u8],
    ) -> Result<VerifiedFile, Error> {
        self.verify_digest(name, &bytes, sha256)?;
        Ok(VerifiedFile {
            name: name.to_string(),
            bytes,
        })
    }

    /// The file `name` in `dir`, checked against this manifest (size, sha256): the one way a
    /// native command reads a model file.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_checked(&self, dir: &std::path::Path, name: &str) -> Result<VerifiedFile, Error> {
        let path = dir.join(name);
        let bytes =
            std::fs::read(&path).map_err(|e| Error::Model(format!("{}: {e}", path.display())))?;
        self.check(name, bytes)
    }

    /// [`Manifest::read_checked`]'s bytes.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read_verified(&self, dir: &std::path::Path, name: &str) -> Result<Vec<u8>, Error> {
        self.read_checked(dir, name).map(|f| f.bytes)
    }

    /// `dir/manifest.json`; a missing file is an error, and so is one that does not parse.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn read(dir: &std::path::Path) -> Result<Self, Error> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::Model(format!("{}: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| Error::Model(format!("{}: {e}", path.display())))
    }

    /// The one way to change `dir/manifest.json`: reads it (a missing file starts an empty
    /// manifest; a corrupt one is an error and is left as it is), applies `change`, and
    /// replaces the file atomically (write to a temporary file, then rename).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn update(
        dir: &std::path::Path,
        change: impl FnOnce(&mut Manifest),
    ) -> Result<Manifest, Error> {
        let path = dir.join(FILE);
        let mut manifest = match path.exists() {
            true => Self::read(dir)?,
            false => Manifest::default(),
        };
        change(&mut manifest);
        let text = serde_json::to_string_pretty(&manifest)
            .map_err(|e| Error::Model(format!("cannot serialise the manifest: {e}")))?
            + "\n";
        let tmp = dir.join(format!("{FILE}.tmp"));
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&tmp, text))
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| Error::Model(format!("writing {}: {e}", path.display())))?;
        Ok(manifest)
    }

    /// Adds or replaces the entry for `name` (one of [`FILES`]) from its bytes.
    pub fn record_file(&mut self, name: &str, bytes: &[u8]) {
        self.record(name, bytes, what(name));
    }

    /// Adds or replaces the entry for `name` from its bytes.
    pub fn record(&mut self, name: &str, bytes: &[u8], what: &str) {
        let entry = FileEntry {
            name: name.to_string(),
            bytes: bytes.len() as u64,
            sha256: sha256_hex(bytes),
            what: what.to_string(),
        };
        match self.files.iter_mut().find(|f| f.name == name) {
            Some(f) => *f = entry,
            None => self.files.push(entry),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_catches_truncation_and_corruption() {
        let mut m = Manifest::default();
        m.record("w.safetensors", b"hello", "test");
        assert_eq!(
            m.entry("w.safetensors").unwrap().sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        m.verify("w.safetensors", b"hello").unwrap();
        // a digest computed elsewhere (the browser's WebCrypto): "hello"'s, from the hex above
        let hex = &m.entry("w.safetensors").unwrap().sha256;
        let mut digest: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        m.verify_digest("w.safetensors", b"hello", &digest).unwrap();
        digest[0] ^= 1;
        let err = m
            .verify_digest("w.safetensors", b"hello", &digest)
            .unwrap_err()
            .to_string();
        assert!(err.contains("sha256 2df24dba5fb0"), "{err}");
        assert!(
            m.verify("w.safetensors", b"hell")
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        assert!(
            m.verify("w.safetensors", b"jello")
                .unwrap_err()
                .to_string()
                .contains("sha256")
        );
        assert!(
            m.verify("other", b"hello")
                .unwrap_err()
                .to_string()
                .contains("no file")
        );
        let round = Manifest::parse(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(round, m);
    }

    /// `update` creates a manifest, keeps every other entry when it changes one, and refuses
    /// (leaving the file untouched) to overwrite a corrupt manifest.
    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn update_keeps_entries_and_refuses_a_corrupt_file() {
        let dir = std::env::temp_dir().join(format!("genuq-manifest-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Manifest::update(&dir, |m| m.record("a", b"1", "first")).unwrap();
        let m = Manifest::update(&dir, |m| m.record("b", b"2", "second")).unwrap();
        assert_eq!(m.files.len(), 2);
        assert_eq!(Manifest::read(&dir).unwrap(), m);
        std::fs::write(dir.join(FILE), "{\"files\": [tru").unwrap();
        let err = Manifest::update(&dir, |m| m.record("c", b"3", "third")).unwrap_err();
        assert!(err.to_string().contains("manifest.json"), "{err}");
        assert_eq!(
            std::fs::read_to_string(dir.join(FILE)).unwrap(),
            "{\"files\": [tru"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
