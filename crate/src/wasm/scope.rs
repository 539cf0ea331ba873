//! The JS global the wasm runs in (a page's window or a Web Worker's scope): its fetch, Cache
//! API and WebCrypto, and a thrown JS value as text. What the loader and the model cache share.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use web_sys::{RequestInit, SubtleCrypto};

use crate::Error;

/// The page's window or, in a Web Worker, the worker's scope: both fetch and cache.
pub enum Scope {
    Window(web_sys::Window),
    Worker(web_sys::WorkerGlobalScope),
}

/// The global this wasm runs in; an error anywhere but a window or a Web Worker.
pub fn global() -> Result<Scope, Error> {
    let g = js_sys::global();
    if let Some(w) = g.dyn_ref::<web_sys::Window>() {
        return Ok(Scope::Window(w.clone()));
    }
    g.dyn_into::<web_sys::WorkerGlobalScope>()
        .map(Scope::Worker)
        .map_err(|_| Error::Device("genuq needs a browser window or a Web Worker".into()))
}

impl Scope {
    pub fn fetch(&self, url: &str, init: &RequestInit) -> js_sys::Promise {
        match self {
            Scope::Window(w) => w.fetch_with_str_and_init(url, init),
            Scope::Worker(w) => w.fetch_with_str_and_init(url, init),
        }
    }

    pub fn caches(&self) -> Result<web_sys::CacheStorage, JsValue> {
        match self {
            Scope::Window(w) => w.caches(),
            Scope::Worker(w) => w.caches(),
        }
    }

    /// WebCrypto's digests; `None` outside a secure context (plain http away from localhost).
    pub fn subtle(&self) -> Option<SubtleCrypto> {
        let crypto = match self {
            Scope::Window(w) => w.crypto().ok()?,
            Scope::Worker(w) => w.crypto().ok()?,
        };
        Reflect::get(&crypto, &"subtle".into())
            .ok()?
            .dyn_into()
            .ok()
    }
}

/// A thrown JS value (an `Error`, a string, anything) as text.
pub fn js(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| format!("{e:?}"))
}
