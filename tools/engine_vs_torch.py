#!/usr/bin/python3
"""Checks the C++ engine's whole-model output against PyTorch on the same inputs.

  engine_vs_torch.py checkpoint --width 64 --sketch S.png OUT.ckpt
      a random model (non-trivial BatchNorm, a segmentation head that gives 12
      regions on S) saved in the authors' Lightning layout, for the converter.
  engine_vs_torch.py compare --model M.safetensors --sketch S.png --reference R.png
                     --hints K --raw RAW.npy --labels L.npy
      after `guidingpainter colorize --model M --sketch S --reference R --hints K
      --raw RAW.npy --labels L.npy` at the sketch's own size: the engine's labels must
      equal PyTorch's except where PyTorch's top two logits are within 1e-3, and its
      raw output must be within 1e-3 of the PyTorch colorizer run on the engine's labels
      with the same hints. Exit 0 when both hold.
      With --precision fp16 or bf16 (the engine run with the same flag) the bounds are
      the first-order ones of tests/engine/stages_test.cpp: every one of the L = 19
      convs rounds weights, computed inputs and its output to the 16-bit type, so the
      error at a head is about 3 L u times the largest magnitude there (u = 2^-11 fp16,
      2^-8 bf16): raw within 3 L u max|raw|, labels equal wherever the top two logits
      are more than twice 3 L u max|logits| apart.

PyTorch runs in float64; run with /usr/bin/python3.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures  # noqa: E402
import reference  # noqa: E402

LABEL_GAP = 1e-3
RAW_TOLERANCE = 1e-3
UNIT_ROUNDOFF = {"fp16": 2.0 ** -11, "bf16": 2.0 ** -8}
LAYERS = 19


def make_checkpoint(args):
    generator = torch.Generator().manual_seed(args.seed)
    model = reference.GuidingPainter(args.width).eval()
    x = reference.read_image(args.sketch, 1).double()
    with torch.no_grad():
        make_fixtures.randomize_weights(model, generator)
        make_fixtures.fit_segmentation_head(model, x, generator)
    state = {f"generator.{k}": v for k, v in model.float().state_dict().items()}
    state["discriminator.model.0.weight"] = torch.zeros(1)  # the converter must ignore it
    torch.save({"state_dict": state, "epoch": 0}, args.out)
    print(f"wrote {args.out}: width {args.width}, authors' Lightning layout")


def compare(args):
    model = reference.model_from_safetensors(args.model).double()
    x = reference.read_image(args.sketch, 1).double()
    y = reference.read_image(args.reference, 3).double()
    labels_engine = torch.from_numpy(np.load(args.labels).astype(np.int64))
    raw_engine = torch.from_numpy(np.load(args.raw).astype(np.float64))
    if tuple(labels_engine.shape) != tuple(x.shape[1:]):
        sys.exit(f"labels {tuple(labels_engine.shape)} != sketch {tuple(x.shape[1:])}: run the engine at the sketch's size")
    with torch.no_grad():
        logits, labels_torch = model.segment(x)
        top = torch.topk(logits, 2, dim=0).values
        gap = top[0] - top[1]
        label_gap, raw_tolerance = LABEL_GAP, RAW_TOLERANCE
        if args.precision != "fp32":
            per_range = 3 * LAYERS * UNIT_ROUNDOFF[args.precision]
            label_gap = 2 * per_range * float(logits.abs().max())
        differ = (labels_torch != labels_engine)
        real = differ & (gap >= label_gap)
        means = reference.region_means(labels_engine, y)
        # the engine hints its first K ranked regions: its --min-region rule (the default)
        min_pixels = reference.min_region_pixels(args.min_region, labels_engine.numel())
        active = reference.first_ranked_active(labels_engine, args.hints, min_pixels=min_pixels)
        c, m = reference.hint_maps(labels_engine, means, active)
        raw_torch = model.colorize(x, labels_engine, c, m)
        if args.precision != "fp32":
            raw_tolerance = per_range * float(raw_torch.abs().max())
    diff = (raw_torch - raw_engine).abs().max().item()
    regions = len(reference.ranked_regions(labels_engine, min_pixels=min_pixels))
    print(f"{args.precision}: labels: {int(differ.sum())} of {differ.numel()} pixels differ, {int(real.sum())} where "
          f"the top two logits are >= {label_gap:.3g} apart; {regions} ranked regions, {int(active.sum())} hinted")
    if int(differ.sum()):
        print(f"  the largest top-two gap among the pixels that differ: {float(gap[differ].max()):.3g} "
              f"(max |logit| {float(logits.abs().max()):.3g})")
    print(f"raw: max |engine - torch| = {diff:.3g} (tolerance {raw_tolerance:.3g})")
    ok = int(real.sum()) == 0 and diff <= raw_tolerance
    print("MATCH" if ok else "MISMATCH")
    return 0 if ok else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("checkpoint")
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--sketch", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("out")
    p = sub.add_parser("compare")
    for name in ("--model", "--sketch", "--reference", "--raw", "--labels"):
        p.add_argument(name, required=True)
    p.add_argument("--hints", type=int, required=True)
    p.add_argument("--min-region", type=float, default=reference.MIN_REGION,
                   help="the --min-region the engine ran with (default: its default)")
    p.add_argument("--precision", choices=("fp32", "fp16", "bf16"), default="fp32")
    args = parser.parse_args(argv)
    if args.command == "checkpoint":
        make_checkpoint(args)
        return 0
    return compare(args)


if __name__ == "__main__":
    sys.exit(main())
