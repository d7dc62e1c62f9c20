"""ONNX Runtime (CPU) on tools/export_onnx.py's files reproduces the engine's labels and raw output.

    PY=$(scripts/onnx_env.sh)            # venv with onnxruntime, Debian's torch/numpy visible
    $PY -m unittest discover -s tests/onnx -v

For each model (three fixture models and the bundled one) the test exports both U-Nets,
runs the engine's CLI (`$GP_CLI colorize --device sim --precision fp32 ... --raw --labels`,
GP_CLI defaults to build/guidingpainter) on a sketch that is already at the working size
(`--size` = its long side, so the engine resamples nothing), and runs ORT on the same
tensors: the segmentator on X formed from the 8-bit sketch as the engine forms it, the
colorizer on [X, C, M - cent, one_hot - cent] built from the *engine's* labels and the
same hints, so that the colorizer comparison sees only the network.

Skipped (with the reason) when onnxruntime cannot be imported or the CLI is missing.
"""
import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
from PIL import Image

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))
CLI = os.environ.get("GP_CLI") or os.path.join(REPO, "build", "guidingpainter")
if not os.path.isabs(CLI):
    CLI = os.path.join(REPO, CLI)

try:
    import onnxruntime as ort
except ImportError as err:  # the test's own skip message says how to get it
    ort = None
    ORT_ERROR = str(err)

import export_onnx  # noqa: E402  (imports torch: run in the venv of scripts/onnx_env.sh)
import safetensors_io  # noqa: E402

# ---- tolerances ---------------------------------------------------------------------------
# Both sides compute the same float32 function in different orders (ORT's MLAS convs and
# the exporter's float32 BatchNorm folding; the engine's own tiled kernels and folding).
# A float32 dot product of length K carries a rounding error that grows like sqrt(K) u
# relative to the result's scale (the probabilistic rule of thumb, u = 2^-24); the
# network stacks L = 19 convs whose errors add (ReLU, max-pool, bilinear upsampling and
# tanh are 1-Lipschitz, so none amplifies them), and the two sides' errors add again:
#     tol = 2 * L * sqrt(K_max) * u * scale,   K_max = 9 * max(35, 16 w)
# (16 w: up1's input channels; 35: the colorizer's input). scale = max |logits| for the
# segmentator, 1 for the raw output (the tanh range; |z| sech^2 z <= 0.45, so a relative
# error on a large pre-activation shrinks through tanh). Width 16: 1.1e-4 on raw, and
# 1.1e-4 * max|logits| on the logits. Observed (printed per case): raw within 4e-6, i.e.
# 15-90 times inside; ORT's logits against float64 PyTorch are within 6e-7 * max|logits|,
# so the rule is itself about 100 times pessimistic and needs no extra safety factor.
# A pixel's label may only change where the top two logits are within the two sides'
# errors, so labels are compared where ORT's top-two gap exceeds 2 * logit tolerance;
# the test also asks that most pixels (> half) have such a gap, so it compares something.
U = 2.0 ** -24
LAYERS = 19


def relative_tolerance(width):
    k_max = 9 * max(35, 16 * width)
    return 2 * LAYERS * math.sqrt(k_max) * U


HINTS = {1: (224, 32, 32), 2: (32, 160, 64), 3: (40, 80, 230)}


def hint_args(hints):
    args = []
    for rank, rgb in sorted(hints.items()):
        args += ["--hint", f"{rank}=#" + "".join(f"{v:02x}" for v in rgb)]
    return args


def fixture_sketch(name, path):
    """The fixture's X [1,H,W] in [-1,1] as an 8-bit grey PNG (so the fitted head sees
    nearly its own input and gives its ~12 regions)."""
    tensors, _ = safetensors_io.load(os.path.join(REPO, "tests", "fixtures", name, "stages.safetensors"))
    x = tensors["x"][0]
    grey = np.clip(np.floor((x + 1.0) * 127.5 + 0.5), 0, 255).astype(np.uint8)
    Image.fromarray(grey, "L").save(path)


def resized_sample(sample, width, height, path):
    """A bundled sample sketch resampled (by PIL) to width x height, saved as grey PNG."""
    image = Image.open(os.path.join(REPO, "examples", "samples", sample)).convert("L")
    image.resize((width, height), Image.BILINEAR).save(path)


@unittest.skipIf(ort is None, f"onnxruntime is not importable ({'' if ort else ORT_ERROR}); "
                              "run with the python printed by scripts/onnx_env.sh")
