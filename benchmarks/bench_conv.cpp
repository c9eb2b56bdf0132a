// The nine GAN layer shapes of issue 5, each in three passes (forward, backward-data,
// backward-weight incl. the bias gradient), at 1 and 2 threads. Backward-data writes dx, as
// ops::conv2d does for an input's first gradient (every one in the DCGAN step) and as
// PyTorch's convolution_backward does; the weight gradient adds into dw, as after
// zero_grad(). Counters: GFLOPs (GFLOP/s, 2 x multiply-adds of the layer, the same count for
// every pass, also for a pass on the Winograd kernels, which do fewer), minflt (minor page
// faults per iteration: the caching allocator should make it 0 in steady state) and winograd
// (1 when the pass ran on the Winograd kernels; GAN_NO_WINOGRAD=1 runs the direct ones).
//
//   gan_bench_conv --benchmark_filter='shape2/'     one shape
//   gan_bench_conv --benchmark_filter='/fwd/threads:2'

#include <cstdint>
#include <string>

#include "bench_util.hpp"
#include "gan/core/random.hpp"
#include "gan/core/tensor.hpp"
#include "gan/kernels/conv2d.hpp"
#include "gan/kernels/conv_transpose2d.hpp"

namespace {

using gan::Shape;
using gan::Tensor;
namespace k = gan::kernels;

struct Layer {
  const char* name;
  bool transposed;
  std::int64_t n, in_c, out_c, h, w, kernel, stride, pad;
};

// NCHW fp32; the first four are DCGAN-MNIST, then a residual filter, pix2pix, DCGAN-64, SRCNN.
const Layer kLayers[] = {
    {"shape1_conv_1to64_28", false, 64, 1, 64, 28, 28, 4, 2, 1},
    {"shape2_conv_64to128_14", false, 64, 64, 128, 14, 14, 4, 2, 1},
    {"shape3_convT_128to64_7", true, 64, 128, 64, 7, 7, 4, 2, 1},
    {"shape4_convT_64to1_14", true, 64, 64, 1, 14, 14, 4, 2, 1},
    {"shape5_conv_64to64_28_k3", false, 64, 64, 64, 28, 28, 3, 1, 1},
    {"shape6_conv_64to128_128_n1", false, 1, 64, 128, 128, 128, 4, 2, 1},
    {"shape7_convT_1024to256_16_n1", true, 1, 1024, 256, 16, 16, 4, 2, 1},
    {"shape8_convT_512to256_8", true, 64, 512, 256, 8, 8, 4, 2, 1},
    {"shape9_conv_1to64_33_k9_n16", false, 16, 1, 64, 33, 33, 9, 1, 4},
};

using gan_bench::Pass;

k::ConvShape shape_of(const Layer& l) {
  const Shape x{l.n, l.in_c, l.h, l.w};
  return l.transposed ? k::conv_transpose_shape(x, l.out_c, l.kernel, l.stride, l.pad)
                      : k::conv_shape(x, l.out_c, l.kernel, l.stride, l.pad);
}

// 2 x multiply-adds: every (output pixel, tap) of a conv, every (input pixel, tap) of a transposed one.
double flops(const k::ConvShape& s) {
  const double taps = static_cast<double>(s.in_c) * s.out_c * s.kernel_h * s.kernel_w;
  const double pixels = s.transposed ? static_cast<double>(s.n) * s.in_h * s.in_w
                                     : static_cast<double>(s.n) * s.out_h() * s.out_w();
  return 2.0 * taps * pixels;
}

void run_layer(benchmark::State& state, const Layer& l, Pass pass) {
  gan_bench::use_threads(state);
  const k::ConvShape s = shape_of(l);
  gan::Rng rng(42);
  Tensor<float> x = gan::rand<float>(s.input_shape(), -1, 1, rng), w = gan::rand<float>(s.weight_shape(), -1, 1, rng);
  Tensor<float> b = gan::rand<float>(Shape{s.out_c}, -1, 1, rng), dy = gan::rand<float>(s.output_shape(), -1, 1, rng);
  Tensor<float> y = Tensor<float>::empty(s.output_shape()), dx = Tensor<float>::zeros(s.input_shape());
  Tensor<float> dw = Tensor<float>::zeros(s.weight_shape()), db = Tensor<float>::zeros(Shape{s.out_c});
  auto once = [&] {
    switch (pass) {
      case Pass::forward:
        if (s.transposed) k::conv_transpose2d_forward(y.data(), x.data(), w.data(), b.data(), s);
        else k::conv2d_forward(y.data(), x.data(), w.data(), b.data(), s);
        break;
      case Pass::backward_data:
        if (s.transposed) k::conv_transpose2d_backward_data(dx.data(), dy.data(), w.data(), s, false);
        else k::conv2d_backward_data(dx.data(), dy.data(), w.data(), s, false);
        break;
      case Pass::backward_weight:
        if (s.transposed) k::conv_transpose2d_backward_weight(dw.data(), db.data(), dy.data(), x.data(), s);
        else k::conv2d_backward_weight(dw.data(), db.data(), dy.data(), x.data(), s);
        break;
    }
  };
  gan_bench::time_calls(state, once, flops(s));
  const bool winograd = pass == Pass::backward_weight ? k::runs_winograd_wgrad(s)
                                                      : k::runs_winograd(s, pass == Pass::backward_data);
  state.counters["winograd"] = winograd ? 1 : 0;
}

const int kRegistered = [] {
  for (const Layer& l : kLayers)
    gan_bench::register_passes(l.name, [&l](benchmark::State& st, Pass p) { run_layer(st, l, p); },
                               benchmark::kMillisecond);
  return 0;
}();

}  // namespace

BENCHMARK_MAIN();
