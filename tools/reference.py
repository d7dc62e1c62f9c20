#!/usr/bin/python3
"""PyTorch reference of the GuidingPainter inference path, and its weight file format.

This is the ground truth the C++/CUDA engine is tested against (see
shared/docs/MODEL.md for the model facts), so it favours plain, explicit code over speed.
All per-image functions take unbatched CHW tensors, as the engine's fixtures store them.

The weight file (safetensors) uses *canonical* names, independent of the authors'
nn.Sequential indices, which the C++ loader relies on:
    {net}.{block}.conv1.weight [mid,in,3,3]    {net}.{block}.conv1.bias [mid]
    {net}.{block}.bn1.{weight,bias,running_mean,running_var} [mid]
    {net}.{block}.conv2.weight [out,mid,3,3]   {net}.{block}.conv2.bias [out]
    {net}.{block}.bn2.{weight,bias,running_mean,running_var} [out]
    {net}.outc.weight [classes,w,1,1]          {net}.outc.bias [classes]
net in (segmentator, colorizer), block in (inc, down1..down4, up1..up4). BatchNorm is
stored unfolded; the engine folds it at load.

CLI: reference.py MODEL.safetensors SKETCH.png OUT.png [--reference COLOR.png --hints K]
"""

import argparse
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

import safetensors_io

NUM_REGIONS = 30
SEG_IN_CHANNELS = 1
COL_IN_CHANNELS = 1 + 3 + 1 + NUM_REGIONS  # [X, C, M - cent, S - cent]
COL_OUT_CHANNELS = 3
BN_EPS = 1e-5
DEFAULT_TRAIN_SIZE = 256
FORMAT_NAME = "guidingpainter"
FORMAT_VERSION = "1"
NETS = ("segmentator", "colorizer")
BLOCKS = ("inc", "down1", "down2", "down3", "down4", "up1", "up2", "up3", "up4")
BN_FIELDS = ("weight", "bias", "running_mean", "running_var")
STORAGE_DTYPES = ("F32", "F16", "BF16")


class FormatError(ValueError):
    """A weight file or state dict that does not describe a GuidingPainter model."""


# ----------------------------------------------------------------------------- network

def unet_blocks(in_channels, width):
    """(block, in, mid, out) of every DoubleConv of the bilinear milesial U-Net.

    The single source of the channel plan: the modules and the weight validation are
    both derived from it, so they cannot disagree.
    """
    w = width
    return [
        ("inc", in_channels, w, w),
        ("down1", w, 2 * w, 2 * w),
        ("down2", 2 * w, 4 * w, 4 * w),
        ("down3", 4 * w, 8 * w, 8 * w),
        ("down4", 8 * w, 8 * w, 8 * w),
        ("up1", 16 * w, 8 * w, 4 * w),
        ("up2", 8 * w, 4 * w, 2 * w),
        ("up3", 4 * w, 2 * w, w),
        ("up4", 2 * w, w, w),
    ]


class DoubleConv(nn.Module):
    """(Conv3x3 -> BN -> ReLU) x 2; indices 0/1/3/4 match the authors' checkpoint keys."""

    def __init__(self, in_channels, mid_channels, out_channels):
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, 3, padding=1),
            nn.BatchNorm2d(mid_channels, eps=BN_EPS),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid_channels, out_channels, 3, padding=1),
            nn.BatchNorm2d(out_channels, eps=BN_EPS),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    """MaxPool 2x2 (floor: an odd last row/column is dropped) then DoubleConv."""

    def __init__(self, in_channels, mid_channels, out_channels):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2),
                                          DoubleConv(in_channels, mid_channels, out_channels))

    def forward(self, x):
        return self.maxpool_conv(x)


