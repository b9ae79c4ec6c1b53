#include "backend/script_registry.h"

#include <spdlog/spdlog.h>

#include <functional>

namespace sy::backend {

ScriptRegistry::Added ScriptRegistry::add(std::string_view body) {
  std::lock_guard lock(mutex_);
  if (index_.contains(body)) return Added::kKnown;
  if (closed_.load(std::memory_order_relaxed)) {
    noteNotCarried();
    return Added::kNotCarried;
  }
  const size_t total = bytes_.load(std::memory_order_relaxed) + body.size();
  if (bodies_.size() >= max_scripts_ || total > max_bytes_) {
    closed_.store(true, std::memory_order_relaxed);
    noteNotCarried();
    spdlog::warn(
        "script registry full ({} scripts, {} bytes; at most {} and {}): scripts sent from now "
        "on are not loaded on new backend connections, and may be missing after a failover",
        bodies_.size(), bytes_.load(std::memory_order_relaxed), max_scripts_, max_bytes_);
    return Added::kNotCarried;
  }
  bodies_.emplace_back(body);
  index_.insert(bodies_.back());
  bytes_.store(total, std::memory_order_relaxed);
  count_.store(bodies_.size(), std::memory_order_relaxed);
  version_.store(first_version_ + bodies_.size(), std::memory_order_release);
  return Added::kNew;
}

void ScriptRegistry::forget() {
  std::lock_guard lock(mutex_);
  first_version_ += bodies_.size();
  index_.clear();
  bodies_.clear();
  bytes_.store(0, std::memory_order_relaxed);
  count_.store(0, std::memory_order_relaxed);
  closed_.store(false, std::memory_order_relaxed);
  flushes_.fetch_add(1, std::memory_order_release);
}

void ScriptRegistry::noteLoadError(std::string_view server, std::string_view error) {
  reload_errors.fetch_add(1, std::memory_order_relaxed);
  if (load_error_logged_.exchange(true, std::memory_order_relaxed)) return;
  spdlog::warn("backend {} refused a script the proxy loads for its clients: {} (logged once)",
               server, error);
}

void ScriptSightings::see(std::string_view body) {
  if (registry_ == nullptr) return;
  if (const uint64_t flushes = registry_->flushes(); flushes != flushes_) {
    seen_.clear();  // SCRIPT FLUSH: a script sent again is registered again
    flushes_ = flushes;
  }
  const uint64_t key = std::hash<std::string_view>{}(body) ^ (body.size() * 0x9e3779b97f4a7c15ull);
  if (seen_.contains(key)) return;
  // Past the bounds a script never registered comes here on every request (a lock each
  // time): only a client sending ever new scripts pays for it.
  if (registry_->add(body) != ScriptRegistry::Added::kNotCarried) seen_.insert(key);
}

}  // namespace sy::backend
