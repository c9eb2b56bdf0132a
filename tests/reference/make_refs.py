#!/usr/bin/python3
"""PyTorch reference fixtures for gan's parity tests (tests/parity/).

Run from anywhere with Debian's interpreter (the one that has torch):

    /usr/bin/python3 tests/reference/make_refs.py

It rewrites tests/reference/data/<case>.bin. The output is deterministic (fixed
torch.manual_seed per case, no threads-dependent reductions at these sizes), so a re-run on
the same torch version leaves `git diff` empty.

How the numbers are made
  * Inputs and parameters are drawn in float32, then every computation runs in float64 on
    those float32 values and the results are rounded to float32 once. The fixture is then
    the correctly rounded answer for the stored inputs, and a parity test only sees our own
    float32 error.
  * Backward is taken of (y * gy).sum() with a fixed random upstream gradient `gy` that is
    stored too, so the C++ side calls y.backward(gy). For scalar losses gy has shape ().
  * Optimizer cases use a different fixed gradient on every one of 10 steps.

File format (little-endian), read by tests/reference/fixture.hpp:
    char[8]  magic  "GANREF1\\0"
    u32      count  number of tensors
    count times:
        u32      name_len
        u8[]     name (ASCII, not NUL-terminated)
        u32      rank
        i64[rank] dims
        f32[prod(dims)] data, row-major (NCHW)
Integer data (class labels) is stored as exact float32 values. A rank-0 tensor (a scalar
loss) has one value.

Naming inside a file: `x`, `w`, `b`, `y`, `gy`; gradients are `gx`, `gw`, `gb` (ops) or
`grad.<param>` (layers); state after step s is `<name>.step<s>` (s counts from 1).
"""

import os
import struct

import torch
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
MAGIC = b"GANREF1\0"


def write_case(case, tensors):
    """tensors: list of (name, tensor) in the order they are written."""
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, case + ".bin")
    names = [n for n, _ in tensors]
    assert len(names) == len(set(names)), f"{case}: duplicate tensor names"
    with open(path, "wb") as f:
        f.write(MAGIC)
        f.write(struct.pack("<I", len(tensors)))
        for name, t in tensors:
            t = t.detach().to(torch.float32).contiguous().cpu()
            raw = name.encode("ascii")
            f.write(struct.pack("<I", len(raw)))
            f.write(raw)
            f.write(struct.pack("<I", t.dim()))
            for d in t.shape:
                f.write(struct.pack("<q", d))
            f.write(t.numpy().astype("<f4").tobytes())
    return path


def randn(*shape, scale=1.0):
    """float32 draw, returned as float64 (the computation dtype)."""
    return (torch.randn(*shape, dtype=torch.float32) * scale).to(torch.float64)


def away_from_zero(*shape, margin=0.05):
    """Normal values with |v| >= margin, so ReLU-like kinks are not hit."""
    v = torch.randn(*shape, dtype=torch.float32)
    v = torch.where(v.abs() < margin, torch.sign(v + 1e-12) * (margin + v.abs()), v)
    return v.to(torch.float64)


def leaf(t):
    return t.clone().requires_grad_(True)


def backward_with(y, seed_shape=None):
    gy = randn(*y.shape)
    (y * gy).sum().backward()
    return gy


