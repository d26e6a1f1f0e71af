#!/usr/bin/env bash
# Remakes the README's pictures (assets/screenshots) from a real steered session: the app,
# under Xvfb with Mesa's software Vulkan, trains three short rounds of the 4-stage chain on
# Fashion-MNIST, accepting the block statistics' first suggestion between rounds; then it
# probes, selects, photographs the scene in 2D and 3D, disables a block in the Lego view,
# photographs the other views and trains the best selected candidate stand-alone. Every
# picture is checked before the script copies it. It uses the release build of the app (the
# first one takes about 30 minutes on 2 cores; the session itself about 15).
# Extra arguments go to `nas-navigator screenshot` (e.g. --rounds 4).
cd "$(dirname "$0")/.."
source .ci/common.sh
for p in xvfb mesa-vulkan-drivers libvulkan1 libx11-6 libxcursor1 libxi6 libxrandr2 libxkbcommon-x11-0; do
  dpkg -s "$p" >/dev/null 2>&1 || { echo "error: $p is missing; run .ci/test.sh once (it installs the display packages)" >&2; exit 1; }
done
cargo build --release
out="$(mktemp -d)"
runtime="$(mktemp -d)"
display=:$((90 + RANDOM % 100))
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp &
xvfb=$!
trap 'kill $xvfb 2>/dev/null; rm -rf "$runtime"' EXIT
sleep 2
DISPLAY="$display" WGPU_BACKEND=vulkan XDG_RUNTIME_DIR="$runtime" \
  "$CARGO_TARGET_DIR/release/nas-navigator" screenshot --dataset fashion-mnist --rounds 3 \
  --timeout-secs 3000 --out "$out" "$@"
for view in scene-2d scene-3d candidates lego blocks charts history data final; do
  cp "$out/$view.png" "assets/screenshots/$view.png"
done
echo "README pictures remade in assets/screenshots from $out"
