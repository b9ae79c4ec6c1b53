// The command table and its lookup.
//
// Top-level names are found through an open-addressing hash index built at compile time:
// hash the name's lowercase bytes, probe, then compare case-insensitively against the one
// candidate. Subcommands (at most a few dozen per container) are searched linearly.
#include <array>
#include <cstring>
#include <functional>
#include <span>
#include <string_view>

#include "command/command.h"
#include "command/policy.h"
#include "common/check.h"

namespace sy::command {
namespace {

// Generated data, in dependency order: raw replies, then the table that points at them.
#include "command/command_docs.inc"
#include "command/command_info.inc"
#include "command/command_table.inc"

constexpr char lowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

// FNV-1a over the lowercase bytes.
constexpr uint32_t hashLower(std::string_view name) {
  uint32_t hash = 2166136261u;
  for (char c : name) {
    hash ^= static_cast<uint8_t>(lowerAscii(c));
    hash *= 16777619u;
  }
  return hash;
}

constexpr size_t kIndexSize = 1024;  // a power of two, above 4x the number of commands
static_assert(std::size(kCommands) * 4 < kIndexSize);
static_assert(std::size(kCommands) < 0xffff);

constexpr size_t maxNameLength() {
  size_t longest = 0;
  for (const CommandInfo& command : kCommands) {
    longest = command.name.size() > longest ? command.name.size() : longest;
  }
  return longest;
}
constexpr size_t kMaxNameLength = maxNameLength();

// Slot -> 1 + index into kCommands; 0 marks an empty slot.
constexpr std::array<uint16_t, kIndexSize> buildIndex() {
  std::array<uint16_t, kIndexSize> index{};
  for (size_t i = 0; i < std::size(kCommands); ++i) {
    size_t slot = hashLower(kCommands[i].name) & (kIndexSize - 1);
    while (index[slot] != 0) slot = (slot + 1) & (kIndexSize - 1);
    index[slot] = static_cast<uint16_t>(i + 1);
  }
  return index;
}
constexpr std::array<uint16_t, kIndexSize> kIndex = buildIndex();

constexpr bool isSortedByName() {
  for (size_t i = 1; i < std::size(kCommands); ++i) {
    if (!(kCommands[i - 1].name < kCommands[i].name)) return false;
  }
  return true;
}
static_assert(isSortedByName(), "allCommands() promises name order");

// `input` equals the lowercase `name`, ignoring the case of `input`.
bool equalsLower(std::string_view input, std::string_view name) {
  if (input.size() != name.size()) return false;
  for (size_t i = 0; i < input.size(); ++i) {
    if (lowerAscii(input[i]) != name[i]) return false;
  }
  return true;
}

const CommandInfo* findSubcommand(const CommandInfo& container, std::string_view sub) {
  const size_t prefix = container.name.size() + 1;  // "config|"
  for (const CommandInfo& candidate : container.subcommands) {
    if (equalsLower(sub, candidate.name.substr(prefix))) return &candidate;
  }
  return nullptr;
}

}  // namespace

const CommandInfo* findTopLevel(std::string_view name) {
  if (name.size() > kMaxNameLength) return nullptr;
  size_t slot = hashLower(name) & (kIndexSize - 1);
  while (kIndex[slot] != 0) {
    const CommandInfo& candidate = kCommands[kIndex[slot] - 1];
    if (equalsLower(name, candidate.name)) return &candidate;
    slot = (slot + 1) & (kIndexSize - 1);
  }
  return nullptr;
}

const CommandInfo* findCommand(std::span<const std::string_view> args) {
  SY_ASSERT(!args.empty());
  const CommandInfo* command = findTopLevel(args[0]);
  if (command == nullptr || !command->isContainer() || args.size() < 2) return command;
  const CommandInfo* sub = findSubcommand(*command, args[1]);
  return sub != nullptr ? sub : command;
}

std::span<const CommandInfo> allCommands() { return kCommands; }

namespace {

// Subcommand ids: each container's subcommands take consecutive ids after the top level.
struct SubcommandRange {
  const CommandInfo* begin;
  size_t size;
  uint16_t first_id;
};

constexpr size_t countContainers() {
  size_t n = 0;
  for (const CommandInfo& command : kCommands) n += command.subcommands.empty() ? 0 : 1;
  return n;
}

constexpr size_t countIds() {
  size_t n = std::size(kCommands);
  for (const CommandInfo& command : kCommands) n += command.subcommands.size();
  return n;
}
static_assert(countIds() < 0xffff);

const std::array<SubcommandRange, countContainers()>& subcommandRanges() {
  static const auto ranges = [] {
    std::array<SubcommandRange, countContainers()> out{};
    size_t next = std::size(kCommands);
    size_t i = 0;
    for (const CommandInfo& command : kCommands) {
      if (!command.isContainer()) continue;
      out[i++] = {command.subcommands.data(), command.subcommands.size(),
                  static_cast<uint16_t>(next)};
      next += command.subcommands.size();
    }
    return out;
  }();
  return ranges;
}

// `p` lies in [begin, begin + size), compared as std::less does for unrelated arrays.
bool within(const CommandInfo* p, const CommandInfo* begin, size_t size) {
  std::less<const CommandInfo*> less;
  return !less(p, begin) && less(p, begin + size);
}

}  // namespace

uint16_t commandId(const CommandInfo& command) {
  if (within(&command, kCommands, std::size(kCommands))) {
    return static_cast<uint16_t>(&command - kCommands);
  }
  for (const SubcommandRange& range : subcommandRanges()) {
    if (within(&command, range.begin, range.size)) {
      return static_cast<uint16_t>(range.first_id + (&command - range.begin));
    }
  }
  SY_BUG(true, "commandId: a CommandInfo from outside the table");
  return 0;
}

size_t commandIdCount() { return countIds(); }

const CommandInfo& commandById(uint16_t id) {
  if (id < std::size(kCommands)) return kCommands[id];
  for (const SubcommandRange& range : subcommandRanges()) {
    if (id >= range.first_id && id < range.first_id + range.size) {
      return range.begin[id - range.first_id];
    }
  }
  SY_BUG(true, "commandById: id out of range");
  return kCommands[0];
}

}  // namespace sy::command
