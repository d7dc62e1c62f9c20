#!/usr/bin/python3
"""Exports a GuidingPainter weight file's two U-Nets as ONNX, for side-by-side comparison.

    /usr/bin/python3 tools/export_onnx.py MODEL.safetensors DIR [--opset 17]

writes, built from tools/reference.py's model (float32, BatchNorm in inference mode):

  DIR/segmentator.onnx
      input  "sketch"  float32 [N, 1, H, W]: the grey sketch X in [-1, 1]
      output "logits"  float32 [N, 30, H, W]: the segmentation U-Net's raw outc output;
                       labels = argmax over dim 1, ties to the lowest channel (numpy's
                       argmax already does that)
  DIR/colorizer.onnx
      input  "colorizer_input" float32 [N, 35, H, W]: [X, C, M - cent, one_hot(labels) - cent],
                       see colorizer_input() below
      output "raw"     float32 [N, 3, H, W]: tanh of the colorization U-Net, in [-1, 1]
                       (the engine's `colorize --raw` output); picture = (raw + 1) / 2
  DIR/model.json
      width, center, train_size, num_regions, the source file and the names above

N, H and W are dynamic (exported at 1 x 64 x 64; any H, W >= 16 works, odd sizes
included: the U-Net's pad-to-skip is exported from traced shapes, not constants).
Opset 17. torch.onnx.export writes the protobuf itself; the `onnx` package is not needed.

The engine's inputs, for feeding these networks the same tensors (src/engine/session.cpp,
kernels/image.cu): X = (0.299 R + 0.587 G + 0.114 B) * 2/255 - 1 in float32 from the
8-bit sketch at the working size; a hint colour (r, g, b) in 0..255 becomes 2 v / 255 - 1;
C and M are the hinted regions' colour and 1 (0 elsewhere); cent is the model's center.

Run with /usr/bin/python3 (Debian's torch 1.13).
"""
import argparse
import json
import os
import sys
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402

OPSET = 17
EXPORT_SIZE = 64
SEG_FILE, COL_FILE, META_FILE = "segmentator.onnx", "colorizer.onnx", "model.json"
SEG_INPUT, SEG_OUTPUT = "sketch", "logits"
COL_INPUT, COL_OUTPUT = "colorizer_input", "raw"


class _Colorizer(torch.nn.Module):
    """The colorization U-Net with its tanh, as the engine's --raw output."""

    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, x):
        return torch.tanh(self.unet(x))


def _export(module, example, path, input_name, output_name, opset):
    dynamic = {0: "batch", 2: "height", 3: "width"}
    with torch.no_grad(), warnings.catch_warnings():
        # torch 1.13 warns about prim::Constant shape inference on every export; harmless.
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(module, example, path, opset_version=opset, input_names=[input_name],
                          output_names=[output_name], dynamic_axes={input_name: dynamic, output_name: dynamic},
                          do_constant_folding=True)


def export(model_path, out_dir, opset=OPSET):
    """Write DIR/segmentator.onnx, DIR/colorizer.onnx and DIR/model.json for a weight file;
    return their paths."""
    return export_model(reference.model_from_safetensors(model_path), out_dir, opset, os.path.abspath(model_path))


def export_model(model, out_dir, opset=OPSET, source=None):
    """The same for an in-memory reference.GuidingPainter (exported in float32, eval mode)."""
    model = model.float().eval()
    os.makedirs(out_dir, exist_ok=True)
    seg_path, col_path = os.path.join(out_dir, SEG_FILE), os.path.join(out_dir, COL_FILE)
    n = EXPORT_SIZE
    _export(model.segmentator, torch.zeros(1, reference.SEG_IN_CHANNELS, n, n), seg_path, SEG_INPUT, SEG_OUTPUT, opset)
    _export(_Colorizer(model.colorizer), torch.zeros(1, reference.COL_IN_CHANNELS, n, n), col_path, COL_INPUT,
            COL_OUTPUT, opset)
    meta = {
        "source": source,
        "width": model.width,
        "center": model.center,
        "train_size": getattr(model, "train_size", reference.DEFAULT_TRAIN_SIZE),
        "num_regions": reference.NUM_REGIONS,
        "opset": opset,
        "segmentator": {"file": SEG_FILE, "input": SEG_INPUT, "output": SEG_OUTPUT},
        "colorizer": {"file": COL_FILE, "input": COL_INPUT, "output": COL_OUTPUT, "activation": "tanh"},
    }
    meta_path = os.path.join(out_dir, META_FILE)
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    return seg_path, col_path, meta_path


