// switchyard: a Redis proxy that reads twemproxy's configuration.
//
//   parse flags -> load + validate config -> resolve topology -> [-t: report and exit]
//   -> logging, pid file -> start workers and listeners (taking the sockets systemd passes)
//   -> tell systemd READY=1 -> run the control loop until SIGINT/SIGTERM -> drain: hand the
//   listening sockets over, close each client between requests (at most --drain-timeout)
//   -> close sessions and backends, join workers, exit 0.
//
// Signals, as nutcracker users expect (the table is in docs/configuration.md, "Signals"):
//   SIGINT, SIGTERM  stop after a drain; a second one stops at once
//   SIGHUP           reopen the -o log file, then reload the config (app/reload.h)
//   SIGTTIN/SIGTTOU  one step more / less verbose (-v)
//   SIGUSR1/SIGUSR2  ignored, as nutcracker ignores them;  SIGPIPE ignored
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include "admin/http_server.h"
#include "admin/influx_line.h"
#include "admin/influx_push.h"
#include "admin/info_renderer.h"
#include "admin/prometheus.h"
#include "admin/stats_server.h"
#include "admin/stats_snapshot.h"
#include "admin/status_json.h"
#include "app/notify.h"
#include "app/options.h"
#include "app/reload.h"
#include "app/version.h"
#include "common/clock.h"
#include "common/log.h"
#include "config/config.h"
#include "server/proxy.h"
#include "topology/topology.h"

