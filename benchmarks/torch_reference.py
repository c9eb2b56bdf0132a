#!/usr/bin/python3
"""PyTorch CPU side of scripts/bench.sh: the nine layer shapes of issue 5 in three passes and
the DCGAN-MNIST training step, timed like benchmarks/bench_conv.cpp and bench_train.cpp.

Run with Debian's interpreter (/usr/bin/python3, python3-torch 1.13), not a pyenv python.
Prints one JSON object per measurement on stdout:
  {"kind": "conv", "shape": 2, "pass": "fwd", "threads": 1, "seconds": ..., "gflops": ...}
  {"kind": "linear", "layer": 1, "pass": "fwd", "threads": 1, "seconds": ..., "gflops": ...}
  {"kind": "train", "threads": 1, "seconds": ..., "images_per_s": ...}
seconds is the median over --repeats timed blocks (each >= --min-time), after a warm-up.
The passes are aten::convolution_backward with one output mask each, so backward-data and
backward-weight (with the bias gradient, like ours) are timed separately. The linear passes are
the products autograd runs for nn.Linear (addmm forward, grad.mm(weight), grad.t().mm(input) +
grad.sum(0)), as in benchmarks/bench_linear.cpp.

  /usr/bin/python3 benchmarks/torch_reference.py --threads 1 2 --repeats 5
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# (shape id, transposed, N, in_c, out_c, H, W, kernel, stride, padding): as bench_conv.cpp.
LAYERS = [
    (1, False, 64, 1, 64, 28, 28, 4, 2, 1),
    (2, False, 64, 64, 128, 14, 14, 4, 2, 1),
    (3, True, 64, 128, 64, 7, 7, 4, 2, 1),
    (4, True, 64, 64, 1, 14, 14, 4, 2, 1),
    (5, False, 64, 64, 64, 28, 28, 3, 1, 1),
    (6, False, 1, 64, 128, 128, 128, 4, 2, 1),
    (7, True, 1, 1024, 256, 16, 16, 4, 2, 1),
    (8, True, 64, 512, 256, 8, 8, 4, 2, 1),
    (9, False, 16, 1, 64, 33, 33, 9, 1, 4),
]

# (layer id, rows, in_features, out_features): as bench_linear.cpp.
LINEARS = [
    (1, 64, 100, 6272),
    (2, 64, 6272, 1),
    (3, 64, 3136, 128),
    (4, 64, 1024, 1024),
]


def median_seconds(fn, repeats, min_time):
    """Median seconds per call over `repeats` blocks of calls, each block >= min_time."""
    fn()
    fn()  # warm-up: allocator caches, oneDNN primitive caches
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-6)
    calls = max(1, int(min_time / once))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - t0) / calls)
    return statistics.median(samples)


def layer_passes(layer):
    sid, transposed, n, ic, oc, h, w, k, s, p = layer
    g = torch.Generator().manual_seed(42)
    x = torch.rand(n, ic, h, w, generator=g) * 2 - 1
    wshape = (ic, oc, k, k) if transposed else (oc, ic, k, k)
    weight = torch.rand(*wshape, generator=g) * 2 - 1
    bias = torch.rand(oc, generator=g) * 2 - 1
    conv = F.conv_transpose2d if transposed else F.conv2d
    y = conv(x, weight, bias, stride=s, padding=p)
    dy = torch.rand(*y.shape, generator=g) * 2 - 1
    oh, ow = y.shape[2], y.shape[3]
    pixels = n * h * w if transposed else n * oh * ow
    flops = 2.0 * pixels * ic * oc * k * k

    def backward(mask):
        return torch.ops.aten.convolution_backward(dy, x, weight, [oc], [s, s], [p, p], [1, 1], transposed, [0, 0],
                                                   1, mask)

    passes = {
        "fwd": lambda: conv(x, weight, bias, stride=s, padding=p),
        "bwd_data": lambda: backward([True, False, False]),
        "bwd_weight": lambda: backward([False, True, True]),
    }
    return sid, flops, passes


def linear_passes(layer):
    lid, rows, fin, fout = layer
    g = torch.Generator().manual_seed(42)
    x = torch.rand(rows, fin, generator=g) * 2 - 1
    weight = torch.rand(fout, fin, generator=g) * 2 - 1
    bias = torch.rand(fout, generator=g) * 2 - 1
    dy = torch.rand(rows, fout, generator=g) * 2 - 1
    passes = {
        "fwd": lambda: F.linear(x, weight, bias),
        "bwd_data": lambda: dy.mm(weight),
        "bwd_weight": lambda: (dy.t().mm(x), dy.sum(0)),
    }
    return lid, 2.0 * rows * fin * fout, passes


def dcgan_step_fn(batch=64, z_dim=100):
    """DCGAN-MNIST as models::DcganGenerator/DcganDiscriminator (28x28, width 64)."""
    torch.manual_seed(1)
    G = nn.Sequential(
        nn.ConvTranspose2d(z_dim, 128, 7, 1, 0, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
        nn.ConvTranspose2d(64, 1, 4, 2, 1, bias=True), nn.Tanh())
    D = nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1, bias=True), nn.LeakyReLU(0.2, True),
        nn.Conv2d(64, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.LeakyReLU(0.2, True),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    for m in list(G.modules()) + list(D.modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(batch, 1, 28, 28) * 2 - 1
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    bce = F.binary_cross_entropy_with_logits

    def step():
        fake = G(torch.randn(batch, z_dim, 1, 1))
        opt_d.zero_grad()
        loss_d = bce(D(real), ones) + bce(D(fake.detach()), zeros)
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        D.requires_grad_(False)  # as ours and examples/dcgan.cpp: no gradients for D's parameters here
        loss_g = bce(D(fake), ones)
        loss_g.backward()
        D.requires_grad_(True)
        opt_g.step()
        return loss_g.item()

    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per timed block")
    ap.add_argument("--shapes", type=int, nargs="*", default=[l[0] for l in LAYERS])
    ap.add_argument("--no-train", action="store_true")
    args = ap.parse_args()
    for threads in args.threads:
        torch.set_num_threads(threads)
        with torch.no_grad():
            for layer in LAYERS:
                if layer[0] not in args.shapes:
                    continue
                sid, flops, passes = layer_passes(layer)
                for name, fn in passes.items():
                    sec = median_seconds(fn, args.repeats, args.min_time)
                    print(json.dumps({"kind": "conv", "shape": sid, "pass": name, "threads": threads,
                                      "seconds": sec, "gflops": flops / sec * 1e-9}), flush=True)
            for layer in LINEARS:
                lid, flops, passes = linear_passes(layer)
                for name, fn in passes.items():
                    sec = median_seconds(fn, args.repeats, args.min_time)
                    print(json.dumps({"kind": "linear", "layer": lid, "pass": name, "threads": threads,
                                      "seconds": sec, "gflops": flops / sec * 1e-9}), flush=True)
        if not args.no_train:
            sec = median_seconds(dcgan_step_fn(), args.repeats, max(args.min_time, 0.5))
            print(json.dumps({"kind": "train", "threads": threads, "seconds": sec, "images_per_s": 64 / sec}),
                  flush=True)
    with open("/proc/self/maps") as maps:  # which libblas.so.3 the dynamic loader picked
        blas = sorted({line.split()[-1] for line in maps if "blas" in line and line.split()[-1].startswith("/")})
    print(json.dumps({"kind": "info", "torch": torch.__version__, "blas": blas,
                      "parallel": torch.__config__.parallel_info().splitlines()[:6]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
