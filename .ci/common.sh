# Shared set-up for the project's scripts: apt packages, the cargo target dir.
# Sourced, not run.
set -euo pipefail

# A persistent target dir speeds up later runs (CI and sessions); ./target if HOME is not writable.
if [ -z "${CARGO_TARGET_DIR:-}" ]; then
  if mkdir -p "${HOME:-/nonexistent}/.cache/nas-target" 2>/dev/null; then
    export CARGO_TARGET_DIR="$HOME/.cache/nas-target"
  else
    export CARGO_TARGET_DIR="$PWD/target"
  fi
fi

need_apt=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need_apt+=(dataset-fashion-mnist)
command -v cc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${need_apt[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo (Rust 1.95 or newer) is needed; install it with rustup (https://rustup.rs)" >&2
  exit 1
fi
