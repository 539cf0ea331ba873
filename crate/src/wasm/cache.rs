//! The browser's Cache API bucket of verified model files: a second visit loads nothing over
//! the network. The loader checks every copy read back against the manifest.

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, Response};

use super::scope::{global, js};
use crate::Error;

/// Cache API bucket; the manifest's hashes decide whether an entry is still good.
const CACHE: &str = "genuq-models";

/// genuq's bucket, where the page has the Cache API.
pub async fn open_cache() -> Option<Cache> {
    // Only in secure contexts (https, localhost); without it genuq just fetches every time.
    let caches = global().ok()?.caches().ok()?;
    JsFuture::from(caches.open(CACHE))
        .await
        .ok()
        .map(|c| c.unchecked_into())
}

/// The bytes kept under `url`, if any (not yet checked).
pub async fn cached(cache: &Cache, url: &str) -> Option<Vec<u8>> {
    let hit = JsFuture::from(cache.match_with_str(url)).await.ok()?;
    let resp: Response = hit.dyn_into().ok()?;
    let buf = JsFuture::from(resp.array_buffer().ok()?).await.ok()?;
    Some(Uint8Array::new(&buf).to_vec())
}

/// Keeps `bytes` in the cache under `url`, in the background: the load does not wait for the
/// browser to write them. A full quota (`QuotaExceededError`) or a private window only costs the
/// next visit a download: the file is used from memory, with a console note that says so.
pub fn store(cache: &Cache, url: &str, bytes: &[u8]) {
    let (cache, url, copy) = (cache.clone(), url.to_string(), Uint8Array::from(bytes));
    wasm_bindgen_futures::spawn_local(async move {
        let put = match Response::new_with_opt_buffer_source(Some(&copy)) {
            Ok(resp) => JsFuture::from(cache.put_with_str(&url, &resp))
                .await
                .map(drop),
            Err(e) => Err(e),
        };
        if let Err(e) = put {
            web_sys::console::warn_1(&not_cached(&url, &e).into());
        }
    });
}

/// The console note of a file the cache refused, with the browser's reason (e.g.
/// `QuotaExceededError: ...`).
fn not_cached(url: &str, e: &JsValue) -> String {
    let name = Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string());
    let why = match name {
        Some(n) => format!("{n}: {}", js(e.clone())),
        None => js(e.clone()),
    };
    format!(
        "genuq: {url} is not kept in the browser's cache ({why}); it is used from memory and the \
         next visit downloads it again (clearCache() frees what genuq cached)"
    )
}

/// Deletes genuq's cached model files (the Cache API bucket); models already loaded stay in
/// memory. True when there was a cache to delete; false where the page has no Cache API.
pub async fn clear_cache() -> Result<bool, Error> {
    let Ok(caches) = global()?.caches() else {
        return Ok(false);
    };
    let done = JsFuture::from(caches.delete(CACHE))
        .await
        .map_err(|e| Error::Device(format!("clearing the model cache: {}", js(e))))?;
    Ok(done.as_bool().unwrap_or(false))
}