def upsample_and_merge(small, skip):
    """Upsample `small` x2 (bilinear, align_corners=True), zero-pad it to `skip`'s size
    (left/top get diff // 2, right/bottom the rest) and return cat([skip, upsampled]).

    Kept as a free function so tests can check the odd-size padding directly.
    """
    up = F.interpolate(small, scale_factor=2, mode="bilinear", align_corners=True)
    dy = skip.shape[-2] - up.shape[-2]
    dx = skip.shape[-1] - up.shape[-1]
    up = F.pad(up, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
    return torch.cat([skip, up], dim=1)


class Up(nn.Module):
    def __init__(self, in_channels, mid_channels, out_channels):
        super().__init__()
        self.conv = DoubleConv(in_channels, mid_channels, out_channels)

    def forward(self, small, skip):
        return self.conv(upsample_and_merge(small, skip))


class OutConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x):
        return self.conv(x)


class UNet(nn.Module):
    """The bilinear milesial U-Net; returns raw outc output (no activation)."""

    def __init__(self, in_channels, out_channels, width=64):
        super().__init__()
        self.in_channels, self.out_channels, self.width = in_channels, out_channels, width
        kinds = {"inc": DoubleConv, "down": Down, "up": Up}
        for name, cin, mid, cout in unet_blocks(in_channels, width):
            setattr(self, name, kinds[name.rstrip("0123456789")](cin, mid, cout))
        self.outc = OutConv(width, out_channels)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        return self.outc(x)


# ----------------------------------------------------------------------------- inference

def labels_from_logits(logits):
    """Per-pixel argmax over the channels of [channels,H,W] logits; ties go to the lowest index.

    Spelled out (min index among the maxima) rather than trusting argmax's tie order.
    """
    best = logits.max(dim=0, keepdim=True).values
    index = torch.arange(logits.shape[0], device=logits.device).view(-1, 1, 1).expand_as(logits)
    sentinel = torch.full_like(index, logits.shape[0])
    return torch.where(logits == best, index, sentinel).min(dim=0).values


def region_counts(labels, num_regions=NUM_REGIONS):
    """Pixels per region, [num_regions] int64."""
    return torch.bincount(labels.reshape(-1).long(), minlength=num_regions)


MIN_REGION = 0.001        # the engine's SessionOptions::min_region default
MIN_REGION_FLOOR = 4      # src/engine/min_region.h: kMinRegionFloorPixels