@unittest.skipIf(not os.access(CLI, os.X_OK), f"engine CLI {CLI} is missing (build it, or set GP_CLI)")
class OnnxMatchesEngine(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="gp-onnx-")
        cls.exported = {}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def export(self, model):
        if model not in self.exported:
            out = os.path.join(self.tmp.name, f"onnx{len(self.exported)}")
            export_onnx.export(model, out)
            with open(os.path.join(out, export_onnx.META_FILE)) as f:
                meta = json.load(f)
            options = ort.SessionOptions()
            options.log_severity_level = 3
            sessions = [ort.InferenceSession(os.path.join(out, name), options, providers=["CPUExecutionProvider"])
                        for name in (export_onnx.SEG_FILE, export_onnx.COL_FILE)]
            self.exported[model] = (meta, *sessions)
        return self.exported[model]

    def check(self, label, model, sketch, hints=HINTS):
        meta, seg, col = self.export(model)
        work = os.path.join(self.tmp.name, label)
        os.makedirs(work, exist_ok=True)
        rgb = np.asarray(Image.open(sketch).convert("RGB"))
        h, w = rgb.shape[:2]
        raw_path, labels_path = os.path.join(work, "raw.npy"), os.path.join(work, "labels.npy")
        cmd = [CLI, "colorize", "--device", "sim", "--precision", "fp32", "--model", model, "--sketch", sketch,
               "--size", str(max(h, w)), "-o", os.path.join(work, "out.png"), "--raw", raw_path,
               "--labels", labels_path] + hint_args(hints)
        run = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, GP_DEVICE="sim"))
        self.assertEqual(run.returncode, 0, f"{' '.join(cmd)}\n{run.stderr}")
        labels_engine = np.load(labels_path).astype(np.int64)
        raw_engine = np.load(raw_path).astype(np.float32)
        self.assertEqual(labels_engine.shape, (h, w), "the engine resampled: the sketch is not at the working size")
        self.assertEqual(raw_engine.shape, (3, h, w))

        x = export_onnx.sketch_from_rgb8(rgb)
        logits = seg.run([export_onnx.SEG_OUTPUT], {export_onnx.SEG_INPUT: x})[0][0]
        labels_ort = np.argmax(logits, axis=0)
        top2 = np.sort(logits, axis=0)[-2:]
        gap = top2[1] - top2[0]
        rel = relative_tolerance(meta["width"])
        logit_tol = rel * float(np.abs(logits).max())
        clear = gap > 2 * logit_tol
        differ = labels_ort != labels_engine
        colors, active = export_onnx.hint_table(labels_engine, hints)
        inp = export_onnx.colorizer_input(x, labels_engine, colors, active, meta["center"])
        raw_ort = col.run([export_onnx.COL_OUTPUT], {export_onnx.COL_INPUT: inp})[0][0]
        raw_err = float(np.abs(raw_ort - raw_engine).max())
        raw_tol = rel * 1.0
        regions = int((np.bincount(labels_engine.ravel(), minlength=30) > 0).sum())
        print(f"\n  {label}: {w}x{h} width {meta['width']}, {regions} regions; labels: "
              f"{int((~differ).sum())}/{differ.size} equal, {int(clear.sum())} with gap > {2 * logit_tol:.3g} "
              f"(of max|logit| {np.abs(logits).max():.3g}), {int((differ & clear).sum())} of those differ, "
              f"largest ORT gap where they differ {float(gap[differ].max()) if differ.any() else 'none differ'}; "
              f"raw: max|ORT - engine| = {raw_err:.3g} (tol {raw_tol:.3g})", file=sys.stderr)
        self.assertEqual(int((differ & clear).sum()), 0, f"{label}: labels differ where the top-two gap is clear")
        self.assertGreater(int(clear.sum()), differ.size // 2, f"{label}: too few pixels with a clear gap to compare")
        self.assertLessEqual(raw_err, raw_tol, f"{label}: raw output")

    def test_fixture_w4_17x19(self):
        sketch = os.path.join(self.tmp.name, "w4_17x19.png")
        fixture_sketch("w4_17x19", sketch)
        self.check("w4_17x19", os.path.join(REPO, "tests/fixtures/w4_17x19/model.safetensors"), sketch)

    def test_fixture_w4_48x40(self):
        sketch = os.path.join(self.tmp.name, "w4_48x40.png")
        fixture_sketch("w4_48x40", sketch)
        self.check("w4_48x40", os.path.join(REPO, "tests/fixtures/w4_48x40/model.safetensors"), sketch)

    def test_fixture_w8_33x47(self):
        sketch = os.path.join(self.tmp.name, "w8_33x47.png")
        fixture_sketch("w8_33x47", sketch)
        self.check("w8_33x47", os.path.join(REPO, "tests/fixtures/w8_33x47/model.safetensors"), sketch)

    def test_bundled_model_256(self):
        # The sample is 256 x 256: at --size 256 nothing is resampled.
        self.check("bundled_256", os.path.join(REPO, "weights/guidingpainter-emoji.safetensors"),
                   os.path.join(REPO, "examples/samples/1F432-sketch.png"))

    def test_bundled_model_odd_size(self):
        # Odd, non-square working size: every U-Net level pads its upsampled map.
        sketch = os.path.join(self.tmp.name, "1F3E0_101x75.png")
        resized_sample("1F3E0-sketch.png", 101, 75, sketch)
        self.check("bundled_101x75", os.path.join(REPO, "weights/guidingpainter-emoji.safetensors"), sketch)


if __name__ == "__main__":
    unittest.main()
