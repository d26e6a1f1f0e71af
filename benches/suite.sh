#!/usr/bin/env bash
# The whole benchmark suite in one command (issue 6), each part a fixed, named configuration
# with its peak memory:
#   1. engine: supernet training steps/s and images/s, candidate scoring candidates/s and
#      images/s (with BN re-calibration), ours and the PyTorch twin side by side, with ratios
#      (benches/side_by_side.sh; release build, engine only);
#   2. layout: 100,000 candidates laid out in 2D and 3D, and a stable extension
#      (examples/layout_bench.rs, release, engine only);
#   3. scene: app frame time with 10,000 and 100,000 points, and 100,000 streamed
#      (examples/scene_fake_data.rs, release; the first release build of the app takes about
#      30 minutes on 2 cores; under Xvfb + lavapipe when there is no display).
# Usage: benches/suite.sh [--device cpu|cuda] [--threads N]    (SKIP_SCENE=1 skips part 3)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
echo "== suite: $(date -u +%F), commit $(git rev-parse --short HEAD 2>/dev/null || echo none), $(nproc) cores"

echo "== 1. engine, side by side with PyTorch"
cargo build --release --no-default-features --quiet
BIN="$CARGO_TARGET_DIR/release/nas-navigator" benches/side_by_side.sh "$@"

echo "== 2. layout of 100,000 candidates"
cargo run --release --no-default-features --quiet --example layout_bench -- 100000

if [ "${SKIP_SCENE:-0}" = 1 ]; then
  echo "== 3. scene: skipped (SKIP_SCENE=1)"
  exit 0
fi
echo "== 3. scene frame time (release build)"
cargo build --release --quiet --example scene_fake_data
scene="$CARGO_TARGET_DIR/release/examples/scene_fake_data"
xvfb_pid=""
if [ -z "${DISPLAY:-}" ]; then
  command -v Xvfb >/dev/null || { echo "no display and no Xvfb: run .ci/test.sh once (it installs xvfb) or set SKIP_SCENE=1" >&2; exit 1; }
  export DISPLAY=:93
  Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb_pid=$!
  trap 'kill $xvfb_pid 2>/dev/null || true' EXIT
  sleep 2
  export WGPU_BACKEND=${WGPU_BACKEND:-vulkan}
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/xdg-$(id -u)}
mkdir -p "$XDG_RUNTIME_DIR"
for run in "10000 0" "100000 0" "100000 2000"; do
  set -- $run
  echo "-- $1 points, 3D, streamed $2 per frame (0 = all at once)"
  "$scene" --points "$1" --dims 3 --stream "$2" --bench-frames 120 --warmup 30 2>/dev/null | tail -n 2
done
