#include "app/options.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

namespace sy::app {
namespace {

using ::testing::HasSubstr;

common::Result<Options> parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"switchyard"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parseOptions(static_cast<int>(argv.size()), argv.data());
}

Options parseOk(std::initializer_list<const char*> args) {
  common::Result<Options> options = parse(args);
  EXPECT_TRUE(options.ok()) << options.error().message;
  return options.ok() ? options.value() : Options{};
}

std::string parseError(std::initializer_list<const char*> args) {
  common::Result<Options> options = parse(args);
  EXPECT_FALSE(options.ok());
  return options.ok() ? std::string() : options.error().message;
}

TEST(ParseOptions, DefaultsMatchNutcracker) {
  Options options = parseOk({});
  EXPECT_EQ(options.config_path, "conf/nutcracker.yml");
  EXPECT_FALSE(options.test_config);
  EXPECT_FALSE(options.describe_stats);
  EXPECT_EQ(options.verbosity, 5);
  EXPECT_EQ(options.log_path, "");
  EXPECT_EQ(options.pid_path, "");
  EXPECT_EQ(options.stats_port, 22222);
  EXPECT_EQ(options.stats_addr, "0.0.0.0");
  EXPECT_EQ(options.stats_interval_ms, 30000);
  EXPECT_EQ(options.mbuf_size, 16384u);
  EXPECT_FALSE(options.daemonize);
  EXPECT_EQ(options.threads, 0);
  EXPECT_EQ(options.admin_port, 0);  // off
  EXPECT_EQ(options.admin_addr, "0.0.0.0");
  EXPECT_EQ(options.drain_timeout_ms, 5000);
  EXPECT_EQ(options.max_clients, 0);
  EXPECT_EQ(options.influxdb_url, "");  // off
  EXPECT_EQ(options.influxdb_interval_ms, 10000);
  EXPECT_FALSE(options.show_version);
  EXPECT_FALSE(options.show_help);
}

TEST(ParseOptions, AdminPortAndAddress) {
  Options options = parseOk({"--admin-port", "9121", "--admin-addr=127.0.0.1"});
  EXPECT_EQ(options.admin_port, 9121);
  EXPECT_EQ(options.admin_addr, "127.0.0.1");
}

TEST(ParseOptions, InfluxDbUrlAndInterval) {
  Options options =
      parseOk({"--influxdb-url", "http://127.0.0.1:8086/write?db=sy", "--influxdb-interval=500"});
  EXPECT_EQ(options.influxdb_url, "http://127.0.0.1:8086/write?db=sy");
  EXPECT_EQ(options.influxdb_interval_ms, 500);
  EXPECT_EQ(parseError({"--influxdb-interval", "99"}),
            "option --influxdb-interval: '99' is out of range (100..3600000)");
  EXPECT_EQ(parseError({"--influxdb-url", ""}), "option --influxdb-url: the value is empty");
}

TEST(ParseOptions, EveryShortFlag) {
  Options options =
      parseOk({"-c", "/etc/sy.yml", "-t", "-D", "-v", "7", "-o", "/var/log/sy.log", "-p",
               "/run/sy.pid", "-s", "22223", "-a", "127.0.0.1", "-i", "1000", "-m", "512", "-d"});
  EXPECT_EQ(options.config_path, "/etc/sy.yml");
  EXPECT_TRUE(options.test_config);
  EXPECT_TRUE(options.describe_stats);
  EXPECT_EQ(options.verbosity, 7);
  EXPECT_EQ(options.log_path, "/var/log/sy.log");
  EXPECT_EQ(options.pid_path, "/run/sy.pid");
  EXPECT_EQ(options.stats_port, 22223);
  EXPECT_EQ(options.stats_addr, "127.0.0.1");
  EXPECT_EQ(options.stats_interval_ms, 1000);
  EXPECT_EQ(options.mbuf_size, 512u);
  EXPECT_TRUE(options.daemonize);
}

TEST(ParseOptions, EveryLongFlagWithSpaceOrEquals) {
  Options options = parseOk({"--conf-file=/etc/sy.yml", "--test-conf", "--describe-stats",
                             "--verbose", "11", "--output=/tmp/sy.log", "--pid-file", "/tmp/sy.pid",
                             "--stats-port=1", "--stats-addr", "::1", "--stats-interval=5",
                             "--mbuf-size", "16777216", "--daemonize", "--threads=4"});
  EXPECT_EQ(options.config_path, "/etc/sy.yml");
  EXPECT_TRUE(options.test_config);
  EXPECT_TRUE(options.describe_stats);
  EXPECT_EQ(options.verbosity, 11);
  EXPECT_EQ(options.log_path, "/tmp/sy.log");
  EXPECT_EQ(options.pid_path, "/tmp/sy.pid");
  EXPECT_EQ(options.stats_port, 1);
  EXPECT_EQ(options.stats_addr, "::1");
  EXPECT_EQ(options.stats_interval_ms, 5);
  EXPECT_EQ(options.mbuf_size, 16777216u);
  EXPECT_TRUE(options.daemonize);
  EXPECT_EQ(options.threads, 4);
}

TEST(ParseOptions, ValueAttachedToShortFlagAsWithGetopt) {
  Options options = parseOk({"-cconf/other.yml", "-s22223", "-v0"});
  EXPECT_EQ(options.config_path, "conf/other.yml");
  EXPECT_EQ(options.stats_port, 22223);
  EXPECT_EQ(options.verbosity, 0);
}

TEST(ParseOptions, GroupedShortFlags) {
  Options options = parseOk({"-dt"});
  EXPECT_TRUE(options.daemonize);
  EXPECT_TRUE(options.test_config);
}

TEST(ParseOptions, LastRepeatedOptionWins) {
  Options options = parseOk({"-s", "1000", "-s", "2000", "-c", "a.yml", "--conf-file", "b.yml"});
  EXPECT_EQ(options.stats_port, 2000);
  EXPECT_EQ(options.config_path, "b.yml");
}

TEST(ParseOptions, HelpAndVersion) {
  EXPECT_TRUE(parseOk({"-h"}).show_help);
  EXPECT_TRUE(parseOk({"--help"}).show_help);
  EXPECT_TRUE(parseOk({"-?"}).show_help);
  EXPECT_TRUE(parseOk({"-V"}).show_version);
  EXPECT_TRUE(parseOk({"--version"}).show_version);
  EXPECT_FALSE(parseOk({"-V"}).show_help);
}

TEST(ParseOptions, HelpSkipsRangeChecks) {
  Options options = parseOk({"-s", "0", "-h"});
  EXPECT_TRUE(options.show_help);
  EXPECT_EQ(options.stats_port, 22222);
}

TEST(ParseOptions, RangeErrorsNameTheOption) {
  EXPECT_EQ(parseError({"-v", "12"}), "option -v/--verbose: '12' is out of range (0..11)");
  EXPECT_EQ(parseError({"-v", "-1"}), "option -v/--verbose: '-1' is out of range (0..11)");
  EXPECT_EQ(parseError({"-v", "loud"}), "option -v/--verbose: 'loud' is not a whole number");
  EXPECT_EQ(parseError({"-s", "0"}), "option -s/--stats-port: '0' is out of range (1..65535)");
  EXPECT_EQ(parseError({"-s", "65536"}),
            "option -s/--stats-port: '65536' is out of range (1..65535)");
  EXPECT_EQ(parseError({"--stats-port", "22x"}),
            "option -s/--stats-port: '22x' is not a whole number");
  EXPECT_EQ(parseError({"-i", "0"}),
            "option -i/--stats-interval: '0' is out of range (1..2147483647)");
  EXPECT_EQ(parseError({"-m", "511"}),
            "option -m/--mbuf-size: '511' is out of range (512..16777216)");
  EXPECT_EQ(parseError({"-m", "16777217"}),
            "option -m/--mbuf-size: '16777217' is out of range (512..16777216)");
  EXPECT_EQ(parseError({"--threads", "0"}), "option --threads: '0' is out of range (1..256)");
  EXPECT_EQ(parseError({"--threads=257"}), "option --threads: '257' is out of range (1..256)");
  EXPECT_EQ(parseError({"--admin-port", "0"}),
            "option --admin-port: '0' is out of range (1..65535)");
  EXPECT_EQ(parseError({"--admin-port=70000"}),
            "option --admin-port: '70000' is out of range (1..65535)");
  EXPECT_EQ(parseError({"--admin-addr", ""}), "option --admin-addr: the value is empty");
  EXPECT_EQ(parseError({"--max-clients", "x"}), "option --max-clients: 'x' is not a whole number");
  EXPECT_EQ(parseError({"--drain-timeout", "-1"}),
            "option --drain-timeout: '-1' is out of range (0..3600000)");
  EXPECT_EQ(parseError({"--drain-timeout=3600001"}),
            "option --drain-timeout: '3600001' is out of range (0..3600000)");
  EXPECT_EQ(parseError({"-i", "99999999999999999999"}),
            "option -i/--stats-interval: '99999999999999999999' is not a whole number");
  EXPECT_EQ(parseError({"-c", ""}), "option -c/--conf-file: the value is empty");
  EXPECT_EQ(parseError({"-a", ""}), "option -a/--stats-addr: the value is empty");
}

TEST(ParseOptions, UsageErrorsAreOneLine) {
  for (std::string message :
       {parseError({"-x"}), parseError({"--bogus"}), parseError({"extra"}), parseError({"-c"}),
        parseError({"--stats-port"}), parseError({"--test-conf=yes"})}) {
    EXPECT_FALSE(message.empty());
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_EQ(parseError({"-x"}), "unknown option or unexpected argument: -x (see --help)");
  EXPECT_EQ(parseError({"--bogus"}), "unknown option or unexpected argument: --bogus (see --help)");
  EXPECT_EQ(parseError({"extra"}), "unknown option or unexpected argument: extra (see --help)");
  EXPECT_EQ(parseError({"-c"}), "option --conf-file needs a value");
  EXPECT_EQ(parseError({"-t", "--stats-port"}), "option --stats-port needs a value");
  EXPECT_THAT(parseError({"--test-conf=yes"}), HasSubstr("test-conf"));
}

TEST(Usage, ListsEveryFlagWithItsDefault) {
  std::string text = usage();
  for (const char* flag :
       {"-h, --help", "-V, --version", "-t, --test-conf", "-d, --daemonize", "-D, --describe-stats",
        "-v, --verbose=N", "-o, --output=S", "-c, --conf-file=S", "-s, --stats-port=N",
        "-a, --stats-addr=S", "-i, --stats-interval=N", "-p, --pid-file=S", "-m, --mbuf-size=N",
        "--threads=N", "--max-clients=N", "--drain-timeout=N", "--influxdb-url=S",
        "--influxdb-interval=N"}) {
    EXPECT_THAT(text, HasSubstr(flag));
  }
  Options defaults;
  EXPECT_THAT(text, HasSubstr("(default: " + defaults.config_path + ")"));
  EXPECT_THAT(text, HasSubstr("(default: " + std::to_string(defaults.stats_port) + ")"));
  EXPECT_THAT(text, HasSubstr("(default: " + defaults.stats_addr + ")"));
  EXPECT_THAT(text, HasSubstr("(default: " + std::to_string(defaults.stats_interval_ms)));
  EXPECT_THAT(text, HasSubstr("(default: " + std::to_string(defaults.mbuf_size)));
  EXPECT_THAT(text, HasSubstr("(default: " + std::to_string(defaults.verbosity) +
                              ", min: 0, max: " + std::to_string(kMaxVerbosity) + ")"));
  EXPECT_THAT(text, HasSubstr("Usage: switchyard"));
}

}  // namespace
}  // namespace sy::app
