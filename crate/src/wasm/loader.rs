//! Fetches the model files named in `manifest.json` with progress, checks each against the
//! manifest (size and sha256), and keeps verified files in the browser's Cache API
//! (`cache.rs`), so a second visit loads nothing over the network. A cached file that fails
//! the check is fetched again. The files a first generation needs come first (by the caller's
//! requests where it made them, as the worker does while the wasm downloads); the others are
//! asked for after them.

use std::collections::HashMap;

use futures_util::FutureExt;
use futures_util::future::LocalBoxFuture;

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, ReadableStreamDefaultReader, RequestInit, Response};

use super::cache::{cached, open_cache, store};
use super::scope::{global, js};
use crate::Error;
use crate::manifest::{self, Manifest, VerifiedFile, VerifiedFiles};

/// Where loading stands, for the progress callback.
pub struct Progress<'a> {
    pub file: &'a str,
    pub loaded: u64,
    pub total: u64,
    pub cached: bool,
}

/// The sha256 of `bytes` by the browser's WebCrypto: native code, off this thread (in wasm the
/// hash of the 4 MB of models took ~25 ms of the worker's time before the first result). `None`
/// where the page has no WebCrypto.
async fn web_sha256(bytes: &[u8]) -> Option<Vec<u8>> {
    // WebCrypto copies `bytes` before it returns the promise
    let digest = global()
        .ok()?
        .subtle()?
        .digest_with_str_and_u8_array("SHA-256", bytes)
        .ok()?;
    let digest = JsFuture::from(digest).await.ok()?;
    Some(Uint8Array::new(&digest).to_vec())
}

/// `bytes` as the file `name` once they pass the manifest's check, hashed by WebCrypto where the
/// page has it, else in wasm.
async fn check(manifest: &Manifest, name: &str, bytes: Vec<u8>) -> Result<VerifiedFile, Error> {
    match web_sha256(&bytes).await {
        Some(sha256) => manifest.check_digest(name, bytes, &sha256),
        None => manifest.check(name, bytes),
    }
}

fn network(url: &str, why: impl std::fmt::Display) -> Error {
    Error::Model(format!("downloading {url} failed: {why}"))
}

/// Asks for `url` now (the request goes out when this returns); [`response`] awaits it.
fn request(url: &str) -> Result<js_sys::Promise, Error> {
    let init = RequestInit::new();
    init.set_cache(web_sys::RequestCache::NoCache);
    Ok(global()?.fetch(url, &init))
}

