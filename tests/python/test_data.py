#!/usr/bin/python3
"""Fast checks of the data tools: the fixed val split rule and the sketch extractor.

Run: /usr/bin/python3 -m unittest tests/python/test_data.py   (a few seconds)
"""
import os
import subprocess
import sys
import tempfile
import unittest
import zlib

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import build_dataset  # noqa: E402
import make_sketch  # noqa: E402

SVG_DIR = build_dataset.DEFAULT_SVG_DIR


class SplitRule(unittest.TestCase):
    def test_skin_tones_are_stripped(self):
        self.assertEqual(build_dataset.split_key("1F46F.svg"), "1F46F.png")
        self.assertEqual(build_dataset.split_key("1F44D-1F3FD.svg"), "1F44D.png")
        self.assertEqual(build_dataset.split_key("1F46E-1F3FB-200D-2642-FE0F.svg"), "1F46E-200D-2642-FE0F.png")
        for tone in ("1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF"):
            self.assertEqual(build_dataset.split_key(f"1F469-{tone}-200D-1F393.png"), "1F469-200D-1F393.png")
        # two tones in one name (couples) are both removed
        self.assertEqual(build_dataset.split_key("1F9D1-1F3FB-200D-1F91D-200D-1F9D1-1F3FF.svg"),
                         "1F9D1-200D-1F91D-200D-1F9D1.png")
        # code points near the tone range are not tones
        self.assertEqual(build_dataset.split_key("1F3FA.svg"), "1F3FA.png")
        self.assertEqual(build_dataset.split_key("1F3F3-FE0F-200D-1F308.svg"), "1F3F3-FE0F-200D-1F308.png")

    def test_crc32_rule(self):
        for name in ("1F46F.svg", "1F600.svg", "0023-20E3.svg", "1F1FA-1F1F8.svg"):
            self.assertEqual(build_dataset.is_val(name), zlib.crc32(build_dataset.split_key(name).encode()) % 10 == 0)
        # find one val and one train base name and check every skin tone follows its base
        bases = [f"1F{i:03X}" for i in range(0x440, 0x480)]
        val = [b for b in bases if build_dataset.is_val(b + ".svg")]
        train = [b for b in bases if not build_dataset.is_val(b + ".svg")]
        self.assertTrue(val and train)
        for b, expect in ((val[0], True), (train[0], False)):
            for tone in ("1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF"):
                self.assertEqual(build_dataset.is_val(f"{b}-{tone}.svg"), expect)

    @unittest.skipUnless(os.path.isdir(SVG_DIR), "EmojiOne SVGs not installed")
    def test_emojione_split_has_169_val_images(self):
        svgs = [n for n in os.listdir(SVG_DIR) if n.endswith(".svg")]
        self.assertEqual(sum(build_dataset.is_val(n) for n in svgs), 169)

    def test_area_half(self):
        a = np.array([[0, 255, 10, 10], [255, 0, 10, 11], [1, 1, 2, 2], [1, 2, 2, 2]], np.uint8)
        np.testing.assert_array_equal(build_dataset.area_half(a), [[128, 10], [1, 2]])
        rgb = np.stack([a, a, a], axis=2)
        self.assertEqual(build_dataset.area_half(rgb).shape, (2, 2, 3))


def synthetic():
    """64 x 64 white image: a red block left, an adjacent blue block, a 2 px black
    stroke, and a large black square (fill, not a stroke)."""
    im = np.full((64, 64, 3), 255, np.uint8)
    im[8:24, 8:24] = (220, 40, 40)       # red
    im[8:24, 24:40] = (40, 40, 220)      # blue, shares the column boundary 23|24
    im[40:42, 4:30] = (0, 0, 0)          # thin dark stroke, rows 40-41
    im[34:60, 36:62] = (10, 10, 10)      # big dark square
    return im


