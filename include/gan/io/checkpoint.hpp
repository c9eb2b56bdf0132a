#pragma once
// Training checkpoints: everything a run needs to continue exactly, in one safetensors file.
//
//   gan::io::Checkpoint ckpt;
//   ckpt.add("G", G).add("D", D)                 // parameters + buffers (BN running stats)
//       .add("opt_g", opt_g).add("opt_d", opt_d) // Adam/SGD moments and step counts
//       .add("rng", rng).add("loader", loader)   // random streams, position in the epoch
//       .add("step", step);                      // any int64 counter of the loop
//   if (resume) ckpt.load(out + "/checkpoint.safetensors");
//   ... every epoch: ckpt.save(out + "/checkpoint.safetensors");
//
// Tensor names are "<prefix>.<PyTorch-style name>" ("G.net.0.weight", "opt_g.group0.param3.
// exp_avg"), so the file opens with safetensors.torch.load_file. Saving is atomic (io/file.hpp).
// Loading is all-or-nothing: every registered name must be in the file with the same dtype
// and shape and the file must hold nothing else; otherwise the error lists what differs and
// nothing has been changed.

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gan/core/error.hpp"
#include "gan/core/random.hpp"
#include "gan/core/tensor.hpp"
#include "gan/data/loader.hpp"
#include "gan/data/sampler.hpp"
#include "gan/io/safetensors.hpp"
#include "gan/nn/module.hpp"
#include "gan/optim/optimizer.hpp"

namespace gan::io {

class Checkpoint {
 public:
  // An empty prefix keeps the module's own names ("net.0.weight").
  template <class T>
  Checkpoint& add(const std::string& prefix, const nn::Module<T>& module) {
    for (auto& [name, p] : module.named_parameters()) add_tensor(join(prefix, name), p.value());
    for (auto& [name, b] : module.named_buffers()) add_tensor(join(prefix, name), b);
    return *this;
  }
  template <class T>
  Checkpoint& add(const std::string& prefix, const optim::Optimizer<T>& optimizer) {
    for (auto& [name, t] : optimizer.state_tensors()) add_tensor(join(prefix, name), t);
    return *this;
  }
  Checkpoint& add(const std::string& name, Rng& rng) {
    return add_u64(name, 2, [&rng] { return std::vector<std::uint64_t>{rng.state().seed, rng.state().counter}; },
                   [&rng](const std::vector<std::uint64_t>& v) { rng.set_state({v[0], v[1]}); });
  }
  // Where a loader is in its epochs (any loader with a sampler(): DataLoader, PairedImageLoader).
  Checkpoint& add(const std::string& name, data::EpochSampler& sampler) {
    return add_u64(
        name, 4,
        [&sampler] {
          const auto s = sampler.state();
          return std::vector<std::uint64_t>{std::uint64_t(s.epoch), std::uint64_t(s.position), s.rng.seed,
                                            s.rng.counter};
        },
        [&sampler](const std::vector<std::uint64_t>& v) {
          sampler.set_state({std::int64_t(v[0]), std::int64_t(v[1]), {v[2], v[3]}});
        });
  }
  template <class Loader>
  auto add(const std::string& name, Loader& loader) -> decltype(loader.sampler(), *this) {
    return add(name, loader.sampler());
  }
  Checkpoint& add(const std::string& name, std::int64_t& value) {
    return add_u64(name, 1, [&value] { return std::vector<std::uint64_t>{std::uint64_t(value)}; },
                   [&value](const std::vector<std::uint64_t>& v) { value = std::int64_t(v[0]); });
  }

  // Free-form strings stored next to the tensors (command line, library version, ...).
  std::map<std::string, std::string> metadata;

  void save(const std::string& path) const { write_safetensors(path, to_file()); }
  // Restores every registered object from `path`; returns the file's metadata.
  std::map<std::string, std::string> load(const std::string& path) {
    const TensorFile f = read_safetensors(path);
    restore(f);
    return f.metadata;
  }