/// The response to the `request` for `url` (ours, or the caller's), if it is a success with a
/// body still to read.
async fn response(url: &str, request: js_sys::Promise) -> Result<Response, Error> {
    let resp: Response = JsFuture::from(request)
        .await
        .map_err(|e| network(url, js(e)))?
        .dyn_into()
        .map_err(|_| network(url, "the request gave no Response"))?;
    if resp.body_used() {
        return Err(network(url, "its Response was read already"));
    }
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

/// What [`load`] gives: the manifest's bytes and the required files, verified, and the
/// optional files still to come.
pub struct Loaded {
    pub manifest_json: Vec<u8>,
    pub required: VerifiedFiles,
    /// The optional files the manifest lists, verified: those not cached were asked for once
    /// the required files were in (so these had the bandwidth first), before `load` returned;
    /// their bytes count in no progress.
    pub optional: LocalBoxFuture<'static, Result<VerifiedFiles, Error>>,
}

/// What the caller brings to a [`load`]: files it has (e.g. the bytes another worker fetched),
/// and requests it made already (e.g. while the wasm compiled), by file name.
pub struct Given {
    pub files: HashMap<String, Vec<u8>>,
    pub requests: HashMap<String, js_sys::Promise>,
}

/// `base` (ending in `/`) + `manifest.json` (its bytes too), then each of `names`, verified,
/// with `progress` over their bytes; then, as [`Loaded::optional`], those of `optional` the
/// manifest lists. Files in `given` are used instead of fetching, once they pass the same
/// check (the manifest too, if it is there); for a file not given or cached, the request the
/// caller made for it stands in for this loader's own.
pub async fn load(
    base: &str,
    names: &[&str],
    optional: &[&str],
    given: Given,
    progress: impl FnMut(Progress),
) -> Result<Loaded, Error> {
    let base = if base.ends_with('/') {
        base.to_string()
    } else {
        format!("{base}/")
    };
    let url = format!("{base}{}", manifest::FILE);
    let raw = match given.files.get(manifest::FILE) {
        Some(bytes) => bytes.clone(),
        None => body(&url, &response(&url, request(&url)?).await?, |_| {}).await?,
    };
    let text = String::from_utf8(raw).map_err(|_| Error::Model(format!("{url} is not UTF-8")))?;
    let manifest = Manifest::parse(&text)?;
    let listed: Vec<String> = optional
        .iter()
        .filter(|n| manifest.entry(n).is_ok())
        .map(|n| n.to_string())
        .collect();
    let everything_given = names
        .iter()
        .copied()
        .chain(listed.iter().map(String::as_str))
        .all(|n| given.files.contains_key(n));
    let cache = match everything_given {
        true => None,
        false => open_cache().await,
    };
    let from = Files {
        base,
        manifest,
        given,
        cache,
    };
    // the optional files' cached copies are looked up beside the required files' reads
    let files = &from;
    let stored = listed
        .iter()
        .map(|n| async move { files.source(n).stored().await });
    let (required, stored) = futures_util::future::join(
        from.read_all(names, progress),
        futures_util::future::join_all(stored),
    )
    .await;
    Ok(Loaded {
        manifest_json: text.into_bytes(),
        required: required?,
        optional: from.ask(listed, stored),
    })
}

/// An optional file: here (handed over or cached, and verified), or asked for by its name.
enum Later {
    Here(VerifiedFile),
    Asked(String, Result<js_sys::Promise, Error>),
}

/// Where the files of one load come from.
struct Files {
    base: String,
    manifest: Manifest,
    given: Given,
    cache: Option<Cache>,
}

impl Files {
    /// Each of `names`, verified, all asked for at once (one round trip for all, not one each);
    /// `progress` adds their bytes up.
    async fn read_all(
        &self,
        names: &[&str],
        progress: impl FnMut(Progress),
    ) -> Result<VerifiedFiles, Error> {
        let mut total = 0;
        for name in names {
            total += self.manifest.entry(name)?.bytes;
        }
        let loaded = std::cell::Cell::new(0);
        let progress = std::cell::RefCell::new(progress);
        let reads = names.iter().map(|&name| {
            let source = self.source(name);
            let (loaded, progress) = (&loaded, &progress);
            async move {
                source
                    .read(|n, cached| {
                        loaded.set(loaded.get() + n);
                        (progress.borrow_mut())(Progress {
                            file: name,
                            loaded: loaded.get(),
                            total,
                            cached,
                        });
                    })
                    .await
            }
        });
        let files = futures_util::future::try_join_all(reads).await?;
        Ok(files.into_iter().collect())
    }

    /// The optional files `names` ([`Loaded::optional`]), those not `stored` asked for now,
    /// before this returns: the requests are out whatever this thread does next (a first
    /// generation holds it for a few hundred ms).
    fn ask(
        self,
        names: Vec<String>,
        stored: Vec<Option<VerifiedFile>>,
    ) -> LocalBoxFuture<'static, Result<VerifiedFiles, Error>> {
        let asked: Vec<Later> = names
            .into_iter()
            .zip(stored)
            .map(|(name, hit)| match hit {
                Some(file) => Later::Here(file),
                None => {
                    let asked = self.source(&name).request();
                    Later::Asked(name, asked)
                }
            })
            .collect();
        async move {
            let reads = asked.into_iter().map(|later| {
                let from = &self;
                async move {
                    match later {
                        Later::Here(file) => Ok(file),
                        Later::Asked(name, asked) => {
                            from.source(&name).download(asked?, |_| {}).await
                        }
                    }
                }
            });
            let files = futures_util::future::try_join_all(reads).await?;
            Ok(files.into_iter().collect())
        }
        .boxed_local()
    }

    /// Where the file `name` can come from.
    fn source<'a>(&'a self, name: &'a str) -> Source<'a> {
        Source {
            url: format!("{}{name}", self.base),
            name,
            manifest: &self.manifest,
            given: self.given.files.get(name),
            asked: self.given.requests.get(name),
            cache: self.cache.as_ref(),
        }
    }
}

/// Where one model file can come from: bytes handed over, the Cache API, or the network (by the
/// caller's request, if it made one).
struct Source<'a> {
    name: &'a str,
    url: String,
    manifest: &'a Manifest,
    given: Option<&'a Vec<u8>>,
    asked: Option<&'a js_sys::Promise>,
    cache: Option<&'a Cache>,
}

impl Source<'_> {
    /// The file, verified; `on_bytes(n, cached)` as it arrives. A handed-over or cached copy
    /// that fails the manifest's check is fetched again.
    async fn read(&self, mut on_bytes: impl FnMut(u64, bool)) -> Result<VerifiedFile, Error> {
        if let Some(file) = self.stored().await {
            on_bytes(self.manifest.entry(self.name)?.bytes, true);
            return Ok(file);
        }
        self.download(self.request()?, |n| on_bytes(n, false)).await
    }

    /// The caller's request for this file, else one asked for now.
    fn request(&self) -> Result<js_sys::Promise, Error> {
        match self.asked {
            Some(asked) => Ok(asked.clone()),
            None => request(&self.url),
        }
    }

    /// The handed-over or cached copy, if there is one and it passes the manifest's check.
    async fn stored(&self) -> Option<VerifiedFile> {
        let bytes = match (self.given, self.cache) {
            (Some(bytes), _) => bytes.clone(),
            (None, Some(c)) => cached(c, &self.url).await?,
            (None, None) => return None,
        };
        check(self.manifest, self.name, bytes).await.ok()
    }

    /// The file from the network, by the `request` made for it, verified and then cached;
    /// `on_bytes(n)` as it arrives.
    async fn download(
        &self,
        request: js_sys::Promise,
        on_bytes: impl FnMut(u64),
    ) -> Result<VerifiedFile, Error> {
        let resp = response(&self.url, request).await?;
        let bytes = body(&self.url, &resp, on_bytes).await?;
        let file = check(self.manifest, self.name, bytes).await?;
        if let Some(c) = self.cache {
            store(c, &self.url, file.bytes());
        }
        Ok(file)
    }
}