class MakeSketch(unittest.TestCase):
    def test_lines_on_boundaries_black_on_white(self):
        g = make_sketch.make_sketch(synthetic())
        self.assertEqual(g.dtype, np.uint8)
        self.assertEqual(g.shape, (64, 64))
        self.assertEqual(set(np.unique(g).tolist()), {0, 255})
        # red|blue boundary, white|red boundary: a line pixel next to each
        self.assertTrue((g[10:22, 23] == 0).all())
        self.assertTrue((g[10:22, 7] == 0).all())
        self.assertTrue((g[7, 10:38] == 0).all())
        # region interiors and the background stay white
        self.assertTrue((g[12:20, 12:20] == 255).all())
        self.assertTrue((g[12:20, 28:36] == 255).all())
        self.assertTrue((g[0:5, :] == 255).all())
        # the thin stroke is drawn solid, the big dark square only outlined
        self.assertTrue((g[40:42, 6:28] == 0).all())
        self.assertTrue((g[40:54, 40:58] == 255).all())
        self.assertTrue((g[34:60, 35] == 0).all())

    def test_width_and_darkness(self):
        rgb = synthetic()
        base = make_sketch.line_mask(rgb)
        g2 = make_sketch.make_sketch(rgb, width=3, darkness=0.6)
        self.assertEqual(set(np.unique(g2).tolist()), {102, 255})
        self.assertGreater((g2 < 255).sum(), base.sum())
        self.assertTrue((g2[base] == 102).all())         # widening keeps every line pixel

    def test_smooth_gradient_has_no_lines(self):
        ramp = np.repeat(np.linspace(0, 250, 64).astype(np.uint8)[None, :, None], 64, 0)
        rgb = np.concatenate([ramp, np.full_like(ramp, 128), np.full_like(ramp, 200)], axis=2)
        self.assertTrue((make_sketch.make_sketch(rgb) == 255).all())

    def test_cli_file_and_directory(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "in")
            os.makedirs(src)
            rgba = np.concatenate([synthetic(), np.full((64, 64, 1), 255, np.uint8)], axis=2)
            rgba[:4, :4, 3] = 0                            # transparent corner -> white
            Image.fromarray(rgba, "RGBA").save(os.path.join(src, "a.png"))
            Image.fromarray(synthetic(), "RGB").save(os.path.join(src, "b.png"))
            out = os.path.join(d, "one.png")
            self.assertEqual(make_sketch.main([os.path.join(src, "a.png"), out]), 0)
            im = Image.open(out)
            self.assertEqual(im.mode, "L")
            np.testing.assert_array_equal(np.asarray(im), make_sketch.make_sketch(synthetic()))
            self.assertEqual(make_sketch.main([src, os.path.join(d, "out"), "--rgb"]), 0)
            self.assertEqual(sorted(os.listdir(os.path.join(d, "out"))), ["a.png", "b.png"])
            im = Image.open(os.path.join(d, "out", "b.png"))
            self.assertEqual(im.mode, "RGB")
            a = np.asarray(im)
            self.assertTrue((a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all())
            # the script runs as a program too
            r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "make_sketch.py"),
                                os.path.join(src, "b.png"), os.path.join(d, "cli.png")],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)


