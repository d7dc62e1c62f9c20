"""Tests of the Python reference, the weight format and the checkpoint converter.

Run from the repository root: /usr/bin/python3 -m unittest discover -s tests/python
"""

import contextlib
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
sys.path.insert(0, TOOLS)

import convert_checkpoint  # noqa: E402
import make_fixtures  # noqa: E402
import reference  # noqa: E402
import safetensors_io  # noqa: E402

torch.set_num_threads(1)


def random_model(width=4, seed=0):
    """A small eval-mode GuidingPainter with non-trivial BatchNorm statistics."""
    model = reference.GuidingPainter(width).eval()
    with torch.no_grad():
        make_fixtures.randomize_weights(model, torch.Generator().manual_seed(seed))
    return model


def raw_header(path):
    with open(path, "rb") as src:
        (size,) = struct.unpack("<Q", src.read(8))
        return size, json.loads(src.read(size))


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.dir = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)


class SafetensorsTest(TempDirTest):
    def test_round_trip_keeps_values_dtypes_and_metadata(self):
        tensors = {
            "b.f32": np.arange(6, dtype=np.float32).reshape(2, 3),
            "a.i32": np.array([-1, 2, 3], dtype=np.int32),
            "c.f16": np.array([[0.5, -2.0]], dtype=np.float16),
            "d.u8": np.array([0, 255], dtype=np.uint8),
            "e.empty": np.zeros((0, 4), dtype=np.float32),
            "f.scalar": np.array(3.25, dtype=np.float64),
        }
        safetensors_io.save(self.path("t.safetensors"), tensors, {"k": "v"})
        loaded, metadata = safetensors_io.load(self.path("t.safetensors"))
        self.assertEqual(metadata, {"k": "v"})
        self.assertEqual(set(loaded), set(tensors))
        for name, array in tensors.items():
            self.assertEqual(loaded[name].dtype, array.dtype, name)
            np.testing.assert_array_equal(loaded[name], array, err_msg=name)

    def test_layout_is_sorted_contiguous_and_aligned(self):
        tensors = {"z": np.ones(3, np.float32), "a": np.ones(1, np.uint8), "m": np.ones(2, np.float16)}
        safetensors_io.save(self.path("t.safetensors"), tensors)
        size, header = raw_header(self.path("t.safetensors"))
        self.assertEqual(size % 8, 0)
        self.assertEqual(list(header), ["a", "m", "z"])
        self.assertEqual([header[n]["data_offsets"] for n in "amz"], [[0, 1], [1, 5], [5, 17]])
        self.assertNotIn("__metadata__", header)
        self.assertEqual(os.path.getsize(self.path("t.safetensors")), 8 + size + 17)

    def test_bf16_rounds_to_nearest_even_and_loads_as_float32(self):
        values = np.array([1.0, 1.00390625, 1.01171875, -3.0e38, np.inf, np.nan], dtype=np.float32)
        safetensors_io.save(self.path("t.safetensors"), {"v": values}, dtypes={"v": "BF16"})
        self.assertEqual(raw_header(self.path("t.safetensors"))[1]["v"]["dtype"], "BF16")
        loaded = safetensors_io.load(self.path("t.safetensors"))[0]["v"]
        self.assertEqual(loaded.dtype, np.float32)
        # 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even mantissa (1.0) wins.
        np.testing.assert_array_equal(loaded[:3], [1.0, 1.0, 1.015625])
        self.assertAlmostEqual(loaded[3] / -3.0e38, 1.0, places=2)
        self.assertTrue(np.isinf(loaded[4]) and np.isnan(loaded[5]))

    def test_refuses_inconsistent_files(self):
        safetensors_io.save(self.path("t.safetensors"), {"a": np.ones(4, np.float32)})
        with open(self.path("t.safetensors"), "rb") as src:
            blob = src.read()
        for name, bad in (("truncated", blob[:-1]), ("extra", blob + b"\0\0\0\0"), ("short", blob[:5])):
            with open(self.path(name), "wb") as out:
                out.write(bad)
            with self.assertRaises(safetensors_io.SafetensorsError, msg=name):
                safetensors_io.load(self.path(name))

    def test_interrupted_write_leaves_no_file(self):
        def chunks():
            yield b"partial"
            raise OSError("disk full")

        with self.assertRaises(OSError):
            safetensors_io._write_atomically(self.path("t.safetensors"), chunks())
        self.assertEqual(os.listdir(self.dir), [])


