// Fused softmax cross-entropy (included by kernels.cu), the arithmetic of the CPU op
// (src/nas/ops/cross_entropy.rs): per row, max and sum exp(x - max) in double; the loss is the
// mean over rows of max + ln sum - x[label], the softmax exp(x - max) / sum; a label outside
// 0..c makes its row (and so the loss) NaN, as nothing may wait for the device to report it.
#pragma once

#include "common.cuh"

// (max, sum exp(x - max)) of one row of c logits.
template <typename T>
__device__ void ce_norm(const T* row, int c, double* max_out, double* sum_out) {
  double m = -INFINITY;
  for (int j = 0; j < c; ++j) m = fmax(m, (double)row[j]);
  double s = 0.0;
  for (int j = 0; j < c; ++j) s += exp((double)row[j] - m);
  *max_out = m;
  *sum_out = s;
}

// One block: thread t sums the losses of rows t, t + blockDim.x, ... in order, then a fixed
// block-wide sum, so the result repeats run to run. out[0] = the mean loss.
template <typename T>
__device__ void ce_fwd(const T* x, const unsigned int* labels, T* out, int rows, int c) {
  __shared__ double sh[WARP];
  double part = 0.0;
  for (int i = threadIdx.x; i < rows; i += blockDim.x) {
    const T* row = x + (long long)i * c;
    const unsigned int label = labels[i];
    if (label >= (unsigned int)c) {
      part += NAN;
      continue;
    }
    double m, s;
    ce_norm(row, c, &m, &s);
    part += m + log(s) - (double)row[label];
  }
  part = block_sum(part, sh);
  if (threadIdx.x == 0) out[0] = (T)(part / (double)rows);
}

// One thread per row (grid-stride): dx = (softmax - onehot) * g[0] / rows; a row with a bad
// label gets NaN.
template <typename T>
__device__ void ce_bwd(const T* x, const unsigned int* labels, const T* g, T* dx, int rows,
                       int c) {
  const double scale = (double)g[0] / (double)rows;
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < rows;
       i += (long long)gridDim.x * blockDim.x) {
    const T* row = x + i * c;
    T* out = dx + i * c;
    const unsigned int label = labels[i];
    if (label >= (unsigned int)c) {
      for (int j = 0; j < c; ++j) out[j] = (T)NAN;
      continue;
    }
    double m, s;
    ce_norm(row, c, &m, &s);
    for (int j = 0; j < c; ++j) {
      const double p = exp((double)row[j] - m) / s;
      out[j] = (T)((p - (j == (int)label ? 1.0 : 0.0)) * scale);
    }
  }
}
