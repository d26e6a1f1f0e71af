//! Our ops' CUDA kernels (`kernels.cu`, compiled to PTX by build.rs and embedded here), wired in
//! as candle CustomOps with `cuda_fwd`: fused batch norm + ReLU (`bn.rs`), max/avg pooling
//! (`pool.rs`), depthwise conv (`dw.rs`) and softmax cross-entropy (`cross_entropy.rs`), forward
//! and backward, and the SGD step (`sgd.rs`), f32 and f64; and the dense conv through cuDNN
//! (`cudnn_conv.rs`: forward, input and weight gradients via cudarc's cuDNN API, its handles,
//! descriptors and algorithms cached per thread, device and shape in `cudnn_plan.rs`). Only
//! built with the `cuda` feature; the ops pick this path on a CUDA device unless
//! `NAS_CUDA_KERNELS=0` asks for candle's op compositions (and candle's conv2d).

pub mod bn;
pub mod cross_entropy;
pub mod cudnn_conv;
mod cudnn_plan;
pub mod dw;
pub mod pool;
pub mod sgd;

use std::sync::OnceLock;

use candle_core::backend::BackendStorage;
use std::sync::Arc;

use candle_core::cuda_backend::{CudaDType, CudaDevice, CudaStorage, WrapErr};
use candle_core::{bail, DType, Device, Layout, Result, WithDType};
use cudarc::driver::{
    CudaFunction, CudaSlice, CudaStream, CudaView, DeviceRepr, LaunchArgs, LaunchConfig,
    ValidAsZeroBits,
};

/// The PTX nvcc made from kernels.cu (build.rs).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/nas_kernels.ptx"));
/// The name candle caches the loaded module under (one per device).
const MODULE: &str = "nas_navigator_kernels";
/// Threads per block for every kernel (a multiple of the warp size, as block_sum needs).
pub(crate) const BLOCK: u32 = 256;

/// Whether our kernels serve tensors on `device`: a CUDA device, unless the environment
/// variable NAS_CUDA_KERNELS is `0` (read once), which keeps candle's op compositions for
/// comparison runs.
pub fn active(device: &Device) -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    device.is_cuda() && *ON.get_or_init(|| std::env::var("NAS_CUDA_KERNELS").as_deref() != Ok("0"))
}

/// Element types the kernels exist for, with the suffix of their PTX names.
pub(crate) trait Kern: CudaDType + DeviceRepr + ValidAsZeroBits + WithDType + Copy {
    const SUFFIX: &'static str;
}

impl Kern for f32 {
    const SUFFIX: &'static str = "f32";
}

impl Kern for f64 {
    const SUFFIX: &'static str = "f64";
}

/// Which kernel element type a storage holds; only f32 and f64 are supported, as on the CPU.
/// What every CUDA-only op answers when candle hands it CPU tensors (the CPU has its own ops).
pub(crate) fn cpu_only<T>(name: &str) -> Result<T> {
    bail!("{name}: a CUDA-only op was given CPU tensors (the CPU path has its own op)")
}

/// The `cpu_fwd` of a CUDA-only op with 1, 2 or 3 inputs (candle's op traits require one):
/// [`cpu_only`]'s error, naming the op.
macro_rules! cpu_fwd_is_cuda_only {
    (1) => {
        fn cpu_fwd(&self, _: &CpuStorage, _: &Layout) -> Result<(CpuStorage, Shape)> {
            cpu_only(self.name())
        }
    };
    (2) => {
        fn cpu_fwd(
            &self,
            _: &CpuStorage,
            _: &Layout,
            _: &CpuStorage,
            _: &Layout,
        ) -> Result<(CpuStorage, Shape)> {
            cpu_only(self.name())
        }
    };
    (3) => {
        fn cpu_fwd(
            &self,
            _: &CpuStorage,
            _: &Layout,
            _: &CpuStorage,
            _: &Layout,
            _: &CpuStorage,
            _: &Layout,
        ) -> Result<(CpuStorage, Shape)> {
            cpu_only(self.name())
        }
    };
}
pub(crate) use cpu_fwd_is_cuda_only;

