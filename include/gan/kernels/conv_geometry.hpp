#pragma once
// ConvShape: every extent of one 2-D convolution or transposed convolution, the single
// argument the conv kernels take besides pointers. Output sizes follow PyTorch exactly, so
// a layer built from a PyTorch recipe produces the same spatial sizes.

#include <cstdint>
#include <string>

#include "gan/core/error.hpp"
#include "gan/core/shape.hpp"

namespace gan {
namespace kernels {

// An extent that is usually the same on both axes: Size2(3) is 3x3, Size2(3, 5) is 3 high
// and 5 wide. Implicit from one integer so that `Conv2dParams{2, 1}` reads like PyTorch.
struct Size2 {
  std::int64_t h = 0;
  std::int64_t w = 0;
  Size2(std::int64_t both = 0) : h(both), w(both) {}  // NOLINT(google-explicit-constructor)
  Size2(std::int64_t height, std::int64_t width) : h(height), w(width) {}
  bool operator==(const Size2& o) const { return h == o.h && w == o.w; }
  bool operator!=(const Size2& o) const { return !(*this == o); }
  // "3" when square, "3x5" otherwise: the form error messages and describe() use.
  std::string to_string() const {
    return h == w ? std::to_string(h) : std::to_string(h) + "x" + std::to_string(w);
  }
};

namespace detail {
// Floor division for a possibly negative numerator and a positive divisor: PyTorch's output
// formula floors, and C++ truncates toward zero, which would turn an empty output into 1.
inline std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}
}  // namespace detail

struct ConvShape {
  std::int64_t n = 1;  // batch
  std::int64_t in_c = 1, in_h = 1, in_w = 1;
  std::int64_t out_c = 1;
  std::int64_t kernel_h = 1, kernel_w = 1;
  std::int64_t stride_h = 1, stride_w = 1;
  std::int64_t pad_h = 0, pad_w = 0;
  std::int64_t dilation_h = 1, dilation_w = 1;
  std::int64_t output_padding_h = 0, output_padding_w = 0;  // transposed only
  // false: conv, weight (out_c, in_c, KH, KW); true: transposed conv, weight (in_c, out_c, KH, KW).
  bool transposed = false;

  // conv:        floor((H + 2p - d(k-1) - 1) / s) + 1
  // transposed:  (H - 1)s - 2p + d(k-1) + output_padding + 1
  std::int64_t out_h() const { return out_extent(in_h, kernel_h, stride_h, pad_h, dilation_h, output_padding_h); }
  std::int64_t out_w() const { return out_extent(in_w, kernel_w, stride_w, pad_w, dilation_w, output_padding_w); }

  Shape input_shape() const { return Shape{n, in_c, in_h, in_w}; }
  Shape output_shape() const { return Shape{n, out_c, out_h(), out_w()}; }
  Shape weight_shape() const {
    return transposed ? Shape{in_c, out_c, kernel_h, kernel_w} : Shape{out_c, in_c, kernel_h, kernel_w};
  }

  Size2 kernel() const { return {kernel_h, kernel_w}; }
  Size2 stride() const { return {stride_h, stride_w}; }
  Size2 padding() const { return {pad_h, pad_w}; }
  Size2 dilation() const { return {dilation_h, dilation_w}; }
  Size2 output_padding() const { return {output_padding_h, output_padding_w}; }

  // "kernel 4, stride 2, padding 1, dilation 1" (+ ", output_padding 1" when transposed).
  std::string describe() const {
    std::string s = "kernel " + kernel().to_string() + ", stride " + stride().to_string() + ", padding " +
                    padding().to_string() + ", dilation " + dilation().to_string();
    if (transposed) s += ", output_padding " + output_padding().to_string();
    return s;
  }

