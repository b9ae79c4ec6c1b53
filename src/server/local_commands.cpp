#include "server/local_commands.h"

#include <strings.h>

#include <fmt/format.h>
#include <charconv>

#include "common/byte_buffer.h"
#include "resp/encoder.h"
#include "server/client_session.h"
#include "server/info_command.h"
#include "server/pending_request.h"
#include "server/worker.h"

namespace sy::server {
namespace {

bool is(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Reply scratch for this worker thread; valid until the next local command.
common::ByteBuffer& replyBuffer() {
  thread_local common::ByteBuffer buffer;
  buffer.clear();
  return buffer;
}

std::optional<int64_t> parseInteger(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

void ping(PendingRequest& request, std::span<const std::string_view> args) {
  common::ByteBuffer& out = replyBuffer();
  if (args.size() == 1) {
    resp::appendSimple(out, "PONG");
  } else {
    resp::appendBulk(out, args[1]);
  }
  request.complete(out.view());
}

void quit(PendingRequest& request) {
  request.close_after = true;
  common::ByteBuffer& out = replyBuffer();
  resp::appendSimple(out, "OK");
  request.complete(out.view());
}

void select(PendingRequest& request, std::string_view db) {
  auto index = parseInteger(db);
  if (!index) return request.completeWithError("ERR value is not an integer or out of range");
  if (*index != 0) {
    return request.completeWithError(
        "ERR SELECT is not allowed through switchyard: clients always use database 0 (the pool's "
        "redis_db chooses the backend database)");
  }
  common::ByteBuffer& out = replyBuffer();
  resp::appendSimple(out, "OK");
  request.complete(out.view());
}

// AUTH [user] password, checked against the pool's redis_auth (user must be "default").
bool checkPassword(ClientSession& session, std::string_view user, std::string_view password) {
  const std::string& expected = session.worker().poolAuth(session.poolIndex());
  bool ok = !expected.empty() && is(user, "default") && password == expected;
  if (ok) session.authenticated = true;
  return ok;
}

void auth(ClientSession& session, PendingRequest& request, std::span<const std::string_view> args) {
  if (args.size() > 3) return request.completeWithError("ERR syntax error");
  if (session.worker().poolAuth(session.poolIndex()).empty() && args.size() == 2) {
    return request.completeWithError(
        "ERR AUTH <password> called without any password configured for the default user. Are "
        "you sure your configuration is correct?");
  }
  std::string_view user = args.size() == 3 ? args[1] : std::string_view("default");
  if (!checkPassword(session, user, args.back())) {
    return request.completeWithError(
        "WRONGPASS invalid username-password pair or user is disabled.");
  }
  common::ByteBuffer& out = replyBuffer();
  resp::appendSimple(out, "OK");
  request.complete(out.view());
}

// HELLO [protover [AUTH user pass] [SETNAME name]]: only RESP2 is spoken.
void hello(ClientSession& session, PendingRequest& request,
           std::span<const std::string_view> args) {
  if (args.size() >= 2) {
    auto version = parseInteger(args[1]);
    if (!version) {
      return request.completeWithError("ERR Protocol version is not an integer or out of range");
    }
    if (*version != 2) return request.completeWithError("NOPROTO unsupported protocol version");
  }
  for (size_t i = 2; i < args.size(); ++i) {
    if (is(args[i], "AUTH") && i + 2 < args.size()) {
      if (!checkPassword(session, args[i + 1], args[i + 2])) {
        return request.completeWithError(
            "WRONGPASS invalid username-password pair or user is disabled.");
      }
      i += 2;
    } else if (is(args[i], "SETNAME") && i + 1 < args.size()) {
      session.client_name = std::string(args[++i]);
    } else {
      return request.completeWithError(
          fmt::format("ERR Syntax error in HELLO option '{}'", args[i].substr(0, 64)));
    }
  }
  if (session.worker().poolRequiresAuth(session.poolIndex()) && !session.authenticated) {
    return request.completeWithError(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
        "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
        "protocol version at the same time");
  }
  common::ByteBuffer& out = replyBuffer();
  resp::appendArrayHeader(out, 14);
  resp::appendBulk(out, "server");
  resp::appendBulk(out, "redis");
  resp::appendBulk(out, "version");
  resp::appendBulk(out, command::kPresentedRedisVersion);
  resp::appendBulk(out, "proto");
  resp::appendInteger(out, 2);
  resp::appendBulk(out, "id");
  resp::appendInteger(out, static_cast<int64_t>(session.id()));
  resp::appendBulk(out, "mode");
  resp::appendBulk(out, "standalone");
  resp::appendBulk(out, "role");
  resp::appendBulk(out, "master");
  resp::appendBulk(out, "modules");
  resp::appendArrayHeader(out, 0);
  request.complete(out.view());
}

void client(ClientSession& session, PendingRequest& request,
            std::span<const std::string_view> args) {
  common::ByteBuffer& out = replyBuffer();
  std::string_view sub = args[1];
  if (is(sub, "SETNAME")) {
    for (char c : args[2]) {
      if (c < '!' || c > '~') {
        return request.completeWithError(
            "ERR Client names cannot contain spaces, newlines or special characters.");
      }
    }
    session.client_name = std::string(args[2]);
    resp::appendSimple(out, "OK");
  } else if (is(sub, "GETNAME")) {
    if (session.client_name.empty()) {
      resp::appendNullBulk(out);
    } else {
      resp::appendBulk(out, session.client_name);
    }
  } else if (is(sub, "ID")) {
    resp::appendInteger(out, static_cast<int64_t>(session.id()));
  } else if (is(sub, "INFO")) {
    resp::appendBulk(out, fmt::format("id={} name={} db=0 proxy=switchyard\n", session.id(),
                                      session.client_name));
  } else {
    return request.completeWithError(
        fmt::format("ERR 'client|{}' is not supported by switchyard", sub.substr(0, 64)));
  }
  request.complete(out.view());
}

void commandInfo(PendingRequest& request, std::span<const std::string_view> args, bool docs) {
  common::ByteBuffer& out = replyBuffer();
  size_t names = args.size() - 2;
  if (names == 0) {  // every command
    auto all = command::allCommands();
    resp::appendArrayHeader(out, docs ? all.size() * 2 : all.size());
    for (const auto& info : all) out.append(docs ? info.docs_reply : info.info_reply);
    return request.complete(out.view());
  }
  size_t found = 0;
  for (size_t i = 2; i < args.size(); ++i) found += command::findTopLevel(args[i]) != nullptr;
  resp::appendArrayHeader(out, docs ? found * 2 : names);
  for (size_t i = 2; i < args.size(); ++i) {
    const command::CommandInfo* info = command::findTopLevel(args[i]);
    if (info != nullptr) {
      out.append(docs ? info->docs_reply : info->info_reply);
    } else if (!docs) {
      resp::appendNullArray(out);
    }
  }
  request.complete(out.view());
}

void commandGetKeys(PendingRequest& request, std::span<const std::string_view> args) {
  auto target = args.subspan(2);
  const command::CommandInfo* info = command::findCommand(target);
  if (info == nullptr) return request.completeWithError("ERR Invalid command specified");
  if (!command::arityOk(*info, target.size())) {
    return request.completeWithError("ERR Invalid number of arguments specified for command");
  }
  thread_local std::vector<uint32_t> positions;
  if (!command::extractKeys(*info, target, positions) || positions.empty()) {
    return request.completeWithError("ERR The command has no key arguments");
  }
  common::ByteBuffer& out = replyBuffer();
  resp::appendArrayHeader(out, positions.size());
  for (uint32_t position : positions) resp::appendBulk(out, target[position]);
  request.complete(out.view());
}

void commandFamily(PendingRequest& request, std::span<const std::string_view> args) {
  common::ByteBuffer& out = replyBuffer();
  if (args.size() == 1) {
    auto all = command::allCommands();
    resp::appendArrayHeader(out, all.size());
    for (const auto& info : all) out.append(info.info_reply);
    return request.complete(out.view());
  }
  std::string_view sub = args[1];
  if (is(sub, "COUNT")) {
    resp::appendInteger(out, static_cast<int64_t>(command::allCommands().size()));
    return request.complete(out.view());
  }
  if (is(sub, "INFO")) return commandInfo(request, args, false);
  if (is(sub, "DOCS")) return commandInfo(request, args, true);
  if (is(sub, "GETKEYS")) return commandGetKeys(request, args);
  if (is(sub, "LIST")) {
    auto all = command::allCommands();
    resp::appendArrayHeader(out, all.size());
    for (const auto& info : all) resp::appendBulk(out, info.name);
    return request.complete(out.view());
  }
  request.completeWithError(
      fmt::format("ERR unknown subcommand '{}'. Try COMMAND HELP.", sub.substr(0, 128)));
}

}  // namespace

void executeLocal(ClientSession& session, PendingRequest& request,
                  std::span<const std::string_view> args, const command::CommandInfo& command) {
  std::string_view name = args[0];
  if (is(name, "PING")) return ping(request, args);
  if (is(name, "ECHO")) {
    common::ByteBuffer& out = replyBuffer();
    resp::appendBulk(out, args[1]);
    return request.complete(out.view());
  }
  if (is(name, "QUIT")) return quit(request);
  if (is(name, "SELECT")) return select(request, args[1]);
  if (is(name, "AUTH")) return auth(session, request, args);
  if (is(name, "HELLO")) return hello(session, request, args);
  if (is(name, "CLIENT") && args.size() >= 2) return client(session, request, args);
  if (is(name, "COMMAND")) return commandFamily(request, args);
  if (is(name, "INFO")) return executeInfo(session, request, args);
  request.completeWithError(fmt::format(
      "ERR '{}' is marked local but switchyard has no local handler for it", command.name));
}

}  // namespace sy::server
