#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what it needs, checks format
# and lints for both builds (default features, and the Bevy-free --no-default-features
# engine), then runs every test of both builds. This is the README's test command.
cd "$(dirname "$0")/.."
source .ci/common.sh
# The rendering test runs the app under Xvfb with Mesa's software Vulkan (lavapipe); winit
# loads the X11 libraries at run time.
display_pkgs=(xvfb mesa-vulkan-drivers libvulkan1 libx11-6 libxcursor1 libxi6 libxrandr2 libxkbcommon-x11-0)
missing=()
for p in "${display_pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== clippy (engine only, --no-default-features)"
cargo clippy --no-default-features --all-targets -- -D warnings
echo "== clippy (default features)"
cargo clippy --all-targets -- -D warnings
echo "== tests (engine only, --no-default-features)"
cargo test --no-default-features
echo "== tests (default features; the rendering test keeps its pictures in artifacts/screenshots)"
cargo test
echo "== clippy with the cuda feature (no GPU needed: CUDA 13.0.2 wheels from PyPI, own target dir)"
bash .ci/cuda_check.sh
