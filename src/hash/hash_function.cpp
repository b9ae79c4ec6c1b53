// The twelve twemproxy key hashes. Each one reproduces nutcracker 0.5.0 built for x86-64, where
// C `char` is signed: wherever nutcracker widens a `char`, we widen an explicit int8_t, so the
// result is the same on platforms whose `char` is unsigned (twemproxy-compat.md C2).
#include "hash/hash_function.h"

#include <array>
#include <cstddef>

#include "hash/md5.h"

namespace sy::hash {
namespace {

struct NamedFunction {
  HashFunction function;
  std::string_view name;
};

constexpr NamedFunction kNames[] = {
    {HashFunction::kOneAtATime, "one_at_a_time"},
    {HashFunction::kMd5, "md5"},
    {HashFunction::kCrc16, "crc16"},
    {HashFunction::kCrc32, "crc32"},
    {HashFunction::kCrc32a, "crc32a"},
    {HashFunction::kFnv1_64, "fnv1_64"},
    {HashFunction::kFnv1a_64, "fnv1a_64"},
    {HashFunction::kFnv1_32, "fnv1_32"},
    {HashFunction::kFnv1a_32, "fnv1a_32"},
    {HashFunction::kHsieh, "hsieh"},
    {HashFunction::kMurmur, "murmur"},
    {HashFunction::kJenkins, "jenkins"},
};

// A key byte as nutcracker's x86-64 build sees it: a signed char widened to 32 bits.
inline uint32_t signedByte32(char c) {
  return static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(c)));
}
inline uint64_t signedByte64(char c) {
  return static_cast<uint64_t>(static_cast<int64_t>(static_cast<int8_t>(c)));
}
inline uint32_t unsignedByte(char c) { return static_cast<uint8_t>(c); }

inline uint32_t load16le(const char* p) { return unsignedByte(p[0]) | (unsignedByte(p[1]) << 8); }
inline uint32_t load32le(const char* p) { return load16le(p) | (load16le(p + 2) << 16); }
inline uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

constexpr std::array<uint16_t, 256> makeCrc16Table() {
  std::array<uint16_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i << 8;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
    }
    table[i] = static_cast<uint16_t>(crc);
  }
  return table;
}

constexpr std::array<uint32_t, 256> makeCrc32Table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
    }
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint16_t, 256> kCrc16Table = makeCrc16Table();
constexpr std::array<uint32_t, 256> kCrc32Table = makeCrc32Table();

constexpr uint64_t kFnv64Basis = 0xcbf29ce484222325ull;
constexpr uint64_t kFnv64Prime = 0x100000001b3ull;
constexpr uint32_t kFnv32Basis = 2166136261u;
constexpr uint32_t kFnv32Prime = 16777619u;

uint32_t oneAtATime(std::string_view key) {
  uint32_t value = 0;
  for (char c : key) {
    value += signedByte32(c);
    value += value << 10;
    value ^= value >> 6;
  }
  value += value << 3;
  value ^= value >> 11;
  value += value << 15;
  return value;
}

// The first four digest bytes, little-endian.
uint32_t md5Hash(std::string_view key) {
  const Md5Digest digest = md5Digest(key);
  return uint32_t{digest[0]} | (uint32_t{digest[1]} << 8) | (uint32_t{digest[2]} << 16) |
         (uint32_t{digest[3]} << 24);
}

// The accumulator is 32 bits wide and never masked: bits above 16 leak into the result.
uint32_t crc16Unmasked(std::string_view key) {
  uint32_t crc = 0;
  for (char c : key) {
    crc = (crc << 8) ^ kCrc16Table[((crc >> 8) ^ unsignedByte(c)) & 0xff];
  }
  return crc;
}

// The reflected CRC-32 register before the final inversion.
uint32_t crc32Register(std::string_view key) {
  uint32_t crc = 0xffffffffu;
  for (char c : key) {
    crc = (crc >> 8) ^ kCrc32Table[(crc ^ unsignedByte(c)) & 0xff];
  }
  return crc;
}

uint32_t crc32Ieee(std::string_view key) { return ~crc32Register(key); }

// libmemcached's variant: 15 bits of the finished CRC-32.
uint32_t crc32Libmemcached(std::string_view key) { return (crc32Ieee(key) >> 16) & 0x7fff; }

uint32_t fnv1_64(std::string_view key) {
  uint64_t hash = kFnv64Basis;
  for (char c : key) {
    hash *= kFnv64Prime;
    hash ^= signedByte64(c);
  }
  return static_cast<uint32_t>(hash);
}

// Despite the name, 32-bit FNV-1a with the 64-bit constants truncated.
uint32_t fnv1a_64(std::string_view key) {
  uint32_t hash = static_cast<uint32_t>(kFnv64Basis);
  for (char c : key) {
    hash ^= signedByte32(c);
    hash *= static_cast<uint32_t>(kFnv64Prime);
  }
  return hash;
}

uint32_t fnv1_32(std::string_view key) {
  uint32_t hash = kFnv32Basis;
  for (char c : key) {
    hash *= kFnv32Prime;
    hash ^= signedByte32(c);
  }
  return hash;
}

uint32_t fnv1a_32(std::string_view key) {
  uint32_t hash = kFnv32Basis;
  for (char c : key) {
    hash ^= signedByte32(c);
    hash *= kFnv32Prime;
  }
  return hash;
}

