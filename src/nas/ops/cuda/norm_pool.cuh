//! Batch norm + ReLU and max/avg pooling kernels, as templates over f32/f64 (kernels.cu
//! instantiates them). They follow bn_op.rs and pool_op.rs line for line: per-channel sums in
//! double, the affine step in T, no fused multiply-add (build.rs passes -fmad=false, as Rust
//! never contracts), so y, and the ReLU mask the backward recomputes from x, match the CPU op;
//! max gradients go to the first maximum of a window in row-major order, avg gradients are
//! gathered in the CPU's order. Every reduction has a fixed order, so results repeat.
// Layout: NCHW, contiguous; `aux` rows are [gamma, beta, mean, var, dgamma, dbeta], each C long.
#pragma once
#include "common.cuh"

// The value at element i of channel ch's planes, i in 0..n*hw.
template <typename T>
__device__ __forceinline__ T at(const T* x, int c, int hw, int ch, long long i) {
  const long long b = i / hw, j = i % hw;
  return x[(b * c + ch) * hw + j];
}

// The CPU op's per-channel scale and shift, in double: gamma / sqrt(var + eps), beta - mean scale.
template <typename T>
__device__ __forceinline__ void scale_shift_of(const T* gb, T mean, T var, int c, int ch,
                                               double eps, double* scale, double* shift) {
  *scale = (double)gb[ch] / sqrt((double)var + eps);
  *shift = (double)gb[c + ch] - (double)mean * *scale;
}

template <typename T>
__device__ __forceinline__ void scale_shift(const T* gb, const T* st, int c, int ch, double eps,
                                            double* scale, double* shift) {
  scale_shift_of(gb, st[ch], st[c + ch], c, ch, eps, scale, shift);
}

// x * scale + shift before the ReLU, with scale and shift rounded to T as on the CPU.
template <typename T>
__device__ __forceinline__ T affine(T v, double scale, double shift) {
  return v * (T)scale + (T)shift;
}

// One block per (segment, channel): mean and biased variance over the segment's images and H, W
// (two passes, in double); n images in `segments` equal runs, out [2, segments * C].
template <typename T>
__device__ void bn_stats(const T* x, T* out, int n, int c, int hw, int segments) {
  __shared__ double sh[WARP];
  __shared__ double mean_sh;
  const int ch = blockIdx.x % c, seg = blockIdx.x / c;
  n /= segments;
  x += (long long)seg * n * c * hw;
  const long long m = (long long)n * hw;
  double s = 0.0;
  for (long long i = threadIdx.x; i < m; i += blockDim.x) s += (double)at(x, c, hw, ch, i);
  s = block_sum(s, sh);
  if (threadIdx.x == 0) mean_sh = s / (double)m;
  __syncthreads();
  const double mean = mean_sh;
  double q = 0.0;
  for (long long i = threadIdx.x; i < m; i += blockDim.x) {
    const double d = (double)at(x, c, hw, ch, i) - mean;
    q += d * d;
  }
  q = block_sum(q, sh);
  if (threadIdx.x == 0) {
    out[seg * c + ch] = (T)mean;
    out[segments * c + seg * c + ch] = (T)(q / (double)m);
  }
}

// Grid (N * C planes, chunks of H * W): y = act(x * scale[c] + shift[c]); the images come in
// `segments` equal runs, each with its own stats (st [2, segments * C]).
template <typename T>
__device__ void bn_act_fwd(const T* x, const T* gb, const T* st, T* y, int n, int c, int hw,
                           double eps, int relu, int segments) {
  const long long plane = blockIdx.x;
  const int ch = (int)(plane % c);
  const int seg = (int)(plane / c / (n / segments));
  const int at = seg * c + ch;
  double scale, shift;
  scale_shift_of(gb, st[at], st[segments * c + at], c, ch, eps, &scale, &shift);
  for (long long j = (long long)blockIdx.y * blockDim.x + threadIdx.x; j < hw;
       j += (long long)gridDim.y * blockDim.x) {
    const long long k = plane * hw + j;
    const T z = affine(x[k], scale, shift);
    y[k] = (relu && z < (T)0) ? (T)0 : z;
  }
}

// The gradient at the ReLU's input: zero where y = relu(z) <= 0, i.e. where z <= 0.
template <typename T>
__device__ __forceinline__ double pre(T x, T g, double scale, double shift, int relu) {
  if (relu && affine(x, scale, shift) <= (T)0) return 0.0;
  return (double)g;
}

// One block per channel: [dgamma; dbeta] from x, grad and aux rows 0..4.
template <typename T>
__device__ void bn_grad_params(const T* x, const T* g, const T* aux, T* out, int n, int c, int hw,
                               double eps, int relu) {
  __shared__ double sh[WARP];
  const int ch = blockIdx.x;
  const double mean = (double)aux[2 * c + ch];
  const double invstd = 1.0 / sqrt((double)aux[3 * c + ch] + eps);
  double scale, shift;
  scale_shift(aux, aux + 2 * c, c, ch, eps, &scale, &shift);
  const long long m = (long long)n * hw;
  double dg = 0.0, db = 0.0;
  for (long long i = threadIdx.x; i < m; i += blockDim.x) {
    const T xv = at(x, c, hw, ch, i);
    const double gv = pre(xv, at(g, c, hw, ch, i), scale, shift, relu);
    db += gv;
    dg += gv * ((double)xv - mean) * invstd;
  }
  dg = block_sum(dg, sh);
  db = block_sum(db, sh);
  if (threadIdx.x == 0) {
    out[ch] = (T)dg;
    out[c + ch] = (T)db;
  }
}

