#!/usr/bin/env bash
# Builds, on this CPU machine, what the GPU day (benches/gpu_day.sh) carries to the lent GPU
# machine, which has no Rust: the headless CUDA binary, the cuda_ops test binary and the
# stand-in libcurand.so.10; the release scene example (`scene_fake_data`, Bevy, no CUDA) and
# Debian's Vulkan loader package (in case the machine has none), all in .gpu/ (git-ignored;
# name `.gpu` in the device tool's `carry`). The stripped binaries are about 55 MB each
# (candle's embedded PTX) and 95 MB (the scene), so they travel xz-compressed (about 7 MB
# each and 19 MB; gpu_day.sh unpacks them with python3's lzma) and the script checks that
# .gpu/ and the tracked files stay under the 64 MiB carry limit. Tracked files (this script,
# gpu_day.sh, gpu_libs.sh, torch_twin.py) travel with the working tree anyway.
# Usage: bash benches/gpu_build.sh    (first run: 15-25 min on 2 cores for the CUDA binaries
# and about 30 min for the release Bevy build of the scene; then a few minutes each).
# SCENE=0 skips the scene; its target dir is $SCENE_TARGET_DIR (default
# $HOME/.cache/nas-target-rel).
set -euo pipefail
cd "$(dirname "$0")/.."
# The scene first, before the CUDA environment (its RUSTFLAGS would rebuild every crate).
scene="${SCENE:-1}"
scene_target="${SCENE_TARGET_DIR:-$HOME/.cache/nas-target-rel}"
if [ "$scene" = 1 ]; then
  echo "== building the scene example (release, Bevy, no CUDA)"
  CARGO_TARGET_DIR="$scene_target" cargo build --release --example scene_fake_data
fi

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
if [ "$scene" = 1 ]; then
  cp "$scene_target/release/examples/scene_fake_data" .gpu/scene_fake_data
  strip .gpu/scene_fake_data
  mkdir -p .gpu/gl
  (cd .gpu/gl && apt-get download libvulkan1) || echo "warning: no libvulkan1 package; the scene needs the machine's own loader" >&2
fi
git rev-parse --short HEAD > .gpu/COMMIT
git status --porcelain --untracked-files=no | grep -q . && echo "dirty" >> .gpu/COMMIT

# What the binaries need at run time (libcuda.so.1 comes with the GPU driver).
for b in .gpu/nas-navigator .gpu/cuda_ops $([ "$scene" = 1 ] && echo .gpu/scene_fake_data); do
  echo "$b needs: $(readelf -d "$b" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
done
echo "== compressing the binaries (xz)"
xz -T0 -6 -f .gpu/nas-navigator .gpu/cuda_ops $([ "$scene" = 1 ] && echo .gpu/scene_fake_data)
size=$(du -cb .gpu | tail -1 | cut -f1)
tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
echo "== .gpu/ holds $((size / 1024 / 1024)) MiB ($size bytes), the tracked files $((tracked / 1024 / 1024)) MiB:"
ls -la .gpu .gpu/fallback
if [ $((size + tracked)) -ge $((64 * 1024 * 1024)) ]; then
  echo "error: .gpu/ and the tracked files are over the 64 MiB carry limit" >&2
  exit 1
fi
echo "ready: run bash benches/gpu_day.sh on the GPU machine, carrying .gpu"