# ---------------------------------------------------------------- conv / linear
def conv_cases():
    configs = [
        # case,               N, C, H, W, OC, k, s, p, d, bias
        ("conv2d_k3s1p1",      2, 3, 7, 9, 4, 3, 1, 1, 1, True),
        ("conv2d_k4s2p1",      2, 3, 7, 9, 5, 4, 2, 1, 1, True),
        ("conv2d_k1",          2, 3, 7, 9, 4, 1, 1, 0, 1, True),
        ("conv2d_dil2",        2, 3, 7, 9, 4, 3, 1, 2, 2, True),
        ("conv2d_nobias_s2p0", 1, 3, 7, 9, 4, 3, 2, 0, 1, False),
    ]
    for i, (case, n, c, h, w_, oc, k, s, p, d, bias) in enumerate(configs):
        torch.manual_seed(100 + i)
        x, w = leaf(randn(n, c, h, w_)), leaf(randn(oc, c, k, k, scale=0.3))
        b = leaf(randn(oc)) if bias else None
        y = F.conv2d(x, w, b, stride=s, padding=p, dilation=d)
        gy = backward_with(y)
        out = [("x", x), ("w", w)] + ([("b", b)] if bias else [])
        out += [("y", y), ("gy", gy), ("gx", x.grad), ("gw", w.grad)]
        out += [("gb", b.grad)] if bias else []
        write_case(case, out)

    tconfigs = [
        # case,                     N, C, H, W, OC, k, s, p, op, bias
        ("conv_transpose2d_k4s2p1",   2, 3, 5, 7, 4, 4, 2, 1, 0, True),
        ("conv_transpose2d_k3s2p1op1", 2, 3, 5, 7, 4, 3, 2, 1, 1, True),
        ("conv_transpose2d_k4s1p0_1x1", 2, 8, 1, 1, 4, 4, 1, 0, 0, False),
    ]
    for i, (case, n, c, h, w_, oc, k, s, p, op, bias) in enumerate(tconfigs):
        torch.manual_seed(200 + i)
        x, w = leaf(randn(n, c, h, w_)), leaf(randn(c, oc, k, k, scale=0.3))  # (IC, OC, k, k)
        b = leaf(randn(oc)) if bias else None
        y = F.conv_transpose2d(x, w, b, stride=s, padding=p, output_padding=op)
        gy = backward_with(y)
        out = [("x", x), ("w", w)] + ([("b", b)] if bias else [])
        out += [("y", y), ("gy", gy), ("gx", x.grad), ("gw", w.grad)]
        out += [("gb", b.grad)] if bias else []
        write_case(case, out)

    torch.manual_seed(300)
    x, w, b = leaf(randn(3, 10)), leaf(randn(7, 10, scale=0.3)), leaf(randn(7))
    y = F.linear(x, w, b)
    gy = backward_with(y)
    write_case("linear", [("x", x), ("w", w), ("b", b), ("y", y), ("gy", gy),
                          ("gx", x.grad), ("gw", w.grad), ("gb", b.grad)])