  // Checks what does not depend on the input's size: layers call this at construction.
  // Messages start with `who` (an op name or a layer's describe()).
  void check_hyperparameters(const std::string& who) const {
    check(in_c >= 1 && out_c >= 1, who, ": channel counts must be >= 1, got in ", in_c, ", out ", out_c);
    check(kernel_h >= 1 && kernel_w >= 1, who, ": kernel size must be >= 1, got ", kernel().to_string());
    check(stride_h >= 1 && stride_w >= 1, who, ": stride must be >= 1, got ", stride().to_string());
    check(pad_h >= 0 && pad_w >= 0, who, ": padding must be >= 0, got ", padding().to_string());
    check(dilation_h >= 1 && dilation_w >= 1, who, ": dilation must be >= 1, got ", dilation().to_string());
    if (!transposed) {
      check(output_padding_h == 0 && output_padding_w == 0, who,
            ": output_padding applies to transposed convolutions only, got ", output_padding().to_string());
      return;
    }
    check(output_padding_h >= 0 && output_padding_w >= 0, who, ": output_padding must be >= 0, got ",
          output_padding().to_string());
    // PyTorch's rule: otherwise the extra rows would lie beyond anything a stride step or a
    // dilated tap could reach, and the conv this one is the adjoint of would be ambiguous.
    check((output_padding_h < stride_h || output_padding_h < dilation_h) &&
              (output_padding_w < stride_w || output_padding_w < dilation_w),
          who, ": output_padding (", output_padding().to_string(), ") must be smaller than either stride (",
          stride().to_string(), ") or dilation (", dilation().to_string(), ")");
  }

  // Full check before a kernel call: hyper-parameters, a non-empty input and output.
  void validate(const std::string& who) const {
    check_hyperparameters(who);
    check(n >= 0 && in_h >= 1 && in_w >= 1, who, ": input ", input_shape(), " has an empty spatial extent");
    check(out_h() >= 1 && out_w() >= 1, who, ": input ", input_shape(), " is too small for ", describe(),
          ": the output would be ", out_h(), "x", out_w());
  }

  // For a transposed shape: the ordinary conv whose backward-data pass it is. Its input is
  // this output and its output is this input; the weight tensor is the same memory, since
  // (in_c, out_c, KH, KW) here is (conv out, conv in, KH, KW) there. With output_padding
  // >= stride (allowed when < dilation) the conv formula gives back more than in_h rows,
  // so kernels pass this shape's in_h/in_w as the conv's output extent explicitly.
  ConvShape as_conv() const {
    ConvShape c = *this;
    c.transposed = false;
    c.in_c = out_c;
    c.in_h = out_h();
    c.in_w = out_w();
    c.out_c = in_c;
    c.output_padding_h = c.output_padding_w = 0;
    return c;
  }

  // True when im2col of an image is the image itself, so kernels can skip it: a 1x1,
  // stride-1, unpadded conv, or an unpadded, undilated kernel that covers the whole image
  // (one output pixel: DCGAN's 4x4 -> 1x1 conv and, as a transposed conv, 1x1 -> 4x4).
  bool columns_are_input() const {
    const bool pointwise =
        kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 && pad_w == 0;
    const bool whole_image = pad_h == 0 && pad_w == 0 && kernel_h == in_h && kernel_w == in_w &&
                             (dilation_h == 1 || kernel_h == 1) && (dilation_w == 1 || kernel_w == 1);
    return !transposed && (pointwise || whole_image);
  }

 private:
  std::int64_t out_extent(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p, std::int64_t d,
                          std::int64_t op) const {
    if (transposed) return (in - 1) * s - 2 * p + d * (k - 1) + op + 1;
    if (s < 1) return 0;  // invalid; validate() reports the stride, not a division by zero
    return detail::floor_div(in + 2 * p - d * (k - 1) - 1, s) + 1;
  }
};

// x: (n, in_c, h, w) into a conv with `out_c` filters.
inline ConvShape conv_shape(const Shape& x, std::int64_t out_c, Size2 kernel, Size2 stride = 1, Size2 padding = 0,
                            Size2 dilation = 1) {
  ConvShape s;
  s.n = x.rank() > 0 ? x[0] : 0;
  s.in_c = x.rank() > 1 ? x[1] : 0;
  s.in_h = x.rank() > 2 ? x[2] : 0;
  s.in_w = x.rank() > 3 ? x[3] : 0;
  s.out_c = out_c;
  s.kernel_h = kernel.h, s.kernel_w = kernel.w;
  s.stride_h = stride.h, s.stride_w = stride.w;
  s.pad_h = padding.h, s.pad_w = padding.w;
  s.dilation_h = dilation.h, s.dilation_w = dilation.w;
  return s;
}

// x: (n, in_c, h, w) into a transposed conv with `out_c` output channels.
inline ConvShape conv_transpose_shape(const Shape& x, std::int64_t out_c, Size2 kernel, Size2 stride = 1,
                                      Size2 padding = 0, Size2 output_padding = 0, Size2 dilation = 1) {
  ConvShape s = conv_shape(x, out_c, kernel, stride, padding, dilation);
  s.transposed = true;
  s.output_padding_h = output_padding.h, s.output_padding_w = output_padding.w;
  return s;
}

}  // namespace kernels
}  // namespace gan
