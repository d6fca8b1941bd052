"""Model artefacts with the leading bytes that real tools write, filled with seeded random data.

Only the headers follow the file formats. The tensor data is random bytes, which is enough
for a scanner that checks magic bytes and hashes the whole file.
"""

import io
import json
import pickle
import random
import struct
import zipfile

FORMATS = ("safetensors", "gguf", "onnx", "pt", "pkl", "h5")


def safetensors(rng: random.Random, size: int) -> bytes:
    """Build a .safetensors file: little-endian u64 header length, JSON header, tensor data."""
    header = {
        "__metadata__": {"format": "pt"},
        "classifier.weight": {"dtype": "F32", "shape": [1, 1], "data_offsets": [0, 0]},
    }
    text = json.dumps(header, separators=(",", ":"))
    data_len = max(size - 8 - len(text) - 8, 4)
    header["classifier.weight"]["shape"] = [data_len // 4, 1]
    header["classifier.weight"]["data_offsets"] = [0, data_len // 4 * 4]
    text = json.dumps(header, separators=(",", ":"))
    text += " " * (-len(text) % 8)
    body = rng.randbytes(data_len // 4 * 4)
    return struct.pack("<Q", len(text)) + text.encode() + body


def gguf(rng: random.Random, size: int) -> bytes:
    """Build a GGUF v3 file: magic, version, tensor and key-value counts, one string key."""
    key = b"general.architecture"
    value = b"llama"
    head = b"GGUF" + struct.pack("<IQQ", 3, 0, 1)
    head += struct.pack("<Q", len(key)) + key + struct.pack("<I", 8)
    head += struct.pack("<Q", len(value)) + value
    return head + rng.randbytes(max(size - len(head), 0))


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def onnx(rng: random.Random, size: int) -> bytes:
    """Build an ONNX ModelProto envelope: ir_version, producer name and version, a graph field."""
    head = b"\x08\x08"
    head += b"\x12" + _varint(7) + b"pytorch"
    head += b"\x1a" + _varint(5) + b"2.4.0"
    graph_len = max(size - len(head) - 6, 0)
    return head + b"\x3a" + _varint(graph_len) + rng.randbytes(graph_len)


def pytorch(rng: random.Random, size: int) -> bytes:
    """Build a torch.save-style zip archive (stored, not compressed) with one tensor blob."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        state = {"fc.weight": ("storage", 0, "cpu", size // 4)}
        _add(archive, "model/data.pkl", pickle.dumps(state, protocol=2))
        _add(archive, "model/byteorder", b"little")
        _add(archive, "model/data/0", rng.randbytes(max(size - 1024, 0)))
        _add(archive, "model/version", b"3\n")
    return buffer.getvalue()


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    # A fixed timestamp keeps the archive identical from one generation to the next.
    archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)


def pickled(rng: random.Random, size: int) -> bytes:
    """Build a protocol-4 pickle of a dict, as joblib and plain pickle write for small models."""
    model = {"classes": ["approve", "review", "reject"], "coef": rng.randbytes(max(size - 200, 0))}
    return pickle.dumps(model, protocol=4)


def hdf5(rng: random.Random, size: int) -> bytes:
    """Build a file that starts with the HDF5 signature, as Keras .h5 weights do."""
    head = b"\x89HDF\r\n\x1a\n" + bytes([0, 0, 0, 0, 0, 8, 8, 0])
    return head + rng.randbytes(max(size - len(head), 0))


BUILDERS = {
    "safetensors": safetensors,
    "gguf": gguf,
    "onnx": onnx,
    "pt": pytorch,
    "pkl": pickled,
    "h5": hdf5,
}


def build(rng: random.Random, extension: str, size: int) -> bytes:
    """Build an artefact of about ``size`` bytes in the format named by ``extension``."""
    return BUILDERS[extension](rng, size)
