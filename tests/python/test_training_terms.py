#!/usr/bin/python3
"""The nested flat-fill term of tools/train.py and tools/compare_eval.py.

Run: /usr/bin/python3 -m unittest tests/python/test_training_terms.py   (about a second)
"""
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import compare_eval  # noqa: E402
import train  # noqa: E402


class PrefixFlatLoss(unittest.TestCase):
    def sample(self, n, h, w, seed):
        g = torch.Generator().manual_seed(seed)
        labels = torch.randint(0, train.NC, (n, h, w), generator=g)
        S = F.one_hot(labels, train.NC).permute(0, 3, 1, 2).double()
        y = torch.rand(n, 3, h, w, generator=g, dtype=torch.float64) * 2 - 1
        return S, y

    def test_equals_the_mean_of_per_k_flat_fills(self):
        for (n, h, w, kmax) in ((2, 9, 7, 10), (1, 1, 1, 3), (3, 5, 13, 30), (1, 4, 4, 45)):
            S, y = self.sample(n, h, w, seed=h * w)
            c = train.hints_from_regions(S, y, torch.ones(n, train.NC, dtype=torch.bool))[0]
            got = float(train.prefix_flat_loss(S, y, c, kmax))
            # plain loops: per image, per K, per pixel, in double precision
            labels, yy, cc = S.argmax(1).numpy(), y.numpy(), c.numpy()
            total, ks = 0.0, range(1, min(kmax, train.NC) + 1)
            for k in ks:
                for i in range(n):
                    for r in range(h):
                        for q in range(w):
                            lab = labels[i, r, q]
                            fill = cc[i, lab] if lab < k else np.ones(3)
                            total += float(((fill - yy[i, :, r, q]) ** 2).sum())
            want = total / (len(ks) * n * 3 * h * w)
            self.assertAlmostEqual(got, want, places=10, msg=f"{n}x{h}x{w} kmax {kmax}")

    def test_moving_colour_into_an_earlier_region_lowers_it(self):
        # two regions: a coloured one in channel 5 and white in channel 0, or swapped
        y = -torch.ones(1, 3, 4, 4, dtype=torch.float64)
        y[..., :2] = 1.0
        S = torch.zeros(1, train.NC, 4, 4, dtype=torch.float64)
        S[0, 0, :, :2], S[0, 5, :, 2:] = 1.0, 1.0
        late = train.prefix_flat_loss(S, y, train.hints_from_regions(S, y, torch.ones(1, 30, dtype=torch.bool))[0], 10)
        S2 = S[:, [5, 1, 2, 3, 4, 0] + list(range(6, 30))]
        early = train.prefix_flat_loss(S2, y, train.hints_from_regions(S2, y, torch.ones(1, 30, dtype=torch.bool))[0], 10)
        self.assertLess(float(early), float(late))


class CompareEval(unittest.TestCase):
    def write(self, d, name, obj):
        path = os.path.join(d, name)
        with open(path, "w") as f:
            json.dump(obj, f)
        return path

    def test_tolerance(self):
        ks = [0, 1, 5]
        table = {str(k): 10.0 + k for k in ks}
        ref = {"final": {"n": 3, "regions": 7.5, "priority": table, "flat_priority": table}}
        with tempfile.TemporaryDirectory() as d:
            r = self.write(d, "torch.json", ref)
            for shift, rc in ((0.05, 0), (-0.09, 0), (0.15, 1)):
                e = self.write(d, "engine.json", {"order": "priority", "images": 3, "hints": ks, "mean_regions": 7.5,
                                                  "psnr": [10.0 + k + shift for k in ks],
                                                  "flat_psnr": [10.0 + k for k in ks]})
                self.assertEqual(compare_eval.main([r, e]), rc, f"shift {shift}")
            e = self.write(d, "engine.json", {"order": "priority", "images": 2, "hints": ks, "mean_regions": 7.5,
                                              "psnr": [10.0 + k for k in ks], "flat_psnr": [10.0 + k for k in ks]})
            self.assertEqual(compare_eval.main([r, e]), 1, "image count differs")


if __name__ == "__main__":
    unittest.main()