def min_region_pixels(fraction, pixels):
    """The fewest pixels a ranked region has (src/engine/min_region.h, the rule written
    there): max(4, ceil(fraction x pixels)); 1 (every non-empty region) for fraction 0."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"min_region {fraction}: expected a fraction of the working size's pixels in [0, 1)")
    return 1 if fraction == 0.0 else max(MIN_REGION_FLOOR, math.ceil(fraction * pixels))


def ranked_regions(labels, num_regions=NUM_REGIONS, min_pixels=1):
    """Channel ids of at least min_pixels pixels (1: every non-empty one) in ascending
    order: entry k is the region of rank k."""
    return torch.nonzero(region_counts(labels, num_regions) >= max(1, min_pixels)).flatten()


def region_means(labels, y, num_regions=NUM_REGIONS):
    """Mean of y [3,H,W] over each region -> [num_regions, 3]; zero for empty regions.

    Sums in float64 so the reference does not depend on summation order; returned in
    y's dtype.
    """
    flat = labels.reshape(-1).long()
    sums = torch.zeros(num_regions, y.shape[0], dtype=torch.float64, device=y.device)
    sums.index_add_(0, flat, y.reshape(y.shape[0], -1).t().double())
    counts = region_counts(labels, num_regions).double().clamp(min=1).unsqueeze(1)
    return (sums / counts).to(y.dtype)


def hint_maps(labels, colors, active):
    """Hint colour map C [3,H,W] and mask M [1,H,W] from a colour table.

    colors [num_regions,3], active [num_regions] bool: a pixel gets its region's colour
    and M = 1 if its region is active, else C = 0 and M = 0.
    """
    on = active.bool()[labels.long()]
    c = colors[labels.long()].permute(2, 0, 1) * on.to(colors.dtype)
    return c, on.to(colors.dtype).unsqueeze(0)


def first_ranked_active(labels, k, num_regions=NUM_REGIONS, min_pixels=1):
    """Active flags [num_regions] bool for the k highest-priority ranked regions (of at
    least min_pixels pixels; 1: every non-empty one)."""
    active = torch.zeros(num_regions, dtype=torch.bool, device=labels.device)
    active[ranked_regions(labels, num_regions, min_pixels)[:k]] = True
    return active


class GuidingPainter(nn.Module):
    """Segmentation U-Net (1 -> 30) and colorization U-Net (35 -> 3, tanh)."""

    def __init__(self, width=64, center=0.0):
        super().__init__()
        self.width, self.center = width, center
        self.segmentator = UNet(SEG_IN_CHANNELS, NUM_REGIONS, width)
        self.colorizer = UNet(COL_IN_CHANNELS, COL_OUT_CHANNELS, width)

    def segment(self, x):
        """x [1,H,W] -> (logits [30,H,W], labels [H,W] int64)."""
        logits = self.segmentator(x.unsqueeze(0))[0]
        return logits, labels_from_logits(logits)

    def colorizer_input(self, x, labels, c, m):
        """[X, C, M - cent, one_hot(labels) - cent] as [35,H,W]."""
        one_hot = F.one_hot(labels.long(), NUM_REGIONS).permute(2, 0, 1).to(x.dtype)
        return torch.cat([x, c, m - self.center, one_hot - self.center], dim=0)

    def colorize(self, x, labels, c, m):
        """tanh output [3,H,W] in [-1,1] for sketch x [1,H,W] with hint maps C, M."""
        return torch.tanh(self.colorizer(self.colorizer_input(x, labels, c, m).unsqueeze(0))[0])


# ----------------------------------------------------------------------------- weight names

_BLOCK_PREFIX = {"inc": "inc.", "down": "{b}.maxpool_conv.1.", "up": "{b}.conv."}
_DOUBLE_CONV_PARTS = (("0", "conv1", ("weight", "bias")),
                      ("1", "bn1", BN_FIELDS + ("num_batches_tracked",)),
                      ("3", "conv2", ("weight", "bias")),
                      ("4", "bn2", BN_FIELDS + ("num_batches_tracked",)))


def _authors_to_canonical():
    """Every key of a GuidingPainter state dict (authors' layout, no "generator."
    prefix) mapped to its canonical name, or to None for num_batches_tracked."""
    names = {}
    for net in NETS:
        for block in BLOCKS:
            prefix = f"{net}." + _BLOCK_PREFIX[block.rstrip("1234")].format(b=block) + "double_conv"
            for index, part, fields in _DOUBLE_CONV_PARTS:
                for field in fields:
                    names[f"{prefix}.{index}.{field}"] = (
                        None if field == "num_batches_tracked" else f"{net}.{block}.{part}.{field}")
        for field in ("weight", "bias"):
            names[f"{net}.outc.conv.{field}"] = f"{net}.outc.{field}"
    return names


_CANONICAL = _authors_to_canonical()
_AUTHORS = {canonical: key for key, canonical in _CANONICAL.items() if canonical is not None}


def is_model_key(key):
    """Whether `key` is a GuidingPainter state-dict key (authors' layout, no prefix)."""
    return key in _CANONICAL


def canonical_name(key):
    """Canonical weight-file name for a GuidingPainter state-dict key (the authors'
    layout without the "generator." prefix); None for num_batches_tracked, which
    inference never needs. Raises FormatError for any other key.
    """
    if key not in _CANONICAL:
        raise FormatError(f"'{key}' is not a GuidingPainter weight name")
    return _CANONICAL[key]


def authors_key(name):
    """The authors' state-dict key (no "generator." prefix) of a canonical name."""
    return _AUTHORS[name]


def expected_shapes(width):
    """{canonical name: shape} of a complete weight file of the given width."""
    shapes = {}
    for net, cin, classes in (("segmentator", SEG_IN_CHANNELS, NUM_REGIONS),
                              ("colorizer", COL_IN_CHANNELS, COL_OUT_CHANNELS)):
        for block, bin_, mid, bout in unet_blocks(cin, width):
            for conv, bn, ci, co in (("conv1", "bn1", bin_, mid), ("conv2", "bn2", mid, bout)):
                shapes[f"{net}.{block}.{conv}.weight"] = (co, ci, 3, 3)
                shapes[f"{net}.{block}.{conv}.bias"] = (co,)
                for field in BN_FIELDS:
                    shapes[f"{net}.{block}.{bn}.{field}"] = (co,)
        shapes[f"{net}.outc.weight"] = (classes, width, 1, 1)
        shapes[f"{net}.outc.bias"] = (classes,)
    return shapes


def _tensor_label(name):
    return f"tensor '{name}'"


def check_tensors(tensors, width, source, label=_tensor_label):
    """Raise FormatError naming the first missing, mis-shaped or unexpected tensor.

    `tensors` maps canonical names to objects with a .shape; `source` names where they
    came from (a file path) and `label(name)` how to quote a canonical name, so the
    converter can name the key as it is spelled in the checkpoint.
    """
    expected = expected_shapes(width)
    for name in sorted(expected):
        if name not in tensors:
            raise FormatError(f"{source}: missing {label(name)} (width {width} needs {list(expected[name])})")
        actual = tuple(tensors[name].shape)
        if actual != expected[name]:
            raise FormatError(f"{source}: {label(name)} has shape {list(actual)}, "
                              f"but width {width} needs {list(expected[name])}")
    unexpected = sorted(set(tensors) - set(expected))
    if unexpected:
        raise FormatError(f"{source}: unexpected {label(unexpected[0])}")


def infer_width(tensors, source, label=_tensor_label):
    """Width of the net from the segmentator's first conv [w, 1, 3, 3]."""
    name = "segmentator.inc.conv1.weight"
    if name not in tensors:
        raise FormatError(f"{source}: missing {label(name)}, cannot infer the width")
    shape = tuple(tensors[name].shape)
    if len(shape) != 4 or shape[0] < 1:
        raise FormatError(f"{source}: {label(name)} has shape {list(shape)}, "
                          f"expected [w,{SEG_IN_CHANNELS},3,3]")
    return shape[0]


# ----------------------------------------------------------------------------- weight files

def weight_metadata(width, train_size=DEFAULT_TRAIN_SIZE, center=0.0):
    """The "__metadata__" of a weight file (all values strings)."""
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "width": str(width),
        "num_regions": str(NUM_REGIONS),
        "seg_in_channels": str(SEG_IN_CHANNELS),
        "col_in_channels": str(COL_IN_CHANNELS),
        "train_size": str(train_size),
        "center": f"{center:g}",
    }


