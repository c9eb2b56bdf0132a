// Built by both consumer projects against gan::io: the file-format headers (IDX via zlib,
// PNG via stb, safetensors via nlohmann_json) compile and link with only that target.
#include <gan/data/mnist.hpp>
#include <gan/io/checkpoint.hpp>
#include <gan/io/png.hpp>
#include <gan/nn/linear.hpp>

#include <cstdio>
#include <filesystem>

int main() {
  const std::string dir = std::filesystem::temp_directory_path().string();
  gan::nn::Linear<float> a({3, 2}), b({3, 2});
  gan::io::save_module(dir + "/gan_consumer.safetensors", a);
  gan::io::load_module(dir + "/gan_consumer.safetensors", b);
  gan::io::write_png(dir + "/gan_consumer.png", gan::io::Image(2, 2, 1, 200));
  const bool ok = gan::io::read_image(dir + "/gan_consumer.png").at(1, 1, 0) == 200 &&
                  b.parameters()[0].value()[0] == a.parameters()[0].value()[0];
  try {
    gan::data::MnistDataset missing(dir + "/no_such_mnist_dir", gan::data::Split::Train);
    return 1;
  } catch (const gan::Error&) {
  }
  std::printf("gan::io: safetensors, PNG and IDX headers %s\n", ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
