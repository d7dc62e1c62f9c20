// __half and __nv_bfloat16 in kernels: float -> half/bf16 conversion rounds to nearest
// even (ties, subnormals, overflow to inf at 65520, NaN), every half bit pattern
// survives a round trip through float, arithmetic is correctly rounded against exact
// references (double for + - * /, 128-bit integers for the fused multiply-add).
//
// The references here decode and round by brute force (a table of every half value,
// integer significands), independently of the simulator's bit manipulation.
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "tests/sim/sim_test_util.h"

namespace sim_half {
using namespace simtest;

uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// ---- references ---------------------------------------------------------------------
// Value of a finite half by the IEEE 754 binary16 definition.
double half_value(uint16_t h) {
  const int e = (h >> 10) & 31, m = h & 1023;
  const double mag = e == 0 ? std::ldexp(double(m), -24) : std::ldexp(double(1024 + m), e - 25);
  return (h & 0x8000) ? -mag : mag;
}
bool half_is_nan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0; }
bool bf16_is_nan(uint16_t b) { return (b & 0x7f80) == 0x7f80 && (b & 0x7f) != 0; }

// Every finite non-negative half in increasing order: bits 0x0000..0x7bff.
const std::vector<double>& half_table() {
  static const std::vector<double> t = [] {
    std::vector<double> v(0x7c00);
    for (int b = 0; b < 0x7c00; ++b) v[b] = half_value(uint16_t(b));
    return v;
  }();
  return t;
}

// Round x to the nearest half, ties to the even bit pattern; 65520 and above (the
// midpoint between 65504 and the next step, 65536) round to infinity.
uint16_t nearest_half(double x) {
  if (std::isnan(x)) return 0x7e00;
  const uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  const double a = std::fabs(x);
  if (a >= 65520.0) return sign | 0x7c00;
  const std::vector<double>& t = half_table();
  const size_t hi = size_t(std::upper_bound(t.begin(), t.end(), a) - t.begin());  // t[hi-1] <= a < t[hi]
  const size_t lo = hi - 1;
  if (hi == t.size()) return uint16_t(sign | lo);
  const double dl = a - t[lo], dh = t[hi] - a;
  const size_t pick = dl < dh ? lo : dh < dl ? hi : (lo % 2 == 0 ? lo : hi);
  return uint16_t(sign | pick);
}

// Round x (a float) to bf16, ties to even; the step above the largest finite bf16 is
// 2^128, so values at or past the midpoint to it become infinity.
uint16_t nearest_bf16(float x) {
  if (std::isnan(x)) return 0x7fc0;
  const uint32_t u = bits_of(x);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000);
  const uint32_t a = u & 0x7fffffffu;
  if (a == 0x7f800000u) return sign | 0x7f80;
  const uint16_t lo = uint16_t(a >> 16);
  auto value = [](uint16_t b) { return b == 0x7f80 ? std::ldexp(1.0, 128) : double(float_of(uint32_t(b) << 16)); };
  const double v = double(float_of(a)), dl = v - value(lo), dh = value(uint16_t(lo + 1)) - v;
  const uint16_t pick = dl < dh ? lo : dh < dl ? uint16_t(lo + 1) : (lo % 2 == 0 ? lo : uint16_t(lo + 1));
  return sign | pick;
}

// ---- kernels --------------------------------------------------------------------------
__global__ void float_to_half_bits(const float* in, unsigned short* out_f2h, unsigned short* out_ctor,
                                   unsigned short* out_bf16, int n) {
  for (int i = int(blockIdx.x * blockDim.x + threadIdx.x); i < n; i += int(gridDim.x * blockDim.x)) {
    out_f2h[i] = __half_as_ushort(__float2half(in[i]));
    const __half h = __float2half_rn(in[i]);
    const __half c(in[i]);
    out_ctor[i] = __half_as_ushort(h) == __half_as_ushort(c) ? __half_as_ushort(c) : 0xdead;
    const __nv_bfloat16 b = __float2bfloat16(in[i]);
    unsigned short bb;
    std::memcpy(&bb, &b, 2);
    out_bf16[i] = bb;
  }
}

