//! Teacher pairs, the distillation's data: the noise z, the class and the teacher's sample x
//! from that noise. This file owns their cache format, `RUNS/student/pairs.bin`: records of
//! `class: u32 LE | z: PIXELS x f32 LE | x: PIXELS x f32 LE`, appended as they are made (a
//! partial last record is dropped on reading), and what made them in `pairs.key` beside it.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use super::PIXELS;

/// Bytes of one record.
pub const RECORD: usize = 4 + 2 * PIXELS * 4;

/// Teacher pairs: noise, class, the teacher's sample (`[N * PIXELS]`, `[N]`, `[N * PIXELS]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pairs {
    pub z: Vec<f32>,
    pub class: Vec<i64>,
    pub x: Vec<f32>,
}

fn floats(b: &[u8]) -> impl Iterator<Item = f32> + '_ {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

impl Pairs {
    pub fn len(&self) -> usize {
        self.class.len()
    }

    pub fn is_empty(&self) -> bool {
        self.class.is_empty()
    }

    /// (z, class, x) in batches of `size` (the last one may be smaller).
    pub fn batches(
        &self,
        size: usize,
    ) -> impl Iterator<Item = (Vec<f32>, Vec<i64>, Vec<f32>)> + '_ {
        (0..self.len()).step_by(size.max(1)).map(move |i| {
            let j = (i + size).min(self.len());
            (
                self.z[i * PIXELS..j * PIXELS].to_vec(),
                self.class[i..j].to_vec(),
                self.x[i * PIXELS..j * PIXELS].to_vec(),
            )
        })
    }

    /// The records of whole pairs in `bytes` (a trailing partial record is ignored).
    pub fn decode(bytes: &[u8]) -> Self {
        let mut pairs = Pairs::default();
        for r in bytes.chunks_exact(RECORD) {
            pairs
                .class
                .push(u32::from_le_bytes([r[0], r[1], r[2], r[3]]) as i64);
            pairs.z.extend(floats(&r[4..4 + PIXELS * 4]));
            pairs.x.extend(floats(&r[4 + PIXELS * 4..]));
        }
        pairs
    }

    /// The pairs as records.
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(self.len() * RECORD);
        for k in 0..self.len() {
            buf.extend((self.class[k] as u32).to_le_bytes());
            let px = k * PIXELS..(k + 1) * PIXELS;
            buf.extend(self.z[px.clone()].iter().flat_map(|v| v.to_le_bytes()));
            buf.extend(self.x[px].iter().flat_map(|v| v.to_le_bytes()));
        }
        buf
    }

    /// The first `limit` pairs cached at `path`.
    pub fn read(path: &Path, limit: usize) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("{} (run `genuq train student` first)", path.display()))?;
        let whole = (bytes.len() / RECORD).min(limit) * RECORD;
        Ok(Self::decode(&bytes[..whole]))
    }

    /// How many whole pairs are cached at `path` for `key` (what made them: the teacher's
    /// sha256 and the settings, kept beside the cache as `path.key`). A cache made under
    /// another key, or without one, is discarded (0 pairs; the new key is written), so pairs
    /// of an old teacher never train a new student; a partial last record, left by an
    /// interrupted run, is cut off so appending continues cleanly.
    pub fn complete(path: &Path, key: &str) -> anyhow::Result<usize> {
        let key_path = path.with_extension("key");
        let same = std::fs::read_to_string(&key_path).is_ok_and(|k| k == key);
        if !same {
            if path.exists() {
                eprintln!(
                    "{}: made by another teacher or settings; starting over",
                    path.display()
                );
                std::fs::remove_file(path)
                    .with_context(|| format!("removing {}", path.display()))?;
            }
            std::fs::write(&key_path, key)
                .with_context(|| format!("writing {}", key_path.display()))?;
        }
        let Ok(meta) = std::fs::metadata(path) else {
            return Ok(0);
        };
        let whole = meta.len() / RECORD as u64;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.set_len(whole * RECORD as u64)
            .with_context(|| format!("truncating {}", path.display()))?;
        Ok(whole as usize)
    }

    /// Appends the pairs to the cache at `path`.
    pub fn append(&self, path: &Path) -> anyhow::Result<()> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(&self.encode()))
            .with_context(|| format!("appending to {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Pairs {
        Pairs {
            z: (0..2 * PIXELS).map(|i| i as f32).collect(),
            class: vec![3, 9],
            x: (0..2 * PIXELS).map(|i| -(i as f32)).collect(),
        }
    }

    #[test]
    fn records_round_trip_and_a_partial_record_is_dropped() {
        let bytes = two().encode();
        assert_eq!(bytes.len(), 2 * RECORD);
        assert_eq!(Pairs::decode(&bytes), two());
        let one = Pairs::decode(&bytes[..RECORD + 100]);
        assert_eq!((one.len(), one.class[0], one.x[5]), (1, 3, -5.0));
        let batches: Vec<_> = two().batches(1).collect();
        assert_eq!((batches.len(), batches[1].1.clone()), (2, vec![9]));
    }

    #[test]
    fn a_cut_cache_resumes_at_the_last_whole_pair() {
        let path = std::env::temp_dir().join(format!("genuq-pairs-{}.bin", std::process::id()));
        let _ = std::fs::remove_file(&path);
        assert_eq!(Pairs::complete(&path, "a").unwrap(), 0);
        two().append(&path).unwrap();
        let f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.set_len((2 * RECORD + 7) as u64).unwrap();
        assert_eq!(Pairs::complete(&path, "a").unwrap(), 2);
        assert_eq!(Pairs::read(&path, 10).unwrap(), two());
        assert_eq!(Pairs::read(&path, 1).unwrap().len(), 1);
        assert_eq!(
            Pairs::complete(&path, "b").unwrap(),
            0,
            "another teacher's pairs"
        );
        assert!(!path.exists());
        two().append(&path).unwrap();
        assert_eq!(Pairs::complete(&path, "b").unwrap(), 2);
        std::fs::remove_file(&path).unwrap();
        std::fs::remove_file(path.with_extension("key")).unwrap();
    }
}
