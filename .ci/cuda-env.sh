#!/usr/bin/env bash
# Source this (from the project root) to build the `cuda` feature on a machine with no GPU and no
# system CUDA, as CI does:  source .ci/cuda-env.sh && cargo check --no-default-features --features cuda
# It installs NVIDIA's CUDA 13.0.2 compiler, headers and link-time libraries from PyPI wheels into
# a cache venv (about 1.2 GB, once), makes a CUDA_HOME that cudarc can link against (with
# generated libcuda and libcudnn stubs: the driver library only exists on a GPU machine, and
# cuDNN is only needed there), and exports what
# candle's, cudarc's and our build scripts read (NVCC, CUDARC_CUDA_VERSION, CUDA_COMPUTE_CAP).
# It also builds a stand-in libcurand.so.10 (NAS_CUDA_FALLBACK) for GPU machines that lack one.
# Knobs: NAS_CUDA_CACHE (default $HOME/.cache/nas-cuda), CUDA_TK_VERSION (default 13.0.2: keep it
# <= the GPU driver's CUDA version, whose JIT rejects PTX from a newer toolkit),
# CUDA_COMPUTE_CAP (default 90 = H100).
_nas_ci_cuda_env() {
  local here cache tk venv t r l n v m p e cudarc="" sudo=""
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  cache="${NAS_CUDA_CACHE:-$HOME/.cache/nas-cuda}"
  tk="${CUDA_TK_VERSION:-13.0.2}"
  venv="$cache/toolkit-$tk"
  mkdir -p "$cache" || return 1

  # Debian packages: a host C++ compiler for nvcc, and python3 with venv for the wheels.
  local need=()
  command -v g++ >/dev/null 2>&1 || need+=(g++)
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
  if [ ${#need[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" || return 1
  fi

  if [ ! -x "$venv/bin/pip" ]; then python3 -m venv "$venv" || return 1; fi
  if ! ls "$venv"/lib/python3*/site-packages/nvidia/cu13/bin/nvcc >/dev/null 2>&1; then
    echo "[cuda] installing cuda-toolkit==$tk wheels into $venv" >&2
    "$venv/bin/pip" install -q --disable-pip-version-check \
      "cuda-toolkit[nvcc,crt,nvvm,cudart,cublas,curand,nvrtc,cccl]==$tk" || return 1
  fi
  t="$(echo "$venv"/lib/python3*/site-packages/nvidia/cu13)"
  [ -x "$t/bin/nvcc" ] || { echo "[cuda] nvcc not found under $t" >&2; return 1; }

  # CUDA_HOME: symlinks into the wheel tree plus link-time stubs (below).
  r="$cache/cuda-home-$tk"
  if [ ! -f "$r/lib/stubs/libcuda.so" ]; then
    rm -rf "$r" && mkdir -p "$r/lib/stubs" || return 1
    ln -s "$t/bin" "$r/bin"; ln -s "$t/include" "$r/include"; ln -s "$t/nvvm" "$r/nvvm"; ln -s lib "$r/lib64"
    for l in cublas:13 cublasLt:13 curand:10 nvrtc:13 cudart:13; do
      n="${l%%:*}"; v="${l##*:}"; ln -s "$t/lib/lib$n.so.$v" "$r/lib/lib$n.so"
    done
  fi
  # Stubs to link against, exporting cudarc's own lists of symbols (read from the cudarc source
  # that cargo fetched for this project), each function returning an error code: the driver
  # library only exists on a GPU machine (100 = CUDA_ERROR_NO_DEVICE), and cuDNN, which our
  # dense conv uses, would be about 1 GB of wheels (1001 = CUDNN_STATUS_NOT_INITIALIZED in
  # cuDNN 9). The binaries load the real libcuda.so.1 and libcudnn.so.9 on the GPU machine
  # (benches/gpu_libs.sh finds cuDNN there). lib:cudarc module:soname version:symbol prefix:code
  for l in cuda:driver:1:cu:100 cudnn:cudnn:9:cudnn:1001; do
    IFS=: read -r n m v p e <<< "$l"
    [ -f "$r/lib/stubs/lib$n.so" ] && continue
    if [ -z "${cudarc:-}" ]; then
      cargo fetch -q >/dev/null 2>&1 || true
      cudarc="$(cargo metadata --format-version 1 --features cuda 2>/dev/null | python3 -c '
import json, os, sys
m = json.load(sys.stdin)
print(next(os.path.dirname(p["manifest_path"]) for p in m["packages"] if p["name"] == "cudarc"))' 2>/dev/null)"
      [ -d "$cudarc" ] || { echo "[cuda] cudarc source not found: source this from the project root" >&2; return 1; }
    fi
    grep -o "pub unsafe fn $p[A-Za-z0-9_]*" "$cudarc/src/$m/sys/mod.rs" | awk '{print $4}' | sort -u \
      | awk -v e="$e" '{print "int " $1 "(void) { return " e "; }"}' > "$r/lib/stubs/${n}_stub.c"
    gcc -shared -fPIC -Wl,-soname,"lib$n.so.$v" -o "$r/lib/stubs/lib$n.so" "$r/lib/stubs/${n}_stub.c" || return 1
  done

  # A stand-in libcurand.so.10 for GPU machines without the real one: candle's CudaDevice opens
  # a cuRAND generator at start-up even if no random numbers are drawn on the GPU.
  if [ ! -f "$cache/fallback/libcurand.so.10" ]; then
    mkdir -p "$cache/fallback" || return 1
    echo 'libcurand.so.10 { global: *; };' > "$cache/fallback/curand.map"
    gcc -O2 -shared -fPIC -Wl,-soname,libcurand.so.10 -Wl,--version-script="$cache/fallback/curand.map" \
      -o "$cache/fallback/libcurand.so.10" "$here/fake_curand.c" || return 1
  fi

  export CUDA_HOME="$r" NVCC="$t/bin/nvcc" PATH="$t/bin:$PATH" CUDARC_CUDA_VERSION=13000
  export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
  case " ${RUSTFLAGS:-} " in
    *"rpath-link,$t/lib"*) ;;
    *) export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-C link-arg=-Wl,-rpath-link,$t/lib" ;;
  esac
  export NAS_CUDA_FALLBACK="$cache/fallback"
  echo "[cuda] ready: CUDA_HOME=$CUDA_HOME, compute cap $CUDA_COMPUTE_CAP, fallback curand in $NAS_CUDA_FALLBACK" >&2
}
_nas_ci_cuda_env