// Every half bit pattern -> float -> half.
__global__ void half_round_trip(float* as_float, unsigned short* back) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  const __half h = __ushort_as_half((unsigned short)i);
  const float f = __half2float(h);
  as_float[i] = f;
  back[i] = __half_as_ushort(__float2half(f));
}

class Half : public SimTest {
 protected:
  struct Converted {
    std::vector<unsigned short> f2h, ctor, bf16;
  };
  Converted convert(const std::vector<float>& in) {
    const int n = int(in.size());
    DeviceBuffer<float> d_in(in);
    DeviceBuffer<unsigned short> a(in.size()), b(in.size()), c(in.size());
    auto cfg = launch_config(dim3(64), dim3(128));
    EXPECT_EQ(cudaLaunchKernelEx(&cfg, float_to_half_bits, static_cast<const float*>(d_in.get()), a.get(), b.get(),
                                 c.get(), n),
              cudaSuccess);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    return {a.download(), b.download(), c.download()};
  }
};

TEST_F(Half, Float2HalfHandPickedValues) {
  const float p24 = std::ldexp(1.0f, -24), p25 = std::ldexp(1.0f, -25);
  const struct {
    float x;
    uint16_t bits;
  } cases[] = {
      {0.0f, 0x0000},
      {-0.0f, 0x8000},
      {1.0f, 0x3c00},
      {-2.0f, 0xc000},
      {0.5f, 0x3800},
      {0.1f, 0x2e66},
      {3.14159265f, 0x4248},
      {-1000.0f, 0xe3d0},
      {65504.0f, 0x7bff},
      {65519.0f, 0x7bff},
      {65519.996f, 0x7bff},
      {65520.0f, 0x7c00},
      {65536.0f, 0x7c00},
      {-65520.0f, 0xfc00},
      {1e10f, 0x7c00},
      {INFINITY, 0x7c00},
      {-INFINITY, 0xfc00},
      {FLT_MAX, 0x7c00},
      {1.0f + std::ldexp(1.0f, -11), 0x3c00},                          // tie, even is below
      {1.0f + 3 * std::ldexp(1.0f, -11), 0x3c02},                      // tie, even is above
      {1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20), 0x3c01},  // just past the tie
      {1.0f + std::ldexp(1.0f, -11) - std::ldexp(1.0f, -23), 0x3c00},  // just below the tie
      {2049.0f, 0x6800},
      {2051.0f, 0x6802},
      {2050.0f, 0x6801},
      {std::ldexp(1.0f, -14), 0x0400},  // smallest normal
      {p24, 0x0001},                    // smallest subnormal
      {p25, 0x0000},                    // tie with 0: even
      {std::nextafter(p25, 1.0f), 0x0001},
      {std::nextafter(p25, 0.0f), 0x0000},
      {3 * p25, 0x0002},
      {5 * p25, 0x0002},
      {7 * p25, 0x0004},  // subnormal ties
      {1023 * p24, 0x03ff},
      {1023.5f * p24, 0x0400},  // into the normals
      {-3 * p25, 0x8002},
      {1e-8f, 0x0000},
      {-1e-8f, 0x8000},
      {std::ldexp(1.0f, -149), 0x0000},
  };
  std::vector<float> in;
  for (const auto& c : cases) in.push_back(c.x);
  const Converted r = convert(in);
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(r.f2h[i], cases[i].bits) << "x = " << in[i] << " (float bits 0x" << std::hex << bits_of(in[i]) << ")";
    EXPECT_EQ(r.ctor[i], cases[i].bits) << "x = " << in[i];
    EXPECT_EQ(nearest_half(in[i]), cases[i].bits) << "reference disagrees for x = " << in[i];
  }
}

TEST_F(Half, Float2HalfNaNStaysNaN) {
  const std::vector<float> in = {std::numeric_limits<float>::quiet_NaN(),
                                 -std::numeric_limits<float>::quiet_NaN(),
                                 float_of(0x7f800001u),
                                 float_of(0x7fc00000u),
                                 float_of(0xffffffffu),
                                 float_of(0x7f802000u)};
  const Converted r = convert(in);
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_TRUE(half_is_nan(r.f2h[i])) << std::hex << bits_of(in[i]) << " -> " << r.f2h[i];
    EXPECT_TRUE(bf16_is_nan(r.bf16[i])) << std::hex << bits_of(in[i]) << " -> " << r.bf16[i];
  }
}

