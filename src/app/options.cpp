#include "app/options.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

namespace sy::app {
namespace {

using common::makeError;
using common::Result;

// How one option's text lands in Options; returns an error reason without the option name.
using Apply = Result<void> (*)(const std::string& text, Options& options);

// One command-line option. Every flag is declared here once; the parser and usage() are
// generated from this table.
struct OptionSpec {
  char short_name;        // '\0' when there is no short form
  const char* long_name;  // without the leading "--"
  const char* value;      // "N" or "S" for an option that takes a value; nullptr for a flag
  const char* help;
  Apply apply;
};

std::optional<int64_t> parseNumber(const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end) {
    return std::nullopt;
  }
  return value;
}

// The number in `text` if it lies in min..max, else an error reason.
Result<int64_t> numberInRange(const std::string& text, int64_t min, int64_t max) {
  std::optional<int64_t> value = parseNumber(text);
  if (!value) {
    return makeError("'" + text + "' is not a whole number");
  }
  if (*value < min || *value > max) {
    return makeError("'" + text + "' is out of range (" + std::to_string(min) + ".." +
                     std::to_string(max) + ")");
  }
  return *value;
}

Result<void> nonEmpty(const std::string& text, std::string& field) {
  if (text.empty()) {
    return makeError("the value is empty");
  }
  field = text;
  return {};
}

template <typename T>
Result<void> setNumber(const std::string& text, int64_t min, int64_t max, T& field) {
  Result<int64_t> value = numberInRange(text, min, max);
  if (!value) {
    return value.error();
  }
  field = static_cast<T>(*value);
  return {};
}

template <bool Options::*kField>
Result<void> setFlag(const std::string& /*text*/, Options& options) {
  options.*kField = true;
  return {};
}

constexpr int64_t kMaxInt = std::numeric_limits<int>::max();

const OptionSpec kOptions[] = {
    {'h', "help", nullptr, "this help", &setFlag<&Options::show_help>},
    {'V', "version", nullptr, "show version and exit", &setFlag<&Options::show_version>},
    {'t', "test-conf", nullptr, "test configuration for syntax errors and exit",
     &setFlag<&Options::test_config>},
    {'d', "daemonize", nullptr, "run as a daemon", &setFlag<&Options::daemonize>},
    {'D', "describe-stats", nullptr, "print stats description and exit",
     &setFlag<&Options::describe_stats>},
    {'v', "verbose", "N", "set logging level (default: 5, min: 0, max: 11)",
     [](const std::string& t, Options& o) { return setNumber(t, 0, kMaxVerbosity, o.verbosity); }},
    {'o', "output", "S", "set logging file (default: stderr)",
     [](const std::string& t, Options& o) { return nonEmpty(t, o.log_path); }},
    {'c', "conf-file", "S", "set configuration file (default: conf/nutcracker.yml)",
     [](const std::string& t, Options& o) { return nonEmpty(t, o.config_path); }},
    {'s', "stats-port", "N", "set stats monitoring port (default: 22222)",
     [](const std::string& t, Options& o) { return setNumber(t, 1, 65535, o.stats_port); }},
    {'a', "stats-addr", "S", "set stats monitoring ip (default: 0.0.0.0)",
     [](const std::string& t, Options& o) { return nonEmpty(t, o.stats_addr); }},
    {'i', "stats-interval", "N", "set stats aggregation interval in msec (default: 30000 msec)",
     [](const std::string& t, Options& o) {
       return setNumber(t, 1, kMaxInt, o.stats_interval_ms);
     }},
    {'p', "pid-file", "S", "set pid file (default: off)",
     [](const std::string& t, Options& o) { return nonEmpty(t, o.pid_path); }},
    {'m', "mbuf-size", "N", "set size of mbuf chunk in bytes (default: 16384 bytes)",
     [](const std::string& t, Options& o) {
       return setNumber(t, kMinMbufSize, kMaxMbufSize, o.mbuf_size);
     }},
    {'\0', "threads", "N", "set number of worker threads (default: number of cores, max: 256)",
     [](const std::string& t, Options& o) { return setNumber(t, 1, kMaxThreads, o.threads); }},
    {'\0', "no-io-uring", nullptr,
     "read and write sockets with one system call each, not batched through io_uring",
     &setFlag<&Options::no_io_uring>},
    {'\0', "admin-port", "N",
     "set HTTP admin port: status page at /, /metrics, /stats (default: off)",
     [](const std::string& t, Options& o) { return setNumber(t, 1, 65535, o.admin_port); }},
    {'\0', "admin-addr", "S", "set HTTP admin ip (default: 0.0.0.0)",
     [](const std::string& t, Options& o) { return nonEmpty(t, o.admin_addr); }},
    {'\0', "max-clients", "N",
     "set the most client connections of every pool together (default: 0, no limit)",
     [](const std::string& t, Options& o) { return setNumber(t, 0, kMaxInt, o.max_clients); }},
    {'\0', "drain-timeout", "N",
     "on SIGTERM, wait up to N msec for clients to finish their requests (default: 5000)",
     [](const std::string& t, Options& o) {
       return setNumber(t, 0, kMaxDrainTimeoutMs, o.drain_timeout_ms);
     }},
    {'\0', "influxdb-url", "S",
     "push stats to InfluxDB 1.x: http://host:8086/write?db=NAME or udp://host:8089 "
     "(default: off)",
     [](const std::string& t, Options& o) { return nonEmpty(t, o.influxdb_url); }},
    {'\0', "influxdb-interval", "N", "set InfluxDB push interval in msec (default: 10000)",
     [](const std::string& t, Options& o) {
       return setNumber(t, kMinInfluxIntervalMs, kMaxInfluxIntervalMs, o.influxdb_interval_ms);
     }},
};

std::string optionNames(const OptionSpec& spec) {
  std::string names = spec.short_name != '\0' ? std::string("-") + spec.short_name + "," : "";
  return names + "--" + spec.long_name;
}

std::string displayName(const OptionSpec& spec) {
  std::string name = spec.short_name != '\0' ? std::string("-") + spec.short_name + "/" : "";
  return name + "--" + spec.long_name;
}

// nutcracker also takes "-?" for help; CLI11 cannot name an option "?", so it becomes "-h".
std::vector<const char*> withHelpAlias(int argc, const char* const* argv) {
  std::vector<const char*> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    if (std::string_view(args[i]) == "-?") {
      args[i] = "-h";
    }
  }
  return args;
}

