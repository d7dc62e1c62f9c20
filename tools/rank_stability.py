#!/usr/bin/python3
"""How stable the ranking is across working sizes: for each sketch, the engine's ranked
regions (`guidingpainter regions --json`) at several --size values, and how often rank k
names the same region (the same segmentation channel) at two sizes.

  tools/rank_stability.py --cli build/guidingpainter [--model M] --sketches DIR [--sizes 128,256,512]
                          [--limit N] [--min-region F] [--json OUT]

Per pair of sizes (a, b): `same` = over images and ranks k <= min(n_a, n_b), the fraction
with the same channel at rank k; `same_count` = the fraction of images with as many ranked
regions at both sizes. Also the mean number of ranked regions per size. The engine ranks
regions as its default --min-region does (pass --min-region to change it). Standard
library only (the engine does the work; the simulator when there is no GPU).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def ranked(cli, model, sketch, size, min_region, tmp):
    out_png, out_json = os.path.join(tmp, "o.png"), os.path.join(tmp, "r.json")
    cmd = [cli, "regions", "--sketch", sketch, "--size", str(size), "-o", out_png, "--json", out_json]
    if model:
        cmd += ["--model", model]
    if min_region is not None:
        cmd += ["--min-region", str(min_region)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"rank_stability: {' '.join(cmd)} failed: {r.stderr.strip()}")
    with open(out_json) as f:
        return [region["id"] for region in json.load(f)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True, help="the guidingpainter program")
    ap.add_argument("--model", help="weights (default: the CLI's bundled model)")
    ap.add_argument("--sketches", required=True, help="folder of sketch PNGs")
    ap.add_argument("--sizes", default="128,256,512")
    ap.add_argument("--limit", type=int, default=0, help="N sketches evenly spaced in name order (0: all)")
    ap.add_argument("--min-region", type=float, default=None)
    ap.add_argument("--json", help="write the results here too")
    a = ap.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",")]
    names = sorted(n for n in os.listdir(a.sketches) if n.endswith(".png"))
    if 0 < a.limit < len(names):
        names = [names[i * len(names) // a.limit] for i in range(a.limit)]
    if not names:
        sys.exit(f"rank_stability: no PNG in {a.sketches}")
    per_image = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, n in enumerate(names):
            per_image[n] = {s: ranked(a.cli, a.model, os.path.join(a.sketches, n), s, a.min_region, tmp) for s in sizes}
            print(f"\r{i + 1}/{len(names)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    res = {"images": len(names), "sizes": sizes, "model": a.model or "bundled", "regions": {}, "pairs": {}}
    for s in sizes:
        res["regions"][s] = sum(len(r[s]) for r in per_image.values()) / len(names)
    for i, sa in enumerate(sizes):
        for sb in sizes[i + 1:]:
            same = total = same_count = 0
            for r in per_image.values():
                k = min(len(r[sa]), len(r[sb]))
                same += sum(r[sa][j] == r[sb][j] for j in range(k))
                total += k
                same_count += len(r[sa]) == len(r[sb])
            res["pairs"][f"{sa}-{sb}"] = {"same": same / max(total, 1), "same_count": same_count / len(names)}
    print(f"{len(names)} sketches from {a.sketches}, model {res['model']}")
    print("ranked regions per image: " + ", ".join(f"{s}: {v:.2f}" for s, v in res["regions"].items()))
    for pair, v in res["pairs"].items():
        print(f"sizes {pair}: rank k names the same region {100 * v['same']:.1f} % of the time; "
              f"same number of regions in {100 * v['same_count']:.1f} % of the images")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({**res, "per_image": per_image}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
