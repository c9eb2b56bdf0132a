// Fully connected layers of the example models in three passes (forward with bias,
// backward-data, backward-weight with the bias gradient), at 1 and 2 threads: issue 5 asks
// for Linear through a fast GEMM (Eigen's was kept until it measured 0.78-0.91 of PyTorch's
// OpenBLAS on Zen 4; float products now run on the conv micro-kernel, kernels/gemm_tiles.hpp).
// Backward-data writes dx, backward-weight adds into dw (as in bench_conv.cpp).
// Counters as in bench_conv.cpp: GFLOPs (2 x multiply-adds) and minflt.
//
//   gan_bench_linear --benchmark_filter='linear2/'

#include <cstdint>
#include <string>

#include "bench_util.hpp"
#include "gan/core/random.hpp"
#include "gan/core/tensor.hpp"
#include "gan/kernels/linear.hpp"

namespace {

using gan::Shape;
using gan::Tensor;
namespace k = gan::kernels;

struct Layer {
  const char* name;
  std::int64_t rows, in, out;
};

// Batch 64 throughout: DCGAN's z -> 128x7x7 projection and its D head, the reference
// classifier's hidden layer, the E3 classifier's FC 1024.
const Layer kLayers[] = {
    {"linear1_z100_to_6272", 64, 100, 6272},
    {"linear2_6272_to_1", 64, 6272, 1},
    {"linear3_3136_to_128", 64, 3136, 128},
    {"linear4_1024_to_1024", 64, 1024, 1024},
};

using gan_bench::Pass;

void run_layer(benchmark::State& state, const Layer& l, Pass pass) {
  gan_bench::use_threads(state);
  gan::Rng rng(42);
  Tensor<float> x = gan::rand<float>(Shape{l.rows, l.in}, -1, 1, rng), w = gan::rand<float>(Shape{l.out, l.in}, -1, 1, rng);
  Tensor<float> b = gan::rand<float>(Shape{l.out}, -1, 1, rng), dy = gan::rand<float>(Shape{l.rows, l.out}, -1, 1, rng);
  Tensor<float> y = Tensor<float>::empty(Shape{l.rows, l.out}), dx = Tensor<float>::zeros(Shape{l.rows, l.in});
  Tensor<float> dw = Tensor<float>::zeros(Shape{l.out, l.in}), db = Tensor<float>::zeros(Shape{l.out});
  auto once = [&] {
    switch (pass) {
      case Pass::forward: k::linear_forward(y.data(), x.data(), w.data(), b.data(), l.rows, l.in, l.out); break;
      case Pass::backward_data: k::linear_backward_data(dx.data(), dy.data(), w.data(), l.rows, l.in, l.out, false); break;
      case Pass::backward_weight:
        k::linear_backward_weight(dw.data(), db.data(), dy.data(), x.data(), l.rows, l.in, l.out);
        break;
    }
  };
  gan_bench::time_calls(state, once, 2.0 * double(l.rows) * double(l.in) * double(l.out));
}

const int kRegistered = [] {
  for (const Layer& l : kLayers)
    gan_bench::register_passes(l.name, [&l](benchmark::State& st, Pass p) { run_layer(st, l, p); },
                               benchmark::kMicrosecond);
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
