//! Model weights as safetensors bytes (burn-store): the same loader natively and in wasm, with
//! clear errors for truncated, corrupt or mismatched files.

use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};

use crate::Error;

/// Loads `bytes` (a safetensors file) into `module`, which must match it tensor for tensor.
pub fn load<M: Module + ModuleSnapshot>(
    mut module: M,
    bytes: Vec<u8>,
    what: &str,
) -> Result<M, Error> {
    let mut store = SafetensorsStore::from_bytes(Some(bytes)).validate(true);
    let result = module
        .load_from(&mut store)
        .map_err(|e| Error::Model(format!("{what}: not a readable safetensors file ({e})")))?;
    if !result.errors.is_empty() {
        let list: Vec<String> = result.errors.iter().map(|e| format!("{e:?}")).collect();
        return Err(Error::Model(format!("{what}: {}", list.join("; "))));
    }
    if !result.missing.is_empty() {
        let list: Vec<&str> = result.missing.iter().map(|(p, _)| p.as_str()).collect();
        return Err(Error::Model(format!(
            "{what}: missing tensors {}",
            list.join(", ")
        )));
    }
    if !result.unused.is_empty() {
        return Err(Error::Model(format!(
            "{what}: unexpected tensors {} (a file for another model?)",
            result.unused.join(", ")
        )));
    }
    Ok(module)
}

/// The module's weights as safetensors bytes.
pub fn save<M: Module + ModuleSnapshot>(module: &M) -> Result<Vec<u8>, Error> {
    let mut store = SafetensorsStore::from_bytes(None);
    module
        .save_into(&mut store)
        .map_err(|e| Error::Model(format!("cannot serialise weights: {e}")))?;
    store
        .get_bytes()
        .map_err(|e| Error::Model(format!("cannot serialise weights: {e}")))
}
