#!/usr/bin/env bash
# The main job, from a fresh Debian machine: installs Fashion-MNIST (Debian's
# dataset-fashion-mnist), builds the release binary and runs one headless round of the chain
# template into sessions/fashion-chain (a second run starts round 2 from those weights).
# Extra arguments go to `nas-navigator round` (e.g. --epochs 3 --candidates 1000).
cd "$(dirname "$0")/.."
source .ci/common.sh
cargo build --release --no-default-features
"$CARGO_TARGET_DIR/release/nas-navigator" round --dataset fashion-mnist --template chain \
  --session "${SESSION:-sessions/fashion-chain}" "$@"
