// Command-line options: nutcracker's flags with the same letters, long names and defaults,
// plus --threads. Parsed once by main() on the main thread before anything else starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/log.h"
#include "common/result.h"

namespace sy::app {

struct Options {
  std::string config_path = "conf/nutcracker.yml";  // -c, --conf-file (nutcracker's default)
  bool test_config = false;                         // -t, --test-conf: check the config, exit
  bool describe_stats = false;                      // -D, --describe-stats
  int verbosity = 5;                                // -v, --verbose (0..11)
  std::string log_path;                             // -o, --output (empty: stderr)
  std::string pid_path;                             // -p, --pid-file (empty: none)
  uint16_t stats_port = 22222;                      // -s, --stats-port
  std::string stats_addr = "0.0.0.0";               // -a, --stats-addr
  int stats_interval_ms = 30000;                    // -i, --stats-interval
  size_t mbuf_size = 16384;  // -m, --mbuf-size (accepted for compatibility; 512..16777216)
  bool daemonize = false;    // -d, --daemonize
  int threads = 0;           // --threads (0: number of cores)
  bool no_io_uring = false;  // --no-io-uring: one system call per client read and write
  uint16_t admin_port = 0;   // --admin-port: HTTP status page, /metrics, /stats (0: off)
  std::string admin_addr = "0.0.0.0";  // --admin-addr
  // --drain-timeout: on SIGTERM or SIGINT, how long clients may take to reach a point between
  // requests before the rest are closed (0: close every client at once).
  int drain_timeout_ms = 5000;
  int max_clients = 0;  // --max-clients: client connections of every pool together (0: any)
  // --influxdb-url: push statistics to this InfluxDB 1.x /write URL (http://...?db=NAME) or
  // udp://host:port (empty: off). Checked by admin::parseInfluxUrl() at start-up.
  std::string influxdb_url;
  int influxdb_interval_ms = 10000;  // --influxdb-interval
  bool show_version = false;         // -V, --version
  bool show_help = false;            // -h, -?, --help
};

inline constexpr int kMaxVerbosity = common::kMaxVerbosity;
inline constexpr size_t kMinMbufSize = 512;
inline constexpr size_t kMaxMbufSize = 16777216;
inline constexpr int kMaxThreads = 256;
inline constexpr int kMaxDrainTimeoutMs = 3600 * 1000;
inline constexpr int kMinInfluxIntervalMs = 100;
inline constexpr int kMaxInfluxIntervalMs = 3600 * 1000;

// Parses argv the way nutcracker's getopt_long does: "-c file", "-cfile", "--conf-file file",
// "--conf-file=file", grouped flags ("-dt"), the last of a repeated option wins. On a usage
// error returns an Error whose message is one line naming the option and the reason. With
// -h or -V the flags are set and the values of other options are not range-checked (the
// caller prints usage() or the version and exits 0).
common::Result<Options> parseOptions(int argc, const char* const* argv);

// The help text: every flag with its default, in nutcracker's layout.
std::string usage();

}  // namespace sy::app
