//! Chooses the compute device once, at the edge, from a user's word (`cpu` or `cuda`).

use candle_core::Device;

use crate::nas::error::{NasError, Result};

/// Which device the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    Cpu,
    Cuda,
}

impl DeviceChoice {
    pub fn parse(word: &str) -> Result<Self> {
        match word {
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda),
            other => Err(NasError::Config(format!(
                "device: expected `cpu` or `cuda`, got `{other}`"
            ))),
        }
    }

    /// Opens the device; CUDA needs the `cuda` feature and a GPU.
    pub fn open(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Cuda => open_cuda(),
        }
    }
}

#[cfg(feature = "cuda")]
fn open_cuda() -> Result<Device> {
    Device::new_cuda(0).map_err(|e| NasError::Device(format!("cannot open CUDA device 0: {e}")))
}

#[cfg(not(feature = "cuda"))]
fn open_cuda() -> Result<Device> {
    Err(NasError::Device(
        "this binary was built without the `cuda` feature; rebuild with `--features cuda` \
         (see ../shared/cuda/README.md) or use `--device cpu`"
            .into(),
    ))
}

/// A short human name for a device, for logs and reports.
pub fn describe(device: &Device) -> &'static str {
    match device {
        Device::Cpu => "cpu",
        Device::Cuda(_) => "cuda",
        Device::Metal(_) => "metal",
    }
}