// SuperFastHash seeded with 0. The 3-byte tail widens its last byte as a signed char; the
// 1-byte tail reads it unsigned, as nutcracker does.
uint32_t hsieh(std::string_view key) {
  if (key.empty()) {
    return 0;
  }
  const char* p = key.data();
  uint32_t hash = 0;
  for (size_t blocks = key.size() / 4; blocks > 0; --blocks, p += 4) {
    hash += load16le(p);
    const uint32_t tmp = (load16le(p + 2) << 11) ^ hash;
    hash = (hash << 16) ^ tmp;
    hash += hash >> 11;
  }
  switch (key.size() % 4) {
    case 3:
      hash += load16le(p);
      hash ^= hash << 16;
      hash ^= signedByte32(p[2]) << 18;
      hash += hash >> 11;
      break;
    case 2:
      hash += load16le(p);
      hash ^= hash << 11;
      hash += hash >> 17;
      break;
    case 1:
      hash += unsignedByte(p[0]);
      hash ^= hash << 10;
      hash += hash >> 1;
      break;
    default:
      break;
  }
  hash ^= hash << 3;
  hash += hash >> 5;
  hash ^= hash << 4;
  hash += hash >> 17;
  hash ^= hash << 25;
  hash += hash >> 6;
  return hash;
}

// MurmurHash2 with nutcracker's length-dependent seed.
uint32_t murmur(std::string_view key) {
  constexpr uint32_t kM = 0x5bd1e995;
  constexpr int kR = 24;
  const auto length = static_cast<uint32_t>(key.size());
  uint32_t h = (0xdeadbeefu * length) ^ length;
  const char* p = key.data();
  size_t remaining = key.size();
  for (; remaining >= 4; remaining -= 4, p += 4) {
    uint32_t k = load32le(p);
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h *= kM;
    h ^= k;
  }
  switch (remaining) {
    case 3:
      h ^= unsignedByte(p[2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= unsignedByte(p[1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= unsignedByte(p[0]);
      h *= kM;
      break;
    default:
      break;
  }
  h ^= h >> 13;
  h *= kM;
  h ^= h >> 15;
  return h;
}

inline void jenkinsMix(uint32_t& a, uint32_t& b, uint32_t& c) {
  a -= c, a ^= rotl(c, 4), c += b;
  b -= a, b ^= rotl(a, 6), a += c;
  c -= b, c ^= rotl(b, 8), b += a;
  a -= c, a ^= rotl(c, 16), c += b;
  b -= a, b ^= rotl(a, 19), a += c;
  c -= b, c ^= rotl(b, 4), b += a;
}

inline void jenkinsFinal(uint32_t& a, uint32_t& b, uint32_t& c) {
  c ^= b, c -= rotl(b, 14);
  a ^= c, a -= rotl(c, 11);
  b ^= a, b -= rotl(a, 25);
  c ^= b, c -= rotl(b, 16);
  a ^= c, a -= rotl(c, 4);
  b ^= a, b -= rotl(a, 14);
  c ^= b, c -= rotl(b, 24);
}

// The first `count` (< 4 or == 4) bytes at p, little-endian, zero-padded.
inline uint32_t loadPartial(const char* p, size_t count) {
  uint32_t value = 0;
  for (size_t i = 0; i < count; ++i) {
    value |= unsignedByte(p[i]) << (8 * i);
  }
  return value;
}

// Bob Jenkins' lookup3 hashlittle() with initval 13; returns c.
uint32_t jenkins(std::string_view key) {
  constexpr uint32_t kInitval = 13;
  size_t length = key.size();
  uint32_t a = 0xdeadbeefu + static_cast<uint32_t>(length) + kInitval;
  uint32_t b = a;
  uint32_t c = a;
  const char* p = key.data();
  for (; length > 12; length -= 12, p += 12) {
    a += load32le(p);
    b += load32le(p + 4);
    c += load32le(p + 8);
    jenkinsMix(a, b, c);
  }
  if (length == 0) {
    return c;
  }
  // The last 1..12 bytes, zero-padded, feed a, b, c in that order.
  a += loadPartial(p, length < 4 ? length : 4);
  if (length > 4) {
    b += loadPartial(p + 4, length < 8 ? length - 4 : 4);
  }
  if (length > 8) {
    c += loadPartial(p + 8, length - 8);
  }
  jenkinsFinal(a, b, c);
  return c;
}

}  // namespace

std::string_view hashFunctionName(HashFunction function) {
  for (const NamedFunction& entry : kNames) {
    if (entry.function == function) {
      return entry.name;
    }
  }
  return "unknown";
}

std::optional<HashFunction> parseHashFunction(std::string_view name) {
  for (const NamedFunction& entry : kNames) {
    if (entry.name == name) {
      return entry.function;
    }
  }
  return std::nullopt;
}

uint32_t hashBytes(HashFunction function, std::string_view key) {
  switch (function) {
    case HashFunction::kOneAtATime:
      return oneAtATime(key);
    case HashFunction::kMd5:
      return md5Hash(key);
    case HashFunction::kCrc16:
      return crc16Unmasked(key);
    case HashFunction::kCrc32:
      return crc32Libmemcached(key);
    case HashFunction::kCrc32a:
      return crc32Ieee(key);
    case HashFunction::kFnv1_64:
      return fnv1_64(key);
    case HashFunction::kFnv1a_64:
      return fnv1a_64(key);
    case HashFunction::kFnv1_32:
      return fnv1_32(key);
    case HashFunction::kFnv1a_32:
      return fnv1a_32(key);
    case HashFunction::kHsieh:
      return hsieh(key);
    case HashFunction::kMurmur:
      return murmur(key);
    case HashFunction::kJenkins:
      return jenkins(key);
  }
  return 0;
}

}  // namespace sy::hash
