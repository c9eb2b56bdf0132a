#pragma once
// The float fast path of the conv kernels: direct convolution on zero-padded NCHW planes with
// the weights reordered into channel blocks of kBlock (32 on AVX-512), micro-kernels in
// kernels/conv_microkernels.hpp. Nothing is im2col'd: each broadcast operand is read from the
// padded plane where it lies, the vector operand from the reordered weights (or dy^T).
//
//   forward:        y[n, oc, :, :]  vector over oc, reduction over (ic, kh, kw)
//   backward data:  split into stride^2 phases (the output pixels ih = rh + s*a); each phase is
//                   a stride-1 correlation of dy with the taps kh = kh0 + s*t that reach it,
//                   vector over ic, reduction over (oc, taps): no multiplications by zero.
//                   With fewer than 4 input channels: tap planes w^T dy, then col2im.
//   backward weight: dw[oc, ic, kh, kw] vector over oc, reduction over images and pixels of
//                   dy^T (pixel-major dy) times the padded input; accumulated in a packed
//                   (oc-block, ic, kh, kw, lane) buffer, added to dw once at the end.
//
// Every reorder (weights, padding, dy^T) happens inside these calls and is part of their cost.
// Scratch comes from the caching allocator (Tensor<float>::empty), so steady state maps no
// new pages. OpenMP over images, or over (channel block, pixel tile) when the batch is
// smaller than the team. Shapes are as in kernels/conv2d.hpp; (oh, ow) is the conv's output
// extent passed explicitly (see ConvShape::as_conv()).
//
// One header per pass (conv_forward_direct, conv_backward_data_direct, conv_wgrad_direct),
// over what they share: conv_scheduling (threads), conv_layout (reorders), conv_tiles (pixel
// tiles and their epilogue).

#include "gan/kernels/conv_backward_data_direct.hpp"
#include "gan/kernels/conv_forward_direct.hpp"
#include "gan/kernels/conv_wgrad_direct.hpp"
