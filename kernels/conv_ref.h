// CPU reference of kernels/conv.cu (plain C++, usable without CUDA): obviously-correct
// loops in double, written for clarity, not speed.
//
// Layouts (batch 1, NHWC): activations [H][W][C] float; weights in PyTorch layout
// [cout][cin][k][k] (BN already folded) and bias [cout]; convolutions are stride 1 with
// zero padding k / 2 (so 3x3 -> pad 1, 1x1 -> pad 0) and keep the spatial size.
//
// Two independent ways to the same numbers, so the references check each other:
//  - the gathers materialised as tensors (maxpool2, upsample2_pad_concat,
//    colorizer_input), then conv2d on the result;
//  - conv2d_maxpool / conv2d_upconcat / conv2d_colorizer, which evaluate the gathered
//    value at each tap directly from the sources, in double.
// Every conv2d* returns the pre-activation sums (bias included) in double; the
// epilogues (relu, tanh, argmax) are applied by the caller with the helpers below.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/model_shape.h"

namespace gp::ref {

// out[(y * w + x) * cout + co] = bias[co] + sum_{ky, kx, ci} in(y + ky - k/2, x + kx - k/2, ci)
//                                 * weight[((co * cin + ci) * k + ky) * k + kx]
// where in(y, x, c) = fetch(y, x, c) inside the image and 0 outside (zero padding).
template <class Fetch> void conv2d_fetch(int h, int w, int cin, Fetch fetch, const float* weight, const float* bias,
                                         int cout, int ksize, double* out) {
  const int r = ksize / 2;
  std::vector<double> pixel(size_t(ksize) * ksize * cin);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      // The input window once per pixel, [ky][kx][ci], zeros outside the image.
      for (int ky = 0; ky < ksize; ++ky)
        for (int kx = 0; kx < ksize; ++kx)
          for (int ci = 0; ci < cin; ++ci) {
            const int sy = y + ky - r, sx = x + kx - r;
            const bool inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
            pixel[(size_t(ky) * ksize + kx) * cin + ci] = inside ? double(fetch(sy, sx, ci)) : 0.0;
          }
      for (int co = 0; co < cout; ++co) {
        double s = bias[co];
        for (int ci = 0; ci < cin; ++ci)
          for (int ky = 0; ky < ksize; ++ky)
            for (int kx = 0; kx < ksize; ++kx)
              s += double(weight[((size_t(co) * cin + ci) * ksize + ky) * ksize + kx]) *
                   pixel[(size_t(ky) * ksize + kx) * cin + ci];
        out[(size_t(y) * w + x) * cout + co] = s;
      }
    }
}

// Plain convolution of in [h][w][cin].
inline void conv2d(const float* in, int h, int w, int cin, const float* weight, const float* bias, int cout, int ksize,
                   double* out) {
  conv2d_fetch(
      h, w, cin, [&](int y, int x, int c) { return in[(size_t(y) * w + x) * cin + c]; }, weight, bias, cout, ksize,
      out);
}

// ---- gathers, materialised ---------------------------------------------------------

// MaxPool 2x2 stride 2 (floor): in [h_in][w_in][c] -> out [h_in/2][w_in/2][c].
inline void maxpool2(const float* in, int h_in, int w_in, int c, float* out) {
  const int h = h_in / 2, w = w_in / 2;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch) {
        float m = in[((2 * size_t(y)) * w_in + 2 * x) * c + ch];
        for (int dy = 0; dy < 2; ++dy)
          for (int dx = 0; dx < 2; ++dx) m = std::max(m, in[((2 * size_t(y) + dy) * w_in + 2 * x + dx) * c + ch]);
        out[(size_t(y) * w + x) * c + ch] = m;
      }
}

// Source coordinate of output index `dst` for an align_corners=True resize of `in`
// samples to 2 * in samples: dst * (in - 1) / (2 in - 1); a single sample stays put.
inline double upsample2_source(int dst, int in) { return in == 1 ? 0.0 : double(dst) * (in - 1) / (2.0 * in - 1); }

// Bilinear x2 (align_corners=True) of low [hl][wl][cl] at upsampled position (uy, ux).
inline double upsample2_at(const float* low, int hl, int wl, int cl, int uy, int ux, int c) {
  const double fy = upsample2_source(uy, hl), fx = upsample2_source(ux, wl);
  const int y0 = int(std::floor(fy)), x0 = int(std::floor(fx));
  const int y1 = std::min(y0 + 1, hl - 1), x1 = std::min(x0 + 1, wl - 1);
  const double ay = fy - y0, ax = fx - x0;
  auto v = [&](int y, int x) { return double(low[(size_t(y) * wl + x) * cl + c]); };
  return (1 - ay) * ((1 - ax) * v(y0, x0) + ax * v(y0, x1)) + ay * ((1 - ax) * v(y1, x0) + ax * v(y1, x1));
}

