// gpusim: nvcuda::wmma for 16x16x16 tiles (half or bf16 in, float or half
// accumulate). CUDA leaves the fragment element layout unspecified; here lane l
// owns tile elements l*8 .. l*8+7 in row-major order (A/B half fragments keep a
// duplicate copy in elements 8..15, so num_elements matches the hardware).
// load/store/mma are warp collectives: every lane of the warp must call them.
#pragma once

namespace nvcuda {
namespace wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <class Use, class T> constexpr int fragment_elements() {
  if constexpr (std::is_same_v<Use, accumulator>) return 8;
  else if constexpr (std::is_same_v<T, ::gpusim::__half>) return 16;
  else return 8;
}

template <class Use, int M, int N, int K, class T, class Layout = void> struct fragment {
  static_assert(M == 16 && N == 16 && K == 16, "gpusim wmma supports only 16x16x16");
  static constexpr int num_elements = fragment_elements<Use, T>();
  T x[num_elements];
};

namespace sim {
// Index in the 16 x 16 tile of element e of the calling lane.
inline int tile_index(int e) { return int(::gpusim::sim_internal::tl_thread->lane) * 8 + (e & 7); }
inline void rendezvous(const std::source_location& loc) {
  ::gpusim::sim_internal::warp_collective(0xffffffffu, ::gpusim::sim_internal::WarpOp::Sync, 32, 0, loc);
}
template <class F> float elem(const F& f, int idx) { return float(f.x[idx]); }
}  // namespace sim

template <class Use, int M, int N, int K, class T, class L, class V>
void fill_fragment(fragment<Use, M, N, K, T, L>& f, const V& v) {
  for (int e = 0; e < f.num_elements; ++e) f.x[e] = T(v);
}

// A and B: the layout is part of the fragment type.
template <class Use, class T, class L>
void load_matrix_sync(fragment<Use, 16, 16, 16, T, L>& f, const T* p, unsigned ldm,
                      std::source_location loc = std::source_location::current()) {
  static_assert(!std::is_same_v<L, void>, "matrix_a/matrix_b fragments need a layout");
  sim::rendezvous(loc);
  for (int e = 0; e < f.num_elements; ++e) {
    const int i = sim::tile_index(e), r = i / 16, c = i % 16;
    f.x[e] = std::is_same_v<L, row_major> ? p[size_t(r) * ldm + c] : p[size_t(c) * ldm + r];
  }
}
template <class T> void load_matrix_sync(fragment<accumulator, 16, 16, 16, T>& f, const T* p, unsigned ldm,
                                         layout_t layout, std::source_location loc = std::source_location::current()) {
  sim::rendezvous(loc);
  for (int e = 0; e < f.num_elements; ++e) {
    const int i = sim::tile_index(e), r = i / 16, c = i % 16;
    f.x[e] = layout == mem_row_major ? p[size_t(r) * ldm + c] : p[size_t(c) * ldm + r];
  }
}
template <class T> void store_matrix_sync(T* p, const fragment<accumulator, 16, 16, 16, T>& f, unsigned ldm,
                                          layout_t layout, std::source_location loc = std::source_location::current()) {
  sim::rendezvous(loc);
  for (int e = 0; e < f.num_elements; ++e) {
    const int i = sim::tile_index(e), r = i / 16, c = i % 16;
    (layout == mem_row_major ? p[size_t(r) * ldm + c] : p[size_t(c) * ldm + r]) = f.x[e];
  }
}

namespace sim {
template <class FA, class FB, class FC, class FD> struct MmaArgs {
  const FA* a;
  const FB* b;
  const FC* c;
  FD* d;
};
// Runs once per warp, in the last lane to arrive: gathers the tiles, multiplies with
// float accumulation in k order, scatters D.
template <class FA, class FB, class FC, class FD>
void mma_all_lanes(void*, ::gpusim::sim_internal::ThreadState* const* lanes, unsigned) {
  float a[256], b[256], c[256];
  for (int l = 0; l < 32; ++l) {
    auto* args = static_cast<const MmaArgs<FA, FB, FC, FD>*>(lanes[l]->coll_ptr);
    for (int e = 0; e < 8; ++e) {
      a[l * 8 + e] = float(args->a->x[e]);
      b[l * 8 + e] = float(args->b->x[e]);
      c[l * 8 + e] = float(args->c->x[e]);
    }
  }
  float d[256];
  for (int r = 0; r < 16; ++r)
    for (int col = 0; col < 16; ++col) {
      float acc = c[r * 16 + col];
      for (int k = 0; k < 16; ++k) acc += a[r * 16 + k] * b[k * 16 + col];
      d[r * 16 + col] = acc;
    }
  for (int l = 0; l < 32; ++l) {
    auto* args = static_cast<const MmaArgs<FA, FB, FC, FD>*>(lanes[l]->coll_ptr);
    // Convert (not reinterpret: decltype(x[0]) is a reference type) to D's element type.
    using TD = std::remove_cvref_t<decltype(args->d->x[0])>;
    for (int e = 0; e < FD::num_elements; ++e) args->d->x[e] = TD(d[l * 8 + (e & 7)]);
  }
}
}  // namespace sim

template <class TA, class LA, class TB, class LB, class TC, class TD>
void mma_sync(fragment<accumulator, 16, 16, 16, TD>& d, const fragment<matrix_a, 16, 16, 16, TA, LA>& a,
              const fragment<matrix_b, 16, 16, 16, TB, LB>& b, const fragment<accumulator, 16, 16, 16, TC>& c,
              std::source_location loc = std::source_location::current()) {
  using FA = fragment<matrix_a, 16, 16, 16, TA, LA>;
  using FB = fragment<matrix_b, 16, 16, 16, TB, LB>;
  using FC = fragment<accumulator, 16, 16, 16, TC>;
  using FD = fragment<accumulator, 16, 16, 16, TD>;
  FD result;
  sim::MmaArgs<FA, FB, FC, FD> args{&a, &b, &c, &result};
  ::gpusim::sim_internal::tl_thread->coll_ptr = &args;
  ::gpusim::sim_internal::warp_collective(0xffffffffu, ::gpusim::sim_internal::WarpOp::Custom, 32, 0, loc,
                                          &sim::mma_all_lanes<FA, FB, FC, FD>, nullptr);
  d = result;  // d may alias c: written only after every lane's c was read
}

}  // namespace wmma
}  // namespace nvcuda
