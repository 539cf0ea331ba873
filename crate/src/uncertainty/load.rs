//! Builds a [`Generator`] from model files (bytes from disk natively, from `fetch` in the
//! browser), each checked against `manifest.json` before use.

use std::collections::HashMap;

use burn::tensor::Device;

use super::{ClassText, Generator, ReferenceTable};
use crate::Error;
use crate::manifest::{CLASS_TEXT, CLIP_IMAGE, ENCODER, POSTERIOR, REAL_CODES, REFERENCE, STUDENT};
use crate::manifest::{Manifest, VerifiedFiles};
use crate::model::UNetConfig;
use crate::model::autoencoder::{AutoencoderConfig, RealCodes};
use crate::model::clip::ClipConfig;
use crate::posterior::Posterior;
use crate::posterior::head::Layout;

/// The files a generator needs.
pub const REQUIRED: [&str; 3] = [STUDENT, CLIP_IMAGE, POSTERIOR];
/// The files it uses when the manifest lists them (the reference quantiles, for percentiles;
/// the class prompts' embeddings, for the class-space scores; the structure space's encoder
/// and real embeddings, both or neither, for the realism score).
pub const OPTIONAL: [&str; 4] = [REFERENCE, CLASS_TEXT, ENCODER, REAL_CODES];

impl Generator {
    /// `files` maps file names to their bytes; each one the generator uses is verified against
    /// `manifest` first.
    pub fn from_files(
        manifest: &Manifest,
        files: &HashMap<String, Vec<u8>>,
        device: &Device,
    ) -> Result<Self, Error> {
        let verified = REQUIRED
            .iter()
            .chain(OPTIONAL.iter())
            .filter_map(|&name| files.get(name).map(|b| manifest.check(name, b.clone())))
            .collect::<Result<VerifiedFiles, Error>>()?;
        Self::from_verified(&verified, device)
    }

    /// The generator of the verified files [`REQUIRED`] names, with what [`OPTIONAL`] adds
    /// where present.
    pub fn from_verified(files: &VerifiedFiles, device: &Device) -> Result<Self, Error> {
        Self::from_required(files, device)?.with_optional(files)
    }

    /// The generator of the files [`REQUIRED`] names alone: it draws ([`Generator::draw`]), and
    /// its generations have u and the heatmap but no percentiles, class-space or realism scores
    /// until [`Generator::with_optional`] adds them.
    pub fn from_required(files: &VerifiedFiles, device: &Device) -> Result<Self, Error> {
        let config = UNetConfig::new();
        let student =
            crate::store::load(config.init(device), get(files, STUDENT)?.to_vec(), STUDENT)?;
        let clip = crate::store::load(
            ClipConfig::new(0).init_image(device),
            get(files, CLIP_IMAGE)?.to_vec(),
            CLIP_IMAGE,
        )?;
        let layout = Layout {
            channels: config.channels[0],
        };
        let posterior = Posterior::parse(text(files, POSTERIOR)?, layout)?;
        Generator::new(student, clip, &posterior, ReferenceTable::default(), device)
    }

    /// The same generator with what the [`OPTIONAL`] files among `files` add: the reference
    /// quantiles, the class prompts, the realism score's encoder and real embeddings.
    pub fn with_optional(mut self, files: &VerifiedFiles) -> Result<Self, Error> {
        if files.contains(REFERENCE) {
            self.reference = ReferenceTable::parse(text(files, REFERENCE)?)?;
        }
        if files.contains(CLASS_TEXT) {
            let t = ClassText::parse(text(files, CLASS_TEXT)?)?;
            if t.dims != self.clip.embed_dims() {
                return Err(Error::Model(format!(
                    "{CLASS_TEXT} is {} wide, CLIP's embeddings {}",
                    t.dims,
                    self.clip.embed_dims()
                )));
            }
            self.class_text = Some(t);
        }
        if files.contains(ENCODER) || files.contains(REAL_CODES) {
            let config = AutoencoderConfig::new();
            let encoder = crate::store::load(
                config.init_encoder(&self.nets),
                get(files, ENCODER)?.to_vec(),
                ENCODER,
            )?;
            // on the CPU: the embeddings are read once, synchronously (a wgpu buffer cannot be
            // in wasm)
            let real = crate::store::load(
                RealCodes::zeros(&config, &Device::flex()),
                get(files, REAL_CODES)?.to_vec(),
                REAL_CODES,
            )?;
            self.realism = Some(super::realism::Realism::new(encoder, &real));
        }
        Ok(self)
    }
}

/// The bytes of the loaded file `name`.
fn get<'a>(files: &'a VerifiedFiles, name: &str) -> Result<&'a [u8], Error> {
    files
        .get(name)
        .ok_or_else(|| Error::Model(format!("{name} was not loaded")))
}

/// The loaded file `name` as text.
fn text<'a>(files: &'a VerifiedFiles, name: &str) -> Result<&'a str, Error> {
    std::str::from_utf8(get(files, name)?).map_err(|_| Error::Model(format!("{name} is not UTF-8")))
}

/// Loads the generator's files from the folder `dir` (each checked against its manifest, once)
/// onto the device `compute` asks for ([`crate::gpu::native`]).
#[cfg(not(target_arch = "wasm32"))]
pub fn load_generator(
    dir: &std::path::Path,
    compute: crate::gpu::Compute,
) -> Result<Generator, Error> {
    let manifest = Manifest::read(dir)?;
    let optional = OPTIONAL.into_iter().filter(|n| manifest.entry(n).is_ok());
    let files = REQUIRED
        .into_iter()
        .chain(optional)
        .map(|name| manifest.read_checked(dir, name))
        .collect::<Result<VerifiedFiles, Error>>()?;
    let gpu = crate::gpu::native(compute)?;
    Generator::from_verified(&files, &gpu.device)
}

/// Bytes of the model files a generator loads (what the demo downloads).
pub fn demo_weight_bytes(manifest: &Manifest) -> u64 {
    REQUIRED
        .iter()
        .chain(OPTIONAL.iter())
        .filter_map(|n| manifest.entry(n).ok())
        .map(|f| f.bytes)
        .sum()
}
