#!/usr/bin/env bash
# The GPU day, in one prepared call on the lent GPU machine (no Rust there): carry `.gpu`, built
# here by benches/gpu_build.sh, and run `bash benches/gpu_day.sh [PART...]` from the repo root.
# The parts (all three when none is named):
#   kernels  the cuda_ops tests (our CUDA kernels and our cuDNN dense conv against candle-op
#            compositions and the CPU ops);
#   bench    `nas-navigator bench --device cuda --json` with our kernels and cuDNN convs, then
#            with NAS_CUDA_KERNELS=0 (candle's op compositions and conv2d: the A/B for both),
#            and the PyTorch twin (benches/torch_twin.py) side by side, with the ratios;
#   scene    the app's scene on 1,000,000 fake points (release `scene_fake_data --offscreen`:
#            the whole app drawn into an image through Vulkan, no display; each frame waits
#            for the GPU), 3D with a picture, 2D, and 100,000 in 3D, against issue 15's goal
#            of 60 frames per second at 1,000,000.
# Each step runs under its own timeout; logs and a summary go to $OUT (the device tool's
# folder, which returns at most 8 files; else /tmp/gpu-day). Budget: about 5 min for kernels
# and bench, 2 min for the scene, of the 15 min device time; if a call runs out, call again
# with the parts not done.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-/tmp/gpu-day}"
mkdir -p "$out"
G=.gpu
summary="$out/summary.txt"
: > "$summary"
note() { echo "$*" | tee -a "$summary"; }
parts="${*:-kernels bench scene}"
wants() { case " $parts " in *" $1 "*) return 0;; esac; return 1; }

# gpu_build.sh carries the binaries xz-compressed; python3's lzma unpacks them (no xz needed).
for b in nas-navigator cuda_ops scene_fake_data; do
  if [ -f "$G/$b.xz" ] && [ ! -x "$G/$b" ]; then
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
      "$G/$b.xz" "$G/$b" && chmod +x "$G/$b"
  fi
done
for b in nas-navigator cuda_ops $(wants scene && echo scene_fake_data); do
  [ -x "$G/$b" ] || {
    note "error: $G/$b is missing: run benches/gpu_build.sh first and carry .gpu"
    exit 1
  }
done
note "commit $(cat "$G/COMMIT" 2>/dev/null | tr '\n' ' ')on $(hostname), $(date -u +%FT%TZ)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee -a "$summary"
# shellcheck source=benches/gpu_libs.sh
source benches/gpu_libs.sh "$PWD/$G/fallback" 2> >(tee -a "$summary" >&2)
# The binaries need libcudnn.so.9 (our dense conv; gpu_libs.sh looks in PyTorch's venv).
ldd "$G/nas-navigator" | grep -E 'not found|cuda|cublas|curand|cudnn' | tee -a "$summary"

# step NAME TIMEOUT_S CMD...: runs CMD with its output in $out/NAME.log, notes rc and seconds.
step() {
  local name="$1" limit="$2" t0 rc
  shift 2
  t0=$(date +%s)
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  rc=$?
  note "[$name] rc=$rc in $(($(date +%s) - t0)) s$([ "$rc" -eq 124 ] && echo ' (timed out)')"
  tail -n 3 "$out/$name.log" | sed 's/^/    /' | tee -a "$summary"
  return 0
}

# 1. Kernel tests: the ignored ones are the GPU ones; one thread keeps their output in order.
if wants kernels; then
  step cuda_ops 150 "$G/cuda_ops" --ignored --test-threads=1
  grep -E '^test |test result' "$out/cuda_ops.log" | tee -a "$summary"
fi

# 2. Benchmarks: ours with the kernels and cuDNN, ours without them, and PyTorch.
if wants bench; then
  step bench_kernels 120 env NAS_CUDA_KERNELS=1 "$G/nas-navigator" bench --device cuda --json
  step bench_compositions 120 env NAS_CUDA_KERNELS=0 "$G/nas-navigator" bench --device cuda --json
  step bench_torch 150 python3 benches/torch_twin.py --device cuda --json

python3 - "$out" <<'PY' | tee -a "$summary"
import json, sys
out = sys.argv[1]
def last_json(name):
    try:
        lines = [l for l in open(f"{out}/{name}.log") if l.strip().startswith("{")]
        return json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None
runs = {n: last_json(n) for n in ["bench_kernels", "bench_compositions", "bench_torch"]}
keys = ["train_steps_per_s", "train_images_per_s", "score_candidates_per_s", "score_images_per_s",
        "score_batched_candidates_per_s", "score_one_by_one_candidates_per_s", "peak_rss_mb"]
print(f"{'field':<34} {'ours+kernels':>13} {'ours, candle ops':>17} {'pytorch':>10} {'kern/torch':>10}")
for k in keys:
    v = [r.get(k) if r else None for r in runs.values()]
    f = lambda x: f"{x:.2f}" if isinstance(x, (int, float)) else "-"
    ratio = f(v[0] / v[2]) if all(isinstance(x, (int, float)) and x for x in (v[0], v[2])) else "-"
    print(f"{k:<34} {f(v[0]):>13} {f(v[1]):>17} {f(v[2]):>10} {ratio:>10}")
for n, r in runs.items():
    if r:
        print(f"{n}: config {r.get('config')}, device {r.get('device')}, {r.get('framework', 'nas-navigator')}")
json.dump(runs, open(f"{out}/bench.json", "w"), indent=1)
PY
fi

# 3. The scene: the release app drawn offscreen through Vulkan. The Vulkan loader comes from
# .gpu/gl (a Debian package gpu_build.sh fetched) when the machine has none; the driver's ICD
# file is looked for where NVIDIA's container toolkit puts it.
if wants scene; then
  if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
    mkdir -p /tmp/nas-gl
    for f in "$G"/gl/*.deb; do dpkg-deb -x "$f" /tmp/nas-gl 2>&1 | tee -a "$summary"; done
    export LD_LIBRARY_PATH="/tmp/nas-gl/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    note "Vulkan loader from .gpu/gl: $(ls /tmp/nas-gl/usr/lib/x86_64-linux-gnu 2>&1 | tr '\n' ' ')"
  fi
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json \
    /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; note "Vulkan driver: $icd"; break; fi
  done
  export WGPU_BACKEND=vulkan
  # All runs in one log (the device tool returns at most 8 files); the JSON lines are the figures.
  # SCENE_POINTS and SCENE_FRAMES shrink the runs for a dry run on a machine without a GPU.
  scene_runs() {
    local run=("$G/scene_fake_data" --offscreen --warmup 60 --bench-frames "$frames")
    "${run[@]}" --points "$points" --dims 3 --screenshot "$out/scene-1m-3d.png"
    "${run[@]}" --points "$points" --dims 2
    "${run[@]}" --points $((points / 10)) --dims 3
  }
  export -f scene_runs
  export G out points="${SCENE_POINTS:-1000000}" frames="${SCENE_FRAMES:-600}"
  step scene 300 bash -c scene_runs
  grep -E 'AdapterInfo' "$out/scene.log" | head -1 | cut -c1-240 | tee -a "$summary"
  grep -E '^\{' "$out/scene.log" | tee -a "$summary"
  python3 - "$out/scene.log" <<'PY' | tee -a "$summary"
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("{"):
        r = json.loads(line)
        print(f"scene {r['points']:>9,} points {r['dims']}: {r['fps']:7.1f} fps (mean {r['mean_ms']} ms, "
              f"p95 {r['p95_ms']} ms), points rebuilt {r.get('points_rebuilt')}, goal at 1,000,000: 60 fps")
PY
fi
note "logs in $out"
