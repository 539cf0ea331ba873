//! Fetches the model files named in `manifest.json` with progress, checks each against the
//! manifest (size and sha256), and keeps verified files in the browser's Cache API, so a second
//! visit loads nothing over the network. A cached file that fails the check is fetched again.

use std::collections::HashMap;

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, ReadableStreamDefaultReader, RequestInit, Response};

use crate::Error;
use crate::manifest::Manifest;

/// Cache API bucket; the manifest's hashes decide whether an entry is still good.
const CACHE: &str = "genuq-models";

/// Where loading stands, for the progress callback.
pub struct Progress<'a> {
    pub file: &'a str,
    pub loaded: u64,
    pub total: u64,
    pub cached: bool,
}

fn global() -> Result<web_sys::Window, Error> {
    web_sys::window().ok_or_else(|| Error::Device("genuq needs a browser window".into()))
}

fn js(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

fn network(url: &str, why: impl std::fmt::Display) -> Error {
    Error::Model(format!("downloading {url} failed: {why}"))
}

async fn fetch(url: &str) -> Result<Response, Error> {
    let init = RequestInit::new();
    init.set_cache(web_sys::RequestCache::NoCache);
    let resp: Response = JsFuture::from(global()?.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|e| network(url, js(e)))?
        .unchecked_into();
    if !resp.ok() {
        return Err(network(
            url,
            format!("HTTP {} {}", resp.status(), resp.status_text()),
        ));
    }
    Ok(resp)
}

/// The whole body, reporting bytes as they arrive.
async fn body(url: &str, resp: &Response, mut on_bytes: impl FnMut(u64)) -> Result<Vec<u8>, Error> {
    let Some(stream) = resp.body() else {
        return Ok(Vec::new());
    };
    let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read())
            .await
            .map_err(|e| network(url, js(e)))?;
        let done = Reflect::get(&chunk, &"done".into()).map_err(|e| network(url, js(e)))?;
        if done.is_truthy() {
            return Ok(bytes);
        }
        let value: Uint8Array = Reflect::get(&chunk, &"value".into())
            .map_err(|e| network(url, js(e)))?
            .unchecked_into();
        bytes.extend(value.to_vec());
        on_bytes(value.length() as u64);
    }
}

async fn open_cache() -> Option<Cache> {
    // Only in secure contexts (https, localhost); without it genuq just fetches every time.
    let caches = global().ok()?.caches().ok()?;
    JsFuture::from(caches.open(CACHE))
        .await
        .ok()
        .map(|c| c.unchecked_into())
}

async fn cached(cache: &Cache, url: &str) -> Option<Vec<u8>> {
    let hit = JsFuture::from(cache.match_with_str(url)).await.ok()?;
    let resp: Response = hit.dyn_into().ok()?;
    let buf = JsFuture::from(resp.array_buffer().ok()?).await.ok()?;
    Some(Uint8Array::new(&buf).to_vec())
}

async fn store(cache: &Cache, url: &str, bytes: &[u8]) {
    let copy = Uint8Array::from(bytes);
    if let Ok(resp) = Response::new_with_opt_buffer_source(Some(&copy)) {
        // A full quota or a private window only costs the next visit a download.
        let _ = JsFuture::from(cache.put_with_str(url, &resp)).await;
    }
}

/// `base` (ending in `/`) + `manifest.json`, then each of `names`, verified.
pub async fn load(
    base: &str,
    names: &[&str],
    optional: &[&str],
    mut progress: impl FnMut(Progress),
) -> Result<(Manifest, HashMap<String, Vec<u8>>), Error> {
    let base = if base.ends_with('/') {
        base.to_string()
    } else {
        format!("{base}/")
    };
    let url = format!("{base}manifest.json");
    let resp = fetch(&url).await?;
    let text = String::from_utf8(body(&url, &resp, |_| {}).await?)
        .map_err(|_| Error::Model(format!("{url} is not UTF-8")))?;
    let manifest = Manifest::parse(&text)?;
    let wanted: Vec<&str> = names
        .iter()
        .copied()
        .chain(
            optional
                .iter()
                .copied()
                .filter(|n| manifest.entry(n).is_ok()),
        )
        .collect();
    let mut total = 0;
    for name in &wanted {
        total += manifest.entry(name)?.bytes;
    }
    let cache = open_cache().await;
    let mut loaded = 0;
    let mut files = HashMap::new();
    for name in wanted {
        let url = format!("{base}{name}");
        let hit = match &cache {
            Some(c) => cached(c, &url)
                .await
                .filter(|b| manifest.verify(name, b).is_ok()),
            None => None,
        };
        let bytes = match hit {
            Some(bytes) => {
                loaded += bytes.len() as u64;
                progress(Progress {
                    file: name,
                    loaded,
                    total,
                    cached: true,
                });
                bytes
            }
            None => {
                let resp = fetch(&url).await?;
                let bytes = body(&url, &resp, |n| {
                    loaded += n;
                    progress(Progress {
                        file: name,
                        loaded,
                        total,
                        cached: false,
                    });
                })
                .await?;
                manifest.verify(name, &bytes)?;
                if let Some(c) = &cache {
                    store(c, &url, &bytes).await;
                }
                bytes
            }
        };
        files.insert(name.to_string(), bytes);
    }
    Ok((manifest, files))
}