# ----------------------------------------------------------------------------- inputs as the engine forms them

def sketch_from_rgb8(rgb):
    """[H,W,3] uint8 -> X [1,1,H,W] float32, in float32 arithmetic like kernels/image.cu."""
    rgb = np.asarray(rgb).astype(np.float32)
    grey = np.float32(0.299) * rgb[..., 0] + np.float32(0.587) * rgb[..., 1] + np.float32(0.114) * rgb[..., 2]
    x = grey * np.float32(2.0 / 255.0) - np.float32(1.0)
    return x.astype(np.float32)[None, None]


def hint_table(labels, hints, num_regions=reference.NUM_REGIONS, min_region=reference.MIN_REGION):
    """(colors [num_regions,3] float32, active [num_regions] bool) from {rank: (r,g,b)} in 0..255.

    Rank k (1-based) is the k-th channel of `labels`, in ascending order, among those with
    at least reference.min_region_pixels(min_region, labels.size) pixels: the engine's rule
    (SessionOptions::min_region; 0 ranks every non-empty channel).
    """
    labels = np.asarray(labels)
    min_pixels = reference.min_region_pixels(min_region, labels.size)
    ranked = np.nonzero(np.bincount(labels.ravel(), minlength=num_regions) >= min_pixels)[0]
    colors = np.zeros((num_regions, 3), np.float32)
    active = np.zeros(num_regions, bool)
    for rank, rgb in hints.items():
        if not 1 <= rank <= len(ranked):
            raise ValueError(f"hint rank {rank}: the labels rank {len(ranked)} regions "
                             f"(of at least {min_pixels} pixels)")
        rid = ranked[rank - 1]
        active[rid] = True
        colors[rid] = [np.float32(2.0 * float(v) / 255.0 - 1.0) for v in rgb]
    return colors, active


def colorizer_input(x, labels, colors, active, center=0.0, num_regions=reference.NUM_REGIONS):
    """[1,35,H,W] float32: [X, C, M - cent, one_hot(labels) - cent].

    x [1,1,H,W] or [H,W]; labels [H,W] ints; colors [num_regions,3]; active [num_regions] bool.
    """
    x = np.asarray(x, np.float32).reshape(labels.shape)
    labels = np.asarray(labels).astype(np.int64)
    on = np.asarray(active, bool)[labels]
    c = np.asarray(colors, np.float32)[labels].transpose(2, 0, 1) * on
    m = on.astype(np.float32) - np.float32(center)
    one_hot = (labels[None] == np.arange(num_regions)[:, None, None]).astype(np.float32) - np.float32(center)
    return np.concatenate([x[None], c, m[None], one_hot], axis=0)[None].astype(np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="weight file (.safetensors, F32/F16/BF16)")
    parser.add_argument("out_dir", help="directory for segmentator.onnx, colorizer.onnx, model.json")
    parser.add_argument("--opset", type=int, default=OPSET)
    args = parser.parse_args(argv)
    try:
        paths = export(args.model, args.out_dir, args.opset)
    except (reference.FormatError, OSError, ValueError) as err:
        print(f"export_onnx: error: {err}", file=sys.stderr)
        return 2
    for p in paths:
        print(f"wrote {p} ({os.path.getsize(p)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