def save_weights(path, tensors, width, dtype="F32", train_size=DEFAULT_TRAIN_SIZE, center=0.0):
    """Validate canonical float32 numpy tensors and write them as `dtype` to `path`."""
    if dtype not in STORAGE_DTYPES:
        raise ValueError(f"dtype must be one of {STORAGE_DTYPES}, got {dtype!r}")
    check_tensors(tensors, width, path)
    arrays = {name: np.asarray(t, dtype=np.float32) for name, t in tensors.items()}
    safetensors_io.save(path, arrays, weight_metadata(width, train_size, center),
                        dtypes={name: dtype for name in arrays})


def canonical_tensors(state_dict):
    """{canonical name: float32 numpy} from a GuidingPainter-layout state dict."""
    out = {}
    for key, value in state_dict.items():
        name = canonical_name(key)
        if name is not None:
            out[name] = value.detach().to(torch.float32).cpu().numpy()
    return out


def model_to_safetensors(model, path, dtype="F32", train_size=DEFAULT_TRAIN_SIZE):
    """Write a GuidingPainter's weights in the engine's format."""
    save_weights(path, canonical_tensors(model.state_dict()), model.width, dtype, train_size, model.center)


def _metadata_int(metadata, key, path):
    try:
        return int(metadata[key])
    except KeyError:
        raise FormatError(f"{path}: metadata has no '{key}'") from None
    except ValueError:
        raise FormatError(f"{path}: metadata '{key}' = {metadata[key]!r} is not an integer") from None