// Grid as bn_act_fwd: dx from x, grad and all six aux rows.
template <typename T>
__device__ void bn_grad_input(const T* x, const T* g, const T* aux, T* dx, int n, int c, int hw,
                              double eps, int relu, int batch_stats) {
  const long long plane = blockIdx.x;
  const int ch = (int)(plane % c);
  const double mean = (double)aux[2 * c + ch];
  const double invstd = 1.0 / sqrt((double)aux[3 * c + ch] + eps);
  double scale, shift;
  scale_shift(aux, aux + 2 * c, c, ch, eps, &scale, &shift);
  const double k = (double)aux[ch] * invstd;
  const double m = (double)n * (double)hw;
  const double dgamma = (double)aux[4 * c + ch], dbeta = (double)aux[5 * c + ch];
  for (long long j = (long long)blockIdx.y * blockDim.x + threadIdx.x; j < hw;
       j += (long long)gridDim.y * blockDim.x) {
    const long long e = plane * hw + j;
    const double gv = pre(x[e], g[e], scale, shift, relu);
    double v = k * gv;
    if (batch_stats) {
      const double xhat = ((double)x[e] - mean) * invstd;
      v = k * (gv - dbeta / m - xhat * dgamma / m);
    }
    dx[e] = (T)v;
  }
}

// Pooling geometry; windows are clipped to the image (the meaning of both paddings).
struct Pool {
  int h, w, oh, ow, k, stride, pad, is_max;
  __device__ int lo(int o) const { return max(o * stride - pad, 0); }
  __device__ int hi(int o, int n) const { return min(o * stride + k - pad, n); }
};

// The input index of the first maximum of window (oy, ox) in one plane.
template <typename T>
__device__ int argmax(const T* p, const Pool& q, int oy, int ox) {
  const int y0 = q.lo(oy), y1 = q.hi(oy, q.h), x0 = q.lo(ox), x1 = q.hi(ox, q.w);
  int best = y0 * q.w + x0;
  for (int y = y0; y < y1; ++y)
    for (int j = y * q.w + x0; j < y * q.w + x1; ++j)
      if (p[j] > p[best]) best = j;
  return best;
}

// One thread per output element (planes * oh * ow in all).
template <typename T>
__device__ void pool_fwd(const T* x, T* out, long long total, Pool q) {
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    const long long plane = i / ((long long)q.oh * q.ow);
    const int r = (int)(i % ((long long)q.oh * q.ow)), oy = r / q.ow, ox = r % q.ow;
    const T* p = x + plane * q.h * q.w;
    if (q.is_max) {
      out[i] = p[argmax(p, q, oy, ox)];
    } else {
      const int y0 = q.lo(oy), y1 = q.hi(oy, q.h), x0 = q.lo(ox), x1 = q.hi(ox, q.w);
      double s = 0.0;
      for (int y = y0; y < y1; ++y)
        for (int j = x0; j < x1; ++j) s += (double)p[y * q.w + j];
      out[i] = (T)(s / (double)((y1 - y0) * (x1 - x0)));
    }
  }
}

// One thread per input element: gathers the gradient of every window that covers it, in the
// CPU's (row-major window) order.
template <typename T>
__device__ void pool_bwd(const T* x, const T* g, T* dx, long long total, Pool q) {
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    const long long plane = i / ((long long)q.h * q.w);
    const int r = (int)(i % ((long long)q.h * q.w)), iy = r / q.w, ix = r % q.w;
    const T* p = x + plane * q.h * q.w;
    const T* gp = g + plane * q.oh * q.ow;
    // Windows o with o * stride - pad <= i < o * stride - pad + k.
    const int oy0 = max(0, (iy + q.pad - q.k + q.stride) / q.stride);
    const int oy1 = min(q.oh - 1, (iy + q.pad) / q.stride);
    const int ox0 = max(0, (ix + q.pad - q.k + q.stride) / q.stride);
    const int ox1 = min(q.ow - 1, (ix + q.pad) / q.stride);
    T acc = (T)0;
    for (int oy = oy0; oy <= oy1; ++oy) {
      for (int ox = ox0; ox <= ox1; ++ox) {
        if (q.is_max) {
          if (argmax(p, q, oy, ox) == r) acc += gp[oy * q.ow + ox];
        } else {
          const int rows = q.hi(oy, q.h) - q.lo(oy), cols = q.hi(ox, q.w) - q.lo(ox);
          acc += (T)((double)gp[oy * q.ow + ox] / (double)(rows * cols));
        }
      }
    }
    dx[i] = acc;
  }
}
