#!/usr/bin/python3
"""Write the golden fixtures the C++ engine is tested against.

usage: make_fixtures.py OUT_DIR        (the repository keeps them in tests/fixtures)

For each case (width, H, W) it writes OUT_DIR/w{width}_{H}x{W}/ with
  model.safetensors   random float32 weights in the engine's format (see reference.py),
                      with non-trivial BatchNorm statistics so BN folding is exercised;
  stages.safetensors  the input and every stage of one inference (see STAGES below);
and OUT_DIR/README.md describing them for the C++ tests.
Everything is computed in float64 from the float32 values stored in the files, then
stored as float32, so the C++ side compares against the exact maths of its own inputs.
Seeded and single-threaded: rerunning writes byte-identical files.
"""

import argparse
import math
import os
import sys

import numpy as np
import torch

import reference
import safetensors_io

# (width, H, W): a small net, a wider one whose width is odd at every level (each Up
# pads one column on the right), and the smallest size with a 1 x 1 bottleneck (16 is
# the minimum side: four 2x2 max-pools). An Up never pads more than 1: the upsampled
# map is 2 * floor(n / 2) for a skip of n.
CASES = ((4, 48, 40), (8, 33, 47), (4, 17, 19))
NUM_HINTS = 5
SEED = 20230101
LIVE_REGIONS = 12        # segmentation channels that may win argmax (see fit_segmentation_head)
HEAD_SCALE = 4.0         # logit gaps between neighbouring regions come out O(1)
EMPTY_LOGIT = -30.0      # far below any live channel's logit
COL_SIGNAL_CHANNELS = 6  # X, C (3), M and the one set one-hot channel
COL_OUTC_GAIN = 1.5
MAX_CYCLES_PER_PIXEL = 1 / 24
LINE_SHARPNESS = 0.3     # smaller: thinner sketch lines
# Stage tensors and what they hold (NCHW without the batch dimension), for the README.
STAGES = {
    "x": "[1,H,W] sketch in [-1,1]",
    "y": "[3,H,W] reference colour image in [-1,1]",
    "logits": "[30,H,W] segmentator output",
    "labels": "[H,W] int32 argmax of logits (ties to the lowest index)",
    "top2_gap": "[H,W] largest minus second-largest logit",
    "region_means": "[30,3] mean of y per region, 0 for empty ones",
    "hints_active": "[30] int32, 1 for the first NUM_HINTS ranked non-empty regions",
    "C": "[3,H,W] hint colours",
    "M": "[1,H,W] hint mask",
    "raw": "[3,H,W] colorizer tanh output on these labels, C, M",
    "seg.<block>": "[c,h,w] segmentator block outputs (inc, down1..4, up1..4), after the block's "
                   "last ReLU; c and h x w as the block's (up1 has 4w channels at H/8 x W/8)",
    "col.<block>": "colorizer block outputs, same blocks",
}


def randomize_weights(model, generator):
    """He-scaled convs and non-trivial BatchNorm statistics.

    BN at inference divides by sqrt(running_var), not by the batch spread, so the conv
    scale alone keeps activations O(1); He init (std sqrt(2 / fan_in)) does that for
    ReLU nets, with BN gamma / sqrt(var) of mean square about 1 as drawn here. The
    colorizer's first conv sees mostly zeros (30 one-hot channels, 1 of them set), so
    it is scaled for the ~6 channels that carry signal, and its outc is scaled so the
    tanh output spreads over [-1,1] without saturating.
    """
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            std = math.sqrt(2.0 / fan_in)
            module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * std)
            module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.1)
        elif isinstance(module, torch.nn.BatchNorm2d):
            n = module.num_features
            module.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(n, generator=generator) * 1.5 + 0.5)
            module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
            module.bias.copy_(torch.randn(n, generator=generator) * 0.1)
    model.colorizer.inc.double_conv[0].weight.mul_(math.sqrt(reference.COL_IN_CHANNELS / COL_SIGNAL_CHANNELS))
    model.colorizer.outc.conv.weight.mul_(COL_OUTC_GAIN)