// Every midpoint between neighbouring halves, and the floats right next to it, plus
// random floats over the half range and beyond, against the brute-force reference.
TEST_F(Half, Float2HalfAllTiesAndRandomValuesMatchReference) {
  std::vector<float> in;
  const std::vector<double>& t = half_table();
  for (size_t b = 0; b + 1 < t.size(); ++b) {
    const float mid = float((t[b] + t[b + 1]) / 2);  // exact: 12 significant bits
    for (float x : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, HUGE_VALF)}) {
      in.push_back(x);
      in.push_back(-x);
    }
  }
  in.push_back(65520.0f);
  in.push_back(std::nextafter(65520.0f, 0.0f));
  for (uint32_t i = 0; i < 100000; ++i) {
    const uint32_t m = mix(i);
    const uint32_t exp = 100 + (m >> 24) % 50;  // 2^-27 .. 2^22
    in.push_back(float_of((m & 0x80000000u) | (exp << 23) | (mix(i + 777777) & 0x7fffffu)));
  }
  const Converted r = convert(in);
  int bad = 0;
  for (size_t i = 0; i < in.size(); ++i)
    if (r.f2h[i] != nearest_half(in[i]) && ++bad <= 10)
      ADD_FAILURE() << "x = " << in[i] << " (0x" << std::hex << bits_of(in[i]) << "): got 0x" << r.f2h[i]
                    << ", expected 0x" << nearest_half(in[i]);
  EXPECT_EQ(bad, 0) << "of " << in.size();
}

TEST_F(Half, AllHalfBitPatternsRoundTripThroughFloat) {
  DeviceBuffer<float> f(65536);
  DeviceBuffer<unsigned short> back(65536);
  auto cfg = launch_config(dim3(256), dim3(256));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, half_round_trip, f.get(), back.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<float> rf = f.download();
  const std::vector<unsigned short> rb = back.download();
  int nans = 0;
  for (uint32_t h = 0; h < 65536; ++h) {
    if (half_is_nan(uint16_t(h))) {
      ++nans;
      ASSERT_TRUE(std::isnan(rf[h])) << std::hex << h;
      ASSERT_TRUE(half_is_nan(rb[h])) << std::hex << h << " -> " << rb[h];
      continue;
    }
    const bool inf = (h & 0x7fff) == 0x7c00;
    const double want = inf ? ((h & 0x8000) ? -HUGE_VAL : HUGE_VAL) : half_value(uint16_t(h));
    ASSERT_EQ(double(rf[h]), want) << std::hex << h;
    ASSERT_EQ(std::signbit(rf[h]), (h & 0x8000) != 0) << std::hex << h;  // -0 stays -0
    ASSERT_EQ(rb[h], h) << std::hex << h;
  }
  EXPECT_EQ(nans, 2 * 1023);
}

