#include "config/config.h"

#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <system_error>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "config/pool_parser.h"

namespace sy::config {
namespace {

std::string formatError(const std::string& file, int line, const std::string& pool,
                        const std::string& key, const std::string& reason) {
  std::string text = file;
  if (line > 0) {
    text += ":" + std::to_string(line);
  }
  text += ": ";
  if (!pool.empty()) {
    text += "pool '" + pool + "': ";
  }
  if (!key.empty()) {
    text += key + ": ";
  }
  return text + reason;
}

// The single document of the file; nutcracker likewise refuses zero or several documents.
YAML::Node loadDocument(std::string_view yaml_text, const std::string& file_name) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    int line = e.mark.line >= 0 ? e.mark.line + 1 : 0;
    throw ConfigError(file_name, line, "", "", "YAML syntax error: " + e.msg);
  }
  if (documents.empty() || documents.front().IsNull()) {
    throw ConfigError(file_name, 0, "", "", "the file is empty; it must define at least one pool");
  }
  if (documents.size() > 1) {
    throw ConfigError(
        file_name, lineOf(documents[1]), "", "",
        "only one YAML document is allowed, found " + std::to_string(documents.size()));
  }
  YAML::Node root = documents.front();
  if (!root.IsMap()) {
    throw ConfigError(file_name, lineOf(root), "", "",
                      "the top level must be a mapping of pool names to pools");
  }
  if (root.size() == 0) {
    throw ConfigError(file_name, lineOf(root), "", "", "no pools are defined");
  }
  return root;
}

// Pool names and listen addresses must be unique across the file.
void checkPoolsAreDistinct(const std::vector<PoolConfig>& pools, const std::string& file_name) {
  std::map<std::string, const PoolConfig*> by_name;
  std::map<std::string, const PoolConfig*> by_listen;
  for (const PoolConfig& pool : pools) {
    auto [named, new_name] = by_name.emplace(pool.name, &pool);
    if (!new_name) {
      throw ConfigError(file_name, pool.line, pool.name, "",
                        "duplicate pool name (first defined on line " +
                            std::to_string(named->second->line) + ")");
    }
    auto [listening, new_listen] = by_listen.emplace(pool.listen.toString(), &pool);
    if (!new_listen) {
      throw ConfigError(file_name, pool.line, pool.name, "listen",
                        "'" + pool.listen.toString() + "' is already the listen address of pool '" +
                            listening->second->name + "' (line " +
                            std::to_string(listening->second->line) + ")");
    }
  }
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, std::string pool, std::string key,
                         std::string reason)
    : std::runtime_error(formatError(file, line, pool, key, reason)),
      file_(std::move(file)),
      line_(line),
      pool_(std::move(pool)),
      key_(std::move(key)),
      reason_(std::move(reason)) {}

const char* readFromName(ReadFrom read_from) {
  switch (read_from) {
    case ReadFrom::kMaster:
      return "master";
    case ReadFrom::kPreferMaster:
      return "prefer_master";
    case ReadFrom::kReplica:
      return "replica";
    case ReadFrom::kPreferReplica:
      return "prefer_replica";
    case ReadFrom::kNearest:
      return "nearest";
  }
  return "master";
}

std::string Address::toString() const {
  if (isUnix()) {
    return unix_path;
  }
  if (host.find(':') != std::string::npos) {
    return "[" + host + "]:" + std::to_string(port);
  }
  return host + ":" + std::to_string(port);
}

Config parseConfig(std::string_view yaml_text, const std::string& file_name) {
  YAML::Node root = loadDocument(yaml_text, file_name);
  Config config;
  config.path = file_name;
  for (auto it = root.begin(); it != root.end(); ++it) {
    PoolParser parser(file_name, it->first);
    config.pools.push_back(parser.parse(it->second));
  }
  checkPoolsAreDistinct(config.pools, file_name);
  return config;
}

Config loadConfigFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (file == nullptr) {
    throw ConfigError(path, 0, "", "",
                      "cannot open the file: " + std::generic_category().message(errno));
  }
  std::string text;
  char chunk[16384];
  size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof(chunk), file.get())) > 0) {
    text.append(chunk, got);
  }
  if (std::ferror(file.get()) != 0) {
    throw ConfigError(path, 0, "", "",
                      "cannot read the file: " + std::generic_category().message(errno));
  }
  return parseConfig(text, path);
}

}  // namespace sy::config
