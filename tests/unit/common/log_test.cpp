#include "common/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sy::common {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ProcessLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("sy-log-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    path_ = dir_ / "proxy.log";
  }
  void TearDown() override {
    ProcessLog to_stderr("", 5);  // the file loggers go; later tests log to stderr again
    fs::remove_all(dir_);
  }

  fs::path dir_;
  fs::path path_;
};

TEST_F(ProcessLogTest, ReopenFollowsARename) {
  ProcessLog log(path_.string(), 5);
  spdlog::info("before the rotation");
  fs::rename(path_, dir_ / "proxy.log.1");
  spdlog::info("still to the renamed file");
  ASSERT_TRUE(log.reopen().ok());
  spdlog::info("after the rotation");
  EXPECT_NE(readFile(dir_ / "proxy.log.1").find("still to the renamed file"), std::string::npos);
  std::string fresh = readFile(path_);
  EXPECT_NE(fresh.find("after the rotation"), std::string::npos);
  EXPECT_EQ(fresh.find("before the rotation"), std::string::npos);
}

TEST_F(ProcessLogTest, AFailedReopenKeepsTheOldFile) {
  fs::create_directories(dir_ / "sub");
  ProcessLog log((dir_ / "sub" / "proxy.log").string(), 5);
  fs::rename(dir_ / "sub", dir_ / "moved");
  auto reopened = log.reopen();
  ASSERT_FALSE(reopened.ok());
  EXPECT_NE(reopened.error().message.find("cannot reopen log file"), std::string::npos);
  spdlog::info("into the old file");
  EXPECT_NE(readFile(dir_ / "moved" / "proxy.log").find("into the old file"), std::string::npos);
}

TEST_F(ProcessLogTest, VerbosityMovesOneStepWithinBounds) {
  ProcessLog log(path_.string(), 6);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info);
  EXPECT_EQ(log.changeVerbosity(1), 7);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::debug);
  EXPECT_EQ(log.changeVerbosity(-1), 6);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info);
  for (int i = 0; i < 20; ++i) log.changeVerbosity(1);
  EXPECT_EQ(log.verbosity(), kMaxVerbosity);
  for (int i = 0; i < 20; ++i) log.changeVerbosity(-1);
  EXPECT_EQ(log.verbosity(), 0);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::err);
  EXPECT_NE(readFile(path_).find("log verbosity now 0 (error)"), std::string::npos);
}

TEST_F(ProcessLogTest, ReopenOnStderrDoesNothing) {
  ProcessLog log("", 5);
  EXPECT_TRUE(log.reopen().ok());
}

}  // namespace
}  // namespace sy::common
