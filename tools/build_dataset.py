#!/usr/bin/python3
"""Build the EmojiOne sketch-colorization data set and its fixed train/val split.

Usage:
    nice -n 19 /usr/bin/python3 tools/build_dataset.py OUT_DIR [--svg-dir DIR] [--jobs 2]
        [--split all|val]

Layout written (all PNG, names as the SVGs, e.g. 1F46F.png, 1F46E-1F3FB.png):
    OUT_DIR/train/color/NAME.png    RGB 256 x 256, SVG rendered on white (rsvg-convert)
    OUT_DIR/train/sketch/NAME.png   grey 256 x 256, canonical style (make_sketch defaults)
    OUT_DIR/val/color, val/sketch   the same for the validation split
    OUT_DIR/val128/color, sketch    val at 128 x 128 by 2 x 2 area averaging of the 256
                                    images (the colour and the canonical sketch)
    OUT_DIR/manifest.json           source, counts, sketch parameters, val names

Split rule (fixed, never trained on): a file is validation when its name with every
skin-tone part ("-1F3FB" .. "-1F3FF") removed, plus ".png" (as "1F46F.png"), has
zlib.crc32 % 10 == 0. Skin-tone variants share their base emoji's outline, so they
always land on the same side. With the 1794 EmojiOne 3.3 SVGs this gives 169 val
images; the script checks that count (--expect-val 0 disables the check).
Re-running skips files that already exist (use --force to redo them).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_sketch  # noqa: E402

DEFAULT_SVG_DIR = "/usr/share/rubygems-integration/all/gems/gemojione-3.3.0/assets/svg"
SIZE = 256
SKIN_TONE = re.compile(r"-1F3F[B-F]", re.IGNORECASE)


def split_key(name):
    """'1F46E-1F3FB-200D-2642-FE0F.svg' -> '1F46E-200D-2642-FE0F.png' (the string whose
    crc32 decides the split)."""
    stem = os.path.splitext(os.path.basename(name))[0]
    return SKIN_TONE.sub("", stem) + ".png"


def is_val(name):
    return zlib.crc32(split_key(name).encode("ascii")) % 10 == 0


def area_half(a):
    """uint8 H x W [x C] -> H/2 x W/2 [x C], mean of each 2 x 2 block, rounded."""
    h, w = a.shape[:2]
    f = a.astype(np.float32).reshape(h // 2, 2, w // 2, 2, *a.shape[2:]).mean(axis=(1, 3))
    return np.floor(f + 0.5).astype(np.uint8)


def render_svg(svg, out_png):
    """Render on white at SIZE x SIZE, store as 8-bit RGB."""
    tmp = out_png + ".tmp.png"
    subprocess.run(["rsvg-convert", "-w", str(SIZE), "-h", str(SIZE), "-b", "white",
                    "-o", tmp, svg], check=True)
    rgb = make_sketch.load_rgb(tmp)  # composites any remaining alpha on white
    if rgb.shape != (SIZE, SIZE, 3):
        raise RuntimeError(f"{svg}: rendered {rgb.shape}, expected {SIZE}x{SIZE}x3")
    Image.fromarray(rgb, "RGB").save(tmp)
    os.replace(tmp, out_png)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--svg-dir", default=DEFAULT_SVG_DIR)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--expect-val", type=int, default=169)
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--split", choices=("all", "val"), default="all",
                    help="val: build only val and val128 (the evaluation sets)")
    a = ap.parse_args(argv)

    svgs = sorted(n for n in os.listdir(a.svg_dir) if n.lower().endswith(".svg"))
    val = [n for n in svgs if is_val(n)]
    print(f"{len(svgs)} SVGs in {a.svg_dir}: train {len(svgs) - len(val)}, val {len(val)}")
    if a.expect_val and len(val) != a.expect_val:
        print(f"error: val split has {len(val)} images, expected {a.expect_val}",
              file=sys.stderr)
        return 1

    dirs = {}
    for split in ("train", "val", "val128"):
        for kind in ("color", "sketch"):
            d = os.path.join(a.out_dir, split, kind)
            os.makedirs(d, exist_ok=True)
            dirs[split, kind] = d

    def one(svg):
        split = "val" if is_val(svg) else "train"
        png = os.path.splitext(svg)[0] + ".png"
        col = os.path.join(dirs[split, "color"], png)
        sk = os.path.join(dirs[split, "sketch"], png)
        if a.force or not os.path.exists(col):
            render_svg(os.path.join(a.svg_dir, svg), col)
        if a.force or not os.path.exists(sk) or (
                split == "val" and not os.path.exists(os.path.join(dirs["val128", "sketch"], png))):
            rgb = make_sketch.load_rgb(col)
            grey = make_sketch.make_sketch(rgb)  # canonical style
            Image.fromarray(grey, "L").save(sk + ".tmp.png")
            os.replace(sk + ".tmp.png", sk)
            if split == "val":
                Image.fromarray(area_half(rgb), "RGB").save(
                    os.path.join(dirs["val128", "color"], png))
                Image.fromarray(area_half(grey), "L").save(
                    os.path.join(dirs["val128", "sketch"], png))
        return split

    todo = val if a.split == "val" else svgs
    done = 0
    with ThreadPoolExecutor(max(1, a.jobs)) as ex:
        for _ in ex.map(one, todo):
            done += 1
            if done % 20 == 0 or done == len(todo):
                print(f"  {done}/{len(todo)}", flush=True)

    counts = {f"{s}/{k}": len([n for n in os.listdir(dirs[s, k]) if n.endswith(".png")
                               and not n.endswith(".tmp.png")])
              for s, k in dirs}
    manifest = {
        "source": os.path.abspath(a.svg_dir),
        "renderer": subprocess.run(["rsvg-convert", "--version"], capture_output=True,
                                   text=True).stdout.strip(),
        "size": SIZE,
        "split_rule": "val iff zlib.crc32(name without -1F3FB..-1F3FF, as 'X.png') % 10 == 0",
        "sketch_canonical": {"width": 1, "darkness": 1.0,
                             "threshold": make_sketch.DEFAULT_THRESHOLD,
                             "dark": make_sketch.DEFAULT_DARK,
                             "stroke": make_sketch.DEFAULT_STROKE},
        "val128": "2x2 area average of val color and val sketch",
        "counts": counts,
        "val_names": [os.path.splitext(n)[0] + ".png" for n in val],
    }
    with open(os.path.join(a.out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print("counts:", json.dumps(counts))
    print(f"val images: {counts['val/color']} (expected {a.expect_val or 'any'})")
    if a.expect_val and counts["val/color"] != a.expect_val:
        print("error: stray files in the val folder", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
