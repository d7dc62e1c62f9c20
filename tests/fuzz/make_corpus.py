#!/usr/bin/python3
"""Write the seed corpus of the safetensors fuzz target (tests/fuzz/corpus/safetensors).

usage: /usr/bin/python3 tests/fuzz/make_corpus.py     (from the repository root)

Three tiny valid files (each well under 10 KB), together covering every dtype the
loader converts, scalars and empty tensors, metadata, an unpadded (unaligned) header and
the GuidingPainter metadata and names, so the fuzzer starts deep inside the format.
Deterministic: rerunning writes identical files.
"""

import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
import reference  # noqa: E402
import safetensors_io  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "safetensors")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)

    # Mixed dtypes, a scalar, an empty tensor, free-form metadata.
    safetensors_io.save(os.path.join(OUT, "mixed_dtypes.safetensors"), {
        "a.weight": rng.standard_normal((2, 3)).astype(np.float32),
        "b.scalar": np.float32(0.5),
        "c.empty": np.zeros((0, 4), np.float32),
        "d.ints": np.array([7, -8, 9], np.int32),
        "e.bytes": np.array([1, 2, 255], np.uint8),
        "f.half": np.array([1.5, -0.25, 65504], np.float16),
    }, metadata={"note": "seed"}, dtypes={"b.scalar": "BF16"})

    # GuidingPainter metadata (width 1) and the first few canonical tensors of the
    # segmentator, in F16: the config validation passes and the loader gets as far as
    # the name checks.
    shapes = reference.expected_shapes(1)
    names = [n for n in sorted(shapes) if n.startswith("segmentator.inc.")]
    tensors = {n: rng.uniform(0.5, 1.5, shapes[n]).astype(np.float32) for n in names}
    safetensors_io.save(os.path.join(OUT, "model_width1_partial.safetensors"), tensors,
                        metadata=reference.weight_metadata(1), dtypes={n: "F16" for n in names})

    # Hand-assembled: header not padded to 8 bytes (data unaligned), BF16 and F64.
    header = {
        "x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]},
        "y": {"dtype": "F64", "shape": [1], "data_offsets": [4, 12]},
        "__metadata__": {"format": "guidingpainter", "format_version": "1"},
    }
    text = json.dumps(header, separators=(",", ":")).encode()
    if len(text) % 8 == 0:
        text += b" "
    data = struct.pack("<HHd", 0x3F80, 0xC000, 2.5)
    with open(os.path.join(OUT, "unaligned.safetensors"), "wb") as out:
        out.write(struct.pack("<Q", len(text)) + text + data)


if __name__ == "__main__":
    main()