namespace {

constexpr std::string_view kVersion = SY_VERSION;

// SIGUSR1 and SIGUSR2 would end the process by default; nutcracker ignores them. A handler
// already installed (a preloaded library's, such as the tests' allocation counter) stays.
void ignoreUnlessHandled(int signal_number) {
  struct sigaction current {};
  if (::sigaction(signal_number, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    ::signal(signal_number, SIG_IGN);
  }
}

// Clients and backends each cost a descriptor: use every descriptor the system allows.
void raiseDescriptorLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

bool writePidFile(const std::string& path) {
  std::ofstream out(path, std::ios::trunc);
  out << ::getpid() << '\n';
  return static_cast<bool>(out);
}

sy::admin::ProcessInfo processInfo(const sy::app::Options& options) {
  sy::admin::ProcessInfo process;
  process.version = std::string(kVersion);
  process.pid = ::getpid();
  process.start_time = sy::common::unixSeconds();
  std::error_code error;
  auto config = std::filesystem::absolute(options.config_path, error);
  process.config_file = error ? options.config_path : config.string();
  auto executable = std::filesystem::read_symlink("/proc/self/exe", error);
  process.executable = error ? std::string() : executable.string();
  return process;
}

// The index of the pool named `name` in `snapshot`; UINT32_MAX when there is none.
uint32_t poolIndex(const sy::admin::StatsSnapshot& snapshot, std::string_view name) {
  for (size_t p = 0; p < snapshot.pools.size(); ++p) {
    if (snapshot.pools[p].name == name) return static_cast<uint32_t>(p);
  }
  return UINT32_MAX;
}

int run(const sy::app::Options& options) {
  auto loaded = sy::app::loadTopology(options.config_path);
  if (!loaded.ok()) {
    fmt::print(stderr, "switchyard: {}\n", loaded.error().message);
    fmt::print(stderr, "switchyard: configuration file '{}' is invalid\n", options.config_path);
    return 1;
  }
  std::shared_ptr<const sy::topology::Topology> topology = *loaded;
  if (options.test_config) {
    fmt::print("switchyard: configuration file '{}' syntax is ok\n", options.config_path);
    return 0;
  }
  std::unique_ptr<sy::common::ProcessLog> log;
  try {
    log = std::make_unique<sy::common::ProcessLog>(options.log_path, options.verbosity);
  } catch (const std::exception& error) {
    fmt::print(stderr, "switchyard: cannot open log file '{}': {}\n", options.log_path,
               error.what());
    return 1;
  }
  if (options.daemonize && ::daemon(1, 0) != 0) {
    spdlog::error("cannot daemonize: {}", std::strerror(errno));
    return 1;
  }
  if (!options.pid_path.empty() && !writePidFile(options.pid_path)) {
    spdlog::error("cannot write pid file '{}'", options.pid_path);
    return 1;
  }
  ::signal(SIGPIPE, SIG_IGN);
  raiseDescriptorLimit();
  unsigned threads = options.threads > 0 ? static_cast<unsigned>(options.threads)
                                         : std::max(1u, std::thread::hardware_concurrency());
  spdlog::info("switchyard {} (git {}) starting, pid {}, config '{}'", kVersion, SY_GIT_COMMIT,
               ::getpid(), options.config_path);

  asio::io_context control;
  // Installed before anything listens: a signal sent as soon as a port opens is queued.
  asio::signal_set signals(control, SIGINT, SIGTERM);
  // SIGHUP reopens the log file and reloads the configuration file (nutcracker only reopens).
  asio::signal_set reload_signal(control, SIGHUP);
  asio::signal_set level_signals(control, SIGTTIN, SIGTTOU);
  ignoreUnlessHandled(SIGUSR1);
  ignoreUnlessHandled(SIGUSR2);
  sy::server::Proxy proxy(control, topology, threads,
                          options.no_io_uring ? sy::server::SocketBatch::Mode::kSyscalls
                                              : sy::server::SocketBatch::Mode::kIoUring);
  proxy.listenSockets() = sy::server::ListenSockets::fromEnvironment();
  proxy.listenSockets().setStore(sy::app::systemdSocketStore());
  proxy.setMaxClients(options.max_clients);
  const sy::admin::ProcessInfo process = processInfo(options);
  // INFO, Prometheus and the stats JSON all report on the current snapshot: they follow
  // reloads and ejections.
  proxy.setInfoRenderer([&](std::string_view pool, std::span<const std::string> sections) {
    sy::admin::StatsSnapshot snapshot = sy::admin::collectStats(proxy, *proxy.topology());
    uint32_t index = poolIndex(snapshot, pool);
    return sy::admin::renderInfo(snapshot, process, index, sections);
  });
  auto started = proxy.start();
  if (!started.ok()) {
    spdlog::error("{}", started.error().message);
    if (!options.pid_path.empty()) ::unlink(options.pid_path.c_str());
    return 1;
  }
  sy::admin::StatsServer stats(
      control, proxy,
      {options.stats_addr, options.stats_port, options.stats_interval_ms, std::string(kVersion)});
  auto stats_open = stats.open();
  if (!stats_open.ok()) {
    spdlog::error("{}", stats_open.error().message);
    proxy.stop();
    if (!options.pid_path.empty()) ::unlink(options.pid_path.c_str());
    return 1;
  }
  std::string source = sy::admin::hostName();
  std::unique_ptr<sy::admin::InfluxPusher> influx;
  // Every output's snapshot, with the InfluxDB pusher's own counters when it runs.
  auto snapshot = [&] {
    sy::admin::StatsSnapshot taken = sy::admin::collectStats(proxy, *proxy.topology());
    if (influx) taken.influx_push = influx->stats();
    return taken;
  };
  sy::admin::HttpServer admin_http(
      control,
      {[&] { return sy::admin::renderPrometheus(snapshot(), process); },
       [&] {
         return sy::admin::renderTwemproxyJson(sy::admin::collectStats(proxy, *proxy.topology()),
                                               source, std::string(kVersion));
       },
       [&] { return sy::admin::renderStatusJson(snapshot(), process); }},
      {options.admin_addr, options.admin_port});
  if (options.admin_port != 0) {
    auto admin_open = admin_http.open();
    if (!admin_open.ok()) {
      spdlog::error("{}", admin_open.error().message);
      stats.close();
      proxy.stop();
      if (!options.pid_path.empty()) ::unlink(options.pid_path.c_str());
      return 1;
    }
  }
  if (!options.influxdb_url.empty()) {
    sy::admin::InfluxPushOptions push;
    push.target = *sy::admin::parseInfluxUrl(options.influxdb_url);  // checked by main()
    push.interval = std::chrono::milliseconds(options.influxdb_interval_ms);
    influx = std::make_unique<sy::admin::InfluxPusher>(control, push, [&](int64_t time_ns) {
      return sy::admin::renderInfluxLines(snapshot(), process, source, time_ns);
    });
    influx->start();
  }
  bool stopped = false;
  auto stop_now = [&] {
    if (stopped) return;
    stopped = true;
    stats.close();
    admin_http.close();
    if (influx) influx->close();
    reload_signal.cancel();
    level_signals.cancel();
    proxy.stop();
    control.stop();
  };
  asio::steady_timer drain_deadline(control);
  signals.async_wait([&](const std::error_code& error, int signal_number) {
    if (error) return;
    sy::app::notifyStopping();
    if (options.drain_timeout_ms == 0) {
      spdlog::info("signal {} received, shutting down", signal_number);
      stop_now();
      return;
    }
    spdlog::info(
        "signal {} received: draining (at most {} ms; the same signal again stops at "
        "once)",
        signal_number, options.drain_timeout_ms);
    reload_signal.cancel();  // a reload now would open no listener and reconnect for nothing
    auto drain_started = sy::common::now();
    proxy.drain([&, drain_started] {
      spdlog::info("drained: every client left between requests in {} ms",
                   sy::common::elapsedMillis(drain_started));
      stop_now();
    });
    drain_deadline.expires_after(std::chrono::milliseconds(options.drain_timeout_ms));
    drain_deadline.async_wait([&](const std::error_code& expired) {
      if (expired) return;
      spdlog::warn("drain time is up: closing the {} client connection(s) still busy",
                   proxy.stats().curr_connections.load(std::memory_order_relaxed));
      stop_now();
    });
    signals.async_wait([&](const std::error_code& again, int) {
      if (again) return;
      spdlog::info("second stop signal: shutting down now");
      stop_now();
    });
  });
  std::function<void()> await_reload = [&] {
    reload_signal.async_wait([&](const std::error_code& error, int) {
      if (error) return;
      sy::app::notifyReloading();
      // The log first, so that logrotate's rename is followed before the reload's lines.
      if (auto reopened = log->reopen(); !reopened.ok()) {
        spdlog::error("{}; still writing to the old file", reopened.error().message);
      } else if (!options.log_path.empty()) {
        spdlog::info("log file '{}' reopened", options.log_path);
      }
      sy::app::reloadConfig(proxy, options.config_path);
      sy::app::notifyReady();
      await_reload();
    });
  };
  await_reload();
  std::function<void()> await_level = [&] {
    level_signals.async_wait([&](const std::error_code& error, int signal_number) {
      if (error) return;
      log->changeVerbosity(signal_number == SIGTTIN ? 1 : -1);
      await_level();
    });
  };
  await_level();
  spdlog::info("ready: every listener is open");
  sy::app::notifyReady();
  control.run();
  proxy.stop();
  if (!options.pid_path.empty()) ::unlink(options.pid_path.c_str());
  spdlog::info("switchyard stopped");
  spdlog::default_logger()->flush();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = sy::app::parseOptions(argc, argv);
  if (!parsed.ok()) {
    fmt::print(stderr, "switchyard: {}\n\n{}", parsed.error().message, sy::app::usage());
    return 1;
  }
  const sy::app::Options& options = *parsed;
  if (options.show_help) {
    fmt::print("{}", sy::app::usage());
    return 0;
  }
  if (options.show_version) {
    fmt::print("This is switchyard-{} (git {})\n", kVersion, SY_GIT_COMMIT);
    return 0;
  }
  if (!options.influxdb_url.empty()) {
    auto target = sy::admin::parseInfluxUrl(options.influxdb_url);
    if (!target.ok()) {
      fmt::print(stderr, "switchyard: option --influxdb-url: {}\n", target.error().message);
      return 1;
    }
  }
  if (options.describe_stats) {
    fmt::print("This is switchyard-{}\n\n{}", kVersion, sy::admin::describeStats());
    return 0;
  }
  return run(options);
}
