// Runs of equal labels along a row segment: the statistics kernels (regions.cu,
// areas.cu) do their atomics once per run instead of once per pixel, since labels come
// in runs (a region or a closed area is rarely one pixel wide).
#pragma once
#include "kernels/common.cuh"

namespace GP_KERNEL_NS {

// Pixels x0 .. x0 + n - 1 of one row with one label, and their colour sums.
template <class Label> struct LabelRun {
  Label label;
  unsigned x0, n;
  unsigned sum[3];  // at most (segment length) * 255: the segments are short
};

// Calls flush(run) for each maximal run of equal labels in pixels [begin, end) of the row
// whose first pixel is labels[row] (rgb[3 * row], read only when kWithColour), in order.
template <bool kWithColour, class Label, class Stored, class Flush>
__device__ __forceinline__ void for_each_label_run(const Stored* __restrict__ labels, const uint8_t* __restrict__ rgb,
                                                   size_t row, unsigned begin, unsigned end, Flush&& flush) {
  LabelRun<Label> run{Label(labels[row + begin]), begin, 0, {0, 0, 0}};
  for (unsigned x = begin; x < end; ++x) {
    const Label l = Label(labels[row + x]);
    if (l != run.label) {
      flush(run);
      run = LabelRun<Label>{l, x, 0, {0, 0, 0}};
    }
    ++run.n;
    if constexpr (kWithColour) {
      const uint8_t* px = rgb + 3 * (row + x);
      run.sum[0] += px[0];
      run.sum[1] += px[1];
      run.sum[2] += px[2];
    }
  }
  flush(run);
}

}  // namespace GP_KERNEL_NS