// The input of an Up block: [skip (cs channels), upsampled low (cl channels)] of size
// h x w, where the upsampled map (2 hl x 2 wl) is zero-padded to h x w with
// top = (h - 2 hl) / 2, left = (w - 2 wl) / 2 and the rest at the bottom / right.
// Needs h >= 2 hl and w >= 2 wl. out [h][w][cs + cl].
inline void upsample2_pad_concat(const float* skip, int h, int w, int cs, const float* low, int hl, int wl, int cl,
                                 float* out) {
  const int top = (h - 2 * hl) / 2, left = (w - 2 * wl) / 2, c = cs + cl;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float* o = out + (size_t(y) * w + x) * c;
      for (int ch = 0; ch < cs; ++ch) o[ch] = skip[(size_t(y) * w + x) * cs + ch];
      const int uy = y - top, ux = x - left;
      const bool inside = uy >= 0 && uy < 2 * hl && ux >= 0 && ux < 2 * wl;
      for (int ch = 0; ch < cl; ++ch) o[cs + ch] = inside ? float(upsample2_at(low, hl, wl, cl, uy, ux, ch)) : 0.0f;
    }
}

// The colorizer's 35-channel input at one pixel: [X, C (3), M - center, onehot(l) - center (30)]
// with C = active[l] ? colors[l] : 0 and M = active[l] (0 or 1). A label >= 30 is no
// region: C = 0, M = 0, all-zero one-hot.
inline double colorizer_input_at(const float* sketch, const uint8_t* labels, const float* colors, const uint8_t* active,
                                 float center, size_t pixel, int c) {
  const int l = labels[pixel];
  const bool region = l < kNumRegions;
  const bool hinted = region && active[l] != 0;
  if (c == 0) return sketch[pixel];
  if (c < 4) return hinted ? double(colors[3 * l + c - 1]) : 0.0;
  if (c == 4) return (hinted ? 1.0 : 0.0) - double(center);
  return (region && l == c - 5 ? 1.0 : 0.0) - double(center);
}

// sketch [h][w], labels [h][w], colors [30][3], active [30] -> out [h][w][35].
inline void colorizer_input(const float* sketch, const uint8_t* labels, const float* colors, const uint8_t* active,
                            float center, int h, int w, float* out) {
  for (size_t p = 0; p < size_t(h) * w; ++p)
    for (int c = 0; c < kColorizerChannels; ++c)
      out[p * kColorizerChannels + c] = float(colorizer_input_at(sketch, labels, colors, active, center, p, c));
}

// ---- convolutions of each gather mode, directly --------------------------------------

// Conv at (h_in/2) x (w_in/2) over the 2x2 max of in [h_in][w_in][cin].
inline void conv2d_maxpool(const float* in, int h_in, int w_in, int cin, const float* weight, const float* bias,
                           int cout, int ksize, double* out) {
  auto at = [&](int y, int x, int c) {
    double m = -INFINITY;
    for (int dy = 0; dy < 2; ++dy)
      for (int dx = 0; dx < 2; ++dx) m = std::max(m, double(in[((2 * size_t(y) + dy) * w_in + 2 * x + dx) * cin + c]));
    return m;
  };
  conv2d_fetch(h_in / 2, w_in / 2, cin, at, weight, bias, cout, ksize, out);
}

// Conv at h x w over [skip, pad(upsample2(low))] (see upsample2_pad_concat).
inline void conv2d_upconcat(const float* skip, int h, int w, int cs, const float* low, int hl, int wl, int cl,
                            const float* weight, const float* bias, int cout, int ksize, double* out) {
  const int top = (h - 2 * hl) / 2, left = (w - 2 * wl) / 2;
  auto at = [&](int y, int x, int c) {
    if (c < cs) return double(skip[(size_t(y) * w + x) * cs + c]);
    const int uy = y - top, ux = x - left;
    if (uy < 0 || uy >= 2 * hl || ux < 0 || ux >= 2 * wl) return 0.0;
    return upsample2_at(low, hl, wl, cl, uy, ux, c - cs);
  };
  conv2d_fetch(h, w, cs + cl, at, weight, bias, cout, ksize, out);
}

// Conv at h x w over the 35-channel colorizer input (see colorizer_input_at).
inline void conv2d_colorizer(const float* sketch, const uint8_t* labels, const float* colors, const uint8_t* active,
                             float center, int h, int w, const float* weight, const float* bias, int cout, int ksize,
                             double* out) {
  auto at = [&](int y, int x, int c) {
    return colorizer_input_at(sketch, labels, colors, active, center, size_t(y) * w + x, c);
  };
  conv2d_fetch(h, w, kColorizerChannels, at, weight, bias, cout, ksize, out);
}

// ---- epilogues -----------------------------------------------------------------------

inline void apply_relu(std::vector<double>& v) {
  for (double& x : v) x = x > 0 ? x : 0.0;
}
inline void apply_tanh(std::vector<double>& v) {
  for (double& x : v) x = std::tanh(x);
}
// Per pixel: label = first index of the largest of `channels` logits (ties to the
// lowest index, as torch.argmax) and gap = largest minus second largest (inf for one
// channel), so a test can excuse pixels whose label float rounding may flip.
inline void argmax_with_gap(const double* logits, size_t pixels, int channels, uint8_t* labels, double* gap) {
  for (size_t p = 0; p < pixels; ++p) {
    const double* v = logits + p * channels;
    int best = 0;
    for (int c = 1; c < channels; ++c)
      if (v[c] > v[best]) best = c;
    double second = -INFINITY;
    for (int c = 0; c < channels; ++c)
      if (c != best) second = std::max(second, v[c]);
    labels[p] = uint8_t(best);
    gap[p] = v[best] - second;
  }
}

}  // namespace gp::ref