# ---------------------------------------------------------------- normalisation
def norm_cases():
    # BatchNorm2d, training: 3 forward passes (momentum 0.1, eps 1e-5) from running stats
    # (0, 1); backward on the first pass. Running var uses the unbiased batch variance.
    torch.manual_seed(400)
    bn = torch.nn.BatchNorm2d(3, eps=1e-5, momentum=0.1).double()
    with torch.no_grad():
        bn.weight.copy_(1.0 + 0.3 * randn(3))
        bn.bias.copy_(0.3 * randn(3))
    out = [("weight", bn.weight.detach().clone()), ("bias", bn.bias.detach().clone())]
    bn.train()
    for step in range(1, 4):
        x = leaf(randn(4, 3, 5, 7, scale=1.5) + 0.5 * step)
        y = bn(x)
        out += [(f"x.step{step}", x), (f"y.step{step}", y)]
        if step == 1:
            gy = backward_with(y)
            out += [("gy", gy), ("gx", x.grad), ("grad.weight", bn.weight.grad.clone()),
                    ("grad.bias", bn.bias.grad.clone())]
        out += [(f"running_mean.step{step}", bn.running_mean.clone()),
                (f"running_var.step{step}", bn.running_var.clone())]
    write_case("batch_norm2d_train", out)

    # BatchNorm2d, eval: normalises with given running stats; gradients still flow.
    torch.manual_seed(401)
    bn = torch.nn.BatchNorm2d(3).double()
    with torch.no_grad():
        bn.weight.copy_(1.0 + 0.3 * randn(3))
        bn.bias.copy_(0.3 * randn(3))
        bn.running_mean.copy_(0.5 * randn(3))
        bn.running_var.copy_(0.5 + torch.rand(3, dtype=torch.float32).double())
    bn.eval()
    x = leaf(randn(2, 3, 5, 7))
    y = bn(x)
    gy = backward_with(y)
    write_case("batch_norm2d_eval", [
        ("weight", bn.weight), ("bias", bn.bias), ("running_mean", bn.running_mean),
        ("running_var", bn.running_var), ("x", x), ("y", y), ("gy", gy), ("gx", x.grad),
        ("grad.weight", bn.weight.grad), ("grad.bias", bn.bias.grad)])

    # BatchNorm1d on (N, C), training, one step.
    torch.manual_seed(402)
    bn = torch.nn.BatchNorm1d(5).double()
    with torch.no_grad():
        bn.weight.copy_(1.0 + 0.3 * randn(5))
        bn.bias.copy_(0.3 * randn(5))
    bn.train()
    x = leaf(randn(6, 5, scale=2.0) + 1.0)
    y = bn(x)
    gy = backward_with(y)
    write_case("batch_norm1d_train", [
        ("weight", bn.weight), ("bias", bn.bias), ("x", x), ("y", y), ("gy", gy),
        ("gx", x.grad), ("grad.weight", bn.weight.grad), ("grad.bias", bn.bias.grad),
        ("running_mean.step1", bn.running_mean), ("running_var.step1", bn.running_var)])

    # InstanceNorm2d (eps 1e-5, no running stats), with and without affine.
    for case, affine, seed in (("instance_norm2d_affine", True, 403),
                               ("instance_norm2d_noaffine", False, 404)):
        torch.manual_seed(seed)
        inn = torch.nn.InstanceNorm2d(3, affine=affine).double()
        if affine:
            with torch.no_grad():
                inn.weight.copy_(1.0 + 0.3 * randn(3))
                inn.bias.copy_(0.3 * randn(3))
        x = leaf(randn(2, 3, 5, 7, scale=1.5) + 0.7)
        y = inn(x)
        gy = backward_with(y)
        out = [("weight", inn.weight), ("bias", inn.bias)] if affine else []
        out += [("x", x), ("y", y), ("gy", gy), ("gx", x.grad)]
        if affine:
            out += [("grad.weight", inn.weight.grad), ("grad.bias", inn.bias.grad)]
        write_case(case, out)


# ---------------------------------------------------------------- activations
def activation_cases():
    acts = [
        ("relu", F.relu, 1.0),
        ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), 1.0),
        ("elu", lambda x: F.elu(x, 1.0), 1.5),
        ("tanh", torch.tanh, 2.0),
        ("sigmoid", torch.sigmoid, 3.0),
    ]
    for i, (name, f, scale) in enumerate(acts):
        torch.manual_seed(500 + i)
        x = away_from_zero(2, 3, 5, 7) * scale
        if name in ("tanh", "sigmoid", "elu"):  # saturated tails too
            x[0, 0, 0, :] = torch.tensor([-30.0, -12.0, -6.0, 6.0, 12.0, 30.0, 0.5], dtype=torch.float64)
        x = leaf(x)
        y = f(x)
        gy = backward_with(y)
        write_case("act_" + name, [("x", x), ("y", y), ("gy", gy), ("gx", x.grad)])


# ---------------------------------------------------------------- upsampling
def upsample_cases():
    torch.manual_seed(600)
    x = leaf(randn(2, 3, 5, 7))
    y = F.interpolate(x, scale_factor=2, mode="nearest")
    gy = backward_with(y)
    write_case("upsample_nearest2", [("x", x), ("y", y), ("gy", gy), ("gx", x.grad)])
    # Nearest / bilinear / bicubic to sizes given as (h, w), align_corners=False; odd sizes,
    # up and down, plus the plain x2 of a decoder.
    for case, mode, size, seed in (("upsample_nearest_9x11", "nearest", (9, 11), 605),
                                   ("upsample_nearest_3x4", "nearest", (3, 4), 606),
                                   ("upsample_bilinear_10x14", "bilinear", (10, 14), 607),
                                   ("upsample_bilinear_9x13", "bilinear", (9, 13), 601),
                                   ("upsample_bilinear_3x4", "bilinear", (3, 4), 602),
                                   ("upsample_bicubic_11x9", "bicubic", (11, 9), 603),
                                   ("upsample_bicubic_3x4", "bicubic", (3, 4), 604)):
        torch.manual_seed(seed)
        x = leaf(randn(2, 3, 5, 7))
        corners = None if mode == "nearest" else False
        y = F.interpolate(x, size=size, mode=mode, align_corners=corners)
        gy = backward_with(y)
        write_case(case, [("x", x), ("y", y), ("gy", gy), ("gx", x.grad)])


