//! Helpers shared by the tests: the `nas-navigator` binary, a small engine on digits, and
//! (with the `app` feature, in `app`) a window-less app on a fake or real engine.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use nas_navigator::nas::data::DatasetSpec;
use nas_navigator::nas::device::DeviceChoice;
use nas_navigator::nas::space::TemplateSpec;
use nas_navigator::nas::trainer::EngineSetup;

#[cfg(feature = "app")]
pub mod app;
pub mod scoring;

/// An engine on the built-in digits with a 3-stage chain of width 4 (seconds per round in
/// the debug build), on the CPU, with `seed` and an event channel of `event_capacity`.
pub fn digits_engine(dir: Option<&Path>, seed: u64, event_capacity: usize) -> EngineSetup {
    EngineSetup {
        dataset: DatasetSpec::Digits,
        template: TemplateSpec::Chain {
            stages: 3,
            width: 4,
        },
        device: DeviceChoice::Cpu,
        session_dir: dir.map(Path::to_path_buf),
        seed,
        val_fraction: 0.1,
        event_capacity,
    }
}

/// A tiny round on the built-in digits: seconds in the debug build.
pub const TINY: &[&str] = &[
    "--dataset",
    "digits",
    "--template",
    "chain",
    "--stages",
    "3",
    "--width",
    "4",
    "--epochs",
    "1",
    "--max-steps",
    "3",
    "--batch-size",
    "32",
    "--candidates",
    "6",
    "--score-images",
    "100",
    "--recalib-batches",
    "1",
    "--seed",
    "2",
];

/// A tiny round (`TINY`) into the session folder `session`; fails the test if it fails.
pub fn tiny_round(session: &str) -> Output {
    let mut args = vec!["round", "--session", session];
    args.extend_from_slice(TINY);
    run_ok(&args)
}

/// Runs the binary with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nas-navigator"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// Runs the binary and fails the test, showing stderr, unless it succeeded.
pub fn run_ok(args: &[&str]) -> Output {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Largest absolute element difference of two tensors of the same shape.
pub fn max_abs_diff(a: &candle_core::Tensor, b: &candle_core::Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

/// The largest absolute element of a tensor of any float type, as f64.
pub fn max_abs_f64(t: &candle_core::Tensor) -> f64 {
    t.abs()
        .and_then(|a| a.flatten_all())
        .and_then(|a| a.max(0))
        .and_then(|a| a.to_dtype(candle_core::DType::F64))
        .and_then(|a| a.to_scalar::<f64>())
        .expect("a float tensor")
}

/// Pseudo-random values in [-1, 1) from a fixed seed, as a CPU tensor of `dtype`.
pub fn rand_tensor(dims: &[usize], seed: u64, dtype: candle_core::DType) -> candle_core::Tensor {
    let count: usize = dims.iter().product();
    let mut s = seed.wrapping_mul(6364136223846793005);
    let v: Vec<f64> = (0..count)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            2.0 * (s >> 11) as f64 / (1u64 << 53) as f64 - 1.0
        })
        .collect();
    candle_core::Tensor::from_vec(v, dims, &candle_core::Device::Cpu)
        .and_then(|t| t.to_dtype(dtype))
        .expect("a test tensor")
}

/// Rust's own panic output never reaches a user (`forbidden` is one more word to refuse).
pub fn assert_no_panic_text(err: &str, forbidden: &str) {
    for bad in [
        forbidden,
        "RUST_BACKTRACE",
        "stack backtrace",
        "internal failure",
    ] {
        assert!(!err.contains(bad), "`{bad}` on stderr: {err}");
    }
}
