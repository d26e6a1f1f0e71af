//! Chooses the compute device once, at the edge, from a user's word (`cpu`, `cuda` or `auto`), and
//! tunes the process's allocator for CPU tensor work (and, on CUDA, the device's memory pool).

use candle_core::Device;

use crate::nas::error::{NasError, Result};

/// Which device the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    Cpu,
    Cuda,
    /// CUDA device 0 when the binary has the `cuda` feature and a GPU opens, else the CPU.
    Auto,
}

impl DeviceChoice {
    pub fn parse(word: &str) -> Result<Self> {
        match word {
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda),
            "auto" => Ok(Self::Auto),
            other => Err(NasError::Config(format!(
                "device: expected `cpu`, `cuda` or `auto`, got `{other}`"
            ))),
        }
    }

    /// Opens the device; CUDA needs the `cuda` feature and a GPU.
    pub fn open(self) -> Result<Device> {
        match self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Cuda => open_cuda(),
            Self::Auto => Ok(open_cuda().unwrap_or(Device::Cpu)),
        }
    }
}

#[cfg(feature = "cuda")]
fn open_cuda() -> Result<Device> {
    let device = Device::new_cuda(0)
        .map_err(|e| NasError::Device(format!("cannot open CUDA device 0: {e}")))?;
    if let Device::Cuda(cuda) = &device {
        keep_freed_gpu_memory(cuda)?;
    }
    Ok(device)
}

/// Lets the device's memory pool keep what candle frees. candle 0.11.1 allocates through
/// cudarc's stream, which uses the stream-ordered allocator (`cuMemAllocAsync`, freed with
/// `cuMemFreeAsync`) wherever the device has memory pools; by default such a pool hands
/// every freed byte back to the driver at each synchronisation, so the next step maps it
/// again. A release threshold of u64::MAX keeps it (it is still reused by later
/// allocations, and the driver reclaims it when the process ends). Nothing to do on a
/// device without memory pools, where cudarc allocates with `cuMemAlloc`.
#[cfg(feature = "cuda")]
fn keep_freed_gpu_memory(cuda: &candle_core::CudaDevice) -> Result<()> {
    use cudarc::driver::{result, sys};
    let stream = cuda.cuda_stream();
    let context = stream.context();
    if !context.has_async_alloc() {
        return Ok(());
    }
    let failed = |e: cudarc::driver::DriverError| {
        NasError::Device(format!(
            "cannot set the CUDA memory pool's release threshold: {e}"
        ))
    };
    context.bind_to_thread().map_err(failed)?;
    let mut threshold_bytes: u64 = u64::MAX;
    // SAFETY: the device comes from the live context candle opened; the pool is the one
    // cuMemAllocAsync draws from on that device (its current pool), and the release
    // threshold attribute takes a u64 (cuuint64_t), which `threshold_bytes` is.
    unsafe {
        let pool = result::device::get_mem_pool(context.cu_device()).map_err(failed)?;
        result::mem_pool::set_attribute(
            pool,
            sys::CUmemPool_attribute::CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
            (&mut threshold_bytes as *mut u64).cast(),
        )
        .map_err(failed)
    }
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

/// Keeps freed tensor buffers in the heap instead of handing them back to the kernel: glibc
/// serves blocks above 128 KiB with fresh `mmap`s by default and trims the heap top eagerly,
/// so every op's output page-faults its pages in again (a fifth of a CPU training step went
/// to page faults). One arena for all threads: the engine's tensors are made on rayon's
/// workers (`workers::on_workers`), and with an arena per thread each kept its own freed
/// memory (the README's round peaked at 523 MB instead of 260 MB, and was no faster). Call
/// once at start, before threads allocate. Returns whether glibc took every setting (false off
/// glibc, where it does nothing).
pub fn tune_allocator() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before other threads run.
    unsafe {
        // 32 MiB is glibc's cap for the mmap threshold on 64-bit targets.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20) == 1
            && libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20) == 1
            && libc::mallopt(libc::M_TOP_PAD, 64 << 20) == 1
            && libc::mallopt(libc::M_ARENA_MAX, 1) == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

/// Runs candle's element-wise CPU ops on the calling thread (`CANDLE_NUM_THREADS=1`) unless
/// the user set that variable. Above 64K elements candle splits them over its own
/// barrier pool, whose extra threads spin beside rayon's; in training those ops are mostly
/// the gradient sums of backprop (a zero tensor plus one add per gradient) and are memory
/// bound, so a second thread gains little, and on shared cores the caller spun on the barrier
/// for about a quarter of a step (docs/perf-cpu-train.md). Our own ops and gemm keep rayon's
/// threads. Results do not change: those ops are element by element. Call once at start,
/// before other threads run. Returns whether it set the variable.
pub fn inline_elementwise() -> bool {
    if std::env::var_os("CANDLE_NUM_THREADS").is_some() {
        return false;
    }
    std::env::set_var("CANDLE_NUM_THREADS", "1");
    true
}

#[cfg(test)]
mod tests {
    #[cfg(not(feature = "cuda"))]
    use super::DeviceChoice;

    /// Without the `cuda` feature `auto` is the CPU, and `cuda` says how to get it.
    #[test]
    #[cfg(not(feature = "cuda"))]
    fn auto_falls_back_to_the_cpu_and_cuda_explains_itself() {
        let auto = DeviceChoice::parse("auto").unwrap().open().unwrap();
        assert_eq!(super::describe(&auto), "cpu");
        let err = DeviceChoice::parse("cuda").unwrap().open().unwrap_err();
        assert!(err.to_string().contains("--features cuda"), "{err}");
        assert!(DeviceChoice::parse("tpu")
            .unwrap_err()
            .to_string()
            .contains("auto"));
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn glibc_takes_every_allocator_setting() {
        assert!(super::tune_allocator());
    }
}
