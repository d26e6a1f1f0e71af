//! Depthwise conv (forward, weight and input gradients) and SGD step kernels, as templates over
//! f32/f64 (kernels.cu instantiates them), following dw_op.rs and optim.rs: taps summed in
//! row-major order in T, the weight gradient in double, no fused multiply-add (-fmad=false).
#pragma once
#include "common.cuh"

// Depthwise conv geometry: x [N, C, H, W], weight [C, 1, K, K], out [N, C, OH, OW], zero padding.
struct Dw {
  int c, h, w, oh, ow, k, stride, dil, pad;
  // The input coordinate output o reads at tap t, or -1 outside the image.
  __device__ int in(int o, int t, int n) const {
    const int i = o * stride + t * dil - pad;
    return (i >= 0 && i < n) ? i : -1;
  }
};

// One thread per output element: taps in row-major order, summed in T as the CPU op does.
template <typename T>
__device__ void dw_fwd(const T* x, const T* wt, T* out, long long total, Dw q) {
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    const long long plane = i / ((long long)q.oh * q.ow);
    const int r = (int)(i % ((long long)q.oh * q.ow)), oy = r / q.ow, ox = r % q.ow;
    const T* p = x + plane * q.h * q.w;
    const T* wc = wt + (long long)(plane % q.c) * q.k * q.k;
    T acc = (T)0;
    for (int ky = 0; ky < q.k; ++ky) {
      const int iy = q.in(oy, ky, q.h);
      if (iy < 0) continue;
      for (int kx = 0; kx < q.k; ++kx) {
        const int ix = q.in(ox, kx, q.w);
        if (ix >= 0) acc += wc[ky * q.k + kx] * p[iy * q.w + ix];
      }
    }
    out[i] = acc;
  }
}

// One block per weight element (channel, tap): the sum over images and outputs, in double.
template <typename T>
__device__ void dw_weight_grad(const T* x, const T* g, T* gw, int n, Dw q) {
  __shared__ double sh[WARP];
  const int ch = blockIdx.x / (q.k * q.k), t = blockIdx.x % (q.k * q.k), ky = t / q.k, kx = t % q.k;
  const long long per = (long long)q.oh * q.ow, m = (long long)n * per;
  double s = 0.0;
  for (long long i = threadIdx.x; i < m; i += blockDim.x) {
    const long long b = i / per;
    const int r = (int)(i % per), oy = r / q.ow, ox = r % q.ow;
    const int iy = q.in(oy, ky, q.h), ix = q.in(ox, kx, q.w);
    if (iy < 0 || ix < 0) continue;
    const long long plane = b * q.c + ch;
    s += (double)g[plane * per + r] * (double)x[plane * q.h * q.w + iy * q.w + ix];
  }
  s = block_sum(s, sh);
  if (threadIdx.x == 0) gw[blockIdx.x] = (T)s;
}

// One thread per input element: the taps that read it, in row-major order (as the CPU op).
template <typename T>
__device__ void dw_input_grad(const T* g, const T* wt, T* dx, long long total, Dw q) {
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    const long long plane = i / ((long long)q.h * q.w);
    const int r = (int)(i % ((long long)q.h * q.w)), iy = r / q.w, ix = r % q.w;
    const T* gp = g + plane * q.oh * q.ow;
    const T* wc = wt + (long long)(plane % q.c) * q.k * q.k;
    T acc = (T)0;
    for (int ky = 0; ky < q.k; ++ky) {
      const int ny = iy + q.pad - ky * q.dil;  // = oy * stride
      if (ny < 0 || ny % q.stride != 0 || ny / q.stride >= q.oh) continue;
      for (int kx = 0; kx < q.k; ++kx) {
        const int nx = ix + q.pad - kx * q.dil;
        if (nx < 0 || nx % q.stride != 0 || nx / q.stride >= q.ow) continue;
        acc += wc[ky * q.k + kx] * gp[(ny / q.stride) * q.ow + nx / q.stride];
      }
    }
    dx[i] = acc;
  }
}

// SGD, new momentum buffer: out = buf * momentum + g', g' = g + p * wd (or out = g' on a
// parameter's first step), in T as the candle ops of optim.rs compute it.
template <typename T>
__device__ void sgd_buf(const T* buf, const T* g, const T* p, T* out, long long n, double momentum,
                        double wd, int first) {
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x) {
    T gi = g[i];
    if (wd > 0.0) gi = gi + p[i] * (T)wd;
    out[i] = first ? gi : buf[i] * (T)momentum + gi;
  }
}

// SGD, parameter in place: p -= lr * dir, dir = g' + buf * momentum (Nesterov) or buf.
template <typename T>
__device__ void sgd_param(T* p, const T* g, const T* buf, long long n, double lr, double momentum,
                          double wd, int nesterov) {
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (long long)gridDim.x * blockDim.x) {
    T gi = g[i];
    if (wd > 0.0) gi = gi + p[i] * (T)wd;
    const T dir = nesterov ? gi + buf[i] * (T)momentum : buf[i];
    p[i] = p[i] - dir * (T)lr;
  }
}