  TensorFile to_file() const {
    TensorFile f;
    f.metadata = metadata;
    for (const Slot& s : slots_) f.tensors[s.name] = s.save();
    return f;
  }
  void restore(const TensorFile& f) {
    std::string problems;
    std::map<std::string, bool> expected;
    for (const Slot& s : slots_) {
      expected[s.name] = true;
      auto it = f.tensors.find(s.name);
      if (it == f.tensors.end()) {
        problems += "\n  missing: " + s.name;
      } else if (it->second.dtype != s.dtype || it->second.shape != s.shape) {
        problems += "\n  " + s.name + ": file has " + it->second.dtype + " " + shape_string(it->second.shape) +
                    ", expected " + s.dtype + " " + shape_string(s.shape);
      }
    }
    for (const auto& [name, t] : f.tensors)
      if (!expected.count(name)) problems += "\n  unexpected: " + name;
    if (!problems.empty())
      fail("checkpoint '", f.source, "' does not match what it is loaded into (nothing was loaded):", problems);
    for (const Slot& s : slots_) s.load(f.tensors.at(s.name));
  }

  std::size_t size() const { return slots_.size(); }

 private:
  struct Slot {
    std::string name, dtype;
    std::vector<std::int64_t> shape;
    std::function<StoredTensor()> save;
    std::function<void(const StoredTensor&)> load;
  };

  static std::string join(const std::string& prefix, const std::string& name) {
    return prefix.empty() ? name : prefix + "." + name;
  }

  void add_slot(Slot s) {
    for (const Slot& other : slots_)
      check(other.name != s.name, "Checkpoint::add: the name '", s.name, "' is registered twice");
    slots_.push_back(std::move(s));
  }

  // The tensor handle shares storage with the module/optimizer, so load writes through it.
  template <class T>
  void add_tensor(const std::string& name, Tensor<T> t) {
    add_slot({name, dtype_name<T>(), t.shape().to_vector(),
              [name, t] {
                TensorFile one;
                one.put(name, t);
                return one.tensors.at(name);
              },
              [t](const StoredTensor& s) mutable {
                if (!s.bytes.empty()) std::memcpy(t.data(), s.bytes.data(), s.bytes.size());
              }});
  }

  Checkpoint& add_u64(const std::string& name, std::int64_t n, std::function<std::vector<std::uint64_t>()> get,
                      std::function<void(const std::vector<std::uint64_t>&)> set) {
    add_slot({name, dtype_name<std::uint64_t>(), {n},
              [get] {
                const std::vector<std::uint64_t> v = get();
                StoredTensor s{dtype_name<std::uint64_t>(), {std::int64_t(v.size())}, {}};
                s.bytes.resize(v.size() * sizeof(std::uint64_t));
                std::memcpy(s.bytes.data(), v.data(), s.bytes.size());
                return s;
              },
              [set, n](const StoredTensor& s) {
                std::vector<std::uint64_t> v(std::size_t(n), 0);
                std::memcpy(v.data(), s.bytes.data(), v.size() * sizeof(std::uint64_t));
                set(v);
              }});
    return *this;
  }

  std::vector<Slot> slots_;
};

// A model's weights alone (parameters + buffers, PyTorch names without a prefix), e.g. a
// trained classifier or generator that other programs load.
template <class T>
void save_module(const std::string& path, const nn::Module<T>& module,
                 const std::map<std::string, std::string>& metadata = {}) {
  Checkpoint c;
  c.add("", module).metadata = metadata;
  c.save(path);
}

// Loads weights saved by save_module (or by safetensors.torch.save_file with the same
// names); all-or-nothing with a list of what differs. Returns the file's metadata.
template <class T>
std::map<std::string, std::string> load_module(const std::string& path, nn::Module<T>& module) {
  Checkpoint c;
  return c.add("", module).load(path);
}

}  // namespace gan::io
