// gpusim: __half, __half2 and __nv_bfloat16 with bit-exact storage and
// round-to-nearest-even conversions. Arithmetic rounds the float result once: the
// exact result of +, -, * on two halves (or bf16) is close enough to float that
// float-then-half rounding equals direct rounding.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace gpusim {

inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// x rounded to float with round-to-odd: an inexact result gets an odd last bit. One
// more round-to-nearest-even of that float to a format at least two bits narrower
// (half, bf16) then equals rounding x directly: no double rounding at ties (Boldo and
// Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms using
// rounding to odd"). Plain double -> float -> half would round twice.
inline float round_to_odd_float(double x) {
  float f = float(x);
  if (std::isfinite(x) && double(f) != x && (float_bits(f) & 1u) == 0)
    f = std::nextafter(f, double(f) < x ? HUGE_VALF : -HUGE_VALF);
  return f;
}

// a * b + c of half or bf16 values with a single rounding, to odd in float. a * b is
// exact in double (at most 22 significant bits); the error of the double sum is exact
// (TwoSum), so an inexact sum is first made odd in double.
inline float fma_round_to_odd_float(float a, float b, float c) {
  const double p = double(a) * double(b), q = double(c);
  double s = p + q;
  if (std::isfinite(s)) {
    const double bv = s - p, err = (p - (s - bv)) + (q - bv);
    uint64_t bits;
    std::memcpy(&bits, &s, 8);
    if (err != 0 && (bits & 1u) == 0) s = std::nextafter(s, err > 0 ? HUGE_VAL : -HUGE_VAL);
  }
  return round_to_odd_float(s);
}

inline uint16_t float_to_half_bits(float f) {
  uint32_t x = float_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u) return uint16_t(sign | (x > 0x7f800000u ? 0x7e00u | ((x >> 13) & 0x3ffu) : 0x7c00u));
  if (x >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // 65520 and above round to inf
  if (x >= 0x38800000u) {                                 // normal half
    uint32_t h = ((((x >> 23) - 127 + 15) << 10) | ((x & 0x7fffffu) >> 13));
    const uint32_t rem = x & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) ++h;  // carry may bump the exponent: right
    return uint16_t(sign | h);
  }
  if (x < 0x33000000u) return uint16_t(sign);  // below 2^-25 (2^-25 itself ties to 0)
  const uint32_t e = x >> 23, mant = (x & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - e;  // value in units of 2^-24 is mant >> shift
  uint32_t h = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1u), halfway = 1u << (shift - 1);
  if (rem > halfway || (rem == halfway && (h & 1u))) ++h;
  return uint16_t(sign | h);
}

inline float half_bits_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) return bits_float(sign | float_bits(float(mant) * 0x1p-24f));
  if (exp == 31) return bits_float(sign | 0x7f800000u | (mant << 13));
  return bits_float(sign | ((exp + 112) << 23) | (mant << 13));
}

inline uint16_t float_to_bf16_bits(float f) {
  uint32_t x = float_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40u);  // quiet NaN
  x += 0x7fffu + ((x >> 16) & 1u);
  return uint16_t(x >> 16);
}
inline float bf16_bits_to_float(uint16_t b) { return bits_float(uint32_t(b) << 16); }

struct __half_raw {
  unsigned short x;
};

struct __half {
  uint16_t bits_;
  __half() = default;
  __half(float f) : bits_(float_to_half_bits(f)) {}
  __half(double d) : bits_(float_to_half_bits(round_to_odd_float(d))) {}
  __half(int i) : bits_(float_to_half_bits(float(i))) {}
  __half(__half_raw r) : bits_(r.x) {}
  operator float() const { return half_bits_to_float(bits_); }
  operator __half_raw() const { return {bits_}; }
};
struct __nv_bfloat16 {
  uint16_t bits_;
  __nv_bfloat16() = default;
  __nv_bfloat16(float f) : bits_(float_to_bf16_bits(f)) {}
  __nv_bfloat16(double d) : bits_(float_to_bf16_bits(round_to_odd_float(d))) {}
  operator float() const { return bf16_bits_to_float(bits_); }
};
struct __align__(4) __half2 {
  __half x, y;
};
struct __align__(4) __nv_bfloat162 {
  __nv_bfloat16 x, y;
};
using half = __half;
using half2 = __half2;

inline __half __float2half(float f) { return __half(f); }
inline __half __float2half_rn(float f) { return __half(f); }
inline float __half2float(__half h) { return float(h); }
inline __half __ushort_as_half(unsigned short u) { return __half(__half_raw{u}); }
inline unsigned short __half_as_ushort(__half h) { return h.bits_; }
inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16(f); }
inline float __bfloat162float(__nv_bfloat16 b) { return float(b); }
inline __half2 __floats2half2_rn(float a, float b) { return {__half(a), __half(b)}; }
inline __half2 __float2half2_rn(float a) { return {__half(a), __half(a)}; }
inline __half2 __halves2half2(__half a, __half b) { return {a, b}; }
inline float2 __half22float2(__half2 h) { return {float(h.x), float(h.y)}; }
inline float __low2float(__half2 h) { return float(h.x); }
inline float __high2float(__half2 h) { return float(h.y); }
inline __half __low2half(__half2 h) { return h.x; }
inline __half __high2half(__half2 h) { return h.y; }
inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) { return {__nv_bfloat16(a), __nv_bfloat16(b)}; }

