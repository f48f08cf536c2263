// splitmix64 (Steele, Lea and Flood): tiny, well mixed and the same on every
// platform, unlike the <random> distributions, so whatever the mock derives
// from its seed is reproducible everywhere.
#pragma once

#include <cstdint>

namespace dse {

// The sequence's increment: add it to the state, then mix.
inline constexpr uint64_t kSplitMixGamma = 0x9E3779B97F4A7C15ull;

// The finaliser: a bijection of 64-bit values in which every input bit moves
// about half of the output bits.
constexpr uint64_t SplitMix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace dse