# ---------------------------------------------------------------- losses
def loss_case(case, loss_fn, x, t, extra=(), target_grad=True):
    """Scalar (mean-reduced) loss; gy is a scalar upstream gradient. With target_grad the
    target is a leaf too and its gradient is stored as `gt` (class labels have none)."""
    x = leaf(x)
    t = leaf(t) if target_grad else t
    loss = loss_fn(x, t)
    gy = torch.tensor(0.75, dtype=torch.float64)  # not 1, so a missing seed scale shows
    (loss * gy).backward()
    write_case(case, [("x", x), ("t", t)] + list(extra) +
               [("loss", loss), ("gy", gy), ("gx", x.grad)] +
               ([("gt", t.grad)] if target_grad else []))


def loss_cases():
    torch.manual_seed(700)
    x = randn(4, 5, scale=3.0)
    x[0, :] = torch.tensor([-100.0, -40.0, 40.0, 100.0, 20.0], dtype=torch.float64)  # large |x|
    t = torch.rand(4, 5, dtype=torch.float32).double()
    t[1, :] = torch.tensor([0.0, 1.0, 0.0, 1.0, 1.0], dtype=torch.float64)
    loss_case("loss_bce_with_logits", F.binary_cross_entropy_with_logits, x, t)

    # BCE on probabilities: torch clamps log() at -100, gan adds an eps; away from 0 and 1
    # both are the plain formula.
    torch.manual_seed(701)
    p = (0.05 + 0.9 * torch.rand(4, 5, dtype=torch.float32)).double()
    t = torch.rand(4, 5, dtype=torch.float32).double()
    t[0, :] = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    loss_case("loss_bce", F.binary_cross_entropy, p, t)

    torch.manual_seed(702)
    loss_case("loss_l1", F.l1_loss, away_from_zero(2, 3, 5), randn(2, 3, 5) * 0.0)
    torch.manual_seed(703)
    x, t = randn(2, 3, 5), randn(2, 3, 5)
    loss_case("loss_l1_pair", F.l1_loss, x, t)
    torch.manual_seed(704)
    loss_case("loss_mse", F.mse_loss, randn(2, 3, 5), randn(2, 3, 5))

    torch.manual_seed(705)
    logits = randn(6, 5, scale=2.0)
    logits[0, :] = torch.tensor([50.0, -50.0, 0.0, 10.0, -3.0], dtype=torch.float64)
    labels = torch.tensor([0, 4, 2, 1, 3, 2])
    loss_case("loss_cross_entropy", lambda a, b: F.cross_entropy(a, b.long()), logits,
              labels.double(), target_grad=False)

    # Per-class sigmoid cross-entropy: BCEWithLogits against the one-hot of the labels,
    # mean over all N*C entries (torch's default reduction).
    torch.manual_seed(706)
    logits = randn(6, 5, scale=2.0)
    labels = torch.tensor([0, 4, 2, 1, 3, 2])
    onehot = F.one_hot(labels, 5).double()
    loss_case("loss_sigmoid_cross_entropy",
              lambda a, b: F.binary_cross_entropy_with_logits(a, F.one_hot(b.long(), 5).double()),
              logits, labels.double(), extra=[("onehot", onehot)], target_grad=False)