inline __half __hadd(__half a, __half b) { return __half(float(a) + float(b)); }
inline __half __hsub(__half a, __half b) { return __half(float(a) - float(b)); }
inline __half __hmul(__half a, __half b) { return __half(float(a) * float(b)); }
inline __half __hdiv(__half a, __half b) { return __half(float(double(float(a)) / double(float(b)))); }
inline __half __hneg(__half a) { return __half(__half_raw{uint16_t(a.bits_ ^ 0x8000u)}); }
inline __half __habs(__half a) { return __half(__half_raw{uint16_t(a.bits_ & 0x7fffu)}); }
inline __half __hfma(__half a, __half b, __half c) {
  return __half(fma_round_to_odd_float(float(a), float(b), float(c)));
}
// A NaN input yields the other input (__hmax_nan would propagate it).
inline __half __hmax(__half a, __half b) {
  if (float(a) != float(a)) return b;
  if (float(b) != float(b)) return a;
  return float(a) >= float(b) ? a : b;
}
inline __half __hmin(__half a, __half b) {
  if (float(a) != float(a)) return b;
  if (float(b) != float(b)) return a;
  return float(a) <= float(b) ? a : b;
}
inline bool __hgt(__half a, __half b) { return float(a) > float(b); }
inline bool __hlt(__half a, __half b) { return float(a) < float(b); }
inline bool __hge(__half a, __half b) { return float(a) >= float(b); }
inline bool __hle(__half a, __half b) { return float(a) <= float(b); }
inline bool __heq(__half a, __half b) { return float(a) == float(b); }
inline __half2 __hmax2(__half2 a, __half2 b) { return {__hmax(a.x, b.x), __hmax(a.y, b.y)}; }
// A NaN input yields the other input, as for __half.
inline __nv_bfloat16 __hmax(__nv_bfloat16 a, __nv_bfloat16 b) {
  if (float(a) != float(a)) return b;
  if (float(b) != float(b)) return a;
  return float(a) >= float(b) ? a : b;
}
inline __nv_bfloat162 __hmax2(__nv_bfloat162 a, __nv_bfloat162 b) { return {__hmax(a.x, b.x), __hmax(a.y, b.y)}; }
inline __half2 __hadd2(__half2 a, __half2 b) { return {__hadd(a.x, b.x), __hadd(a.y, b.y)}; }
inline __half2 __hsub2(__half2 a, __half2 b) { return {__hsub(a.x, b.x), __hsub(a.y, b.y)}; }
inline __half2 __hmul2(__half2 a, __half2 b) { return {__hmul(a.x, b.x), __hmul(a.y, b.y)}; }
inline __half2 __hfma2(__half2 a, __half2 b, __half2 c) { return {__hfma(a.x, b.x, c.x), __hfma(a.y, b.y, c.y)}; }

inline __half operator+(__half a, __half b) { return __hadd(a, b); }
inline __half operator-(__half a, __half b) { return __hsub(a, b); }
inline __half operator*(__half a, __half b) { return __hmul(a, b); }
inline __half operator/(__half a, __half b) { return __hdiv(a, b); }
inline __half operator-(__half a) { return __hneg(a); }
inline __half& operator+=(__half& a, __half b) { return a = a + b; }
inline __half& operator*=(__half& a, __half b) { return a = a * b; }
inline bool operator<(__half a, __half b) { return __hlt(a, b); }
inline bool operator>(__half a, __half b) { return __hgt(a, b); }
inline bool operator==(__half a, __half b) { return __heq(a, b); }
inline __half2 operator+(__half2 a, __half2 b) { return __hadd2(a, b); }
inline __half2 operator*(__half2 a, __half2 b) { return __hmul2(a, b); }
inline __nv_bfloat16 operator+(__nv_bfloat16 a, __nv_bfloat16 b) { return __nv_bfloat16(float(a) + float(b)); }
inline __nv_bfloat16 operator-(__nv_bfloat16 a, __nv_bfloat16 b) { return __nv_bfloat16(float(a) - float(b)); }
inline __nv_bfloat16 operator*(__nv_bfloat16 a, __nv_bfloat16 b) { return __nv_bfloat16(float(a) * float(b)); }
inline __nv_bfloat16 __hfma(__nv_bfloat16 a, __nv_bfloat16 b, __nv_bfloat16 c) {
  return __nv_bfloat16(fma_round_to_odd_float(float(a), float(b), float(c)));
}

}  // namespace gpusim
