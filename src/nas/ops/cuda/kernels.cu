//! Entry points of our CUDA kernels, compiled to PTX by build.rs (`cuda` feature) and launched
//! from the CustomOps in src/nas/ops/cuda/*.rs: each template of norm_pool.cuh, conv_sgd.cuh
//! and cross_entropy.cuh as an extern "C" kernel per element type, named nas_<op>_f32 /
//! nas_<op>_f64. The argument lists here are the contract with the Rust side (same order, same
//! types).
#include "common.cuh"
#include "norm_pool.cuh"
#include "conv_sgd.cuh"
#include "cross_entropy.cuh"

#define NAS_KERNELS(T, S)                                                                          \
  extern "C" __global__ void nas_bn_stats_##S(const T* x, T* out, int n, int c, int hw,          \
                                              int segments) {                                      \
    bn_stats(x, out, n, c, hw, segments);                                                          \
  }                                                                                                \
  extern "C" __global__ void nas_bn_act_fwd_##S(const T* x, const T* gb, const T* st, T* y, int n, \
                                                int c, int hw, double eps, int relu,               \
                                                int segments) {                                    \
    bn_act_fwd(x, gb, st, y, n, c, hw, eps, relu, segments);                                       \
  }                                                                                                \
  extern "C" __global__ void nas_bn_grad_params_##S(const T* x, const T* g, const T* aux, T* out,  \
                                                    int n, int c, int hw, double eps, int relu) {  \
    bn_grad_params(x, g, aux, out, n, c, hw, eps, relu);                                           \
  }                                                                                                \
  extern "C" __global__ void nas_bn_grad_input_##S(const T* x, const T* g, const T* aux, T* dx,    \
                                                   int n, int c, int hw, double eps, int relu,     \
                                                   int batch_stats) {                              \
    bn_grad_input(x, g, aux, dx, n, c, hw, eps, relu, batch_stats);                                \
  }                                                                                                \
  extern "C" __global__ void nas_pool_fwd_##S(const T* x, T* out, long long total, int h, int w,  \
                                              int oh, int ow, int k, int stride, int pad,          \
                                              int is_max) {                                        \
    pool_fwd(x, out, total, Pool{h, w, oh, ow, k, stride, pad, is_max});                           \
  }                                                                                                \
  extern "C" __global__ void nas_pool_bwd_##S(const T* x, const T* g, T* dx, long long total,     \
                                              int h, int w, int oh, int ow, int k, int stride,     \
                                              int pad, int is_max) {                               \
    pool_bwd(x, g, dx, total, Pool{h, w, oh, ow, k, stride, pad, is_max});                         \
  }                                                                                                \
  extern "C" __global__ void nas_dw_fwd_##S(const T* x, const T* wt, T* out, long long total,      \
                                            int c, int h, int w, int oh, int ow, int k, int stride, \
                                            int dil, int pad) {                                    \
    dw_fwd(x, wt, out, total, Dw{c, h, w, oh, ow, k, stride, dil, pad});                           \
  }                                                                                                \
  extern "C" __global__ void nas_dw_weight_grad_##S(const T* x, const T* g, T* gw, int n, int c,   \
                                                    int h, int w, int oh, int ow, int k,           \
                                                    int stride, int dil, int pad) {                \
    dw_weight_grad(x, g, gw, n, Dw{c, h, w, oh, ow, k, stride, dil, pad});                         \
  }                                                                                                \
  extern "C" __global__ void nas_dw_input_grad_##S(const T* g, const T* wt, T* dx, long long total, \
                                                   int c, int h, int w, int oh, int ow, int k,     \
                                                   int stride, int dil, int pad) {                 \
    dw_input_grad(g, wt, dx, total, Dw{c, h, w, oh, ow, k, stride, dil, pad});                     \
  }                                                                                                \
  extern "C" __global__ void nas_sgd_buf_##S(const T* buf, const T* g, const T* p, T* out,         \
                                             long long n, double momentum, double wd, int first) { \
    sgd_buf(buf, g, p, out, n, momentum, wd, first);                                               \
  }                                                                                                \
  extern "C" __global__ void nas_sgd_param_##S(T* p, const T* g, const T* buf, long long n,        \
                                               double lr, double momentum, double wd,              \
                                               int nesterov) {                                     \
    sgd_param(p, g, buf, n, lr, momentum, wd, nesterov);                                           \
  }                                                                                                \
  extern "C" __global__ void nas_ce_fwd_##S(const T* x, const unsigned int* labels, T* out,       \
                                            int rows, int c) {                                     \
    ce_fwd(x, labels, out, rows, c);                                                               \
  }                                                                                                \
  extern "C" __global__ void nas_ce_bwd_##S(const T* x, const unsigned int* labels, const T* g,   \
                                            T* dx, int rows, int c) {                              \
    ce_bwd(x, labels, g, dx, rows, c);                                                             \
  }

NAS_KERNELS(float, f32)
NAS_KERNELS(double, f64)
