#include "kernels/compose.cuh"

namespace GP_KERNEL_NS {
namespace {

constexpr unsigned kComposeBlock = 256;

// Calls f(source index, weight) for each source tap of output i on an axis resampled
// from n_old to n_new, in the order the host path sums them (gp::compose_output).
template <class F> __device__ __forceinline__ void for_each_tap(int i, int n_old, int n_new, F&& f) {
  if (n_old == n_new) {
    f(i, 1.0);
  } else if (n_new < n_old) {
    // Output i covers [i * old, (i + 1) * old) in units of 1 / new; overlaps are integers.
    const long long lo = (long long)i * n_old, hi = (long long)(i + 1) * n_old;
    for (long long j = lo / n_new; j * n_new < hi; ++j) {
      const long long overlap = min((j + 1) * n_new, hi) - max(j * n_new, lo);
      if (overlap > 0) f(int(j), double(overlap) / double(n_old));
    }
  } else {
    double u = __dadd_rn(__dmul_rn(__dadd_rn(double(i), 0.5), double(n_old)) / double(n_new), -0.5);
    u = fmin(fmax(u, 0.0), double(n_old - 1));
    const int j0 = int(floor(u));
    const int j1 = min(j0 + 1, n_old - 1);
    const double frac = __dadd_rn(u, -double(j0));
    f(j0, __dadd_rn(1.0, -frac));
    if (frac > 0.0) f(j1, frac);
  }
}

__device__ __forceinline__ uint8_t round_u8(double v) {
  return uint8_t(fmin(fmax(floor(__dadd_rn(v, 0.5)), 0.0), 255.0));
}

__global__ void compose_rgb8_kernel(const uint8_t* __restrict__ colours, int w, int h,
                                    const uint8_t* __restrict__ sketch, int W, int H, bool keep_lines,
                                    uint8_t* __restrict__ out) {
  const size_t p = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (p >= size_t(W) * H) return;
  const int X = int(p % size_t(W)), Y = int(p / size_t(W));
  double acc[3] = {0.0, 0.0, 0.0};
  for_each_tap(Y, h, H, [&](int sy, double wy) {
    // The horizontal pass's value at (row sy, column X), rounded to float as the host stores it.
    double row[3] = {0.0, 0.0, 0.0};
    const uint8_t* src = colours + size_t(sy) * w * 3;
    for_each_tap(X, w, W, [&](int sx, double wx) {
      for (int c = 0; c < 3; ++c) row[c] = __dadd_rn(row[c], __dmul_rn(wx, double(src[3 * sx + c])));
    });
    for (int c = 0; c < 3; ++c) acc[c] = __dadd_rn(acc[c], __dmul_rn(wy, double(float(row[c]))));
  });
  uint8_t* dst = out + 3 * p;
  if (!keep_lines) {
    for (int c = 0; c < 3; ++c) dst[c] = round_u8(double(float(acc[c])));
    return;
  }
  const uint8_t* s = sketch + 3 * p;
  const double grey = __dadd_rn(__dadd_rn(__dmul_rn(0.299, double(s[0])), __dmul_rn(0.587, double(s[1]))),
                                __dmul_rn(0.114, double(s[2])));
  for (int c = 0; c < 3; ++c) dst[c] = round_u8(__dmul_rn(double(float(acc[c])), grey) / 255.0);
}

}  // namespace

cudaError_t compose_rgb8(const uint8_t* colours, int w, int h, const uint8_t* sketch, int W, int H, bool keep_lines,
                         uint8_t* out, cudaStream_t stream) {
  if (w <= 0 || h <= 0 || W <= 0 || H <= 0 || !colours || !out || (keep_lines && !sketch)) return cudaErrorInvalidValue;
  return launch_1d(compose_rgb8_kernel, size_t(W) * H, kComposeBlock, stream, colours, w, h, sketch, W, H, keep_lines,
                   out);
}

}  // namespace GP_KERNEL_NS
