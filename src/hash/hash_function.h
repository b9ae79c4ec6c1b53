// The twelve key hash functions of twemproxy, bit-compatible with nutcracker 0.5.0 on x86-64
// (see ../shared/twemproxy-compat.md, C2), on every platform.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sy::hash {

enum class HashFunction {
  kOneAtATime,
  kMd5,
  kCrc16,
  kCrc32,
  kCrc32a,
  kFnv1_64,
  kFnv1a_64,
  kFnv1_32,
  kFnv1a_32,
  kHsieh,
  kMurmur,
  kJenkins,
};

inline constexpr HashFunction kAllHashFunctions[] = {
    HashFunction::kOneAtATime, HashFunction::kMd5,     HashFunction::kCrc16,
    HashFunction::kCrc32,      HashFunction::kCrc32a,  HashFunction::kFnv1_64,
    HashFunction::kFnv1a_64,   HashFunction::kFnv1_32, HashFunction::kFnv1a_32,
    HashFunction::kHsieh,      HashFunction::kMurmur,  HashFunction::kJenkins,
};

// The config name, as nutcracker.yml spells it ("fnv1a_64", "one_at_a_time", ...).
std::string_view hashFunctionName(HashFunction function);
// The function for a config name; nullopt when the name is not one of the twelve.
std::optional<HashFunction> parseHashFunction(std::string_view name);

// The 32-bit hash of `key` (the bytes after hash-tag extraction), as nutcracker computes it.
uint32_t hashBytes(HashFunction function, std::string_view key);

}  // namespace sy::hash
