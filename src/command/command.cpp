// Arity checks and Redis's error texts for the command table.
#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "command/command.h"
#include "resp/errors.h"

namespace sy::command {
namespace {

// Redis replaces CR and LF in error replies with spaces so the reply stays one line.
std::string oneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  return out;
}

std::string upperCase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - ('a' - 'A')) : c);
  return out;
}

}  // namespace

bool arityOk(const CommandInfo& command, size_t argc) {
  if (command.arity >= 0) return argc == static_cast<size_t>(command.arity);
  return argc >= static_cast<size_t>(-static_cast<int64_t>(command.arity));
}

std::string unknownSubcommandError(const CommandInfo& container, std::string_view subcommand) {
  constexpr size_t kMaxShown = 128;  // Redis prints at most 128 bytes of the subcommand
  return fmt::format(resp::kErrUnknownSubcommand, oneLine(subcommand.substr(0, kMaxShown)),
                     upperCase(container.name));
}

std::string wrongArityError(const CommandInfo& command) {
  return fmt::format(resp::kErrWrongArity, command.name);
}

}  // namespace sy::command
