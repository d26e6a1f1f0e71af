#!/usr/bin/env bash
# The trust yardstick (issue 12): how well our scores rank NAS-Bench-201 cells against the
# published 200-epoch CIFAR-10 accuracy (vendored in assets/yardstick). Unpacks CIFAR-10
# (JPEG class folders, ../shared/data/cifar10-jpeg) into $HOME/.cache/nas-data once, builds
# the release binary and runs `trust-bench` on one configuration per session folder.
# Usage:
#   benches/trust.sh NAME [trust-bench options...]   e.g.
#   benches/trust.sh default                          # C=8, N=1, the default round
#   benches/trust.sh minutes8 --minutes 8             # a training budget instead of 2 epochs
#   benches/trust.sh default --score-images 0 --recalib-batches 16   # re-score, no retraining
# Sessions go to ${TRUST_DIR:-sessions/trust}/NAME; the table is printed and kept in
# NAME/trust-bench.json. CIFAR=DIR points at an unpacked copy instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/common.sh
name=${1:?usage: benches/trust.sh NAME [trust-bench options]}
shift
data=${CIFAR:-$HOME/.cache/nas-data/cifar10-jpeg}
if [ ! -d "$data/train" ]; then
  tarball=../shared/data/cifar10-jpeg/cifar10-jpeg.tar.gz
  [ -f "$tarball" ] || { echo "error: $tarball not found; set CIFAR=DIR (train/<class>, test/<class>)" >&2; exit 1; }
  mkdir -p "$data"
  tar xzf "$tarball" -C "$data"
fi
cargo build --release --no-default-features --quiet
out=${TRUST_DIR:-sessions/trust}
mkdir -p "$out"
echo "== trust-bench $name: $(date -u +%F), commit $(git rev-parse --short HEAD), $(nproc) cores"
"$CARGO_TARGET_DIR/release/nas-navigator" trust-bench --data-dir "$data" --session "$out/$name" "$@"
