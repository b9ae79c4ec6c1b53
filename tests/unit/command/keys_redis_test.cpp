// extractKeys() against the oracle: `COMMAND GETKEYS` of a real redis-server started on a free
// loopback port (stopped by its pid). Skipped when redis-server cannot be started.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "command/command.h"
#include "resp_frame.h"

namespace sy::command {
namespace {

class RedisServer {
 public:
  RedisServer() {
    port_ = freePort();
    if (port_ == 0) return;
    const std::string port = std::to_string(port_);
    pid_ = fork();
    if (pid_ == 0) {
      execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", "/tmp", "--loglevel", "warning",
             static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int attempt = 0; attempt < 200 && fd_ < 0; ++attempt) {
      fd_ = connectTo(port_);
      if (fd_ < 0) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  ~RedisServer() {
    if (fd_ >= 0) close(fd_);
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  bool ok() const { return fd_ >= 0; }

  // Sends one command; returns its raw reply ("" on a socket error).
  std::string call(const std::vector<std::string_view>& args) {
    std::string request = "*" + std::to_string(args.size()) + "\r\n";
    for (std::string_view arg : args) {
      request += "$" + std::to_string(arg.size()) + "\r\n";
      request += arg;
      request += "\r\n";
    }
    if (write(fd_, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
      return "";
    }
    std::string reply;
    char buffer[4096];
    while (frameAt(reply, 0).end != reply.size()) {
      const ssize_t n = read(fd_, buffer, sizeof(buffer));
      if (n <= 0) return "";
      reply.append(buffer, static_cast<size_t>(n));
    }
    return reply;
  }

 private:
  static uint16_t freePort() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    uint16_t port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    close(fd);
    return port;
  }
  static int connectTo(uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return fd;
    close(fd);
    return -1;
  }

  uint16_t port_ = 0;
  pid_t pid_ = -1;
  int fd_ = -1;
};

// The key names Redis reports, sorted; empty for an error or no keys.
std::vector<std::string> redisKeys(RedisServer& redis, std::vector<std::string_view> args) {
  args.insert(args.begin(), {"COMMAND", "GETKEYS"});
  const std::string reply = redis.call(args);
  std::vector<std::string> keys;
  for (const Frame& frame : elements(reply, 0)) keys.emplace_back(bulk(reply, frame));
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::vector<std::string> ourKeys(const CommandInfo& command,
                                 const std::vector<std::string_view>& args) {
  std::vector<uint32_t> positions;
  std::vector<std::string> keys;
  if (extractKeys(command, args, positions)) {
    for (uint32_t position : positions) keys.emplace_back(args[position]);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

class KeysAgainstRedis : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis_.ok()) GTEST_SKIP() << "redis-server could not be started";
  }

  // Returns how many keys Redis found, so tests can prove they compared real keys.
  size_t expectSameKeys(const std::vector<std::string_view>& args) {
    const CommandInfo* command = findCommand(args);
    EXPECT_NE(command, nullptr) << args[0];
    if (command == nullptr) return 0;
    std::string line;
    for (std::string_view arg : args) line += std::string(arg) + " ";
    const std::vector<std::string> expected = redisKeys(redis_, args);
    EXPECT_EQ(ourKeys(*command, args), expected) << line;
    return expected.size();
  }

  RedisServer redis_;
};

TEST_F(KeysAgainstRedis, HandPickedRequests) {
  const std::vector<std::vector<std::string_view>> requests = {
      {"get", "k"},
      {"mset", "a", "1", "b", "2", "c", "3"},
      {"mget", "a", "b", "c"},
      {"del", "a", "b"},
      {"eval", "s", "0"},
      {"eval", "s", "2", "a", "b", "x"},
      {"eval", "s", "3", "a", "b"},
      {"eval", "s", "-1", "a"},
      {"eval", "s", "two", "a"},
      {"fcall", "f", "1", "a", "x"},
      {"zunionstore", "d", "2", "a", "b", "WEIGHTS", "1", "2"},
      {"zinterstore", "d", "3", "a", "b"},
      {"sintercard", "2", "a", "b", "LIMIT", "1"},
      {"lmpop", "2", "a", "b", "LEFT"},
      {"xread", "STREAMS", "a", "b", "0", "0"},
      {"xread", "COUNT", "2", "BLOCK", "10", "STREAMS", "a", "0"},
      {"xreadgroup", "GROUP", "g", "c", "STREAMS", "a", "b", ">", ">"},
      {"sort", "l", "BY", "w", "LIMIT", "0", "1", "GET", "#", "STORE", "d"},
      {"sort", "l", "store", "a", "STORE", "b"},
      {"sort_ro", "l", "BY", "w"},
      {"georadius", "g", "0", "0", "1", "km", "STORE", "d"},
      {"georadius", "g", "0", "0", "1", "km", "STOREDIST", "d"},
      {"georadiusbymember", "g", "m", "1", "km", "STORE", "d"},
      {"object", "encoding", "k"},
      {"memory", "usage", "k"},
      {"bitop", "AND", "d", "a", "b"},
      {"xinfo", "stream", "s"},
      {"xgroup", "create", "s", "g", "$"},
      {"set", "k", "v", "GET"},
      {"bitfield", "k", "GET", "u8", "0"},
  };
  size_t keys = 0;
  for (const auto& request : requests) keys += expectSameKeys(request);
  EXPECT_GE(keys, 40u);
}

// Every command that can be forwarded, at every argument count up to its arity plus four,
// with numeric arguments (so keynum specs read a count) and with words.
TEST_F(KeysAgainstRedis, EveryForwardedCommand) {
  std::vector<std::string> storage;
  size_t keys = 0;
  for (const CommandInfo& top : allCommands()) {
    std::vector<const CommandInfo*> commands{&top};
    for (const CommandInfo& sub : top.subcommands) commands.push_back(&sub);
    for (const CommandInfo* command : commands) {
      if (command->handling != Handling::kForward && command->handling != Handling::kSplit) {
        continue;
      }
      const size_t min_args = static_cast<size_t>(std::abs(command->arity));
      const size_t max_args = command->arity > 0 ? min_args : min_args + 4;
      for (size_t argc = min_args; argc <= max_args; ++argc) {
        for (bool numeric : {true, false}) {
          storage.clear();
          const size_t bar = command->name.find('|');
          storage.emplace_back(command->name.substr(0, bar));
          if (bar != std::string_view::npos) storage.emplace_back(command->name.substr(bar + 1));
          while (storage.size() < argc) {
            storage.push_back((numeric ? "" : "k") + std::to_string(storage.size()));
          }
          keys += expectSameKeys(std::vector<std::string_view>(storage.begin(), storage.end()));
        }
      }
    }
  }
  EXPECT_GE(keys, 1000u);
}

}  // namespace
}  // namespace sy::command