class NetworkTest(unittest.TestCase):
    def test_upsample_pads_odd_sizes_left_top_by_half(self):
        small = torch.arange(6, dtype=torch.float64).view(1, 1, 2, 3) + 1
        skip = torch.full((1, 2, 7, 9), -1.0, dtype=torch.float64)
        merged = reference.upsample_and_merge(small, skip)
        self.assertEqual(tuple(merged.shape), (1, 3, 7, 9))
        self.assertTrue(torch.equal(merged[:, :2], skip), "skip channels come first")
        up = merged[0, 2]
        # Upsampled 4 x 6 in a 7 x 9 frame: rows 1..4 and columns 1..6 (diff 3 -> 1 + 2).
        self.assertTrue(torch.equal(up[1:5, 1:7] != 0, torch.ones(4, 6, dtype=torch.bool)))
        self.assertEqual(float(up.abs().sum() - up[1:5, 1:7].abs().sum()), 0.0)
        # align_corners=True: the corners are the input's corners exactly.
        self.assertEqual([up[1, 1].item(), up[1, 6].item(), up[4, 1].item(), up[4, 6].item()], [1, 3, 4, 6])
        self.assertAlmostEqual(up[1, 2].item(), 1 + 2 / 5)

    def test_unet_runs_on_odd_sizes(self):
        net = reference.UNet(1, 30, 2).eval()
        with torch.no_grad():
            self.assertEqual(tuple(net(torch.zeros(1, 1, 17, 19)).shape), (1, 30, 17, 19))

    def test_argmax_ties_go_to_lowest_index(self):
        logits = torch.zeros(30, 1, 4)
        logits[[3, 7], 0, 0] = 2.0
        logits[[29, 5], 0, 2] = 1.0
        logits[:, 0, 3] = -1.0
        self.assertEqual(reference.labels_from_logits(logits)[0].tolist(), [3, 0, 5, 0])

    def test_regions_means_and_hints(self):
        labels = torch.tensor([[4, 4, 2], [9, 2, 2]])
        y = torch.arange(18, dtype=torch.float64).view(3, 2, 3)
        self.assertEqual(reference.ranked_regions(labels).tolist(), [2, 4, 9])
        means = reference.region_means(labels, y)
        self.assertEqual(tuple(means.shape), (30, 3))
        self.assertEqual(means[4].tolist(), [0.5, 6.5, 12.5])
        self.assertEqual(means[2].tolist(), [(2 + 4 + 5) / 3, (8 + 10 + 11) / 3, (14 + 16 + 17) / 3])
        self.assertEqual(float(means[0].abs().sum()), 0.0)
        active = reference.first_ranked_active(labels, 2)
        self.assertEqual(torch.nonzero(active).flatten().tolist(), [2, 4])
        c, m = reference.hint_maps(labels, means, active)
        self.assertEqual(m[0].tolist(), [[1, 1, 1], [0, 1, 1]])
        self.assertEqual(c[:, 1, 0].tolist(), [0, 0, 0])
        self.assertEqual(c[:, 0, 0].tolist(), means[4].tolist())

    def test_colorizer_input_order(self):
        model = reference.GuidingPainter(2)
        x = torch.full((1, 2, 2), 0.5)
        c = torch.full((3, 2, 2), -0.25)
        m = torch.ones(1, 2, 2)
        labels = torch.tensor([[0, 29], [3, 3]])
        inp = model.colorizer_input(x, labels, c, m)
        self.assertEqual(tuple(inp.shape), (35, 2, 2))
        self.assertTrue(torch.equal(inp[0], x[0]) and torch.equal(inp[1:4], c) and torch.equal(inp[4], m[0]))
        self.assertEqual(inp[5 + 29, 0, 1].item(), 1.0)
        self.assertEqual(inp[5:].sum().item(), 4.0)


