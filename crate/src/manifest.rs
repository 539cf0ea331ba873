//! `models/manifest.json`: every model file with its size, sha256 and what it is, plus the
//! measured metrics. Loading checks a file against it before using a byte of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;

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
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
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
        let entry = self.entry(name)?;
        if bytes.len() as u64 != entry.bytes {
            return Err(Error::Model(format!(
                "{name}: {} bytes, the manifest says {} (truncated or wrong file)",
                bytes.len(),
                entry.bytes
            )));
        }
        let sha = sha256_hex(bytes);
        if sha != entry.sha256 {
            return Err(Error::Model(format!(
                "{name}: sha256 {sha} does not match the manifest's {} (corrupt or from another version)",
                entry.sha256
            )));
        }
        Ok(())
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
}
