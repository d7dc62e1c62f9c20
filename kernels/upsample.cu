// The x2 bilinear upsample written out (see upsample.cuh): one thread per pixel and 8
// channels, the 4 source taps worked out once for them, 16-byte loads and stores.
#include "kernels/gathers.cuh"
#include "kernels/upsample.cuh"

namespace GP_KERNEL_NS {
namespace {

template <class T> struct alignas(16) Chunk { T v[8]; };

template <class T> struct UpsampleParams {
  const T* low;
  T* out;
  int hl, wl, c, h, w, top, left;
  float step_y, step_x;
};

template <class T> __global__ void upsample2x_pad_kernel(UpsampleParams<T> p, size_t count) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count) return;
  const int groups = p.c / 8;
  const size_t pixel = i / groups;
  const int ch = int(i % groups) * 8;
  const int y = int(pixel / p.w), x = int(pixel % p.w);
  const int uy = y - p.top, ux = x - p.left;
  Chunk<T> o;
  if (unsigned(uy) < unsigned(2 * p.hl) && unsigned(ux) < unsigned(2 * p.wl)) {
    const gather::BilinearTaps t = gather::bilinear_taps(uy, ux, p.step_y, p.step_x, p.hl, p.wl);
    auto at = [&](int yy, int xx) {
      return *reinterpret_cast<const Chunk<T>*>(p.low + (size_t(yy) * p.wl + xx) * p.c + ch);
    };
    const Chunk<T> a = at(t.y0, t.x0), b = at(t.y0, t.x1), d = at(t.y1, t.x0), e = at(t.y1, t.x1);
    for (int j = 0; j < 8; ++j)
      o.v[j] = gather::from_float<T>(gather::lerp2(t.ay, t.ax, gather::to_float(a.v[j]), gather::to_float(b.v[j]),
                                                   gather::to_float(d.v[j]), gather::to_float(e.v[j])));
  } else {
    for (int j = 0; j < 8; ++j) o.v[j] = gather::from_float<T>(0.0f);
  }
  *reinterpret_cast<Chunk<T>*>(p.out + pixel * p.c + ch) = o;
}

}  // namespace

template <class T>
cudaError_t upsample2x_pad(const T* low, int hl, int wl, int c, T* out, int h, int w, cudaStream_t stream) {
  if (hl < 1 || wl < 1 || c < 8 || c % 8 != 0 || 2 * hl > h || 2 * wl > w || !low || !out ||
      reinterpret_cast<uintptr_t>(low) % 16 != 0 || reinterpret_cast<uintptr_t>(out) % 16 != 0)
    return cudaErrorInvalidValue;
  const UpsampleParams<T> p{
      low, out, hl, wl, c, h, w, (h - 2 * hl) / 2, (w - 2 * wl) / 2, gather::up_step(hl), gather::up_step(wl)};
  return launch_1d(upsample2x_pad_kernel<T>, size_t(h) * w * (c / 8), 256, stream, p, size_t(h) * w * (c / 8));
}

template cudaError_t upsample2x_pad<__half>(const __half*, int, int, int, __half*, int, int, cudaStream_t);
template cudaError_t upsample2x_pad<__nv_bfloat16>(const __nv_bfloat16*, int, int, int, __nv_bfloat16*, int, int,
                                                   cudaStream_t);

}  // namespace GP_KERNEL_NS
