//! The one wgpu device of the process: lavapipe/Vulkan/Metal natively, WebGPU in the browser.
//! burn's wgpu runtime can be initialised once, so the device is cached here. Beside it, the
//! CPU path ([`cpu`]): burn's `flex` backend, where the kernels run their Rust twins.

use std::sync::Mutex;

use burn::tensor::Device;
use serde::Serialize;

use crate::Error;

/// What the browser or driver says about the adapter we got, and which compute path that is.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(target_arch = "wasm32", derive(tsify::Tsify))]
#[serde(rename_all = "camelCase")]
pub struct AdapterInfo {
    pub name: String,
    pub backend: String,
    pub vendor: u32,
    pub device_type: String,
    pub driver: String,
    /// `"webgpu"` (our WGSL kernels on the adapter) or `"cpu"` (burn flex and the twins).
    #[cfg_attr(target_arch = "wasm32", tsify(type = "\"webgpu\" | \"cpu\""))]
    pub compute: String,
    /// Why this path was taken (e.g. the only adapter is a software one).
    pub reason: String,
}

/// Does an adapter's name say it is a CPU-emulated GPU (SwiftShader, llvmpipe/lavapipe, WARP)?
pub fn is_software_name(name: &str) -> bool {
    let name = name.to_lowercase();
    [
        "swiftshader",
        "llvmpipe",
        "lavapipe",
        "software",
        "basic render",
    ]
    .iter()
    .any(|s| name.contains(s))
}

impl AdapterInfo {
    /// A CPU-emulated GPU: on such an adapter the CPU path is faster.
    pub fn is_software(&self) -> bool {
        self.device_type == "Cpu" || is_software_name(&format!("{} {}", self.name, self.driver))
    }
}

/// Where the pipeline runs, as a caller asks for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(not(target_arch = "wasm32"), derive(clap::ValueEnum))]
pub enum Compute {
    /// WebGPU (natively: wgpu) on a hardware adapter, else the CPU.
    #[default]
    Auto,
    /// Our WGSL kernels on the wgpu adapter, whatever it is.
    #[cfg_attr(not(target_arch = "wasm32"), value(name = "webgpu"))]
    WebGpu,
    /// burn flex and the kernels' Rust twins.
    Cpu,
}

impl Compute {
    /// By name: `auto`, `webgpu` or `cpu`.
    pub fn parse(name: &str) -> Result<Self, Error> {
        match name {
            "auto" => Ok(Self::Auto),
            "webgpu" => Ok(Self::WebGpu),
            "cpu" => Ok(Self::Cpu),
            other => Err(Error::InvalidInput(format!(
                "compute: {other:?} is not \"auto\", \"webgpu\" or \"cpu\""
            ))),
        }
    }
}

/// The CPU path: burn's `flex` device (in a browser: wasm SIMD128 on one thread), described as
/// an adapter, with the reason it was picked.
pub fn cpu(reason: impl Into<String>) -> Gpu {
    let threads = match cfg!(target_arch = "wasm32") {
        true => "wasm SIMD128, one thread",
        false => "native SIMD, rayon threads",
    };
    Gpu {
        device: Device::flex(),
        adapter: AdapterInfo {
            name: "CPU (burn flex)".into(),
            backend: "cpu".into(),
            vendor: 0,
            device_type: "Cpu".into(),
            driver: threads.into(),
            compute: "cpu".into(),
            reason: reason.into(),
        },
    }
}

/// A ready device (wgpu, or the CPU path's flex) and its adapter.
#[derive(Debug, Clone)]
pub struct Gpu {
    pub device: Device,
    pub adapter: AdapterInfo,
}

impl Gpu {
    /// The same device, with the reason it was picked.
    pub fn because(mut self, reason: impl Into<String>) -> Self {
        self.adapter.reason = reason.into();
        self
    }
}

static GPU: Mutex<Option<Gpu>> = Mutex::new(None);

