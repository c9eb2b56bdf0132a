#!/usr/bin/python3
"""Writes the seed corpus of the file-reader fuzzers and of tests/io/test_corrupt_files.cpp.

  /usr/bin/python3 tests/fuzz/make_corpus.py      (standard library only; deterministic)

corpus/<reader>/good_*  must load; corpus/<reader>/bad_* must each give a clean gan::Error
that names the file (truncations, wrong magic, lying sizes, bad JSON, bad CRCs, ...).
"""
import gzip
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def write(reader, name, data):
    d = os.path.join(HERE, "corpus", reader)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    return gzip.compress(data, mtime=0)


def idx_corpus():
    pixels = bytes((i * 37) % 256 for i in range(2 * 3 * 3))
    images = struct.pack(">IIII", 0x803, 2, 3, 3) + pixels
    labels = struct.pack(">II", 0x801, 4) + bytes([1, 2, 3, 9])
    write("idx", "good_images3", images)
    write("idx", "good_labels1", labels)
    write("idx", "good_images3.gz", gz(images))
    write("idx", "bad_empty", b"")
    write("idx", "bad_magic_only", images[:4])
    write("idx", "bad_truncated_header", images[:10])
    write("idx", "bad_truncated_data", images[:-1])
    write("idx", "bad_trailing", images + b"\0")
    write("idx", "bad_magic_float", struct.pack(">IIII", 0xD03, 2, 3, 3) + pixels)
    write("idx", "bad_magic_swapped", struct.pack("<I", 0x803) + images[4:])
    write("idx", "bad_zero_dim", struct.pack(">IIII", 0x803, 0, 3, 3))
    write("idx", "bad_huge_dims", struct.pack(">IIII", 0x803, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF) + pixels)
    write("idx", "bad_gz_truncated", gz(images)[:-6])
    write("idx", "bad_gz_lying_size.gz", gz(struct.pack(">IIII", 0x803, 4000, 28, 28) + pixels))
    corrupt = bytearray(gz(images))
    corrupt[12] ^= 0xFF
    write("idx", "bad_gz_corrupt", bytes(corrupt))


def safetensors(header, data):
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


def safetensors_corpus():
    data = struct.pack("<4f", 1, 2, 3, 4)
    ok = {"__metadata__": {"step": "3"}, "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}
    write("safetensors", "good_f32", safetensors(ok, data))
    write("safetensors", "good_empty_dict", safetensors({}, b""))
    write("safetensors", "bad_empty", b"")
    write("safetensors", "bad_short_length", b"\x10\0\0")
    write("safetensors", "bad_truncated_header", safetensors(ok, data)[:20])
    write("safetensors", "bad_truncated_data", safetensors(ok, data)[:-3])
    write("safetensors", "bad_huge_header_length", struct.pack("<Q", 1 << 62) + b"{}")
    write("safetensors", "bad_not_json", struct.pack("<Q", 4) + b"{{{{")
    write("safetensors", "bad_json_array", safetensors([1, 2], b""))
    write("safetensors", "bad_dtype", safetensors({"w": {"dtype": "X9", "shape": [4], "data_offsets": [0, 16]}}, data))
    write("safetensors", "bad_size_mismatch",
          safetensors({"w": {"dtype": "F32", "shape": [5], "data_offsets": [0, 16]}}, data))
    write("safetensors", "bad_offsets_outside",
          safetensors({"w": {"dtype": "F32", "shape": [8], "data_offsets": [0, 32]}}, data))
    write("safetensors", "bad_overlap", safetensors({
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, data))
    write("safetensors", "bad_negative_dim",
          safetensors({"w": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}, data))
    write("safetensors", "bad_metadata_type", safetensors({"__metadata__": {"k": 5}}, b""))


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png(w, h, rows, color_type=0, ihdr_extra=None):
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0) if ihdr_extra is None else ihdr_extra
    raw = b"".join(b"\0" + r for r in rows)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(
        b"IEND", b"")


def png_corpus():
    rows = [bytes((x * 40 + y) % 256 for x in range(5)) for y in range(4)]
    good = png(5, 4, rows)
    write("png", "good_gray_5x4.png", good)
    write("png", "good_rgb_2x2.png", png(2, 2, [bytes(range(6)), bytes(range(6, 12))], color_type=2))
    write("png", "bad_empty.png", b"")
    write("png", "bad_signature_only.png", good[:8])
    write("png", "bad_truncated.png", good[:40])
    write("png", "bad_not_png.png", b"GIF89a" + bytes(30))
    write("png", "bad_huge_dims.png", png(1 << 20, 1 << 20, rows))
    write("png", "bad_zero_width.png", png(0, 4, rows))
    bad_crc = bytearray(good)
    bad_crc[29] ^= 0xFF  # IHDR CRC
    write("png", "bad_ihdr_crc.png", bytes(bad_crc))
    write("png", "bad_idat_garbage.png", b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", good[16:29]) +
          png_chunk(b"IDAT", b"\x78\x9c" + bytes(range(40))) + png_chunk(b"IEND", b""))
    write("png", "bad_short_idat.png", png(5, 4, rows[:2]))


if __name__ == "__main__":
    idx_corpus()
    safetensors_corpus()
    png_corpus()
    print("wrote", os.path.join(HERE, "corpus"))
