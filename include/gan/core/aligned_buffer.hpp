#pragma once
// 64-byte aligned raw storage from a caching allocator. Freed blocks go back to a per-size
// free list and are handed out again, never returned to the OS while the process runs:
// a training step allocates the same sizes every iteration, and on the VMs we target a
// freshly faulted page costs ~10 us, so reuse is what makes steady state fault-free.

#include <cstddef>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "gan/config.hpp"

namespace gan {
namespace detail {

class CachingAllocator {
 public:
  static CachingAllocator& instance() {
    // Leaked on purpose: tensors with static storage duration may be freed after main().
    static CachingAllocator* allocator = new CachingAllocator();
    return *allocator;
  }

  // Returns at least `bytes` bytes aligned to kTensorAlignment; *capacity gets the block size.
  void* allocate(std::size_t bytes, std::size_t* capacity) {
    std::size_t size = size_class(bytes);
    *capacity = size;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= size;
        return p;
      }
    }
    void* p = std::aligned_alloc(kTensorAlignment, size);
    if (!p) throw std::bad_alloc();
    return p;
  }

  void deallocate(void* p, std::size_t capacity) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_[capacity].push_back(p);
    cached_bytes_ += capacity;
  }

  // Gives every cached block back to the system (e.g. between unrelated experiments).
  void release_cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [size, blocks] : free_)
      for (void* p : blocks) std::free(p);
    free_.clear();
    cached_bytes_ = 0;
  }

  std::size_t cached_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_bytes_;
  }

 private:
  // Rounds up to a multiple of the alignment, then to one of four steps per power of two,
  // so blocks are reused across slightly different sizes while wasting at most 25%.
  static std::size_t size_class(std::size_t bytes) {
    std::size_t n = (bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
    if (n < kTensorAlignment) n = kTensorAlignment;
    std::size_t pow2 = kTensorAlignment;
    while (pow2 * 2 <= n) pow2 *= 2;
    std::size_t step = pow2 / 4 < kTensorAlignment ? kTensorAlignment : pow2 / 4;
    return (n + step - 1) / step * step;
  }

  CachingAllocator() = default;
  mutable std::mutex mutex_;
  std::map<std::size_t, std::vector<void*>> free_;
  std::size_t cached_bytes_ = 0;
};

// Owning block of raw bytes; returns itself to the cache on destruction.
class Storage {
 public:
  explicit Storage(std::size_t bytes)
      : data_(bytes ? CachingAllocator::instance().allocate(bytes, &capacity_) : nullptr),
        bytes_(bytes) {}
  ~Storage() {
    if (data_) CachingAllocator::instance().deallocate(data_, capacity_);
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  std::size_t bytes() const { return bytes_; }

 private:
  std::size_t capacity_ = 0;
  void* data_;
  std::size_t bytes_;
};

}  // namespace detail
}  // namespace gan