def spread_points(points, count, generator):
    """`count` rows of `points` [n,d] chosen by farthest-point sampling from a random
    start: distinct (where the points allow) and spread, so no region is a sliver."""
    chosen = [int(torch.randint(points.shape[0], (1,), generator=generator))]
    distance = ((points - points[chosen[0]]) ** 2).sum(dim=1)
    for _ in range(count - 1):
        chosen.append(int(distance.argmax()))
        distance = torch.minimum(distance, ((points - points[chosen[-1]]) ** 2).sum(dim=1))
    return points[chosen]


def fit_segmentation_head(model, x, generator):
    """Set the segmentator's outc so argmax over its logits is a nearest-centroid
    assignment of the last features, with LIVE_REGIONS random channels live.

    Random 1x1 weights on w non-negative features let only a handful of channels ever
    win; instead each live channel i gets a centroid c_i = the features at one of
    LIVE_REGIONS well-spread pixels, and logit_i = s (2 c_i.f - |c_i|^2)
    = s (|f|^2 - |f - c_i|^2): every live channel wins at least at its own pixel, so
    LIVE_REGIONS regions are non-empty. The other channels get a logit far below, so
    they are empty and the rank of a region differs from its channel index, as in a
    trained model.
    """
    features = {}
    handle = model.segmentator.up4.register_forward_hook(lambda _m, _i, out: features.update(f=out[0]))
    with torch.no_grad():
        model.double().segment(x)
    handle.remove()
    model.float()
    f = features["f"].reshape(features["f"].shape[0], -1).float()
    live = torch.randperm(reference.NUM_REGIONS, generator=generator)[:LIVE_REGIONS]
    centroids = spread_points(f.t(), LIVE_REGIONS, generator)
    outc = model.segmentator.outc.conv
    outc.weight.zero_()
    outc.bias.fill_(EMPTY_LOGIT)
    outc.weight[live, :, 0, 0] = 2 * HEAD_SCALE * centroids
    outc.bias[live] = -HEAD_SCALE * (centroids ** 2).sum(dim=1)


def smooth_field(channels, height, width, generator, waves=6):
    """Sum of random plane waves of at most MAX_CYCLES_PER_PIXEL, [channels,H,W],
    standard deviation about 1; frequencies are per pixel so small images look alike."""
    yy, xx = torch.meshgrid(torch.arange(height, dtype=torch.float64),
                            torch.arange(width, dtype=torch.float64), indexing="ij")
    field = torch.zeros(channels, height, width, dtype=torch.float64)
    for c in range(channels):
        for _ in range(waves):
            freq = (torch.rand(2, generator=generator, dtype=torch.float64) * 2 - 1) * MAX_CYCLES_PER_PIXEL
            phase = torch.rand(1, generator=generator, dtype=torch.float64) * 2 * math.pi
            field[c] += torch.cos(2 * math.pi * (freq[0] * yy + freq[1] * xx) + phase)
    return field / math.sqrt(waves / 2)


def sketch_and_colour(height, width, generator):
    """A sketch (white paper, dark lines along level sets of a smooth field) and a colour
    image, both rounded to float32 so the files hold exactly what was computed on."""
    field = smooth_field(1, height, width, generator)
    lines = torch.exp(-(torch.sin(math.pi * field) / LINE_SHARPNESS) ** 2)
    x = (1.0 - 2.0 * lines).float().double()
    y = torch.tanh(1.5 * smooth_field(3, height, width, generator)).float().double()
    return x, y


def block_outputs(model):
    """Register hooks that record every U-Net block's output; returns the dict filled."""
    outputs = {}
    for short, net in (("seg", model.segmentator), ("col", model.colorizer)):
        for block in reference.BLOCKS:
            def hook(_module, _inputs, output, name=f"{short}.{block}"):
                outputs[name] = output[0].detach()
            getattr(net, block).register_forward_hook(hook)
    return outputs


def top2_gap(logits):
    top = torch.topk(logits, 2, dim=0).values
    return top[0] - top[1]


