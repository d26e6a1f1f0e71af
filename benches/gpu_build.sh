#!/usr/bin/env bash
# Builds, on this CPU machine, what the GPU day (benches/gpu_day.sh) carries to the lent GPU
# machine, which has no Rust: the headless CUDA binary, the cuda_ops test binary and the
# stand-in libcurand.so.10, all in .gpu/ (git-ignored; name `.gpu` in the device tool's
# `carry`). The stripped binaries are about 55 MB each (candle's embedded PTX), so they travel
# xz-compressed (about 7 MB each; gpu_day.sh unpacks them with python3's lzma) and the script
# checks that .gpu/ stays under the 64 MiB carry limit. Tracked files (this script,
# gpu_day.sh, gpu_libs.sh, torch_twin.py) travel with the working tree anyway.
# Usage: bash benches/gpu_build.sh    (first run: 15-25 min on 2 cores; then a few minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/cuda-env.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/nas-target-cuda}"
flags=(--release --no-default-features --features cuda)

echo "== building the CUDA binary"
cargo build "${flags[@]}" --bin nas-navigator
echo "== building the cuda_ops test binary"
test_bin="$(cargo test "${flags[@]}" --test cuda_ops --no-run --message-format=json 2>/dev/null \
  | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "cuda_ops" \
            and m.get("executable"):
        print(m["executable"])')"
[ -x "$test_bin" ] || { echo "error: the cuda_ops test binary was not found" >&2; exit 1; }

rm -rf .gpu && mkdir -p .gpu/fallback
cp "$CARGO_TARGET_DIR/release/nas-navigator" .gpu/nas-navigator
cp "$test_bin" .gpu/cuda_ops
strip .gpu/nas-navigator .gpu/cuda_ops
cp "$NAS_CUDA_FALLBACK/libcurand.so.10" .gpu/fallback/
git rev-parse --short HEAD > .gpu/COMMIT
git status --porcelain --untracked-files=no | grep -q . && echo "dirty" >> .gpu/COMMIT

# What the binaries need at run time (libcuda.so.1 comes with the GPU driver).
for b in .gpu/nas-navigator .gpu/cuda_ops; do
  echo "$b needs: $(readelf -d "$b" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
done
echo "== compressing the binaries (xz)"
xz -T0 -6 -f .gpu/nas-navigator .gpu/cuda_ops
size=$(du -cb .gpu | tail -1 | cut -f1)
echo "== .gpu/ holds $((size / 1024 / 1024)) MiB ($size bytes):"
ls -la .gpu .gpu/fallback
if [ "$size" -ge $((64 * 1024 * 1024)) ]; then
  echo "error: .gpu/ is over the 64 MiB carry limit" >&2
  exit 1
fi
echo "ready: run bash benches/gpu_day.sh on the GPU machine, carrying .gpu"