# ---------------------------------------------------------------- optimizers
def optim_case(case, make_opt, seed):
    torch.manual_seed(seed)
    p0, p1 = leaf(randn(3, 4)), leaf(randn(5))
    out = [("p0", p0.detach().clone()), ("p1", p1.detach().clone())]
    opt = make_opt([p0, p1])
    for step in range(1, 11):
        g0, g1 = randn(3, 4), randn(5)
        p0.grad, p1.grad = g0.clone(), g1.clone()
        opt.step()
        out += [(f"grad.p0.step{step}", g0), (f"grad.p1.step{step}", g1),
                (f"p0.step{step}", p0.detach().clone()), (f"p1.step{step}", p1.detach().clone())]
    write_case(case, out)


def optim_cases():
    O = torch.optim
    optim_case("optim_adam", lambda ps: O.Adam(ps, lr=2e-4, betas=(0.5, 0.999), eps=1e-8), 800)
    optim_case("optim_adam_wd", lambda ps: O.Adam(ps, lr=2e-4, betas=(0.5, 0.999), eps=1e-8,
                                                 weight_decay=0.1), 801)
    # A large step size makes the update, not the initial value, dominate the comparison.
    optim_case("optim_adam_lr1e-2", lambda ps: O.Adam(ps, lr=1e-2, betas=(0.9, 0.999), eps=1e-8), 802)
    optim_case("optim_sgd_momentum_wd", lambda ps: O.SGD(ps, lr=0.05, momentum=0.9,
                                                         weight_decay=0.01), 803)
    optim_case("optim_sgd_nesterov", lambda ps: O.SGD(ps, lr=0.05, momentum=0.9, nesterov=True), 804)


# ---------------------------------------------------------------- composite
def composite_case():
    """z (3,4,1,1) -> ConvT(4->6,k4,s1,p0,no bias) -> BN2d(6) train -> ReLU
    -> Conv(6->5,k4,s2,p1) -> LeakyReLU(0.2) -> flatten (3,20) -> Linear(20->1)."""
    torch.manual_seed(900)
    ct = torch.nn.ConvTranspose2d(4, 6, 4, 1, 0, bias=False).double()
    bn = torch.nn.BatchNorm2d(6).double()
    cv = torch.nn.Conv2d(6, 5, 4, 2, 1).double()
    fc = torch.nn.Linear(20, 1).double()
    with torch.no_grad():  # float32-representable values throughout
        ct.weight.copy_(randn(4, 6, 4, 4, scale=0.3))
        bn.weight.copy_(1.0 + 0.2 * randn(6))
        bn.bias.copy_(0.2 * randn(6))
        cv.weight.copy_(randn(5, 6, 4, 4, scale=0.2))
        cv.bias.copy_(0.1 * randn(5))
        fc.weight.copy_(randn(1, 20, scale=0.3))
        fc.bias.copy_(0.1 * randn(1))
    params = [("convT.weight", ct.weight), ("bn.weight", bn.weight), ("bn.bias", bn.bias),
              ("conv.weight", cv.weight), ("conv.bias", cv.bias), ("fc.weight", fc.weight),
              ("fc.bias", fc.bias)]
    out = [(n, p.detach().clone()) for n, p in params]
    z = leaf(randn(3, 4, 1, 1))
    h = F.relu(bn(ct(z)))
    h = F.leaky_relu(cv(h), 0.2)
    y = fc(h.reshape(3, -1))
    gy = backward_with(y)
    out += [("z", z), ("y", y), ("gy", gy), ("gz", z.grad)]
    out += [("grad." + n, p.grad) for n, p in params]
    out += [("bn.running_mean", bn.running_mean), ("bn.running_var", bn.running_var)]
    write_case("composite_dcgan", out)


def main():
    torch.set_num_threads(1)
    conv_cases()
    norm_cases()
    activation_cases()
    upsample_cases()
    loss_cases()
    optim_cases()
    composite_case()
    files = sorted(os.listdir(OUT_DIR))
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in files)
    print(f"wrote {len(files)} files, {total} bytes, to {OUT_DIR}")


if __name__ == "__main__":
    main()
