#!/usr/bin/python3
"""Extract a line sketch from a colour image: black lines on white.

Usage:
    tools/make_sketch.py IN.png OUT.png        one image
    tools/make_sketch.py IN_DIR OUT_DIR        every *.png in IN_DIR (not recursive)
Options: --width W (line width in pixels, default 1), --darkness D (1 = black lines,
0.5 = mid grey; default 1), --threshold T (colour step, 0..255, that counts as a region
boundary; default 16), --dark D (luminance 0..255 below which thin features count as
strokes; default 80), --stroke S (dark features narrower than about S pixels are drawn
solid; default 5), --rgb (write RGB instead of 8-bit grey).

What counts as a line (all computed on the image composited on white):
  * region boundaries: a pixel whose colour differs from its right or lower neighbour by
    more than T in some channel (max |dR|,|dG|,|dB|). Anti-aliased edges give 1-2 px
    lines; smooth gradients (a few levels per pixel) give none.
  * dark strokes: pixels darker than --dark that a morphological opening with an
    S x S square removes, i.e. dark features thinner than S px, drawn solid so a thin dark
    outline becomes one line instead of two parallel boundaries. Large dark areas (black
    hair, a hole) keep only their outline, so the sketch carries no fill colour.
Width and darkness are the style knobs; tools/train.py varies them (and T) per sample so
the model does not overfit one line style, using the same functions as this script.

The canonical style (the project's validation sketches, tools/build_dataset.py) is the
default options at 256 x 256.
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image

DEFAULT_THRESHOLD = 16
DEFAULT_DARK = 80
DEFAULT_STROKE = 5


def load_rgb(path):
    """Image file -> uint8 H x W x 3, transparent pixels composited on white."""
    im = Image.open(path)
    if im.mode in ("RGBA", "LA", "P", "PA") or "transparency" in im.info:
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, im)
    return np.asarray(im.convert("RGB"), dtype=np.uint8)


def _max_filter(mask, k):
    """Binary dilation of a bool H x W array with a k x k square (k >= 1).
    Even k extends right/down by one more pixel than left/up."""
    if k <= 1:
        return mask.copy()
    h, w = mask.shape
    lo = (k - 1) // 2
    hi = k - 1 - lo
    p = np.pad(mask, ((lo, hi), (lo, hi)), constant_values=False)
    out = np.zeros_like(mask)
    for dy in range(k):
        for dx in range(k):
            out |= p[dy:dy + h, dx:dx + w]
    return out


def _min_filter(mask, k):
    """Binary erosion with a k x k square (outside counts as True, so the border does
    not erode)."""
    return ~_max_filter(~mask, k)


def edge_strength(rgb):
    """uint8 H x W: max over channels of |colour step| to the right or lower neighbour
    (the last row / column compare with nothing and get 0)."""
    a = rgb.astype(np.int16)
    s = np.zeros(a.shape[:2], dtype=np.int16)
    dx = np.abs(a[:, 1:] - a[:, :-1]).max(axis=2)
    dy = np.abs(a[1:, :] - a[:-1, :]).max(axis=2)
    s[:, :-1] = dx
    s[:-1, :] = np.maximum(s[:-1, :], dy)
    return s.astype(np.uint8)


def thin_dark(rgb, dark=DEFAULT_DARK, stroke=DEFAULT_STROKE):
    """bool H x W: dark pixels in features thinner than about `stroke` px."""
    lum = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    d = lum < dark
    if stroke <= 1:
        return np.zeros_like(d)
    opened = _max_filter(_min_filter(d, stroke), stroke)
    return d & ~opened


def line_mask(rgb, threshold=DEFAULT_THRESHOLD, dark=DEFAULT_DARK, stroke=DEFAULT_STROKE):
    """bool H x W of line pixels before widening."""
    return (edge_strength(rgb) > threshold) | thin_dark(rgb, dark, stroke)


def render(mask, width=1, darkness=1.0):
    """Line mask -> uint8 grey sketch: white paper, lines of grey 255 * (1 - darkness),
    widened to `width` px."""
    m = _max_filter(mask, int(width))
    g = np.full(mask.shape, 255, dtype=np.uint8)
    g[m] = int(round(255 * (1.0 - float(darkness))))
    return g


def make_sketch(rgb, width=1, darkness=1.0, threshold=DEFAULT_THRESHOLD,
                dark=DEFAULT_DARK, stroke=DEFAULT_STROKE):
    """uint8 H x W x 3 colour -> uint8 H x W grey sketch."""
    return render(line_mask(rgb, threshold, dark, stroke), width, darkness)


def _save(grey, path, rgb_out):
    im = Image.fromarray(grey, "L")
    if rgb_out:
        im = im.convert("RGB")
    im.save(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--width", type=int, default=1)
    ap.add_argument("--darkness", type=float, default=1.0)
    ap.add_argument("--threshold", type=int, default=DEFAULT_THRESHOLD)
    ap.add_argument("--dark", type=int, default=DEFAULT_DARK)
    ap.add_argument("--stroke", type=int, default=DEFAULT_STROKE)
    ap.add_argument("--rgb", action="store_true", help="write RGB PNGs instead of grey")
    a = ap.parse_args(argv)
    kw = dict(width=a.width, darkness=a.darkness, threshold=a.threshold, dark=a.dark,
              stroke=a.stroke)
    if os.path.isdir(a.src):
        os.makedirs(a.dst, exist_ok=True)
        names = sorted(n for n in os.listdir(a.src) if n.lower().endswith(".png"))
        if not names:
            print(f"{a.src}: no .png files", file=sys.stderr)
            return 1
        for n in names:
            _save(make_sketch(load_rgb(os.path.join(a.src, n)), **kw),
                  os.path.join(a.dst, os.path.splitext(n)[0] + ".png"), a.rgb)
        print(f"{len(names)} sketches written to {a.dst}")
    else:
        if os.path.isdir(a.dst):
            print(f"{a.dst}: is a directory; give IN_DIR OUT_DIR or IN.png OUT.png",
                  file=sys.stderr)
            return 1
        _save(make_sketch(load_rgb(a.src), **kw), a.dst, a.rgb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
