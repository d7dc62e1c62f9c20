#!/usr/bin/python3
"""Convert the authors' GuidingPainter checkpoint to the engine's safetensors format.

usage: convert_checkpoint.py IN OUT.safetensors [--dtype f32|f16|bf16] [--train-size N]

IN is a PyTorch Lightning checkpoint (a dict whose "state_dict" holds
generator.segmentator.*, generator.colorizer.* and discriminator.*) or a bare state
dict of the generator (same keys, with or without "generator."). The discriminator and
num_batches_tracked are dropped; everything else must be exactly the model of the width
read from the segmentator's first conv. Any inconsistency is refused with one line on
stderr and exit code 2, and OUT is left untouched: a half-valid weight file would only
move the failure into the C++ loader, where it is harder to read.
"""

import argparse
import sys

import numpy as np
import torch

import reference
import safetensors_io

EXIT_REFUSED = 2
GENERATOR_PREFIX = "generator."


def _brief(err):
    """One line about an unpickling error: torch's weights-only message is a paragraph
    whose useful part follows "WeightsUnpickler error:"."""
    text = " ".join(str(err).split())
    return text.split("WeightsUnpickler error: ")[-1] or type(err).__name__


def load_checkpoint(path):
    """torch.load restricted to tensors and plain containers. Lightning also pickles its
    hyper-parameters, which the restricted loader may refuse: then load fully, and say
    so, since full unpickling runs code from the file."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, EOFError) as err:
        raise reference.FormatError(f"{path}: cannot read checkpoint ({_brief(err)})") from None
    except Exception as err:  # the restricted unpickler raises UnpicklingError or RuntimeError
        restricted_error = _brief(err)
    try:
        checkpoint = torch.load(path, map_location="cpu")
    except Exception as err:
        raise reference.FormatError(f"{path}: not a PyTorch checkpoint (weights-only load: "
                                    f"{restricted_error}; full load: {_brief(err)})") from None
    print(f"convert_checkpoint: warning: {path}: weights-only load failed ({restricted_error}); "
          "loaded with full unpickling, which runs code from the file: use only checkpoints "
          "you trust", file=sys.stderr)
    return checkpoint


def generator_state(checkpoint, source):
    """The generator's state dict (keys segmentator.* / colorizer.*) from either layout,
    and the prefix its keys had ("generator." or "").

    Keys outside the generator (discriminator.*, optimizer state) are ignored; a key
    under "generator." that the model does not have is refused, since it means the
    checkpoint is of a different architecture.
    """
    if not isinstance(checkpoint, dict):
        raise reference.FormatError(f"{source}: expected a dict, got {type(checkpoint).__name__}")
    state = checkpoint.get("state_dict", checkpoint)
    if not isinstance(state, dict):
        raise reference.FormatError(f"{source}: 'state_dict' is a {type(state).__name__}, not a dict")
    generator, prefixes = {}, set()
    for key, value in state.items():
        prefix = GENERATOR_PREFIX if key.startswith(GENERATOR_PREFIX) else ""
        name = key[len(prefix):]
        if reference.is_model_key(name):
            if not torch.is_tensor(value):
                raise reference.FormatError(
                    f"{source}: key '{key}' is a {type(value).__name__}, not a tensor")
            generator[name] = value
            prefixes.add(prefix)
        elif prefix or name.startswith(tuple(net + "." for net in reference.NETS)):
            raise reference.FormatError(f"{source}: unexpected generator key '{key}'")
    if not generator:
        raise reference.FormatError(f"{source}: no generator.segmentator.* / generator.colorizer.* "
                                    "weights found")
    if len(prefixes) > 1:
        raise reference.FormatError(f"{source}: generator keys appear both with and without "
                                    f"the '{GENERATOR_PREFIX}' prefix")
    return generator, prefixes.pop()


def convert(in_path, out_path, dtype="F32", train_size=reference.DEFAULT_TRAIN_SIZE):
    """Read, validate and write; returns the width. Raises FormatError before writing."""
    state, prefix = generator_state(load_checkpoint(in_path), in_path)

    def label(name):
        return f"key '{prefix}{reference.authors_key(name)}'"

    tensors = reference.canonical_tensors(state)
    width = reference.infer_width(tensors, in_path, label)
    reference.check_tensors(tensors, width, in_path, label)
    for name, array in sorted(tensors.items()):
        if not np.isfinite(array).all():
            raise reference.FormatError(f"{in_path}: {label(name)} holds NaN or infinite values")
    reference.save_weights(out_path, tensors, width, dtype, train_size)
    return width


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Convert a GuidingPainter checkpoint to safetensors.")
    parser.add_argument("input", help="authors' Lightning checkpoint or generator state dict")
    parser.add_argument("output", help="weight file to write (.safetensors)")
    parser.add_argument("--dtype", choices=("f32", "f16", "bf16"), default="f32",
                        help="storage type of the weights (default f32)")
    parser.add_argument("--train-size", type=int, default=reference.DEFAULT_TRAIN_SIZE,
                        help="image side the model was trained at, recorded in the metadata")
    args = parser.parse_args(argv)
    if args.train_size < 1:
        parser.error("--train-size must be positive")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        width = convert(args.input, args.output, args.dtype.upper(), args.train_size)
    except (reference.FormatError, safetensors_io.SafetensorsError, OSError) as err:
        print(f"convert_checkpoint: error: {err}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"wrote {args.output}: width {width}, {args.dtype}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
