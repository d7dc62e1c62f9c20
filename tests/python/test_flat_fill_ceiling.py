#!/usr/bin/python3
"""The reference fills of tools/flat_fill_ceiling.py on small hand-made pictures.

Run: /usr/bin/python3 -m unittest tests/python/test_flat_fill_ceiling.py   (under a second)
"""
import os
import sys
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import flat_fill_ceiling as ffc  # noqa: E402


class SketchAreas(unittest.TestCase):
    def test_a_line_splits_and_its_pixels_join_a_neighbour(self):
        # 5 x 7, a vertical line in column 3: two areas, every pixel labelled.
        s = np.ones((5, 7))
        s[:, 3] = -1.0
        lab = ffc.sketch_areas(s)
        self.assertEqual(len(np.unique(lab)), 2)
        self.assertTrue((lab[:, :3] == lab[0, 0]).all())
        self.assertTrue((lab[:, 4:] == lab[0, 6]).all())
        self.assertNotEqual(lab[0, 0], lab[0, 6])
        self.assertTrue(np.isin(lab[:, 3], [lab[0, 0], lab[0, 6]]).all())

    def test_light_grey_lines_block_and_a_gap_joins(self):
        s = np.ones((4, 9))
        s[:, 4] = 0.3      # a light line still separates
        self.assertEqual(len(np.unique(ffc.sketch_areas(s))), 2)
        s[2, 4] = 1.0      # one free pixel in the line: one area
        self.assertEqual(len(np.unique(ffc.sketch_areas(s))), 1)

    def test_all_line_and_single_pixel_pictures(self):
        self.assertEqual(np.unique(ffc.sketch_areas(-np.ones((3, 2)))).tolist(), [0])
        self.assertEqual(ffc.sketch_areas(np.ones((1, 1))).tolist(), [[0]])


class Fills(unittest.TestCase):
    def test_palette_recovers_a_picture_of_k_colours_exactly(self):
        rng = np.random.default_rng(3)
        colours = np.array([[200.0, 30.0, 40.0], [10.0, 90.0, 250.0], [255.0, 255.0, 255.0]])
        px = colours[rng.integers(0, 3, 11 * 13)]
        self.assertEqual(ffc.psnr(ffc.palette_fill(px, 2, rng), px), 100.0)
        # One colour for a two-colour picture: each pixel gets that colour or white.
        one = ffc.palette_fill(px, 1, rng)
        self.assertLessEqual(len(np.unique(one, axis=0)), 2)
        self.assertTrue((np.unique(one, axis=0) == 255.0).all(1).any())

    def test_region_gain_and_fill(self):
        labels = np.array([0, 0, 1, 1, 1])
        px = np.array([[255.0, 255, 255], [255, 255, 255], [0, 0, 0], [0, 0, 30], [0, 0, 0]])
        regions = {r: (m, mean, gain) for r, m, mean, gain in ffc.region_fills(labels, px)}
        self.assertAlmostEqual(regions[0][2], 0.0)
        np.testing.assert_allclose(regions[1][1], [0, 0, 10])
        # Gain: squared error against white minus against the mean.
        against_white = 2 * 3 * 255.0 ** 2 + (2 * 255.0 ** 2 + 225.0 ** 2)
        against_mean = 2 * 10.0 ** 2 + 20.0 ** 2
        self.assertAlmostEqual(regions[1][2], against_white - against_mean, places=6)
        y = ffc.fill(ffc.region_fills(labels, px), {1}, 5)
        np.testing.assert_allclose(y[2:], [[0, 0, 10]] * 3)
        np.testing.assert_allclose(y[:2], [[255, 255, 255]] * 2)


if __name__ == "__main__":
    unittest.main()
