//! The one wgpu device of the process: lavapipe/Vulkan/Metal natively, WebGPU in the browser.
//! burn's wgpu runtime can be initialised once, so the device is cached here.

use std::sync::Mutex;

use burn::tensor::Device;
use serde::Serialize;

use crate::Error;

/// What the browser or driver says about the adapter we got.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AdapterInfo {
    pub name: String,
    pub backend: String,
    pub vendor: u32,
    pub device_type: String,
    pub driver: String,
}

/// A ready wgpu device and its adapter.
#[derive(Debug, Clone)]
pub struct Gpu {
    pub device: Device,
    pub adapter: AdapterInfo,
}

static GPU: Mutex<Option<Gpu>> = Mutex::new(None);

fn adapter_info(info: burn::backend::wgpu::wgpu::AdapterInfo) -> AdapterInfo {
    AdapterInfo {
        name: info.name,
        backend: info.backend.to_string(),
        vendor: info.vendor,
        device_type: format!("{:?}", info.device_type),
        driver: format!("{} {}", info.driver, info.driver_info)
            .trim()
            .to_string(),
    }
}

#[cfg(target_arch = "wasm32")]
fn cached() -> Option<Gpu> {
    GPU.lock().ok().and_then(|g| g.clone())
}

#[cfg(target_arch = "wasm32")]
fn store(gpu: Gpu) -> Gpu {
    let mut slot = GPU.lock().unwrap_or_else(|e| e.into_inner());
    slot.get_or_insert(gpu).clone()
}

/// The process's wgpu device, initialised on first use (native: blocking).
#[cfg(not(target_arch = "wasm32"))]
pub fn gpu() -> Result<Gpu, Error> {
    let mut slot = GPU.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(gpu) = slot.as_ref() {
        return Ok(gpu.clone());
    }
    let (device, setup) = Device::wgpu_options()
        .init_with_setup()
        .map_err(|e| Error::Device(format!("no wgpu adapter: {e}")))?;
    let gpu = Gpu {
        device,
        adapter: adapter_info(setup.adapter.get_info()),
    };
    *slot = Some(gpu.clone());
    Ok(gpu)
}

/// The process's wgpu device, initialised on first use (the only way in a browser).
pub async fn gpu_async() -> Result<Gpu, Error> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        gpu()
    }
    #[cfg(target_arch = "wasm32")]
    {
        if let Some(gpu) = cached() {
            return Ok(gpu);
        }
        let (device, setup) = Device::wgpu_options()
            .init_with_setup_async()
            .await
            .map_err(|e| Error::Device(format!("no WebGPU adapter: {e}")))?;
        Ok(store(Gpu {
            device,
            adapter: adapter_info(setup.adapter.get_info()),
        }))
    }
}
