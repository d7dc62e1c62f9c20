#!/usr/bin/python3
"""The README's picture of one sample: sketch, ranked regions, and the result after
1, 3 and 10 hints (the first ranked regions take the sample's colours), side by side.

  /usr/bin/python3 tools/readme_picture.py [--cli build/guidingpainter] [--name 1F432] OUT.png
"""
import argparse
import os
import subprocess
import tempfile

from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "guidingpainter"))
    ap.add_argument("--name", default="1F432")
    ap.add_argument("--model", default=None)
    ap.add_argument("out")
    a = ap.parse_args()
    sketch = os.path.join(ROOT, "examples", "samples", f"{a.name}-sketch.png")
    colour = os.path.join(ROOT, "examples", "samples", f"{a.name}-color.png")
    model = ["--model", a.model] if a.model else []
    panels = [("sketch", Image.open(sketch).convert("RGB"))]
    with tempfile.TemporaryDirectory() as tmp:
        regions = os.path.join(tmp, "regions.png")
        subprocess.run([a.cli, "regions", *model, "--sketch", sketch, "-o", regions], check=True)
        panels.append(("ranked regions", Image.open(regions).convert("RGB")))
        for k in (1, 3, 10):
            out = os.path.join(tmp, f"k{k}.png")
            subprocess.run([a.cli, "colorize", *model, "--sketch", sketch, "--reference", colour, "--hints", str(k),
                            "-o", out], check=True)
            panels.append((f"{k} hint{'s' if k > 1 else ''}", Image.open(out).convert("RGB")))
    size = 256
    sheet = Image.new("RGB", (size * len(panels), size + 20), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, img) in enumerate(panels):
        sheet.paste(img.resize((size, size), Image.NEAREST), (i * size, 20))
        draw.text((i * size + 6, 4), label, fill="black")
    sheet.save(a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
