//! Shared by our CUDA kernels (included by kernels.cu): the warp size and a block-wide sum.
#pragma once

constexpr int WARP = 32;

// Sum of v over the block; the total is valid in thread 0. `sh` holds one double per warp.
__device__ double block_sum(double v, double* sh) {
  for (int o = WARP / 2; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
  if (lane == 0) sh[warp] = v;
  __syncthreads();
  const int warps = (blockDim.x + WARP - 1) / WARP;
  v = (threadIdx.x < warps) ? sh[threadIdx.x] : 0.0;
  if (warp == 0) {
    for (int o = WARP / 2; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  }
  __syncthreads();  // `sh` may be reused right after
  return v;
}