TEST_F(Half, Bf16RoundsToNearestEven) {
  const float p133 = std::ldexp(1.0f, -133);
  const struct {
    float x;
    uint16_t bits;
  } cases[] = {
      {1.0f, 0x3f80},
      {-1.0f, 0xbf80},
      {0.0f, 0x0000},
      {-0.0f, 0x8000},
      {3.0f, 0x4040},
      {1.0f + std::ldexp(1.0f, -8), 0x3f80},                          // tie, even below
      {1.0f + 3 * std::ldexp(1.0f, -8), 0x3f82},                      // tie, even above
      {1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20), 0x3f81},  // past the tie
      {FLT_MAX, 0x7f80},
      {-FLT_MAX, 0xff80},
      {INFINITY, 0x7f80},
      {-INFINITY, 0xff80},
      {float_of(0x7f7f7fffu), 0x7f7f},
      {float_of(0x7f7f8000u), 0x7f80},  // largest bf16; the tie above it
      {p133, 0x0001},
      {3 * std::ldexp(1.0f, -134), 0x0002},
      {std::ldexp(1.0f, -149), 0x0000},
      {0.1f, 0x3dcd},
      {3.14159265f, 0x4049},
  };
  std::vector<float> in;
  for (const auto& c : cases) in.push_back(c.x);
  for (uint32_t i = 0; i < 50000; ++i) in.push_back(float_of(mix(i * 3 + 1)));                    // every exponent
  for (uint32_t i = 0; i < 20000; ++i) in.push_back(float_of((mix(i) & 0xffff0000u) | 0x8000u));  // exact ties
  const Converted r = convert(in);
  for (size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(r.bf16[i], cases[i].bits) << "x = " << in[i];
    EXPECT_EQ(nearest_bf16(in[i]), cases[i].bits) << "reference disagrees for x = " << in[i];
  }
  int bad = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    if (std::isnan(in[i])) {
      if (!bf16_is_nan(r.bf16[i])) ++bad;
      continue;
    }
    if (r.bf16[i] != nearest_bf16(in[i]) && ++bad <= 10)
      ADD_FAILURE() << "x = " << in[i] << " (0x" << std::hex << bits_of(in[i]) << "): got 0x" << r.bf16[i]
                    << ", expected 0x" << nearest_bf16(in[i]);
  }
  EXPECT_EQ(bad, 0);
}

// ---- arithmetic ---------------------------------------------------------------------
// Random half operands: mostly moderate magnitudes (so sums and products stay in
// range and cancel), some from anywhere including subnormals, infinities and NaN.
uint16_t operand(uint32_t i) {
  const uint32_t m = mix(i);
  if (m % 8 == 0) return uint16_t(mix(i + 1) & 0xffff);
  const uint32_t exp = 5 + (m >> 8) % 21;  // 2^-10 .. 2^10
  return uint16_t(((m >> 20) & 0x8000u) | (exp << 10) | (mix(i + 2) & 0x3ffu));
}

constexpr int kPerThread = 16;

__global__ void half_arith(const unsigned short* a, const unsigned short* b, const unsigned short* c,
                           unsigned short* out, int n) {
  const int base = int(blockIdx.x * blockDim.x + threadIdx.x) * kPerThread;
  for (int k = 0; k < kPerThread; ++k) {
    const int i = base + k;
    if (i >= n) return;
    const __half x = __ushort_as_half(a[i]), y = __ushort_as_half(b[i]), z = __ushort_as_half(c[i]);
    unsigned short* o = out + size_t(i) * 8;
    o[0] = __half_as_ushort(__hadd(x, y));
    o[1] = __half_as_ushort(__hsub(x, y));
    o[2] = __half_as_ushort(__hmul(x, y));
    o[3] = __half_as_ushort(__hdiv(x, y));
    o[4] = __half_as_ushort(__hfma(x, y, z));
    o[5] = __half_as_ushort(x + y);
    o[6] = __half_as_ushort(x * y);
    const __half2 p = __hfma2(__halves2half2(x, y), __halves2half2(y, x), __halves2half2(z, z));
    o[7] = __half_as_ushort(__high2half(p));  // y * x + z
  }
}

