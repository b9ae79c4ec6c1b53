// ScriptRegistry: the Lua script bodies clients have sent through the proxy (EVAL, EVAL_RO,
// SCRIPT LOAD), so that every backend connection can load them on the node it reaches.
//
// Redis does not replicate its script cache: after a failover (or a restart) the new master
// answers EVALSHA with NOSCRIPT. A client inside MULTI cannot recover from that (the error
// arrives in EXEC's array), and a client talking to "one Redis" never expects its scripts to
// vanish. So the proxy carries them:
//
//   client EVAL/SCRIPT LOAD --ScriptSightings (per worker: bodies already seen)--+
//                                                    first time for this worker  |
//                                                                                v
//   ScriptRegistry (process-wide, append-only, mutex) <--add(body)---------------+
//        |  version() = scripts registered so far
//        v
//   BackendConnection: on connect, SCRIPT LOAD every script (after AUTH/SELECT, before any
//   request); when handed out later with an older version, the scripts added since
//   (backend_connection.h, loadNewScripts).
//
// Bounds: at most kMaxScripts scripts and kMaxBytes of bodies. The first script past either
// bound closes the registry: it, and every new script after it, is not carried (counted in
// not_carried, logged once); scripts registered before keep being carried. Functions are not
// kept: Redis replicates them. SCRIPT FLUSH through the proxy empties the registry (forget()),
// so that the nodes' caches and what new connections load agree again; the version keeps
// growing, so a connection never mistakes the scripts registered after a flush for loaded.
//
// Thread: any thread. add() takes the mutex (rare: once per new script and worker);
// version() is one atomic load; forEachSince() takes the mutex (on connect, and once per
// connection and new script). Lifetime: outlives every connection and worker that uses it.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace sy::backend {

class ScriptRegistry {
 public:
  static constexpr size_t kMaxScripts = 1024;
  static constexpr size_t kMaxBytes = 16 * 1024 * 1024;

  enum class Added { kNew, kKnown, kNotCarried };

  ScriptRegistry() = default;
  ScriptRegistry(size_t max_scripts, size_t max_bytes)
      : max_scripts_(max_scripts), max_bytes_(max_bytes) {}
  ScriptRegistry(const ScriptRegistry&) = delete;
  ScriptRegistry& operator=(const ScriptRegistry&) = delete;

  // Registers `body` unless it is known or the registry is closed (see the bounds above).
  Added add(std::string_view body);
  // How many scripts were ever registered (forget() does not lower it): a connection that
  // has loaded up to this version has every script the registry holds.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  // The scripts held now.
  size_t count() const { return count_.load(std::memory_order_relaxed); }
  // SCRIPT FLUSH: every script is dropped, the bounds are open again, and flushes() grows
  // (the workers' ScriptSightings then forget what they saw).
  void forget();
  uint64_t flushes() const { return flushes_.load(std::memory_order_acquire); }
  // True once a script was refused: no new script is registered any more.
  bool closed() const { return closed_.load(std::memory_order_relaxed); }
  // Calls `visit(body)` for every script registered after the first `since`, in
  // registration order; returns the version reached. `visit` runs under the mutex: it must
  // not call back into the registry.
  template <typename Visit>
  uint64_t forEachSince(uint64_t since, Visit&& visit) const {
    std::lock_guard lock(mutex_);
    // Versions up to first_version_ were forgotten: a connection behind it needs them all.
    const size_t first = since > first_version_ ? since - first_version_ : 0;
    for (size_t i = first; i < bodies_.size(); ++i) visit(std::string_view(bodies_[i]));
    return first_version_ + bodies_.size();
  }
  size_t bytes() const { return bytes_.load(std::memory_order_relaxed); }

  // A refused SCRIPT LOAD reply (an error from the backend): counted, and the first one
  // logged. Any thread.
  void noteLoadError(std::string_view server, std::string_view error);

  // SCRIPT LOADs sent by the proxy itself on its connections (on connect or on hand-out).
  std::atomic<uint64_t> reloaded{0};
  // Of those, the ones the backend refused.
  std::atomic<uint64_t> reload_errors{0};
  // Requests whose script was not registered because the registry is full.
  std::atomic<uint64_t> not_carried{0};

 private:
  const size_t max_scripts_ = kMaxScripts;
  const size_t max_bytes_ = kMaxBytes;
  mutable std::mutex mutex_;                    // guards bodies_, index_, first_version_
  std::deque<std::string> bodies_;              // appended to until forget()
  std::unordered_set<std::string_view> index_;  // views of bodies_
  uint64_t first_version_ = 0;                  // the version at the last forget()
  std::atomic<uint64_t> version_{0};            // first_version_ + bodies_.size(), after the append
  std::atomic<size_t> count_{0};                // bodies_.size()
  std::atomic<uint64_t> flushes_{0};
  std::atomic<size_t> bytes_{0};
  std::atomic<bool> closed_{false};
  std::atomic<bool> load_error_logged_{false};

  void noteNotCarried() { not_carried.fetch_add(1, std::memory_order_relaxed); }
};

// One worker's filter in front of the registry: a body already seen by this worker costs a
// hash and a set lookup, no lock (the set holds at most the registry's scripts). A body is
// remembered by its 64-bit hash and length; two different scripts with equal both (odds of 2^-64)
// would leave the second uncarried.
//
// Thread: its worker's only. Lifetime: the worker's; `registry` outlives it.
class ScriptSightings {
 public:
  explicit ScriptSightings(ScriptRegistry* registry = nullptr) : registry_(registry) {}
  void attach(ScriptRegistry* registry) { registry_ = registry; }
  // A client sent `body` as a script; registers it the first time this worker sees it.
  void see(std::string_view body);
  size_t size() const { return seen_.size(); }

 private:
  ScriptRegistry* registry_;
  std::unordered_set<uint64_t> seen_;
  uint64_t flushes_ = 0;  // the registry's flushes() when seen_ was last valid
};

}  // namespace sy::backend
