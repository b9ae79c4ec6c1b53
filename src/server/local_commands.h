// Commands the proxy answers itself, as Redis 7.0 would: PING, ECHO, QUIT, COMMAND
// (COUNT, INFO, DOCS, LIST, GETKEYS), HELLO 2, SELECT, AUTH, RESET, and the harmless CLIENT
// subcommands (SETNAME, GETNAME, SETINFO, ID).
#pragma once

#include <span>
#include <string_view>

#include "command/command.h"

namespace sy::server {

class ClientSession;
class PendingRequest;

// Answers `args` (a command the table marks local) by completing `request`.
void executeLocal(ClientSession& session, PendingRequest& request,
                  std::span<const std::string_view> args, const command::CommandInfo& command);

}  // namespace sy::server
