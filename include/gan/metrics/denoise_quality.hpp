#pragma once
// How well a filter recovered the digits of a batch of mixtures (gan/data/digit_mixtures.hpp;
// the residual denoising-filter study, E4 in the experiment notes).
//
//   Tensor<float> outputs = gan::metrics::filter_outputs(G, mixture);   // eval mode, no graph
//   gan::metrics::DenoiseQuality q = gan::metrics::denoise_quality(outputs, mixture);
//   auto judge = gan::metrics::load_reference_classifier(path);     // optional
//   q = gan::metrics::denoise_quality(outputs, mixture, judge.get());
//   q.l1, q.psnr, q.ssim, q.ref_closer, ... ; q.values() in the order of names()
//
// Against the target t: mean L1, PSNR and SSIM (metrics/image_quality.hpp, data range 1).
// The study's failure is an output that keeps the ref instead of the digit, so each output
// is compared with the clean digit and with the ref by normalised cross-correlation (NCC):
// ref_closer is the share of outputs closer to the ref. With a reference classifier
// (examples/mnist_classifier): digit_acc, the share of outputs it labels as the digit, and
// ref_digit, the share it labels as the ref's digit among mixtures whose two digits differ.
// Without one both are NaN. The classifier sees each output scaled to its own maximum, then
// to [-1, 1]: the targets are dim (0.5 gt) and it was trained on full-contrast digits.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gan/autograd/tape.hpp"
#include "gan/autograd/variable.hpp"
#include "gan/core/error.hpp"
#include "gan/core/tensor.hpp"
#include "gan/data/digit_mixtures.hpp"
#include "gan/metrics/image_quality.hpp"
#include "gan/models/mnist_classifier.hpp"

namespace gan {
namespace metrics {

// The filter's outputs G(input, ref) for every mixture of m, `chunk` at a time, in eval mode
// (batch norm with its running statistics) and without a graph; G's mode is restored.
template <class Filter>
Tensor<float> filter_outputs(Filter& G, const data::Mixture& m, std::int64_t chunk = 100) {
  check(chunk > 0 && m.input.defined() && m.input.rank() >= 1 && m.input.dim(0) > 0, "filter_outputs: chunk ", chunk,
        " and ", m.input.defined() ? m.input.shape().to_string() : "undefined", " inputs: expected positive sizes");
  NoGradGuard no_grad;
  const bool was_training = G.is_training();
  G.eval();
  Tensor<float> out = Tensor<float>::empty(m.input.shape());
  const std::int64_t n = m.input.dim(0), per = m.input.numel() / n;
  for (std::int64_t i = 0; i < n; i += chunk) {
    const std::int64_t e = std::min(i + chunk, n);
    const Tensor<float> y = G(Var<float>(data::rows(m.input, i, e)), Var<float>(data::rows(m.ref, i, e))).value();
    check(y.numel() == (e - i) * per, "filter_outputs: the filter returned ", y.shape().to_string(), " for ",
          e - i, " inputs of ", per, " values");
    std::copy_n(y.data(), y.numel(), out.data() + i * per);
  }
  if (was_training) G.train();
  return out;
}

// Normalised cross-correlation of two images of n pixels, in [-1, 1] (0 when one is flat).
inline double ncc(const float* x, const float* y, std::int64_t n) {
  double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
  for (std::int64_t k = 0; k < n; ++k) mx += x[k], my += y[k];
  mx /= double(n), my /= double(n);
  for (std::int64_t k = 0; k < n; ++k)
    sxy += (x[k] - mx) * (y[k] - my), sxx += (x[k] - mx) * (x[k] - mx), syy += (y[k] - my) * (y[k] - my);
  return sxy / std::sqrt(sxx * syy + 1e-12);
}

// The classifier's digit (argmax of its (N, 10) logits) for each image of (N, 1, 28, 28)
// [0, 1] images, each first scaled to its own maximum and then to [-1, 1].
template <class Classifier>
std::vector<std::int64_t> predict_digits(Classifier& classifier, const Tensor<float>& images) {
  NoGradGuard no_grad;
  Tensor<float> x = images.clone();
  const std::int64_t n = x.dim(0), per = x.numel() / n;
  for (std::int64_t i = 0; i < n; ++i) {
    float* p = x.data() + i * per;
    const float hi = std::max(*std::max_element(p, p + per), 1e-6f);
    for (std::int64_t k = 0; k < per; ++k) p[k] = 2 * std::clamp(p[k] / hi, 0.f, 1.f) - 1;
  }
  const Tensor<float> logits = classifier(Var<float>(x)).value();
  const std::int64_t classes = logits.numel() / n;
  std::vector<std::int64_t> out;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = logits.data() + i * classes;
    out.push_back(std::max_element(row, row + classes) - row);
  }
  return out;
}

struct DenoiseQuality {
  double l1 = 0, psnr = 0, ssim = 0;  // against the target
  double ref_closer = 0;              // share of outputs with NCC(output, ref) > NCC(output, gt)
  double ncc_gt = 0, ncc_ref = 0;     // mean NCC with the clean digit and with the ref
  double digit_acc = std::nan(""), ref_digit = std::nan("");  // NaN without a classifier

