#pragma once
// 64-byte aligned raw storage from a caching allocator. Freed blocks go back to a per-size
// free list and are handed out again, never returned to the OS while the process runs:
// a training step allocates the same sizes every iteration, and on the VMs we target a
// freshly faulted page costs ~10 us, so reuse is what makes steady state fault-free.
// Blocks of 2 MiB and more are mapped directly, 2 MiB aligned, with MADV_HUGEPAGE (Linux):
// transparent huge pages fault in ~40x faster than 4 KiB pages on those VMs, which is what
// the first steps of a run pay for, and big conv workspaces need fewer TLB entries.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <vector>

#include "gan/config.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#define GAN_HUGE_BLOCKS 1
#else
#define GAN_HUGE_BLOCKS 0
#endif

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
    if (size >= kHugeBlock)
      if (void* p = map_huge(size)) return p;
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
      for (void* p : blocks) release(p, size);
    free_.clear();
    cached_bytes_ = 0;
  }

  std::size_t cached_bytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_bytes_;
  }

 private:
  static constexpr std::size_t kHugeBlock = std::size_t{2} << 20;

  // An anonymous mapping of `size` bytes at a 2 MiB boundary (the slack around it is
  // unmapped again), advised to use huge pages; null when mmap fails (aligned_alloc then).
  void* map_huge(std::size_t size) {
#if GAN_HUGE_BLOCKS
    const std::size_t len = size + kHugeBlock;
    void* base = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    const std::uintptr_t b = reinterpret_cast<std::uintptr_t>(base);
    const std::uintptr_t a = (b + kHugeBlock - 1) / kHugeBlock * kHugeBlock;
    if (a > b) munmap(base, a - b);
    if (b + len > a + size) munmap(reinterpret_cast<void*>(a + size), b + len - (a + size));
    void* p = reinterpret_cast<void*>(a);
    madvise(p, size, MADV_HUGEPAGE);  // advice only: without THP the block still works
    std::lock_guard<std::mutex> lock(mutex_);
    mapped_.insert(p);
    return p;
#else
    (void)size;
    return nullptr;
#endif
  }

  // Frees one cached block; the caller holds mutex_.
  void release(void* p, std::size_t size) {
#if GAN_HUGE_BLOCKS
    if (mapped_.erase(p)) {
      munmap(p, size);
      return;
    }
#endif
    (void)size;
    std::free(p);
  }

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
  std::set<void*> mapped_;  // blocks from map_huge (munmap, not free)
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