class WeightFileTest(TempDirTest):
    def test_model_round_trip_is_exact(self):
        model = random_model()
        reference.model_to_safetensors(model, self.path("m.safetensors"), train_size=512)
        tensors, metadata = safetensors_io.load(self.path("m.safetensors"))
        self.assertEqual(metadata, {"format": "guidingpainter", "format_version": "1", "width": "4",
                                    "num_regions": "30", "seg_in_channels": "1", "col_in_channels": "35",
                                    "train_size": "512", "center": "0"})
        self.assertEqual(set(tensors), set(reference.expected_shapes(4)))
        self.assertEqual(tensors["colorizer.up1.conv1.weight"].shape, (32, 64, 3, 3))
        loaded = reference.model_from_safetensors(self.path("m.safetensors"))
        self.assertEqual(loaded.train_size, 512)
        for key, value in model.state_dict().items():
            if "num_batches_tracked" not in key:
                self.assertTrue(torch.equal(loaded.state_dict()[key], value), key)

    def test_load_refuses_wrong_width_metadata(self):
        reference.model_to_safetensors(random_model(), self.path("m.safetensors"))
        tensors, metadata = safetensors_io.load(self.path("m.safetensors"))
        safetensors_io.save(self.path("bad.safetensors"), tensors, dict(metadata, width="8"))
        with self.assertRaisesRegex(reference.FormatError, r"width 8 needs"):
            reference.model_from_safetensors(self.path("bad.safetensors"))

    def test_canonical_names_cover_the_model(self):
        names = {reference.canonical_name(k) for k in reference.GuidingPainter(2).state_dict()}
        self.assertEqual(names - {None}, set(reference.expected_shapes(2)))
        self.assertEqual(reference.canonical_name("colorizer.down3.maxpool_conv.1.double_conv.4.running_var"),
                         "colorizer.down3.bn2.running_var")
        self.assertEqual(reference.canonical_name("segmentator.up2.conv.double_conv.0.bias"),
                         "segmentator.up2.conv1.bias")
        with self.assertRaises(reference.FormatError):
            reference.canonical_name("segmentator.up2.double_conv.0.bias")


