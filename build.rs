//! Build script: with the `cuda` feature, compiles src/nas/ops/cuda/kernels.cu (which includes
//! the .cuh files beside it) to PTX with nvcc ($NVCC, else $CUDA_HOME/bin/nvcc, else nvcc on
//! PATH) for compute capability $CUDA_COMPUTE_CAP (default 90, H100) into
//! $OUT_DIR/nas_kernels.ptx, which src/nas/ops/cuda/mod.rs embeds. Without the feature it does
//! nothing.
//! The driver JIT-compiles the PTX; it rejects PTX newer than itself, so build with a toolkit no
//! newer than the GPU driver's CUDA version (.ci/cuda-env.sh pins 13.0.2 for driver R580).

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const SOURCE: &str = "src/nas/ops/cuda/kernels.cu";

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    let dir = Path::new(SOURCE).parent().unwrap_or(Path::new("."));
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("cu" | "cuh")
        ) {
            println!("cargo::rerun-if-changed={}", path.display());
        }
    }
    for var in ["NVCC", "CUDA_HOME", "CUDA_COMPUTE_CAP"] {
        println!("cargo::rerun-if-env-changed={var}");
    }
    if let Err(msg) = compile() {
        eprintln!("error: building the CUDA kernels: {msg}");
        eprintln!("hint: source .ci/cuda-env.sh first (it installs nvcc from PyPI wheels)");
        std::process::exit(1);
    }
}

fn compile() -> Result<(), String> {
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| format!("OUT_DIR: {e}"))?);
    let nvcc = match (env::var_os("NVCC"), env::var_os("CUDA_HOME")) {
        (Some(n), _) => PathBuf::from(n),
        (None, Some(h)) => PathBuf::from(h).join("bin").join("nvcc"),
        (None, None) => PathBuf::from("nvcc"),
    };
    let cap = env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "90".into());
    let cap: String = cap.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if cap.is_empty() {
        return Err("CUDA_COMPUTE_CAP is empty".into());
    }
    let ptx = out_dir.join("nas_kernels.ptx");
    let status = Command::new(&nvcc)
        .args(["--ptx", "-O3", "-std=c++17", "-fmad=false"])
        .arg(format!("-arch=compute_{cap}"))
        .arg("-o")
        .arg(&ptx)
        .arg(SOURCE)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", nvcc.display()))?;
    if !status.success() {
        return Err(format!("{} failed ({status})", nvcc.display()));
    }
    Ok(())
}