#[cfg(feature = "webgpu")]
fn adapter_info(info: burn::backend::wgpu::wgpu::AdapterInfo) -> AdapterInfo {
    AdapterInfo {
        name: info.name,
        backend: info.backend.to_string(),
        vendor: info.vendor,
        device_type: format!("{:?}", info.device_type),
        driver: format!("{} {}", info.driver, info.driver_info)
            .trim()
            .to_string(),
        compute: "webgpu".into(),
        reason: String::new(),
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
    let gpu = init()?;
    *slot = Some(gpu.clone());
    Ok(gpu)
}

/// A fresh wgpu device and its adapter (blocking).
#[cfg(all(feature = "webgpu", not(target_arch = "wasm32")))]
fn init() -> Result<Gpu, Error> {
    let (device, setup) = Device::wgpu_options()
        .init_with_setup()
        .map_err(|e| Error::Device(format!("no wgpu adapter: {e}")))?;
    Ok(Gpu {
        device,
        adapter: adapter_info(setup.adapter.get_info()),
    })
}

/// The device `compute` asks for, natively: `Auto` takes the wgpu adapter unless it is a
/// software one (lavapipe) or missing, else the CPU path.
#[cfg(not(target_arch = "wasm32"))]
pub fn native(compute: Compute) -> Result<Gpu, Error> {
    match compute {
        Compute::Cpu => Ok(cpu("asked for the CPU path")),
        Compute::WebGpu => Ok(gpu()?.because("asked for wgpu")),
        Compute::Auto => match gpu() {
            Ok(g) if !g.adapter.is_software() => Ok(g.because("a hardware adapter")),
            Ok(g) => Ok(cpu(format!(
                "the wgpu adapter ({}) is a software one, slower than the CPU path",
                g.adapter.name
            ))),
            Err(e) => Ok(cpu(format!("no wgpu adapter ({e})"))),
        },
    }
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
        Ok(store(init().await?))
    }
}

/// A fresh WebGPU device and its adapter.
#[cfg(all(feature = "webgpu", target_arch = "wasm32"))]
async fn init() -> Result<Gpu, Error> {
    let (device, setup) = Device::wgpu_options()
        .init_with_setup_async()
        .await
        .map_err(|e| Error::Device(format!("no WebGPU adapter: {e}")))?;
    Ok(Gpu {
        device,
        adapter: adapter_info(setup.adapter.get_info()),
    })
}

/// Why a build without the `webgpu` feature (the CPU path alone) has no wgpu device.
#[cfg(not(feature = "webgpu"))]
pub(crate) fn cpu_only() -> Error {
    Error::Device(
        "this build of genuq is the CPU path alone (built without the `webgpu` feature)".into(),
    )
}

#[cfg(all(not(feature = "webgpu"), not(target_arch = "wasm32")))]
fn init() -> Result<Gpu, Error> {
    Err(cpu_only())
}

#[cfg(all(not(feature = "webgpu"), target_arch = "wasm32"))]
async fn init() -> Result<Gpu, Error> {
    Err(cpu_only())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_adapters_are_told_from_hardware_ones() {
        for name in [
            "google swiftshader",
            "llvmpipe (LLVM 15.0.6, 256 bits)",
            "Microsoft Basic Render Driver",
        ] {
            assert!(is_software_name(name), "{name}");
        }
        for name in [
            "NVIDIA GeForce RTX 4090",
            "apple metal-3 Apple M2",
            "AMD Radeon RX 7900",
        ] {
            assert!(!is_software_name(name), "{name}");
        }
        assert!(cpu("test").adapter.is_software());
    }

    #[test]
    fn compute_paths_parse_by_name_only() {
        assert_eq!(Compute::parse("cpu").unwrap(), Compute::Cpu);
        assert_eq!(Compute::parse("webgpu").unwrap(), Compute::WebGpu);
        let err = Compute::parse("GPU").unwrap_err().to_string();
        assert!(err.contains("\"GPU\" is not"), "{err}");
    }
}