// Exact a * b + c for finite halves, in units of 2^-48 (each half is an integer
// multiple of 2^-24), then rounded to the nearest half with the table.
uint16_t exact_fma_half(uint16_t a, uint16_t b, uint16_t c) {
  auto units = [](uint16_t h) -> __int128 {  // value * 2^24, exact
    const int e = (h >> 10) & 31, m = h & 1023;
    const __int128 mag = e == 0 ? __int128(m) : __int128(1024 + m) << (e - 1);
    return (h & 0x8000) ? -mag : mag;
  };
  const __int128 s = units(a) * units(b) + (units(c) << 24);
  if (s == 0) {  // an exact zero: -0 only if both addends are -0
    const bool prod_neg = ((a ^ b) & 0x8000) != 0, prod_zero = units(a) * units(b) == 0;
    return prod_zero && prod_neg && (c & 0x8000) && units(c) == 0 ? 0x8000 : 0x0000;
  }
  const uint16_t sign = s < 0 ? 0x8000 : 0;
  const __int128 mag = s < 0 ? -s : s;
  const __int128 inf_at = __int128(65520) << 48;
  if (mag >= inf_at) return sign | 0x7c00;
  // Halves in units of 2^-48: value * 2^48 = units << 24.
  int lo = 0, hi = 0x7bff;  // largest index with table value <= mag
  auto at = [&](int bits) { return units(uint16_t(bits)) << 24; };
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (at(mid) <= mag) lo = mid;
    else hi = mid - 1;
  }
  if (at(lo) == mag || lo == 0x7bff) return uint16_t(sign | lo);  // (65504 < mag < 65520 rounds down)
  const __int128 dl = mag - at(lo), dh = at(lo + 1) - mag;
  const int pick = dl < dh ? lo : dh < dl ? lo + 1 : (lo % 2 == 0 ? lo : lo + 1);
  return uint16_t(sign | pick);
}

TEST_F(Half, ArithmeticIsCorrectlyRounded) {
  const int n = 64 * 128 * kPerThread;
  std::vector<unsigned short> a(n), b(n), c(n);
  for (int i = 0; i < n; ++i) {
    a[i] = operand(uint32_t(3 * i));
    b[i] = operand(uint32_t(3 * i + 1));
    c[i] = operand(uint32_t(3 * i + 2));
  }
  // Hand-picked: overflow, cancellation, subnormal results, and a fused multiply-add
  // whose exact result lies just above a tie (rounding a*b+c to float first would land
  // on the tie and round down to even): 3 * (1 + 3*2^-10) + 2^-24 = 0x4205, not 0x4204.
  const uint16_t picked[][3] = {{0x7bff, 0x7bff, 0x0000}, {0x7bff, 0x4000, 0xfbff}, {0x3c01, 0xbc00, 0x3c00},
                                {0x0001, 0x3800, 0x0000}, {0x0003, 0x3800, 0x8001}, {0x4200, 0x3c03, 0x0001},
                                {0x4200, 0x3c03, 0x8001}, {0x7c00, 0xfc00, 0x3c00}, {0x7e00, 0x3c00, 0x3c00},
                                {0x8000, 0x0000, 0x8000}, {0x8000, 0x3c00, 0x8000}, {0x3c00, 0x3c00, 0xbc00}};
  for (size_t i = 0; i < std::size(picked); ++i) {
    a[i] = picked[i][0];
    b[i] = picked[i][1];
    c[i] = picked[i][2];
  }
  DeviceBuffer<unsigned short> da(a), db(b), dc(c), out(size_t(n) * 8);
  auto cfg = launch_config(dim3(64), dim3(128));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, half_arith, static_cast<const unsigned short*>(da.get()),
                                     static_cast<const unsigned short*>(db.get()),
                                     static_cast<const unsigned short*>(dc.get()), out.get(), n));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<unsigned short> r = out.download();
  EXPECT_EQ(r[5 * 8 + 4], 0x4205);  // the fused multiply-add just above a tie
  EXPECT_EQ(r[6 * 8 + 4], 0x4204);  // ... and just below it
  const char* names[] = {"__hadd", "__hsub", "__hmul", "__hdiv", "__hfma", "operator+", "operator*", "__hfma2"};
  int bad = 0;
  for (int i = 0; i < n; ++i) {
    const uint16_t x = a[i], y = b[i], z = c[i];
    const bool any_nan = half_is_nan(x) || half_is_nan(y) || half_is_nan(z);
    auto inf_of = [](uint16_t h) { return (h & 0x7fff) == 0x7c00; };
    auto full_value = [&](uint16_t h) {
      return half_is_nan(h) ? NAN : inf_of(h) ? ((h & 0x8000) ? -HUGE_VAL : HUGE_VAL) : half_value(h);
    };
    const double vx = full_value(x), vy = full_value(y), vz = full_value(z);
    // + - * of two halves and their quotient rounded to double are exact or
    // innocuously rounded (53 >= 2 * 11 + 2 bits), so nearest_half of them is the answer.
    const bool finite = !any_nan && !inf_of(x) && !inf_of(y) && !inf_of(z);
    const uint16_t want[8] = {nearest_half(vx + vy),
                              nearest_half(vx - vy),
                              nearest_half(vx * vy),
                              nearest_half(vx / vy),
                              finite ? exact_fma_half(x, y, z) : nearest_half(vx * vy + vz),
                              nearest_half(vx + vy),
                              nearest_half(vx * vy),
                              finite ? exact_fma_half(y, x, z) : nearest_half(vy * vx + vz)};
    for (int k = 0; k < 8; ++k) {
      const uint16_t got = r[size_t(i) * 8 + k];
      const bool ok = half_is_nan(want[k]) ? half_is_nan(got) : got == want[k];
      if (!ok && ++bad <= 10)
        ADD_FAILURE() << names[k] << "(0x" << std::hex << x << ", 0x" << y << ", 0x" << z << "): got 0x" << got
                      << ", expected 0x" << want[k];
    }
  }
  EXPECT_EQ(bad, 0);
}

