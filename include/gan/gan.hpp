#pragma once
// gan: header-only C++17 GAN training on CPUs. This header pulls in the core library
// (tensors, autograd, ops, layers, losses, optimizers, models); data/, io/ and util/
// need zlib / stb and are included on their own. A GAN step (examples/dcgan.cpp):
//
//   gan::models::DcganGenerator<float> G(opts);   gan::models::DcganDiscriminator<float> D(opts);
//   gan::optim::Adam<float> opt_g(G.parameters(), adam), opt_d(D.parameters(), adam);
//   gan::Var<float> fake = G(gan::Var<float>(gan::randn<float>({n, 100}, rng)));
//   opt_d.zero_grad();                                 // D: real -> 1, fake -> 0; detach()
//   auto d_loss = gan::bce_with_logits(D(real), 1.0)   // keeps this step out of G
//               + gan::bce_with_logits(D(fake.detach()), 0.0);
//   d_loss.backward();  opt_d.step();
//   opt_g.zero_grad();                                 // G: through D into G; D frozen
//   D.requires_grad_(false);                           // (its gradients would only be
//   auto g_loss = gan::bce_with_logits(D(fake), 1.0);  // zeroed before its next step)
//   g_loss.backward();  D.requires_grad_(true);  opt_g.step();
//
// Compile with -march=native: the SIMD kernels use the widest ISA the compiler targets.

#include "gan/config.hpp"
#include "gan/version.hpp"

#include "gan/core/random.hpp"
#include "gan/core/tensor.hpp"
#include "gan/autograd/grad_check.hpp"
#include "gan/autograd/variable.hpp"

#include "gan/ops/activations.hpp"
#include "gan/ops/batch_norm.hpp"
#include "gan/ops/conv2d.hpp"
#include "gan/ops/conv_transpose2d.hpp"
#include "gan/ops/dropout.hpp"
#include "gan/ops/elementwise.hpp"
#include "gan/ops/instance_norm.hpp"
#include "gan/ops/linear.hpp"
#include "gan/ops/one_hot.hpp"
#include "gan/ops/reduce.hpp"
#include "gan/ops/shape_ops.hpp"
#include "gan/ops/translate.hpp"
#include "gan/ops/upsample.hpp"

#include "gan/nn/activation.hpp"
#include "gan/nn/batch_norm.hpp"
#include "gan/nn/conv2d.hpp"
#include "gan/nn/conv_transpose2d.hpp"
#include "gan/nn/dropout.hpp"
#include "gan/nn/init.hpp"
#include "gan/nn/instance_norm.hpp"
#include "gan/nn/linear.hpp"
#include "gan/nn/residual_block.hpp"
#include "gan/nn/sequential.hpp"
#include "gan/nn/shape_layers.hpp"
#include "gan/nn/unet_block.hpp"
#include "gan/nn/update_bn.hpp"

#include "gan/losses/bce.hpp"
#include "gan/losses/cross_entropy.hpp"
#include "gan/losses/l1.hpp"
#include "gan/losses/mse.hpp"
#include "gan/optim/adam.hpp"
#include "gan/optim/clip_grad.hpp"
#include "gan/optim/ema.hpp"
#include "gan/optim/sgd.hpp"

#include "gan/models/conditional.hpp"
#include "gan/models/dcgan.hpp"
#include "gan/models/patchgan.hpp"
#include "gan/models/unet_generator.hpp"