def run_stages(model, x, y):
    """Every stage of one inference in float64, as {name: tensor}."""
    activations = block_outputs(model)
    with torch.no_grad():
        logits, labels = model.segment(x)
        means = reference.region_means(labels, y)
        active = reference.first_ranked_active(labels, NUM_HINTS)
        c, m = reference.hint_maps(labels, means, active)
        raw = model.colorize(x, labels, c, m)
    stages = {"x": x, "y": y, "logits": logits, "labels": labels.int(), "top2_gap": top2_gap(logits),
              "region_means": means, "hints_active": active.int(), "C": c, "M": m, "raw": raw}
    stages.update(activations)
    return stages


def to_numpy(tensor):
    """float64 -> float32 numpy, integers -> int32 numpy."""
    dtype = np.float32 if tensor.is_floating_point() else np.int32
    return tensor.numpy().astype(dtype)


def make_case(out_dir, width, height, image_width, seed):
    """Write one case's model and stages; return the case directory and the stages."""
    generator = torch.Generator().manual_seed(seed)
    model = reference.GuidingPainter(width).eval()
    x, y = sketch_and_colour(height, image_width, generator)
    with torch.no_grad():
        randomize_weights(model, generator)
        fit_segmentation_head(model, x, generator)
    case_dir = os.path.join(out_dir, f"w{width}_{height}x{image_width}")
    os.makedirs(case_dir, exist_ok=True)
    reference.model_to_safetensors(model, os.path.join(case_dir, "model.safetensors"))
    stages = run_stages(model.double(), x, y)
    metadata = {"width": str(width), "height": str(height), "image_width": str(image_width),
                "num_hints": str(NUM_HINTS), "center": "0", "seed": str(seed), "computed_in": "float64"}
    safetensors_io.save(os.path.join(case_dir, "stages.safetensors"),
                        {name: to_numpy(t) for name, t in stages.items()}, metadata)
    return case_dir, stages


def describe(case_dir, stages):
    """One line about a case: what a C++ test author wants to know at a glance."""
    ranked = reference.ranked_regions(stages["labels"]).tolist()
    hinted = torch.nonzero(stages["hints_active"]).flatten().tolist()
    gap = stages["top2_gap"]
    size = sum(os.path.getsize(os.path.join(case_dir, f)) for f in os.listdir(case_dir))
    return (f"`{os.path.basename(case_dir)}`: {size / 1024:.0f} KiB; non-empty regions by rank {ranked}; "
            f"hinted {hinted}; {int((gap < 1e-3).sum())} pixel(s) with top2_gap < 1e-3 "
            f"(min {gap.min():.1e}); raw in [{stages['raw'].min():.3f}, {stages['raw'].max():.3f}]")


def readme(summaries):
    """Markdown description of the fixtures, regenerated with them so it cannot drift."""
    lines = ["# Golden fixtures for the engine's tests", "",
             "Generated by `/usr/bin/python3 tools/make_fixtures.py tests/fixtures` (seeded, "
             "byte-identical on rerun); do not edit by hand.", "",
             "Each `w{width}_{H}x{W}/` holds `model.safetensors` (float32 weights, canonical names, "
             "see tools/reference.py) and `stages.safetensors`: every stage computed in float64 "
             "from the stored float32 inputs and weights, then stored as float32 (integers as "
             "int32). Pixels with `top2_gap < 1e-3` may legitimately change label in float32.", "",
             "| tensor | content |", "| --- | --- |"]
    lines += [f"| `{name}` | {text.replace('NUM_HINTS', str(NUM_HINTS))} |" for name, text in STAGES.items()]
    lines += ["", "Cases:", ""] + [f"- {summary}" for summary in summaries]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Write the engine's golden fixtures.")
    parser.add_argument("out_dir", help="directory to write (tests/fixtures in the repository)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # one summation order, so reruns are byte-identical
    summaries = []
    for index, (width, height, image_width) in enumerate(CASES):
        case_dir, stages = make_case(args.out_dir, width, height, image_width, SEED + index)
        ranked = reference.ranked_regions(stages["labels"])
        if len(ranked) < NUM_HINTS:
            print(f"make_fixtures: error: {case_dir} has only {len(ranked)} regions", file=sys.stderr)
            return 1
        summaries.append(describe(case_dir, stages))
        print(summaries[-1])
    with open(os.path.join(args.out_dir, "README.md"), "w") as out:
        out.write(readme(summaries))
    return 0


if __name__ == "__main__":
    sys.exit(main())