// bf16 fused multiply-add, exact reference with integer significands: operands are
// m * 2^(e-7) with 8-bit m and e in [-33, 20], so everything fits 128-bit integers.
uint16_t exact_fma_bf16(uint16_t a, uint16_t b, uint16_t c) {
  auto units = [](uint16_t v) -> __int128 {  // value * 2^40, exact for exponents >= -33
    const int e = (v >> 7) & 255, m = 128 + (v & 127);
    const __int128 mag = __int128(m) << (e - 94);  // m * 2^(e-127-7) * 2^40
    return (v & 0x8000) ? -mag : mag;
  };
  const __int128 s = units(a) * units(b) + (units(c) << 40);  // units of 2^-80
  if (s == 0) return 0;
  const uint16_t sign = s < 0 ? 0x8000 : 0;
  __int128 mag = s < 0 ? -s : s;
  int top = 0;
  while ((mag >> (top + 1)) != 0) ++top;  // position of the leading bit
  int shift = top - 7;                    // keep 8 significant bits
  if (shift > 0) {
    const __int128 q = mag >> shift, rem = mag - (q << shift), half = __int128(1) << (shift - 1);
    mag = q + ((rem > half || (rem == half && (q & 1))) ? 1 : 0);
  } else {
    shift = 0;
  }
  const float f = std::ldexp(float(int64_t(mag)), shift - 80);  // exact: at most 9 significant bits
  return uint16_t(sign | (bits_of(f) >> 16));
}

__global__ void bf16_fma(const unsigned short* a, const unsigned short* b, const unsigned short* c, unsigned short* out,
                         int n) {
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (i >= n) return;
  __nv_bfloat16 x, y, z;
  std::memcpy(&x, &a[i], 2);
  std::memcpy(&y, &b[i], 2);
  std::memcpy(&z, &c[i], 2);
  const __nv_bfloat16 r = __hfma(x, y, z);
  std::memcpy(&out[i], &r, 2);
}

TEST_F(Half, Bf16FmaIsCorrectlyRounded) {
  const int n = 40000;
  auto operand16 = [](uint32_t i) {
    const uint32_t m = mix(i);
    return uint16_t(((m >> 16) & 0x8000u) | ((127 - 20 + (m >> 8) % 41) << 7) | (mix(i + 9) & 127u));
  };
  std::vector<unsigned short> a(n), b(n), c(n);
  for (int i = 0; i < n; ++i) {
    a[i] = operand16(uint32_t(3 * i));
    b[i] = operand16(uint32_t(3 * i + 1));
    c[i] = operand16(uint32_t(3 * i + 2));
  }
  // 3 * (1 + 3*2^-7) +- 2^-24: just above / below a bf16 tie (rounding a*b+c to float
  // first would land on the tie).
  a[0] = a[1] = 0x4040;
  b[0] = b[1] = 0x3f83;
  c[0] = 0x3380;
  c[1] = 0xb380;
  DeviceBuffer<unsigned short> da(a), db(b), dc(c), out(n);
  auto cfg = launch_config(dim3((n + 255) / 256), dim3(256));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, bf16_fma, static_cast<const unsigned short*>(da.get()),
                                     static_cast<const unsigned short*>(db.get()),
                                     static_cast<const unsigned short*>(dc.get()), out.get(), n));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<unsigned short> r = out.download();
  EXPECT_EQ(r[0], 0x4045);
  EXPECT_EQ(r[1], 0x4044);
  int bad = 0;
  for (int i = 0; i < n; ++i)
    if (r[i] != exact_fma_bf16(a[i], b[i], c[i]) && ++bad <= 10)
      ADD_FAILURE() << "__hfma(bf16 0x" << std::hex << a[i] << ", 0x" << b[i] << ", 0x" << c[i] << "): got 0x" << r[i]
                    << ", expected 0x" << exact_fma_bf16(a[i], b[i], c[i]);
  EXPECT_EQ(bad, 0);
}