def check_metadata(metadata, path):
    """Validate the fixed metadata fields; return (width, center, train_size)."""
    if metadata.get("format") != FORMAT_NAME:
        raise FormatError(f"{path}: metadata 'format' is {metadata.get('format')!r}, "
                          f"expected '{FORMAT_NAME}'")
    if metadata.get("format_version") != FORMAT_VERSION:
        raise FormatError(f"{path}: unsupported format_version {metadata.get('format_version')!r}, "
                          f"expected '{FORMAT_VERSION}'")
    for key, value in (("num_regions", NUM_REGIONS), ("seg_in_channels", SEG_IN_CHANNELS),
                       ("col_in_channels", COL_IN_CHANNELS)):
        if _metadata_int(metadata, key, path) != value:
            raise FormatError(f"{path}: metadata '{key}' is {metadata[key]}, expected {value}")
    width = _metadata_int(metadata, "width", path)
    if width < 1:
        raise FormatError(f"{path}: metadata 'width' is {width}, expected a positive integer")
    try:
        center = float(metadata.get("center", "0"))
    except ValueError:
        raise FormatError(f"{path}: metadata 'center' = {metadata['center']!r} is not a number") from None
    return width, center, _metadata_int(metadata, "train_size", path)


def model_from_safetensors(path):
    """Load a weight file into an eval-mode float32 GuidingPainter (attribute train_size set)."""
    tensors, metadata = safetensors_io.load(path)
    width, center, train_size = check_metadata(metadata, path)
    check_tensors(tensors, width, path)
    model = GuidingPainter(width, center)
    state = model.state_dict()
    for key in state:
        name = canonical_name(key)
        if name is not None:
            state[key] = torch.from_numpy(np.asarray(tensors[name], dtype=np.float32))
    model.load_state_dict(state)
    model.train_size = train_size
    return model.eval()


# ----------------------------------------------------------------------------- CLI

def read_image(path, channels):
    """Image file -> [channels,H,W] float32 in [-1,1]; grey uses 0.299 R + 0.587 G + 0.114 B."""
    rgb = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0
    if channels == 1:
        rgb = (rgb @ np.array([0.299, 0.587, 0.114]))[..., None]
    return torch.from_numpy((2.0 * rgb - 1.0).transpose(2, 0, 1).astype(np.float32))


def write_image(path, y):
    """[3,H,W] in [-1,1] -> 8-bit RGB file."""
    pixels = ((y.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    Image.fromarray(pixels, "RGB").save(path)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Colorize a sketch with the PyTorch reference.")
    parser.add_argument("model", help="weight file written by convert_checkpoint.py")
    parser.add_argument("sketch", help="sketch image (any size the U-Net accepts, >= 16 x 16)")
    parser.add_argument("output", help="output PNG")
    parser.add_argument("--reference", help="colour image of the sketch's size: the simulated "
                                            "user gives each hinted region its mean colour")
    parser.add_argument("--hints", type=int, default=0, help="number of ranked regions hinted, "
                                                              "highest priority first")
    args = parser.parse_args(argv)
    if args.hints > 0 and not args.reference:
        parser.error("--hints needs --reference to take the hint colours from")
    try:
        model = model_from_safetensors(args.model)
    except (FormatError, safetensors_io.SafetensorsError, OSError) as err:
        print(f"reference: error: {err}", file=sys.stderr)
        return 2
    x = read_image(args.sketch, 1)
    y = read_image(args.reference, 3) if args.reference else None
    if y is not None and y.shape[1:] != x.shape[1:]:
        parser.error(f"--reference is {y.shape[2]} x {y.shape[1]}, the sketch {x.shape[2]} x {x.shape[1]}")
    with torch.no_grad():
        _, labels = model.segment(x)
        colors = region_means(labels, y) if y is not None else torch.zeros(NUM_REGIONS, 3)
        active = first_ranked_active(labels, args.hints)
        c, m = hint_maps(labels, colors, active)
        write_image(args.output, model.colorize(x, labels, c, m))
    print(f"regions (by rank): {ranked_regions(labels).tolist()}; "
          f"hinted: {torch.nonzero(active).flatten().tolist()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
