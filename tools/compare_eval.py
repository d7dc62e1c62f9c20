#!/usr/bin/python3
"""Compares the engine's `guidingpainter eval --json` tables with PyTorch's.

  compare_eval.py TORCH.json ENGINE.json [ENGINE.json ...] [--tolerance 0.1]

TORCH.json: `tools/train.py --eval-only M --eval-json TORCH.json` (or a run's eval.json,
whose "final" entry is used). Each ENGINE.json holds one order (priority or random).
Prints both tables side by side, model and flat fill, and exits 1 when a PSNR or the mean
region count differs by more than the tolerance (dB; regions: 0.01).
"""
import argparse
import json
import sys


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("torch_json")
    ap.add_argument("engine_json", nargs="+")
    ap.add_argument("--tolerance", type=float, default=0.1)
    a = ap.parse_args(argv)
    with open(a.torch_json) as f:
        ref = json.load(f)
    ref = ref.get("final", ref)
    worst, bad = 0.0, False
    for path in a.engine_json:
        with open(path) as f:
            eng = json.load(f)
        order = eng["order"]
        print(f"{path}: order {order}, {eng['images']} images (PyTorch {ref['n']}); "
              f"regions engine {eng['mean_regions']:.2f} PyTorch {ref['regions']:.2f}")
        if eng["images"] != ref["n"] or abs(eng["mean_regions"] - ref["regions"]) > 0.01:
            bad = True
        print(f"{'K':>4} {'engine':>8} {'torch':>8} {'diff':>6} | {'flat e':>8} {'flat t':>8} {'diff':>6}")
        for k, p, fp in zip(eng["hints"], eng["psnr"], eng["flat_psnr"]):
            tp, tf = ref[order].get(str(k)), ref["flat_" + order].get(str(k))
            if tp is None or tf is None:
                print(f"{k:>4} {p:8.2f} {'-':>8} {'':>6} | {fp:8.2f} {'-':>8}")
                continue
            d, df = p - tp, fp - tf
            worst = max(worst, abs(d), abs(df))
            print(f"{k:>4} {p:8.2f} {tp:8.2f} {d:+6.2f} | {fp:8.2f} {tf:8.2f} {df:+6.2f}")
    bad = bad or worst > a.tolerance
    print(f"largest difference {worst:.3f} dB (tolerance {a.tolerance}): {'FAIL' if bad else 'ok'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
