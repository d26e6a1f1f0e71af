#!/usr/bin/env bash
# Source this ON THE GPU MACHINE (benches/gpu_day.sh does) before running the CUDA build: a copy of
# ../shared/cuda/gpu-libs.sh, kept in the repo because ../shared does not travel to that machine.
# It finds the CUDA libraries a candle binary needs (libcublas.so.13, libcublasLt.so.13,
# libcurand.so.10, and libcudnn.so.9 for our dense conv) in the machine's Python venv or system
# folders, prints what it found or misses, and sets LD_LIBRARY_PATH. If libcurand.so.10 is
# missing, the stand-in that benches/gpu_build.sh puts in .gpu/fallback is used when passed as $1.
_nas_gpu_libs() {
  local fallback="${1:-}" roots r f d dirs="" missing=""
  roots="${NV_SEARCH:-} /opt/torch/.venv /usr/local/cuda /usr/lib/x86_64-linux-gnu /usr/local/nvidia/lib64"
  for lib in libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libcudnn.so.9; do
    d=""
    for r in $roots; do
      [ -d "$r" ] || continue
      f="$(find -L "$r" -maxdepth 8 -name "$lib" \( -type f -o -type l \) 2>/dev/null | head -1)"
      if [ -n "$f" ]; then d="$(dirname "$f")"; break; fi
    done
    if [ -n "$d" ]; then
      echo "[gpu-libs] found $lib in $d" >&2
      case ":$dirs:" in *":$d:"*) ;; *) dirs="${dirs:+$dirs:}$d";; esac
    else
      echo "[gpu-libs] MISSING $lib" >&2; missing="$missing $lib"
    fi
  done
  case "$missing" in *libcurand*) [ -n "$fallback" ] && dirs="${dirs:+$dirs:}$fallback" && echo "[gpu-libs] using the stand-in libcurand from $fallback" >&2;; esac
  ldconfig -p 2>/dev/null | grep -q 'libcuda.so.1 ' || echo "[gpu-libs] libcuda.so.1 is not in the loader cache" >&2
  export LD_LIBRARY_PATH="${dirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
}
_nas_gpu_libs "$@"