// Conversions from double round once (to nearest even), not through float.
__global__ void from_double(const double* in, unsigned short* h, unsigned short* b, int n) {
  const int i = int(threadIdx.x);
  if (i >= n) return;
  const __half x(in[i]);
  const __nv_bfloat16 y(in[i]);
  h[i] = __half_as_ushort(x);
  std::memcpy(&b[i], &y, 2);
}

TEST_F(Half, ConversionFromDoubleRoundsOnce) {
  const std::vector<double> in = {1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40),  // half: just past a tie
                                  1.0 + std::ldexp(1.0, -11) - std::ldexp(1.0, -40),  // just below it
                                  1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40),   // bf16: just past a tie
                                  0.1,
                                  -65519.99999,
                                  65520.0,
                                  1e300,
                                  std::ldexp(1.0, -25) + std::ldexp(1.0, -60)};
  DeviceBuffer<double> d(in);
  DeviceBuffer<unsigned short> h(in.size()), b(in.size());
  auto cfg = launch_config(dim3(1), dim3(32));
  SIM_ASSERT_CUDA(
      cudaLaunchKernelEx(&cfg, from_double, static_cast<const double*>(d.get()), h.get(), b.get(), int(in.size())));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<unsigned short> rh = h.download(), rb = b.download();
  for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(rh[i], nearest_half(in[i])) << in[i];
  EXPECT_EQ(rh[0], 0x3c01);
  EXPECT_EQ(rh[1], 0x3c00);
  EXPECT_EQ(rh[7], 0x0001);
  EXPECT_EQ(rb[2], 0x3f81);
  EXPECT_EQ(rb[1], 0x3f80);
  EXPECT_EQ(rb[6], 0x7f80);
}

__global__ void half_minmax(unsigned short* out) {
  const __half one = __float2half(1.0f), two = __float2half(2.0f), nan = __ushort_as_half(0x7e00);
  out[0] = __half_as_ushort(__hmax(one, two));
  out[1] = __half_as_ushort(__hmin(one, two));
  out[2] = __half_as_ushort(__hmax(one, nan));
  out[3] = __half_as_ushort(__hmax(nan, one));
  out[4] = __half_as_ushort(__hmin(two, nan));
  out[5] = __half_as_ushort(__hmin(nan, two));
  out[6] = __half_as_ushort(__hmax(nan, nan));
}

TEST_F(Half, MaxMinReturnTheOtherOperandForNaN) {
  DeviceBuffer<unsigned short> out(7);
  auto cfg = launch_config(dim3(1), dim3(1));
  SIM_ASSERT_CUDA(cudaLaunchKernelEx(&cfg, half_minmax, out.get()));
  SIM_ASSERT_CUDA(cudaDeviceSynchronize());
  const std::vector<unsigned short> r = out.download();
  EXPECT_EQ(r[0], 0x4000);
  EXPECT_EQ(r[1], 0x3c00);
  EXPECT_EQ(r[2], 0x3c00);
  EXPECT_EQ(r[3], 0x3c00);
  EXPECT_EQ(r[4], 0x4000);
  EXPECT_EQ(r[5], 0x4000);
  EXPECT_TRUE(half_is_nan(r[6]));
}

}  // namespace sim_half