class ConverterTest(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.model = random_model(seed=1)
        state = {"generator." + k: v for k, v in cls.model.state_dict().items()}
        state["discriminator.model.0.weight"] = torch.randn(8, 4, 4, 4)
        cls.lightning_state = state
        cls.x = torch.rand(1, 20, 18, generator=torch.Generator().manual_seed(2)) * 2 - 1
        with torch.no_grad():
            cls.labels = cls.model.segment(cls.x)[1]

    def save_checkpoint(self, state, wrap=True, hyper_parameters=None):
        """torch.save a Lightning-like checkpoint (or the bare state); returns its path.

        torch 1.13's weights-only loader refuses Python floats, so hyper-parameters with
        floats (as Lightning writes them) take the converter's full-unpickling fallback.
        """
        checkpoint = {"epoch": 3, "global_step": 1200, "pytorch-lightning_version": "1.5.10",
                      "state_dict": state, "hyper_parameters": hyper_parameters or {"batch_size": 16}}
        path = self.path("in.ckpt")
        torch.save(checkpoint if wrap else state, path)
        return path

    def convert(self, state, *options, wrap=True, hyper_parameters=None):
        """Run the converter in-process; returns (exit code, stderr)."""
        stderr = io.StringIO()
        path = self.save_checkpoint(state, wrap, hyper_parameters)
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            code = convert_checkpoint.main([path, self.path("out.safetensors"), *options])
        return code, stderr.getvalue()

    def outputs(self, model):
        """Logits, and the colorizer output on the original model's labels (so that
        argmax flips under reduced precision do not hide the weights' error)."""
        with torch.no_grad():
            logits = model.segment(self.x)[0]
            colors = torch.rand(30, 3, generator=torch.Generator().manual_seed(3)) * 2 - 1
            c, m = reference.hint_maps(self.labels, colors, reference.first_ranked_active(self.labels, 3))
            return logits, model.colorize(self.x, self.labels, c, m)

    def test_lightning_checkpoint_converts_exactly(self):
        self.assertEqual(self.convert(self.lightning_state), (0, ""))
        loaded = reference.model_from_safetensors(self.path("out.safetensors"))
        for got, want in zip(self.outputs(loaded), self.outputs(self.model)):
            self.assertTrue(torch.equal(got, want))

    def test_full_unpickling_fallback_warns(self):
        code, stderr = self.convert(self.lightning_state, hyper_parameters={"lr": 2e-4})
        self.assertEqual(code, 0)
        self.assertIn("warning", stderr)
        self.assertIn("full unpickling", stderr)

    def test_bare_state_dict_without_prefix_converts(self):
        self.assertEqual(self.convert(self.model.state_dict(), wrap=False)[0], 0)
        self.assertEqual(reference.model_from_safetensors(self.path("out.safetensors")).width, 4)

    def test_half_precision_storage(self):
        for option, tolerance in (("f16", 5e-3), ("bf16", 5e-2)):
            self.assertEqual(self.convert(self.lightning_state, "--dtype", option)[0], 0)
            header = raw_header(self.path("out.safetensors"))[1]
            self.assertEqual(header["colorizer.inc.conv1.weight"]["dtype"], option.upper())
            loaded = reference.model_from_safetensors(self.path("out.safetensors"))
            for got, want in zip(self.outputs(loaded), self.outputs(self.model)):
                error = float((got - want).abs().max() / want.abs().max())
                self.assertLess(error, tolerance, option)

    def assertRefused(self, state, *fragments):
        code, stderr = self.convert(state)
        self.assertEqual(code, 2)
        self.assertEqual(len(stderr.strip().splitlines()), 1, stderr)
        for fragment in fragments:
            self.assertIn(fragment, stderr)
        self.assertFalse(os.path.exists(self.path("out.safetensors")))
        self.assertEqual(sorted(os.listdir(self.dir)), ["in.ckpt"], "no temporary file left")

    def test_refuses_missing_key(self):
        state = dict(self.lightning_state)
        del state["generator.colorizer.up2.conv.double_conv.4.running_var"]
        self.assertRefused(state, "missing key 'generator.colorizer.up2.conv.double_conv.4.running_var'")

    def test_refuses_wrong_shape(self):
        state = dict(self.lightning_state)
        state["generator.segmentator.up1.conv.double_conv.0.weight"] = torch.zeros(32, 63, 3, 3)
        self.assertRefused(state, "'generator.segmentator.up1.conv.double_conv.0.weight'",
                           "[32, 63, 3, 3]", "[32, 64, 3, 3]")

    def test_refuses_inconsistent_width(self):
        state = dict(self.lightning_state)
        for key, value in reference.GuidingPainter(8).colorizer.state_dict().items():
            state["generator.colorizer." + key] = value
        self.assertRefused(state, "width 4 needs", "generator.colorizer.")

    def test_refuses_unexpected_generator_key(self):
        state = dict(self.lightning_state, **{"generator.segmentator.extra.weight": torch.zeros(1)})
        self.assertRefused(state, "unexpected generator key 'generator.segmentator.extra.weight'")

    def test_refuses_non_finite_weights(self):
        state = dict(self.lightning_state)
        state["generator.colorizer.outc.conv.bias"] = torch.tensor([0.0, float("nan"), 0.0])
        self.assertRefused(state, "'generator.colorizer.outc.conv.bias'", "NaN")

    def test_refuses_a_file_that_is_no_checkpoint(self):
        with open(self.path("in.ckpt"), "wb") as out:
            out.write(b"\x80\x02garbage" * 10)
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            code = convert_checkpoint.main([self.path("in.ckpt"), self.path("out.safetensors")])
        self.assertEqual((code, len(stderr.getvalue().strip().splitlines())), (2, 1), stderr.getvalue())
        self.assertFalse(os.path.exists(self.path("out.safetensors")))

    def test_command_line(self):
        path = self.save_checkpoint(self.lightning_state)
        result = subprocess.run([sys.executable, os.path.join(TOOLS, "convert_checkpoint.py"), path,
                                 self.path("out.safetensors"), "--train-size", "320"],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(safetensors_io.load(self.path("out.safetensors"))[1]["train_size"], "320")


class FixtureTest(unittest.TestCase):
    """The committed fixtures agree with the reference (recomputed in float64)."""

    FIXTURES = os.path.join(ROOT, "tests", "fixtures")

    def test_fixtures_match_reference(self):
        cases = [c for c in sorted(os.listdir(self.FIXTURES))
                 if os.path.isdir(os.path.join(self.FIXTURES, c))] if os.path.isdir(self.FIXTURES) else []
        if not cases:
            self.skipTest("no fixtures")
        for case in cases:
            with self.subTest(case=case):
                case_dir = os.path.join(self.FIXTURES, case)
                model = reference.model_from_safetensors(os.path.join(case_dir, "model.safetensors"))
                stages = safetensors_io.load(os.path.join(case_dir, "stages.safetensors"))[0]
                self.check_case(model.double(), {k: torch.from_numpy(v) for k, v in stages.items()})

    def check_case(self, model, stages):
        x, labels = stages["x"].double(), stages["labels"].long()
        with torch.no_grad():
            logits, _ = model.segment(x)
            c, m = reference.hint_maps(labels, stages["region_means"].double(), stages["hints_active"].bool())
            raw = model.colorize(x, labels, c, m)
        reliable = stages["top2_gap"] >= 1e-3
        self.assertGreaterEqual(len(reference.ranked_regions(labels)), 5)
        relabelled = reference.labels_from_logits(stages["logits"])
        self.assertTrue(torch.equal(relabelled[reliable], labels[reliable]))
        self.assertLess(float((logits - stages["logits"]).abs().max()), 1e-4)
        self.assertLess(float((raw - stages["raw"]).abs().max()), 1e-5)
        self.assertTrue(torch.equal(stages["hints_active"].bool(), reference.first_ranked_active(labels, 5)))


if __name__ == "__main__":
    unittest.main()