std::string oneLine(std::string text) {
  for (char& c : text) {
    c = c == '\n' ? ' ' : c;
  }
  while (!text.empty() && text.back() == ' ') {
    text.pop_back();
  }
  return text;
}

// CLI11's wording, reworded for the two mistakes people actually make.
std::string describeParseError(const CLI::ParseError& error) {
  std::string text = oneLine(error.what());
  size_t colon = text.find(": ");
  if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr && colon != std::string::npos) {
    return "unknown option or unexpected argument: " + text.substr(colon + 2) + " (see --help)";
  }
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&error) != nullptr &&
      text.find("required") != std::string::npos && colon != std::string::npos) {
    return "option " + text.substr(0, colon) + " needs a value";
  }
  return text + " (see --help)";
}

}  // namespace

Result<Options> parseOptions(int argc, const char* const* argv) {
  CLI::App cli("switchyard");
  cli.set_help_flag();
  cli.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  std::vector<std::string> texts(std::size(kOptions));
  std::vector<CLI::Option*> added;
  for (size_t i = 0; i < std::size(kOptions); ++i) {
    const OptionSpec& spec = kOptions[i];
    added.push_back(spec.value != nullptr
                        ? cli.add_option(optionNames(spec), texts[i])
                        : cli.add_flag(optionNames(spec))->disable_flag_override());
  }
  std::vector<const char*> args = withHelpAlias(argc, argv);
  try {
    cli.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::ParseError& e) {
    return makeError(describeParseError(e));
  }
  Options options;
  options.show_help = cli.count("--help") > 0;
  options.show_version = cli.count("--version") > 0;
  for (size_t i = 0; i < std::size(kOptions); ++i) {
    // With -h or -V the caller only prints and exits, so other values are not checked.
    if (added[i]->count() == 0 || options.show_help || options.show_version) {
      continue;
    }
    Result<void> applied = kOptions[i].apply(texts[i], options);
    if (!applied) {
      return makeError("option " + displayName(kOptions[i]) + ": " + applied.error().message);
    }
  }
  return options;
}

std::string usage() {
  std::string text =
      "Usage: switchyard [-?hVdDt] [-v verbosity level] [-o output file]\n"
      "                  [-c conf file] [-s stats port] [-a stats addr]\n"
      "                  [-i stats interval] [-p pid file] [-m mbuf size]\n"
      "                  [--threads N] [--no-io-uring]\n"
      "\n"
      "Options:\n";
  for (const OptionSpec& spec : kOptions) {
    std::string flag = spec.short_name != '\0' ? std::string("  -") + spec.short_name + ", "
                                               : std::string("      ");
    flag += std::string("--") + spec.long_name;
    if (spec.value != nullptr) {
      flag += std::string("=") + spec.value;
    }
    flag.resize(std::max<size_t>(flag.size(), 25), ' ');
    text += flag + ": " + spec.help + "\n";
  }
  return text;
}

}  // namespace sy::app
