#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>

#include "gan/core/aligned_buffer.hpp"

using gan::detail::CachingAllocator;

namespace {
bool aligned(const void* p, std::uintptr_t a) { return reinterpret_cast<std::uintptr_t>(p) % a == 0; }
}  // namespace

TEST_CASE("the caching allocator hands a freed block of the same size class back") {
  auto& alloc = CachingAllocator::instance();
  for (std::size_t bytes : {std::size_t{100}, std::size_t{70000}, std::size_t{3} << 20, std::size_t{9} << 20}) {
    INFO("bytes ", bytes);
    std::size_t cap = 0, cap2 = 0;
    void* p = alloc.allocate(bytes, &cap);
    CHECK(cap >= bytes);
    CHECK(cap <= bytes + bytes / 4 + gan::kTensorAlignment);  // at most a quarter wasted
    CHECK(aligned(p, gan::kTensorAlignment));
    if (bytes >= (std::size_t{2} << 20)) CHECK(aligned(p, std::size_t{2} << 20));  // huge-page block
    std::memset(p, 0x5a, bytes);  // the whole block is writable
    alloc.deallocate(p, cap);
    void* q = alloc.allocate(bytes - 1, &cap2);  // same size class: the cached block
    CHECK(q == p);
    CHECK(cap2 == cap);
    alloc.deallocate(q, cap2);
  }
}

TEST_CASE("release_cached returns every cached block, small and mapped") {
  auto& alloc = CachingAllocator::instance();
  std::size_t small_cap = 0, big_cap = 0;
  void* small = alloc.allocate(4096, &small_cap);
  void* big = alloc.allocate(std::size_t{5} << 20, &big_cap);
  alloc.deallocate(small, small_cap);
  alloc.deallocate(big, big_cap);
  CHECK(alloc.cached_bytes() >= small_cap + big_cap);
  alloc.release_cached();
  CHECK(alloc.cached_bytes() == 0);
  std::size_t cap = 0;
  void* again = alloc.allocate(std::size_t{5} << 20, &cap);  // a fresh mapping works after release
  std::memset(again, 1, cap);
  alloc.deallocate(again, cap);
}
