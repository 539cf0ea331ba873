//! Builds a [`Generator`] from model files (bytes from disk natively, from `fetch` in the
//! browser), each checked against `manifest.json` before use.

use std::collections::HashMap;

use burn::tensor::Device;

use super::{Generator, ReferenceTable};
use crate::Error;
use crate::manifest::Manifest;
use crate::model::UNetConfig;
use crate::model::clip::ClipConfig;
use crate::posterior::Posterior;

pub const STUDENT: &str = "student.safetensors";
pub const CLIP_IMAGE: &str = "clip_image.safetensors";
pub const POSTERIOR: &str = "posterior.json";
/// Optional: quantiles of u over reference generations, for percentiles.
pub const REFERENCE: &str = "reference_u.json";
/// The files a generator needs.
pub const REQUIRED: [&str; 3] = [STUDENT, CLIP_IMAGE, POSTERIOR];
/// The files it uses when the manifest lists them.
pub const OPTIONAL: [&str; 1] = [REFERENCE];

impl Generator {
    /// `files` maps file names to their bytes; every one is verified against `manifest`.
    pub fn from_files(
        manifest: &Manifest,
        files: &HashMap<String, Vec<u8>>,
        device: &Device,
    ) -> Result<Self, Error> {
        let get = |name: &str| -> Result<Vec<u8>, Error> {
            let bytes = files
                .get(name)
                .ok_or_else(|| Error::Model(format!("{name} was not loaded")))?;
            manifest.verify(name, bytes)?;
            Ok(bytes.clone())
        };
        let text = |name: &str| -> Result<String, Error> {
            String::from_utf8(get(name)?).map_err(|_| Error::Model(format!("{name} is not UTF-8")))
        };
        let config = UNetConfig::new();
        let student = crate::store::load(config.init(device), get(STUDENT)?, STUDENT)?;
        let clip = crate::store::load(
            ClipConfig::new(0).init_image(device),
            get(CLIP_IMAGE)?,
            CLIP_IMAGE,
        )?;
        let posterior = Posterior::parse(&text(POSTERIOR)?, config.channels[0])?;
        let reference = match files.contains_key(REFERENCE) {
            true => ReferenceTable::parse(&text(REFERENCE)?)?,
            false => ReferenceTable::default(),
        };
        Ok(Generator::new(student, clip, &posterior, reference, device))
    }
}