class TrainingSketches(unittest.TestCase):
    """tools/train.py draws training sketches in torch; with the style off they must be
    exactly the canonical val sketches (make_sketch at 256, then 2 x 2 area average)."""

    def test_pair_samples_are_whole_pictures_or_crops_of_the_256_render(self):
        try:
            import torch
            import train
        except ImportError as err:
            self.skipTest(f"torch not available: {err}")
        g = np.random.default_rng(1)
        ps = train.PairSet.__new__(train.PairSet)
        ps.x = {side: torch.from_numpy(g.integers(0, 256, (2, side, side), dtype=np.uint8)) for side in (256, 128)}
        ps.y = {side: torch.from_numpy(g.integers(0, 256, (2, 3, side, side), dtype=np.uint8)) for side in (256, 128)}
        x, y = ps.batch([1, 0], np.random.default_rng(0), 128, style=False, crops=[None, (10, 20)])
        self.assertEqual(tuple(x.shape), (2, 1, 128, 128))
        np.testing.assert_allclose(x[0, 0].numpy(), ps.x[128][1].numpy() / 255.0 * 2 - 1, atol=1e-6)
        np.testing.assert_allclose(x[1, 0].numpy(), ps.x[256][0, 10:138, 20:148].numpy() / 255.0 * 2 - 1, atol=1e-6)
        np.testing.assert_allclose(y[0].numpy(), ps.y[128][1].numpy() / 255.0 * 2 - 1, atol=1e-6)
        np.testing.assert_allclose(y[1].numpy(), ps.y[256][0, :, 10:138, 20:148].numpy() / 255.0 * 2 - 1, atol=1e-6)

    def test_canonical_style_matches_val_pipeline(self):
        try:
            import torch
            import train
        except ImportError as err:  # needs /usr/bin/python3 (Debian torch)
            self.skipTest(f"torch not available: {err}")
        rgb = synthetic()
        ts = train.TrainSet.__new__(train.TrainSet)
        ts.names = ["s.png"]
        ts.strength = torch.from_numpy(make_sketch.edge_strength(rgb)[None])
        ts.thin = torch.from_numpy(make_sketch.thin_dark(rgb)[None])
        ts.color = torch.from_numpy(rgb.transpose(2, 0, 1)[None].copy())   # at 256 (here 64); reduced in batch()
        x, y = ts.batch([0], np.random.default_rng(0), 32, style=False)
        want = build_dataset.area_half(make_sketch.make_sketch(rgb)).astype(np.float64) / 255.0 * 2 - 1
        np.testing.assert_allclose(x[0, 0].numpy(), want, atol=1e-6)
        np.testing.assert_allclose(y[0].numpy().transpose(1, 2, 0),
                                   build_dataset.area_half(rgb) / 255.0 * 2 - 1, atol=1e-6)
        # a crop of the full-size render instead of the whole picture reduced
        xc, yc = ts.batch([0], np.random.default_rng(0), 32, style=False, crops=[(5, 17)])
        full = make_sketch.make_sketch(rgb).astype(np.float64) / 255.0 * 2 - 1
        np.testing.assert_allclose(xc[0, 0].numpy(), full[5:37, 17:49], atol=1e-6)
        np.testing.assert_allclose(yc[0].numpy().transpose(1, 2, 0), rgb[5:37, 17:49] / 255.0 * 2 - 1, atol=1e-6)
        # random styles: widths 1-3 dilate the same way as make_sketch
        for w in (2, 3):
            m = make_sketch._max_filter(make_sketch.line_mask(rgb), w)
            line = torch.from_numpy(make_sketch.line_mask(rgb)).float()[None, None]
            lo = (w - 1) // 2
            t = torch.nn.functional.max_pool2d(torch.nn.functional.pad(line, [lo, w - 1 - lo, lo, w - 1 - lo]), w, 1)
            np.testing.assert_array_equal(t[0, 0].numpy() > 0, m)


class EvalRandomOrder(unittest.TestCase):
    """tools/train.py's evaluation draws the random region order exactly as
    `guidingpainter eval` does (src/cli/eval.cpp: std::mt19937_64, Fisher-Yates)."""

    def test_generator_and_permutations_match_the_engine(self):
        try:
            import train
        except ImportError as err:  # needs /usr/bin/python3 (Debian torch)
            self.skipTest(f"torch not available: {err}")
        g = train.MT19937_64(5489)
        for _ in range(9999):
            g()
        self.assertEqual(g(), 9981545732273789042)  # the C++ standard's check value
        # three images with 7, 1 and 12 regions from one generator, as printed by the
        # engine's random_ranks (0-based here)
        rng = train.MT19937_64(0)
        self.assertEqual(train.random_order(7, rng), [4, 0, 1, 2, 6, 5, 3])
        self.assertEqual(train.random_order(1, rng), [0])
        self.assertEqual(train.random_order(12, rng), [11, 6, 9, 5, 0, 10, 1, 3, 2, 8, 4, 7])


if __name__ == "__main__":
    unittest.main()