pub(crate) fn kind(op: &str, dtypes: &[DType]) -> Result<DType> {
    match dtypes {
        [first, rest @ ..] if rest.iter().all(|d| d == first) => match first {
            DType::F32 | DType::F64 => Ok(*first),
            d => bail!("{op}: only f32 and f64 are supported, got {d:?}"),
        },
        _ => bail!("{op}: operands must share one dtype, got {dtypes:?}"),
    }
}

/// The contiguous part of a storage that a layout covers.
pub(crate) fn view<'a, T: Kern>(s: &'a CudaStorage, l: &Layout) -> Result<CudaView<'a, T>> {
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(s.as_cuda_slice::<T>()?.slice(a..b)),
        None => bail!("custom op operands must be contiguous"),
    }
}

/// A device buffer of `len` zeros.
pub(crate) fn zeros<T: Kern>(dev: &CudaDevice, len: usize) -> Result<CudaSlice<T>> {
    dev.alloc_zeros::<T>(len.max(1))
}

/// Wraps a kernel's output as candle storage.
pub(crate) fn wrap<T: Kern>(slice: CudaSlice<T>, dev: &CudaDevice) -> CudaStorage {
    CudaStorage::wrap_cuda_slice(slice, dev.clone())
}

/// The device of a storage.
pub(crate) fn device(s: &CudaStorage) -> &CudaDevice {
    s.device()
}

/// A dimension as the kernels' `int`.
pub(crate) fn int(op: &str, v: usize) -> Result<i32> {
    i32::try_from(v).map_err(|_| candle_core::Error::Msg(format!("{op}: size {v} exceeds i32")))
}

/// Kernel `name`_`T::SUFFIX` (its module loaded once per device), on candle's stream: push its
/// arguments with `.builder().arg(..)`, in the order and of the types kernels.cu declares, then
/// call `go`.
pub(crate) fn kernel<T: Kern>(dev: &CudaDevice, name: &str) -> Result<Kernel> {
    let func = dev.get_or_load_custom_func(&format!("{name}_{}", T::SUFFIX), MODULE, PTX)?;
    Ok(Kernel {
        func: func.into_cuda_function(),
        stream: dev.cuda_stream(),
    })
}

/// A loaded kernel and candle's stream to launch it on.
pub(crate) struct Kernel {
    func: CudaFunction,
    stream: Arc<CudaStream>,
}

impl Kernel {
    /// An empty argument list for one launch.
    pub(crate) fn builder(&self) -> LaunchArgs<'_> {
        self.stream.launch_builder(&self.func)
    }
}

/// Launches a kernel whose arguments are pushed; no launch when `cfg` is None (no work).
/// Callers push exactly the arguments their kernel declares, with buffers sized for the grid.
pub(crate) fn go(mut args: LaunchArgs<'_>, cfg: Option<LaunchConfig>) -> Result<()> {
    if let Some(cfg) = cfg {
        // SAFETY: the argument list matches the kernel's signature (see the callers, which
        // mirror kernels.cu), and every buffer covers the elements the grid touches.
        unsafe { args.launch(cfg) }.w()?;
    }
    Ok(())
}

/// One block of BLOCK threads per item (per channel, for the reductions).
pub(crate) fn per_item(items: usize) -> Result<Option<LaunchConfig>> {
    if items == 0 {
        return Ok(None);
    }
    Ok(Some(LaunchConfig {
        grid_dim: (u32::try_from(items).map_err(too_big)?, 1, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    }))
}

/// Blocks of BLOCK threads over `planes` x `hw`: x indexes planes, y chunks of a plane.
pub(crate) fn per_plane(planes: usize, hw: usize) -> Result<Option<LaunchConfig>> {
    if planes == 0 || hw == 0 {
        return Ok(None);
    }
    let chunks = hw.div_ceil(BLOCK as usize).min(65_535) as u32;
    Ok(Some(LaunchConfig {
        grid_dim: (u32::try_from(planes).map_err(too_big)?, chunks, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    }))
}

/// A grid-stride launch over `total` elements.
pub(crate) fn flat(total: usize) -> Option<LaunchConfig> {
    if total == 0 {
        return None;
    }
    let blocks = total.div_ceil(BLOCK as usize).min(1 << 20) as u32;
    Some(LaunchConfig {
        grid_dim: (blocks, 1, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    })
}

fn too_big(_: std::num::TryFromIntError) -> candle_core::Error {
    candle_core::Error::Msg("CUDA op: grid larger than u32".into())
}
