// The header scalable's checked mode keeps in front of each small block it hands out, in the manner
// of Scudo's chunk headers: the free reads the line it is about to fill anyway, instead of a word in
// a far index (allocator/checked_registry.h, which the other resources and scalable's large or
// over-aligned blocks still use).
//
//   engine block:  [link word | header word][requested bytes][canary][rest of the class's block]
//                   ^block     ^p - 8        ^p = block + 16
//
// The first 8 bytes are left to the engine's free lists (their link word); the header word holds the
// requested size, log2 alignment and state (live or quarantined) with a 16-bit checksum of the size
// and alignment keyed by a per-resource secret and the block's address. So a header copied from elsewhere, one left by an
// earlier resource or by this one before release() (which changes the secret), or one overwritten by
// a stray write, does not pass for a live block. A free compares the whole word with the one its own
// size and alignment give (one compare for checksum, state, size and alignment) and moves it to
// quarantined with one compare-and-swap: of two threads freeing one block at once, exactly one wins.
// A block leaving quarantine gets the word 0 (no block), before the engine may hand it out again.
//
// The caller must know that p - 16 is a block start of its own spans before reading the word
// (checked_span_map.h): a wild pointer is never dereferenced.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "allocator/asan_poison.h"
#include "allocator/checked_block.h"

namespace allocbench::detail {

inline constexpr std::size_t kCheckedHeaderBytes = 16;
// What checked mode adds to every request of scalable: the header and the canary. Blocks served
// through the registry get the same (their canary right after the requested end) so that the
// statistics subtract one constant per block.
inline constexpr std::size_t kCheckedOverhead = kCheckedHeaderBytes + kCanaryBytes;
// The header keeps p 16-byte aligned: larger alignments go through the registry.
inline constexpr std::size_t kCheckedHeaderMaxAlignment = 16;

class checked_header {
 public:
  static constexpr std::uint64_t kLive = 1;
  static constexpr std::uint64_t kQuarantined = 2;

  // The word a block at p of `bytes` and `alignment` has in `state`.
  // Layout: checksum (16) | requested bytes (32) | unused (8) | log2 alignment (6) | state (2).
  static std::uint64_t word(std::uint64_t secret, const void* p, std::size_t bytes, std::size_t alignment,
                            std::uint64_t state) noexcept {
    const std::uint64_t body = (std::uint64_t(bytes) << 16) | (std::uint64_t(std::countr_zero(alignment)) << 2);
    return body | state | (checksum(secret, p, body) << 48);
  }
  // The same block's word in the other state (live <-> quarantined): the checksum does not cover the
  // state, so a free computes one word and flips two bits for the other.
  static std::uint64_t flipped(std::uint64_t w) noexcept { return w ^ (kLive ^ kQuarantined); }

  // What an unexpected word says (the slow path of a free): whether its checksum holds, and then its
  // state, bytes and alignment.
  static bool intact(std::uint64_t secret, const void* p, std::uint64_t w) noexcept {
    const std::uint64_t body = w & ((std::uint64_t(1) << 48) - 1) & ~std::uint64_t(3);
    return (w >> 48) == checksum(secret, p, body);
  }
  static std::uint64_t state_of(std::uint64_t w) noexcept { return w & 3; }
  static std::size_t bytes_of(std::uint64_t w) noexcept { return std::size_t((w >> 16) & 0xffffffffu); }
  static std::size_t alignment_of(std::uint64_t w) noexcept { return std::size_t(1) << ((w >> 2) & 63); }

  // The word of the block whose user pointer is p (atomic: two threads may free one block at once).
  static std::atomic_ref<std::uint64_t> at(void* p) noexcept {
    return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(static_cast<char*>(p) - 8));
  }

  // Whether the word can be read: under AddressSanitizer a block the engine holds free is poisoned
  // past its link word, so a free of it must not read it (it is no live block either).
  static bool readable(const void* p) noexcept {
#ifdef ALLOCBENCH_ASAN
    return !__asan_address_is_poisoned(static_cast<const char*>(p) - 8);
#else
    (void)p;
    return true;
#endif
  }

 private:
  // Keyed by the secret (odd) and the address; the multiply carries every input bit into the top 16.
  static std::uint64_t checksum(std::uint64_t secret, const void* p, std::uint64_t body) noexcept {
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    return ((body ^ a ^ (a << 36)) * secret) >> 48;
  }
};

}  // namespace allocbench::detail
