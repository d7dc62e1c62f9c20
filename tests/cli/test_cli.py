"""The guidingpainter command line: the contract people's scripts rely on.

Run by ctest with GP_CLI=<path of the built binary>; uses the small fixture models
and the bundled sample pictures, on the simulator.
"""
import json
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("GP_CLI", os.path.join(ROOT, "build", "guidingpainter"))
MODEL = os.path.join(ROOT, "tests", "fixtures", "w4_48x40", "model.safetensors")
SKETCH = os.path.join(ROOT, "examples", "samples", "1F3E0-sketch.png")
COLOR = os.path.join(ROOT, "examples", "samples", "1F3E0-color.png")


def run(*args):
    env = dict(os.environ, GP_DEVICE="sim")
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=300)


def npy_header(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    (length,) = struct.unpack("<H", data[8:10])
    return data[10:10 + length].decode("latin1"), data[10 + length:]


class CliTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def out(self, name):
        return os.path.join(self.tmp, name)

    def assert_bad_input(self, result, phrase, *outputs):
        """Exit code 2, one line on stderr naming the problem, no output file."""
        self.assertEqual(result.returncode, 2, result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("guidingpainter: "), lines[0])
        self.assertIn(phrase, lines[0])
        for path in outputs:
            self.assertFalse(os.path.exists(path), path)
        self.assertEqual(os.listdir(self.tmp), [], "nothing may be written, not even a temporary file")

    def test_info(self):
        r = run("info", "--model", MODEL)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("width:        4", r.stdout)

    def test_plan_report(self):
        r = run("plan", "--model", MODEL, "--size", "64")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("segmentator, width 4, 64 x 64", r.stdout)
        self.assertIn("up4.conv1", r.stdout)
        self.assertIn("colorize step: 19 conv launches", r.stdout)
        r = run("plan", "--width", "64", "--size", "256", "--gpu", "h100", "--precision", "fp16")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("colorize step: 19 conv launches, 82.39 GFLOP", r.stdout)
        self.assert_bad_input(run("plan", "--width", "8", "--gpu", "tpu"), "--gpu tpu")
        self.assert_bad_input(run("plan", "--width", "8", "--size", "8"), "too small")

    def test_colorize_writes_png_raw_and_labels(self):
        png, raw, labels = self.out("o.png"), self.out("raw.npy"), self.out("labels.npy")
        r = run("colorize", "--model", MODEL, "--sketch", SKETCH, "--size", "64", "-o", png,
                "--reference", COLOR, "--hints", "3", "--hint", "1=#ff8800", "--raw", raw, "--labels", labels)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        header, data = npy_header(raw)
        self.assertIn("'descr': '<f4'", header)
        self.assertIn("'shape': (3, 64, 64)", header)
        self.assertEqual(len(data), 3 * 64 * 64 * 4)
        header, data = npy_header(labels)
        self.assertIn("'descr': '<i4'", header)
        self.assertIn("'shape': (64, 64)", header)
        ids = struct.unpack(f"<{64 * 64}i", data)
        self.assertTrue(all(0 <= i < 30 for i in ids))

    def test_regions_json_and_overlay(self):
        png, js = self.out("overlay.png"), self.out("regions.json")
        r = run("regions", "--model", MODEL, "--sketch", SKETCH, "--size", "48", "-o", png, "--json", js)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(js) as f:
            regions = json.load(f)
        self.assertGreater(len(regions), 0)
        self.assertEqual([r["rank"] for r in regions], list(range(1, len(regions) + 1)))
        ids = [r["id"] for r in regions]
        self.assertEqual(ids, sorted(ids))
        for reg in regions:
            self.assertEqual(list(reg), ["rank", "id", "pixels", "box"])
            x0, y0, x1, y1 = reg["box"]
            self.assertTrue(0 <= x0 <= x1 < 48 and 0 <= y0 <= y1 < 48)
        self.assertTrue(os.path.exists(png))

    def test_eval_writes_json(self):
        data = self.out("data")
        for sub in ("sketch", "color"):
            os.makedirs(os.path.join(data, sub))
        for name in ("1F3E0", "1F388"):
            shutil.copy(os.path.join(ROOT, "examples", "samples", f"{name}-sketch.png"), os.path.join(data, "sketch", f"{name}.png"))
            shutil.copy(os.path.join(ROOT, "examples", "samples", f"{name}-color.png"), os.path.join(data, "color", f"{name}.png"))
        js = self.out("eval.json")
        r = run("eval", "--model", MODEL, "--data", data, "--size", "32", "--hints", "0,1,2", "--order", "random", "--json", js)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(js) as f:
            result = json.load(f)
        self.assertEqual(result["order"], "random")
        self.assertEqual(result["images"], 2)
        self.assertEqual(result["hints"], [0, 1, 2])
        self.assertEqual(len(result["psnr"]), 3)
        self.assertEqual(len(result["flat_psnr"]), 3)
        self.assertIn("hints", r.stdout)

    # ---- bad input: exit 2, one line, nothing written

    def test_missing_model(self):
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", self.out("nope.safetensors"), "--sketch", SKETCH, "-o", png),
                              "nope.safetensors", png)

    def test_model_not_safetensors(self):
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", SKETCH, "--sketch", SKETCH, "-o", png), "1F3E0-sketch.png", png)

    def test_truncated_model(self):
        bad = os.path.join(tempfile.mkdtemp(), "cut.safetensors")
        with open(MODEL, "rb") as f:
            data = f.read()
        with open(bad, "wb") as f:
            f.write(data[: len(data) // 2])
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", bad, "--sketch", SKETCH, "-o", png), "cut.safetensors", png)
        shutil.rmtree(os.path.dirname(bad))

    def test_missing_sketch(self):
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", self.out("none.png"), "-o", png),
                              "none.png", png)

    def test_sketch_not_an_image(self):
        fake = os.path.join(tempfile.mkdtemp(), "fake.png")
        with open(fake, "w") as f:
            f.write("this is not a picture\n")
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", fake, "-o", png), "fake.png", png)
        shutil.rmtree(os.path.dirname(fake))

    def jpeg_sketch(self, directory):
        from PIL import Image
        path = os.path.join(directory, "sketch.jpg")
        Image.open(SKETCH).convert("RGB").save(path, quality=92)
        return path

    def test_jpeg_sketch_colorizes(self):
        src = tempfile.mkdtemp()
        png = self.out("o.png")
        r = run("colorize", "--model", MODEL, "--sketch", self.jpeg_sketch(src), "--size", "32", "-o", png,
                "--hint", "1=#ff8800")
        shutil.rmtree(src)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_truncated_jpeg_sketch(self):
        # Cut in the middle of its scan data: refused, not decoded with an invented rest.
        src = tempfile.mkdtemp()
        path = self.jpeg_sketch(src)
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[:len(data) * 2 // 3])
        png = self.out("o.png")
        r = run("colorize", "--model", MODEL, "--sketch", path, "-o", png)
        shutil.rmtree(src)
        self.assert_bad_input(r, "sketch.jpg: corrupt or unsupported JPEG file", png)

    def test_rank_out_of_range(self):
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", SKETCH, "--size", "32", "-o", png,
                                  "--hint", "31=#ff0000"), "out of range", png)

    def test_bad_colour(self):
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", SKETCH, "-o", png, "--hint", "1=#ff00zz"),
                              "hex digit", png)

    def test_size_not_positive(self):
        png = self.out("o.png")
        for size in ("0", "-3", "abc"):
            self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", SKETCH, "--size", size, "-o", png),
                                  "--size", png)

    def test_reference_needs_hint_count(self):
        png = self.out("o.png")
        self.assert_bad_input(run("colorize", "--model", MODEL, "--sketch", SKETCH, "-o", png, "--reference", COLOR),
                              "--reference and --hints", png)

    def test_unwritable_output_leaves_nothing(self):
        png = os.path.join(self.tmp, "missing-dir", "o.png")
        r = run("colorize", "--model", MODEL, "--sketch", SKETCH, "--size", "32", "-o", png)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertEqual(os.listdir(self.tmp), [])


if __name__ == "__main__":
    unittest.main()
