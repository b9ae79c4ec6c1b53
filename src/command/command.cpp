// Arity checks and Redis's error texts for the command table.
#include <cstddef>
#include <string>
#include <string_view>

#include "command/command.h"

namespace sy::command {
namespace {

// Redis replaces CR and LF in error replies with spaces so the reply stays one line.
void appendOneLine(std::string& out, std::string_view text) {
  for (char c : text) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
}

}  // namespace

bool arityOk(const CommandInfo& command, size_t argc) {
  if (command.arity >= 0) return argc == static_cast<size_t>(command.arity);
  return argc >= static_cast<size_t>(-static_cast<int64_t>(command.arity));
}

std::string unknownSubcommandError(const CommandInfo& container, std::string_view subcommand) {
  constexpr size_t kMaxShown = 128;  // Redis prints at most 128 bytes of the subcommand
  std::string out = "ERR unknown subcommand '";
  appendOneLine(out, subcommand.substr(0, kMaxShown));
  out += "'. Try ";
  for (char c : container.name) {
    out.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - ('a' - 'A')) : c);
  }
  out += " HELP.";
  return out;
}

std::string wrongArityError(const CommandInfo& command) {
  std::string out = "ERR wrong number of arguments for '";
  out += command.name;
  out += "' command";
  return out;
}

}  // namespace sy::command
