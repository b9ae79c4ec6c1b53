// SocketBatch gives the results recv(2)/send(2) with MSG_DONTWAIT would give, entry by
// entry, whether it runs through io_uring or as one system call each.
#include "server/socket_batch.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace sy::server {
namespace {

using Mode = SocketBatch::Mode;

// A connected stream socket pair, closed at the end of the test.
struct SocketPair {
  int near = -1;
  int far = -1;
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    near = fds[0];
    far = fds[1];
  }
  ~SocketPair() {
    if (near >= 0) ::close(near);
    if (far >= 0) ::close(far);
  }
  void closeFar() {
    ::close(far);
    far = -1;
  }
};

class SocketBatchTest : public ::testing::TestWithParam<Mode> {};

TEST_P(SocketBatchTest, ModeIsTheOneAskedForOrSaysWhyNot) {
  SocketBatch batch(8, GetParam());
  if (GetParam() == Mode::kSyscalls) {
    EXPECT_EQ(batch.mode(), Mode::kSyscalls);
    EXPECT_STREQ(batch.whyNotIoUring(), "turned off");
  } else if (batch.mode() == Mode::kSyscalls) {
    EXPECT_STRNE(batch.whyNotIoUring(), "");  // a kernel or policy without io_uring
  }
}

TEST_P(SocketBatchTest, RecvOnAnEmptySocketIsEagainAndDoesNotWait) {
  SocketPair pair;
  SocketBatch batch(4, GetParam());
  char buffer[16];
  batch.addRecv(pair.near, buffer);
  batch.run();
  EXPECT_EQ(batch.result(0), -EAGAIN);
}

TEST_P(SocketBatchTest, ManySocketsMoveTheirOwnBytesInOneRun) {
  constexpr int kPairs = 10;
  std::vector<SocketPair> pairs(kPairs);
  SocketBatch batch(2 * kPairs, GetParam());
  std::vector<std::string> messages;
  for (int i = 0; i < kPairs; ++i) messages.push_back("message " + std::to_string(i * 7919));
  for (int i = 0; i < kPairs; ++i) batch.addSend(pairs[i].near, messages[i]);
  batch.run();
  for (int i = 0; i < kPairs; ++i) {
    EXPECT_EQ(batch.result(i), static_cast<ssize_t>(messages[i].size())) << i;
  }
  batch.clear();
  std::vector<std::vector<char>> received(kPairs, std::vector<char>(64));
  // Reverse order: each result belongs to its own entry, whatever order they complete in.
  for (int i = kPairs - 1; i >= 0; --i) batch.addRecv(pairs[i].far, received[i]);
  batch.run();
  for (int k = 0; k < kPairs; ++k) {
    int i = kPairs - 1 - k;
    ASSERT_EQ(batch.result(k), static_cast<ssize_t>(messages[i].size())) << i;
    EXPECT_EQ(std::string(received[i].data(), messages[i].size()), messages[i]);
  }
}

TEST_P(SocketBatchTest, RecvAfterThePeerClosedIsZero) {
  SocketPair pair;
  pair.closeFar();
  SocketBatch batch(4, GetParam());
  char buffer[16];
  batch.addRecv(pair.near, buffer);
  batch.run();
  EXPECT_EQ(batch.result(0), 0);
}

TEST_P(SocketBatchTest, SendToAClosedPeerIsAnErrorWithoutSigpipe) {
  SocketPair pair;
  pair.closeFar();
  SocketBatch batch(4, GetParam());
  batch.addSend(pair.near, std::string_view("lost"));
  batch.run();  // SIGPIPE would kill the test here
  EXPECT_EQ(batch.result(0), -EPIPE);
}

TEST_P(SocketBatchTest, AFullSocketTakesPartThenIsEagain) {
  SocketPair pair;
  int small = 4096;
  ASSERT_EQ(::setsockopt(pair.near, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
  std::vector<char> big(4 * 1024 * 1024, 'x');
  SocketBatch batch(4, GetParam());
  batch.addSend(pair.near, big);
  batch.run();
  ASSERT_GT(batch.result(0), 0);
  EXPECT_LT(batch.result(0), static_cast<ssize_t>(big.size()));
  batch.clear();
  batch.addSend(pair.near, big);
  batch.run();
  EXPECT_EQ(batch.result(0), -EAGAIN);
}

TEST_P(SocketBatchTest, ABadDescriptorFailsOnlyItsOwnEntry) {
  SocketPair pair;
  SocketBatch batch(4, GetParam());
  char buffer[16];
  batch.addRecv(-1, buffer);
  batch.addSend(pair.near, std::string_view("ok"));
  batch.run();
  EXPECT_EQ(batch.result(0), -EBADF);
  EXPECT_EQ(batch.result(1), 2);
}

TEST_P(SocketBatchTest, FillsToCapacityAndRunsAgainAfterClear) {
  SocketPair pair;
  SocketBatch batch(3, GetParam());
  for (int round = 0; round < 100; ++round) {
    ASSERT_EQ(batch.size(), 0u);
    for (int i = 0; i < 3; ++i) batch.addSend(pair.near, std::string_view("a"));
    EXPECT_TRUE(batch.full());
    batch.run();
    for (int i = 0; i < 3; ++i) ASSERT_EQ(batch.result(i), 1) << round;
    batch.clear();
    char buffer[8];
    batch.addRecv(pair.far, buffer);
    batch.run();
    ASSERT_EQ(batch.result(0), 3) << round;
    batch.clear();
  }
}

TEST(SocketBatch, RefusesAZeroCapacity) {
  EXPECT_THROW(SocketBatch(0, Mode::kSyscalls), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Modes, SocketBatchTest, ::testing::Values(Mode::kIoUring, Mode::kSyscalls),
                         [](const auto& param_info) {
                           return param_info.param == Mode::kIoUring ? "IoUring" : "Syscalls";
                         });

}  // namespace
}  // namespace sy::server
