#!/usr/bin/env bash
# Type-checks and lints the `cuda` feature (candle's CUDA backend and our CUDA kernels) on a
# machine with no GPU: sources .ci/cuda-env.sh (CUDA 13.0.2 toolkit wheels from PyPI, cached)
# and runs clippy (which implies check) on every target, with its own target dir
# ($HOME/.cache/nas-target-cuda) so the CPU build's target dir is never invalidated.
# Our kernels are compiled to PTX by nvcc here too (build.rs), so CUDA C errors fail CI.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/cuda-env.sh
if mkdir -p "${HOME:-/nonexistent}/.cache/nas-target-cuda" 2>/dev/null; then
  export CARGO_TARGET_DIR="$HOME/.cache/nas-target-cuda"
else
  export CARGO_TARGET_DIR="$PWD/target-cuda"
fi
echo "== clippy (engine with CUDA, --no-default-features --features cuda)"
cargo clippy --no-default-features --features cuda --all-targets -- -D warnings
