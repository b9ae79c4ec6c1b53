#include "common/log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace sy::common {

spdlog::level::level_enum levelForVerbosity(int verbosity) {
  // nutcracker: 0 emerg .. 3 error, 4 warn, 5 notice, 6 info, 7+ debug/verbose.
  if (verbosity <= 3) return spdlog::level::err;
  if (verbosity == 4) return spdlog::level::warn;
  if (verbosity <= 6) return spdlog::level::info;
  if (verbosity <= 8) return spdlog::level::debug;
  return spdlog::level::trace;
}

namespace {

constexpr const char* kPattern = "[%Y-%m-%d %H:%M:%S.%e] %^%l%$ %v";

void install(std::shared_ptr<spdlog::logger> logger, int verbosity) {
  logger->set_level(levelForVerbosity(verbosity));
  logger->set_pattern(kPattern);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

// fopen in append mode, line-buffered, or a runtime_error naming the file and the reason.
std::FILE* openForAppend(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "ae");
  if (file == nullptr) {
    throw std::runtime_error(std::strerror(errno));
  }
  // One write per line, as nutcracker writes: `tail -f` and a crash lose nothing.
  std::setvbuf(file, nullptr, _IOLBF, 0);
  return file;
}

}  // namespace

// A file sink whose file can be opened again at the same path while other threads log: the
// swap happens under base_sink's mutex, which every write and flush also holds.
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit ReopenableFileSink(const std::string& path) : path_(path), file_(openForAppend(path)) {}
  ~ReopenableFileSink() override { std::fclose(file_); }
  ReopenableFileSink(const ReopenableFileSink&) = delete;
  ReopenableFileSink& operator=(const ReopenableFileSink&) = delete;

  // Throws std::runtime_error (the old file stays open) when the path cannot be opened.
  void reopen() {
    std::FILE* fresh = openForAppend(path_);
    std::FILE* old = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      std::fflush(file_);
      old = file_;
      file_ = fresh;
    }
    std::fclose(old);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    // A failed write cannot be reported anywhere but the log itself: it is dropped.
    std::fwrite(formatted.data(), 1, formatted.size(), file_);
  }
  void flush_() override { std::fflush(file_); }

 private:
  const std::string path_;
  std::FILE* file_;  // guarded by mutex_
};

ProcessLog::ProcessLog(const std::string& path, int verbosity)
    : path_(path), verbosity_(std::clamp(verbosity, 0, kMaxVerbosity)) {
  if (path_.empty()) {
    install(std::make_shared<spdlog::logger>(
                "switchyard", std::make_shared<spdlog::sinks::stderr_color_sink_mt>()),
            verbosity_);
    return;
  }
  file_ = std::make_shared<ReopenableFileSink>(path_);
  install(std::make_shared<spdlog::logger>("switchyard", file_), verbosity_);
}

ProcessLog::~ProcessLog() = default;

Result<void> ProcessLog::reopen() {
  if (file_ == nullptr) return {};
  try {
    file_->reopen();
  } catch (const std::runtime_error& error) {
    return makeError("cannot reopen log file '" + path_ + "': " + error.what());
  }
  return {};
}

int ProcessLog::changeVerbosity(int delta) {
  verbosity_ = std::clamp(verbosity_ + delta, 0, kMaxVerbosity);
  spdlog::level::level_enum level = levelForVerbosity(verbosity_);
  spdlog::default_logger()->set_level(level);
  // Written at a level the new setting shows, so every change leaves a line.
  spdlog::log(std::max(level, spdlog::level::info), "log verbosity now {} ({})", verbosity_,
              spdlog::level::to_string_view(level));
  return verbosity_;
}

}  // namespace sy::common
