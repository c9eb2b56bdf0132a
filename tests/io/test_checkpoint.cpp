// Checkpoints: a run stopped, saved and resumed in fresh objects must end bit-identical to
// the same run without the interruption; mismatched files are refused without side effects.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "../matchers.hpp"
#include "gan/io/checkpoint.hpp"
#include "gan/losses/bce.hpp"
#include "gan/models/dcgan.hpp"
#include "gan/ops/elementwise.hpp"
#include "gan/optim/adam.hpp"
#include "../data/idx_test_util.hpp"

using gan::Shape;
using gan::Tensor;
using gan::Var;

using gan_test::has;

namespace {
gan::models::DcganOptions tiny_dcgan(std::int64_t width = 4) {
  gan::models::DcganOptions o;
  o.z_dim = 6, o.width = width, o.image_size = 28, o.channels = 1;
  return o;
}

Tensor<float> images() {
  gan::Rng data_rng(3);
  return gan::rand<float>(Shape{20, 1, 28, 28}, -1.0, 1.0, data_rng);
}

// A miniature DCGAN training run with every kind of state a real one has: weights, BN
// running statistics, two Adam optimizers, a shuffling loader that crosses epochs, z noise.
struct Run {
  gan::models::DcganGenerator<float> G{tiny_dcgan()};
  gan::models::DcganDiscriminator<float> D{tiny_dcgan()};
  gan::optim::Adam<float> opt_g, opt_d;
  gan::Rng rng{5};
  gan::data::DataLoader loader;
  std::int64_t step = 0;
  gan::io::Checkpoint ckpt;

  explicit Run(std::uint64_t init_seed)
      : opt_g(G.parameters(), {}), opt_d(D.parameters(), {}),
        loader(images(), {}, {8, true, true, 9}) {
    gan::Rng init(init_seed);
    gan::models::dcgan_init(G, init);
    gan::models::dcgan_init(D, init);
    ckpt.add("G", G).add("D", D).add("opt_g", opt_g).add("opt_d", opt_d).add("rng", rng).add("loader", loader).add(
        "step", step);
  }

  void train(int iterations) {
    for (int i = 0; i < iterations; ++i, ++step) {
      auto batch = loader.next_batch();
      if (!batch) batch = loader.next_batch();
      const std::int64_t b = batch->images.dim(0);
      Var<float> fake = G(Var<float>(gan::randn<float>(Shape{b, 6}, rng)));
      Var<float> loss_d = gan::bce_with_logits(D(Var<float>(batch->images)), 1.0) +
                          gan::bce_with_logits(D(fake.detach()), 0.0);
      opt_d.zero_grad();
      loss_d.backward();
      opt_d.step();
      Var<float> loss_g = gan::bce_with_logits(D(fake), 1.0);
      opt_g.zero_grad();
      loss_g.backward();
      opt_g.step();
    }
  }
};

std::vector<float> all_state(const Run& r) {
  std::vector<float> out;
  for (const auto* m : {static_cast<const gan::nn::Module<float>*>(&r.G), static_cast<const gan::nn::Module<float>*>(&r.D)}) {
    for (auto& [n, p] : m->named_parameters()) out.insert(out.end(), p.value().begin(), p.value().end());
    for (auto& [n, b] : m->named_buffers()) out.insert(out.end(), b.begin(), b.end());
  }
  for (auto& [n, t] : r.opt_g.state_tensors()) out.insert(out.end(), t.begin(), t.end());
  return out;
}
}  // namespace

TEST_CASE("checkpoint: stopped, saved and resumed in fresh objects equals the uninterrupted run") {
  gan_test::TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  Run uninterrupted(1);
  uninterrupted.train(6);  // 2 batches per epoch: crosses two epoch boundaries

  Run first_half(1);
  first_half.train(3);
  first_half.ckpt.metadata["note"] = "half";
  first_half.ckpt.save(path);

  Run resumed(777);  // different initial weights: everything must come from the file
  CHECK(all_state(resumed) != all_state(first_half));
  CHECK(resumed.ckpt.load(path).at("note") == "half");
  CHECK(resumed.step == 3);
  CHECK(all_state(resumed) == all_state(first_half));
  resumed.train(3);

  CHECK(resumed.step == uninterrupted.step);
  CHECK(resumed.loader.epoch() == uninterrupted.loader.epoch());
  CHECK(resumed.loader.position() == uninterrupted.loader.position());
  CHECK(all_state(resumed) == all_state(uninterrupted));  // bit-identical, not approximately
}

TEST_CASE("checkpoint: a file for another model is refused, names what differs, changes nothing") {
  gan_test::TempDir dir;
  const std::string path = dir.file("g.safetensors");
  gan::models::DcganGenerator<float> small(tiny_dcgan(4)), wide(tiny_dcgan(8));
  gan::io::save_module(path, small, {{"epoch", "3"}});
  const std::vector<float> before(wide.parameters()[0].value().begin(), wide.parameters()[0].value().end());
  CHECK_THROWS_WITH_AS(gan::io::load_module(path, wide), has("nothing was loaded"), gan::Error);
  CHECK_THROWS_WITH_AS(gan::io::load_module(path, wide), has(": file has F32 ["), gan::Error);
  const std::vector<float> after(wide.parameters()[0].value().begin(), wide.parameters()[0].value().end());
  CHECK(before == after);

  gan::models::DcganGenerator<float> same(tiny_dcgan(4));
  CHECK(gan::io::load_module(path, same).at("epoch") == "3");
  for (std::size_t i = 0; i < same.parameters().size(); ++i) {
    const auto& a = same.parameters()[i].value();
    const auto& b = small.parameters()[i].value();
    CHECK(std::memcmp(a.data(), b.data(), std::size_t(a.numel()) * sizeof(float)) == 0);
  }

  gan::models::DcganDiscriminator<float> other(tiny_dcgan(4));
  CHECK_THROWS_WITH_AS(gan::io::load_module(path, other), has("unexpected: "), gan::Error);
  CHECK_THROWS_WITH_AS(gan::io::load_module(path, other), has("missing: "), gan::Error);
}

TEST_CASE("checkpoint: a name registered twice is an error") {
  gan::Rng a(1), b(2);
  gan::io::Checkpoint c;
  c.add("rng", a);
  CHECK_THROWS_WITH_AS(c.add("rng", b), has("'rng' is registered twice"), gan::Error);
}
