#pragma once
// gan: a header-only C++17 library for training GANs on CPUs. This header includes the
// whole public API; the pieces can also be included one by one (gan/core/tensor.hpp, ...).
//
// Usage (the loop reads like a methods section; see examples/dcgan for the full program):
//
//   #include <gan/gan.hpp>
//
//   gan::Rng rng(42);
//   auto G = std::make_shared<Generator>(...);   // an nn::Module<float> tree
//   auto D = std::make_shared<Discriminator>(...);
//   gan::optim::Adam<float> opt_g(G->parameters(), {2e-4, 0.5, 0.999});
//   gan::optim::Adam<float> opt_d(D->parameters(), {2e-4, 0.5, 0.999});
//
//   for (each batch `real` of shape (N, 1, 28, 28), scaled to [-1, 1]) {
//     gan::Var<float> z(noise);                    // (N, 100, 1, 1)
//     gan::Var<float> fake = G->forward(z);
//
//     // D step: real -> 1, fake -> 0; detach() keeps this step's gradients out of G.
//     opt_d.zero_grad();
//     auto d_loss = gan::bce_with_logits(D->forward(real), 1.0) +
//                   gan::bce_with_logits(D->forward(fake.detach()), 0.0);
//     d_loss.backward();
//     opt_d.step();
//
//     // G step: the gradient flows from D's logits back into G's parameters.
//     opt_g.zero_grad();
//     auto g_loss = gan::bce_with_logits(D->forward(fake), 1.0);
//     g_loss.backward();
//     opt_g.step();
//   }
//
// Compile with -march=native: the SIMD kernels use the widest ISA the compiler targets.

#include "gan/config.hpp"
#include "gan/version.hpp"

#include "gan/core/error.hpp"
#include "gan/core/shape.hpp"
#include "gan/core/aligned_buffer.hpp"
#include "gan/core/tensor.hpp"
#include "gan/core/parallel.hpp"
#include "gan/core/random.hpp"

#include "gan/autograd/node.hpp"
#include "gan/autograd/tape.hpp"
#include "gan/autograd/variable.hpp"
#include "gan/autograd/grad_check.hpp"

#include "gan/nn/module.hpp"
