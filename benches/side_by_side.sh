#!/usr/bin/env bash
# Runs `nas-navigator bench` and its PyTorch twin on the same work, one after the other, and
# prints both and the ratios (ours / PyTorch; above 1 means we are faster).
# Usage: benches/side_by_side.sh [--device cpu|cuda] [--threads N]   (BIN=path to override;
# PYTHON=interpreter with torch, default python3)
set -euo pipefail
python=${PYTHON:-python3}
cd "$(dirname "$0")/.."
bin=${BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --no-default-features --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/nas-navigator"
fi
ours=$("$bin" bench --json "$@" | tail -n 1)
theirs=$("$python" benches/torch_twin.py --json "$@" | tail -n 1)
"$python" - "$ours" "$theirs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{'field':<34} {'nas-navigator':>14} {'pytorch':>14} {'ratio':>7}")
for k in ["train_steps_per_s", "train_images_per_s", "score_candidates_per_s", "score_images_per_s", "score_batched_candidates_per_s", "score_one_by_one_candidates_per_s", "peak_rss_mb"]:
    if k in a and k in b:
        print(f"{k:<34} {a[k]:>14.2f} {b[k]:>14.2f} {a[k] / b[k]:>7.2f}")
print(f"config {a['config']}, device {a['device']}, threads {a['threads']} / {b['threads']}, {b['framework']}")
PY
