//! Reader for the gzip'd IDX files of Fashion-MNIST
//! (`/usr/share/datasets/fashion-mnist/*-ubyte.gz`, Debian package `dataset-fashion-mnist`).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::{IMAGE_SIZE, NUM_CLASSES, PIXELS};

/// Side of the raw Fashion-MNIST images (padded to [`IMAGE_SIZE`]).
const RAW: usize = 28;
/// Background added on each side.
const PAD: usize = (IMAGE_SIZE - RAW) / 2;

/// Where Debian's `dataset-fashion-mnist` puts the files; `GENUQ_DATA` overrides.
pub fn default_dir() -> PathBuf {
    std::env::var_os("GENUQ_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/datasets/fashion-mnist"))
}

#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    #[error(
        "cannot read {path}: {source} (install the Debian package `dataset-fashion-mnist` or set GENUQ_DATA)"
    )]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {what}")]
    Corrupt { path: PathBuf, what: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

impl Split {
    fn prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "t10k",
        }
    }
}

/// Images padded to 32x32 and scaled to [-1, 1], with their labels.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// `[len * 32 * 32]`, row-major, background = -1.
    pub images: Vec<f32>,
    /// `[len]`, 0..10.
    pub labels: Vec<u8>,
}

impl Dataset {
    /// Loads one split from `dir`.
    pub fn load(dir: &Path, split: Split) -> Result<Self, IdxError> {
        let image_path = dir.join(format!("{}-images-idx3-ubyte.gz", split.prefix()));
        let label_path = dir.join(format!("{}-labels-idx1-ubyte.gz", split.prefix()));
        let (dims, pixels) = read_idx(&image_path, 0x0803)?;
        let (label_dims, labels) = read_idx(&label_path, 0x0801)?;
        if dims.len() != 3 || dims[1] != RAW || dims[2] != RAW {
            return Err(corrupt(
                &image_path,
                format!("expected Nx{RAW}x{RAW} images, got {dims:?}"),
            ));
        }
        if label_dims[0] != dims[0] {
            return Err(corrupt(
                &label_path,
                format!("{} labels for {} images", label_dims[0], dims[0]),
            ));
        }
        if let Some(bad) = labels.iter().find(|&&l| l as usize >= NUM_CLASSES) {
            return Err(corrupt(
                &label_path,
                format!("label {bad} is not in 0..{NUM_CLASSES}"),
            ));
        }
        Ok(Self {
            images: pad_and_scale(&pixels, dims[0]),
            labels,
        })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of image `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        &self.images[i * PIXELS..(i + 1) * PIXELS]
    }
}

fn corrupt(path: &Path, what: String) -> IdxError {
    IdxError::Corrupt {
        path: path.to_path_buf(),
        what,
    }
}

/// Reads a gzip'd IDX file of unsigned bytes; returns its dimensions and data.
fn read_idx(path: &Path, magic: u32) -> Result<(Vec<usize>, Vec<u8>), IdxError> {
    let file = std::fs::File::open(path).map_err(|source| IdxError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .map_err(|e| corrupt(path, format!("not a valid gzip stream: {e}")))?;
    parse_idx(&bytes, magic).map_err(|what| corrupt(path, what))
}

/// Parses an uncompressed IDX buffer (big-endian header, then `u8` data).
pub(crate) fn parse_idx(bytes: &[u8], magic: u32) -> Result<(Vec<usize>, Vec<u8>), String> {
    let word = |i: usize| -> Result<u32, String> {
        bytes
            .get(4 * i..4 * i + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| format!("truncated header ({} bytes)", bytes.len()))
    };
    let found = word(0)?;
    if found != magic {
        return Err(format!("bad magic {found:#010x}, expected {magic:#010x}"));
    }
    let ndims = (magic & 0xff) as usize;
    let dims = (1..=ndims)
        .map(|i| word(i).map(|d| d as usize))
        .collect::<Result<Vec<_>, _>>()?;
    let header = 4 * (ndims + 1);
    let expected: usize = dims.iter().product();
    let data = &bytes[header..];
    if data.len() != expected {
        return Err(format!(
            "truncated or oversized: {} data bytes for dimensions {dims:?} ({expected} expected)",
            data.len()
        ));
    }
    Ok((dims, data.to_vec()))
}

/// Raw bytes -> padded floats in [-1, 1], centred.
fn pad_and_scale(pixels: &[u8], count: usize) -> Vec<f32> {
    let mut out = vec![-1.0f32; count * PIXELS];
    for n in 0..count {
        for y in 0..RAW {
            for x in 0..RAW {
                let v = super::grey_pixel(pixels[(n * RAW + y) * RAW + x]);
                out[n * PIXELS + (y + PAD) * IMAGE_SIZE + x + PAD] = v;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(magic: u32, dims: &[u32]) -> Vec<u8> {
        let mut v = magic.to_be_bytes().to_vec();
        for d in dims {
            v.extend(d.to_be_bytes());
        }
        v
    }

    #[test]
    fn parses_and_rejects() {
        let mut ok = header(0x0801, &[3]);
        ok.extend([1, 2, 3]);
        assert_eq!(parse_idx(&ok, 0x0801).unwrap(), (vec![3], vec![1, 2, 3]));
        assert!(
            parse_idx(&ok[..6], 0x0801)
                .unwrap_err()
                .contains("truncated header")
        );
        assert!(
            parse_idx(&ok[..7], 0x0801)
                .unwrap_err()
                .contains("truncated")
        );
        assert!(parse_idx(&ok, 0x0803).unwrap_err().contains("bad magic"));
    }

    #[test]
    fn padding_keeps_pixels_centred() {
        let mut px = vec![0u8; RAW * RAW];
        px[0] = 255;
        let out = pad_and_scale(&px, 1);
        assert_eq!(out[PAD * IMAGE_SIZE + PAD], 1.0);
        assert_eq!(out[0], -1.0);
        assert_eq!(out[PAD * IMAGE_SIZE + PAD + 1], -1.0);
    }
}
