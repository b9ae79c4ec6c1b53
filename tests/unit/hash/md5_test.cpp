#include "hash/md5.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace sy::hash {
namespace {

std::string hex(const Md5Digest& digest) {
  std::string out;
  for (uint8_t byte : digest) {
    char buf[3];
    std::snprintf(buf, sizeof buf, "%02x", byte);
    out += buf;
  }
  return out;
}

// RFC 1321, appendix A.5.
TEST(Md5, RfcTestSuite) {
  EXPECT_EQ(hex(md5Digest("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(hex(md5Digest("a")), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(hex(md5Digest("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(hex(md5Digest("message digest")), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(hex(md5Digest("abcdefghijklmnopqrstuvwxyz")), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(hex(md5Digest("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(hex(md5Digest("1234567890123456789012345678901234567890123456789012345678901234567890"
                          "1234567890")),
            "57edf4a22be3c955ac49da2e2107b67a");
}

// Lengths around the padding boundaries: 55 bytes fit one final block, 56..63 need two.
TEST(Md5, PaddingBoundaries) {
  EXPECT_EQ(hex(md5Digest(std::string(55, 'a'))), "ef1772b6dff9a122358552954ad0df65");
  EXPECT_EQ(hex(md5Digest(std::string(56, 'a'))), "3b0c8ac703f828b04c6c197006d17218");
  EXPECT_EQ(hex(md5Digest(std::string(63, 'a'))), "b06521f39153d618550606be297466d5");
  EXPECT_EQ(hex(md5Digest(std::string(64, 'a'))), "014842d480b571495a4a0363793f7367");
  EXPECT_EQ(hex(md5Digest(std::string(65, 'a'))), "c743a45e0d2e6a95cb859adae0248435");
  EXPECT_EQ(hex(md5Digest(std::string(1000000, 'a'))), "7707d6ae4e027c70eea2a935c2296f21");
}

TEST(Md5, BinaryInput) {
  const std::string zeros(3, '\0');
  EXPECT_EQ(hex(md5Digest(zeros)), "693e9af84d3dfcc71e640e005bdc5e2e");
  EXPECT_EQ(hex(md5Digest("\xff\xfe\x80")), "45a6eeda47eb0845d0095f2f0576e2f7");
}

}  // namespace
}  // namespace sy::hash
