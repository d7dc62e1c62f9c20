"""Minimal safetensors reader and writer on numpy, with no dependency beyond numpy.

The C++ engine reads the same files, so this module is deliberately strict: it writes
exactly one canonical form (names sorted, data contiguous in that order, header padded
with spaces to a multiple of 8 so the data section starts 8-byte aligned) and refuses
any file that is not self-consistent, with a message naming the file and the tensor.

File layout: u64 little-endian N, N bytes of UTF-8 JSON header, then the data section.
Header: {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {..}}
with offsets relative to the start of the data section.

bfloat16 has no numpy dtype: `load` widens BF16 tensors to float32 (exactly), and
`save` writes a float array as BF16 (round to nearest even) when asked via `dtypes`.
"""

import json
import os
import secrets
import struct

import numpy as np

# safetensors dtype tag -> little-endian numpy dtype (BF16 is handled separately).
_NUMPY_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"),
    "U32": np.dtype("<u4"),
    "U16": np.dtype("<u2"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_TAGS = {dt: tag for tag, dt in _NUMPY_DTYPES.items()}
_BF16_ITEMSIZE = 2
_METADATA_KEY = "__metadata__"
# A header larger than this is surely a corrupt or hostile file, not a model.
_MAX_HEADER_BYTES = 100 * 1024 * 1024


class SafetensorsError(ValueError):
    """A file that does not follow the safetensors format, or data that cannot be saved."""


def float32_to_bf16_bits(values):
    """Round float values to bfloat16 (nearest, ties to even) and return the uint16 bits.

    NaNs stay NaN (quiet bit forced) instead of being rounded into infinities.
    """
    bits = np.ascontiguousarray(values, dtype="<f4").view("<u4").astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")
    nan = np.isnan(np.asarray(values, dtype=np.float32))
    rounded[nan] = ((bits[nan] >> 16) | 0x0040).astype("<u2")
    return rounded


def bf16_bits_to_float32(bits):
    """Widen bfloat16 bit patterns (uint16) to float32; exact."""
    return (np.asarray(bits, dtype="<u2").astype("<u4") << 16).view("<f4")


def _encode(name, array, tag):
    """Return (dtype tag, shape, little-endian bytes) for one tensor."""
    array = np.asarray(array)
    if tag is None:
        tag = _TAGS.get(array.dtype.newbyteorder("<"))
        if tag is None:
            raise SafetensorsError(f"tensor '{name}': numpy dtype {array.dtype} has no safetensors tag")
    if tag == "BF16":
        if array.dtype.kind != "f":
            raise SafetensorsError(f"tensor '{name}': BF16 needs a float array, got {array.dtype}")
        data = float32_to_bf16_bits(array)
    elif tag in _NUMPY_DTYPES:
        data = np.ascontiguousarray(array, dtype=_NUMPY_DTYPES[tag])
    else:
        raise SafetensorsError(f"tensor '{name}': unsupported dtype tag '{tag}'")
    return tag, list(array.shape), data.tobytes()


def _header_bytes(header):
    """JSON header, space-padded so the data section starts at an 8-byte boundary."""
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return raw + b" " * (-len(raw) % 8)


def save(path, tensors, metadata=None, dtypes=None):
    """Write `tensors` ({name: numpy array}) to `path` atomically.

    `metadata` ({str: str}) goes to "__metadata__"; `dtypes` ({name: tag}) overrides the
    stored dtype of some tensors (e.g. "F16", "BF16"); the others keep their own dtype.
    The file appears under `path` only once complete, so a failed write never leaves a
    truncated model behind for the engine to choke on.
    """
    dtypes = dtypes or {}
    unknown = set(dtypes) - set(tensors)
    if unknown:
        raise SafetensorsError(f"dtype override for unknown tensor(s): {sorted(unknown)}")
    if _METADATA_KEY in tensors:
        raise SafetensorsError(f"'{_METADATA_KEY}' is reserved and cannot name a tensor")
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        tag, shape, blob = _encode(name, tensors[name], dtypes.get(name))
        header[name] = {"dtype": tag, "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        for key, value in metadata.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise SafetensorsError(f"metadata must map str to str, got {key!r}: {value!r}")
        header[_METADATA_KEY] = dict(sorted(metadata.items()))
    head = _header_bytes(header)
    _write_atomically(path, [struct.pack("<Q", len(head)), head] + blobs)


def _write_atomically(path, chunks):
    """Write chunks to a new temporary file beside `path`, then rename it into place.

    The temporary file is created with mode 0666 less the umask, like a plain open().
    """
    directory, base = os.path.split(os.path.abspath(path))
    tmp = os.path.join(directory, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _parse_header(path, blob):
    """Split a file's bytes into (header dict, data section), checking the framing."""
    if len(blob) < 8:
        raise SafetensorsError(f"{path}: file too short ({len(blob)} bytes) for a safetensors header")
    (size,) = struct.unpack("<Q", blob[:8])
    if size > min(_MAX_HEADER_BYTES, len(blob) - 8):
        raise SafetensorsError(f"{path}: header size {size} does not fit in a {len(blob)}-byte file")
    try:
        header = json.loads(blob[8:8 + size].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SafetensorsError(f"{path}: header is not valid UTF-8 JSON ({err})") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header must be a JSON object")
    return header, blob[8 + size:]


def _parse_metadata(path, header):
    metadata = header.pop(_METADATA_KEY, None) or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise SafetensorsError(f"{path}: {_METADATA_KEY} must map strings to strings")
    return metadata


def _check_entry(path, name, entry):
    """Validate one header entry and return (tag, shape, begin, end)."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise SafetensorsError(f"{path}: tensor '{name}' needs exactly dtype, shape, data_offsets")
    tag, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if tag != "BF16" and tag not in _NUMPY_DTYPES:
        raise SafetensorsError(f"{path}: tensor '{name}' has unsupported dtype '{tag}'")
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise SafetensorsError(f"{path}: tensor '{name}' has invalid shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2
            and all(isinstance(o, int) for o in offsets)):
        raise SafetensorsError(f"{path}: tensor '{name}' has invalid data_offsets {offsets!r}")
    itemsize = _BF16_ITEMSIZE if tag == "BF16" else _NUMPY_DTYPES[tag].itemsize
    begin, end = offsets
    if end - begin != int(np.prod(shape, dtype=np.int64)) * itemsize:
        raise SafetensorsError(
            f"{path}: tensor '{name}' {tag} {shape} needs {int(np.prod(shape)) * itemsize} bytes, "
            f"data_offsets give {end - begin}")
    return tag, shape, begin, end


def _decode(tag, shape, raw):
    if tag == "BF16":
        return bf16_bits_to_float32(np.frombuffer(raw, dtype="<u2")).reshape(shape)
    return np.frombuffer(raw, dtype=_NUMPY_DTYPES[tag]).reshape(shape).copy()


def load(path):
    """Read `path` and return ({name: numpy array}, metadata dict).

    Refuses overlapping, out-of-range or hole-leaving data offsets: the C++ loader does
    the same, and a fixture that only this side accepts would hide a bug.
    BF16 tensors come back as float32.
    """
    with open(path, "rb") as src:
        blob = src.read()
    header, data = _parse_header(path, blob)
    metadata = _parse_metadata(path, header)
    entries = sorted((_check_entry(path, name, entry) + (name,) for name, entry in header.items()),
                     key=lambda e: (e[2], e[3]))
    position, tensors = 0, {}
    for tag, shape, begin, end, name in entries:
        if begin != position:
            raise SafetensorsError(f"{path}: tensor '{name}' starts at {begin}, expected {position} "
                                   "(data must be contiguous, without holes or overlaps)")
        if end > len(data):
            raise SafetensorsError(f"{path}: tensor '{name}' ends at byte {end} of a "
                                   f"{len(data)}-byte data section (truncated file?)")
        tensors[name] = _decode(tag, shape, data[begin:end])
        position = end
    if position != len(data):
        raise SafetensorsError(f"{path}: data section has {len(data)} bytes, tensors cover {position}")
    return tensors, metadata
