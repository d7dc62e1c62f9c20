"""colorize --hint-at / --flats / --layers with the bundled model on the sample house:
the door (the closed area under the point) is exactly the point's colour in the flats
layer, out.ora is OpenRaster with the layers the README lists, and its mergedimage.png
equals out.png. Run by ctest (cli.layers) with GP_CLI set; needs Debian's python3-pil.
"""

import io
import os
import shutil
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET
import zipfile
from collections import deque

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.environ.get("GP_CLI", os.path.join(ROOT, "build", "guidingpainter"))
SKETCH = os.path.join(ROOT, "examples", "samples", "1F3E0-sketch.png")
DOOR = (80, 210)
BROWN = (0x7A, 0x3B, 0x10)


def run(*args):
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=dict(os.environ, GP_DEVICE="sim"),
                          timeout=600)


def closed_area(sketch, start):
    """The 4-connected non-line pixels around start (line: 299 R + 587 G + 114 B < 128000)."""
    rgb = sketch.convert("RGB")
    w, h = rgb.size
    px = rgb.load()
    paper = lambda p: 299 * px[p][0] + 587 * px[p][1] + 114 * px[p][2] >= 128000  # noqa: E731
    seen, queue = {start}, deque([start])
    while queue:
        x, y = queue.popleft()
        for q in ((x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)):
            if 0 <= q[0] < w and 0 <= q[1] < h and q not in seen and paper(q):
                seen.add(q)
                queue.append(q)
    return seen


class LayersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.out, cls.ora, cls.flats = (os.path.join(cls.tmp, n) for n in ("out.png", "out.ora", "flats.png"))
        cls.result = run("colorize", "--sketch", SKETCH, "--hint-at", "80,210=#7A3B10", "--hint", "1=#3060c0",
                         "--layers", cls.ora, "--flats", cls.flats, "-o", cls.out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_it_ran(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)

    def test_the_door_is_exactly_the_point_s_colour_in_the_flats(self):
        sketch = Image.open(SKETCH)
        door = closed_area(sketch, DOOR)
        self.assertGreater(len(door), 100)
        self.assertLess(len(door), 256 * 256 // 4, "the door leaked into the background")
        with zipfile.ZipFile(self.ora) as archive:
            names = self.layer_files(archive)
            flats = Image.open(io.BytesIO(archive.read(names["flats"]))).convert("RGBA")
        self.assertEqual(flats.size, sketch.size)
        px = flats.load()
        self.assertEqual({px[p] for p in door}, {(*BROWN, 255)})
        # Lines transparent, every other pixel opaque; --flats wrote the same picture.
        grey = sketch.convert("RGB").load()
        for y in range(0, 256, 3):
            for x in range(0, 256, 3):
                line = 299 * grey[x, y][0] + 587 * grey[x, y][1] + 114 * grey[x, y][2] < 128000
                self.assertEqual(px[x, y][3], 0 if line else 255, (x, y))
        self.assertEqual(list(Image.open(self.flats).convert("RGBA").getdata()), list(flats.getdata()))

    def layer_files(self, archive):
        stack = ET.fromstring(archive.read("stack.xml"))
        return {layer.get("name"): layer.get("src") for layer in stack.iter("layer")}

    def test_the_ora_is_openraster_with_the_layers(self):
        with open(self.ora, "rb") as f:
            head = f.read(60)
        self.assertEqual(head[:2], b"PK")
        self.assertEqual(head[30:54], b"mimetypeimage/openraster", "mimetype first, stored, no extra field")
        with zipfile.ZipFile(self.ora) as archive:
            self.assertIsNone(archive.testzip())
            info = archive.infolist()
            self.assertEqual((info[0].filename, info[0].compress_type), ("mimetype", zipfile.ZIP_STORED))
            self.assertEqual(archive.read("mimetype"), b"image/openraster")
            stack = ET.fromstring(archive.read("stack.xml"))
            self.assertEqual((stack.get("w"), stack.get("h")), ("256", "256"))
            layers = list(stack.iter("layer"))
            names = [layer.get("name") for layer in layers]
            self.assertEqual(names[:3], ["lines", "flats", "colorized"])
            self.assertGreaterEqual(len(names), 4)
            self.assertEqual(names[3:], [f"region {k}" for k in range(1, len(names) - 2)])
            visible = {layer.get("name"): layer.get("visibility") for layer in layers}
            self.assertEqual((visible["lines"], visible["flats"], visible["colorized"]), ("visible", "hidden", "visible"))
            self.assertTrue(all(visible[n] == "hidden" for n in names[3:]))
            for layer in layers:
                picture = Image.open(io.BytesIO(archive.read(layer.get("src"))))
                self.assertEqual(picture.size, (256, 256), layer.get("name"))
            thumbnail = Image.open(io.BytesIO(archive.read("Thumbnails/thumbnail.png")))
            self.assertLessEqual(max(thumbnail.size), 256)
            with open(self.out, "rb") as f:
                self.assertEqual(archive.read("mergedimage.png"), f.read(), "mergedimage.png differs from -o")

    def test_a_point_on_a_line_or_outside_is_refused_naming_it(self):
        for point, phrase in (("13,56", "--hint-at 13,56"), ("300,5", "outside"), ("5", "X,Y=#RRGGBB")):
            out = os.path.join(self.tmp, "never.png")
            r = run("colorize", "--sketch", SKETCH, "--hint-at", f"{point}=#7A3B10", "-o", out)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(phrase, r.stderr)
            self.assertFalse(os.path.exists(out))

    def test_layers_must_be_named_ora(self):
        r = run("colorize", "--sketch", SKETCH, "--layers", os.path.join(self.tmp, "x.png"), "-o",
                os.path.join(self.tmp, "y.png"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(".ora", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
