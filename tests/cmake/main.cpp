// The program both consumer projects build: it must compile against the public headers,
// link with nothing but gan::gan's usage requirements, and run.
#include <gan/gan.hpp>

#include <cstdio>

int main() {
  auto t = gan::Tensor<float>::ones(gan::Shape{2, 3});
  gan::Var<float> x(t, /*requires_grad=*/true);
  const bool ok = x.numel() == 6 && t[5] == 1.0f && GAN_VERSION_MAJOR == 0 && GAN_VERSION_MINOR == 1;
  std::printf("gan %s: tensor %s, %s\n", gan::version_string, t.shape().to_string().c_str(),
              ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