  static std::vector<std::string> names() {
    return {"l1", "psnr", "ssim", "ref_closer", "ncc_gt", "ncc_ref", "digit_acc", "ref_digit"};
  }
  std::vector<double> values() const { return {l1, psnr, ssim, ref_closer, ncc_gt, ncc_ref, digit_acc, ref_digit}; }
};

// Quality of outputs y (N, 1, 28, 28) for the mixtures m they were computed from; the
// reference classifier (may be null, load_reference_classifier) labels the outputs.
inline DenoiseQuality denoise_quality(const Tensor<float>& y, const data::Mixture& m,
                                      models::MnistClassifier<float>* classifier = nullptr) {
  check(y.defined() && y.rank() == 4 && y.dim(0) > 0 && y.shape() == m.target.shape() && y.shape() == m.gt.shape() &&
            y.shape() == m.ref_raw.shape(),
        "denoise_quality: outputs ", y.defined() ? y.shape().to_string() : "undefined", " and mixture targets ",
        m.target.defined() ? m.target.shape().to_string() : "undefined", ": expected one non-empty (N, C, H, W) shape");
  const std::int64_t n = y.dim(0), per = y.numel() / n;
  DenoiseQuality q;
  double l1 = 0, closer = 0, ncc_gt = 0, ncc_ref = 0;
  for (std::int64_t i = 0; i < y.numel(); ++i) l1 += std::abs(double(y[i]) - double(m.target[i]));
  for (std::int64_t i = 0; i < n; ++i) {
    const double g = ncc(y.data() + i * per, m.gt.data() + i * per, per);
    const double r = ncc(y.data() + i * per, m.ref_raw.data() + i * per, per);
    closer += r > g, ncc_gt += g, ncc_ref += r;
  }
  if (classifier) {
    check(std::int64_t(m.gt_labels.size()) == n && std::int64_t(m.ref_labels.size()) == n,
          "denoise_quality: the digit metrics need a label per mixture, got ", m.gt_labels.size(), " and ",
          m.ref_labels.size(), " for ", n, " outputs");
    const auto pred = predict_digits(*classifier, y);
    std::int64_t right = 0, differ = 0, as_ref = 0;
    for (std::size_t i = 0; i < std::size_t(n); ++i) {
      right += pred[i] == m.gt_labels[i];
      if (m.gt_labels[i] == m.ref_labels[i]) continue;
      ++differ, as_ref += pred[i] == m.ref_labels[i];
    }
    q.digit_acc = double(right) / double(n);
    q.ref_digit = double(as_ref) / double(std::max<std::int64_t>(differ, 1));
  }
  q.l1 = l1 / double(y.numel()), q.psnr = psnr(y, m.target), q.ssim = ssim(y, m.target);
  q.ref_closer = closer / double(n), q.ncc_gt = ncc_gt / double(n), q.ncc_ref = ncc_ref / double(n);
  return q;
}

}  // namespace metrics
}  // namespace gan
