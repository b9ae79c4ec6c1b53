#include "server/local_commands.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/socket.h>

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <optional>

#include "common/byte_buffer.h"
#include "hash/key_tag.h"
#include "resp/encoder.h"
#include "resp/errors.h"
#include "server/client_session.h"
#include "server/info_command.h"
#include "server/pending_request.h"
#include "server/session_host.h"

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

void ping(ClientSession& session, PendingRequest& request, std::span<const std::string_view> args,
          const command::CommandInfo& command) {
  if (args.size() > 2) return request.completeWithError(command::wrongArityError(command));
  common::ByteBuffer& out = replyBuffer();
  if (session.subscribed() && session.protocol == 2) {  // Redis's subscribed context
    resp::appendArrayHeader(out, 2);
    resp::appendBulk(out, "pong");
    resp::appendBulk(out, args.size() == 1 ? std::string_view() : args[1]);
  } else if (args.size() == 1) {
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

// The database number as the client sees it: a pool's redis_db is its database 0.
int clientDb(ClientSession& session) {
  const uint32_t pool = session.poolIndex();
  return pool == ClientSession::kNoPool ? 0
                                        : session.db - session.host().pool(pool).config->redis_db;
}

// The session's database from now on, checked as Redis checks it against the pool's
// `databases` (the backends' own setting).
void select(ClientSession& session, PendingRequest& request, std::string_view db) {
  auto index = parseInteger(db);
  if (!index) return request.completeWithError(resp::kErrNotInteger);
  const uint32_t pool = session.poolIndex();
  const int64_t databases =
      pool == ClientSession::kNoPool ? 1 : session.host().pool(pool).config->databases;
  if (*index < 0 || *index >= databases) {
    return request.completeWithError(resp::kErrDbIndexOutOfRange);
  }
  // A pool with a redis_db serves that database alone, as nutcracker does: clients see it as
  // database 0.
  const int pool_db =
      pool == ClientSession::kNoPool ? 0 : session.host().pool(pool).config->redis_db;
  if (pool_db != 0) {
    if (*index != 0) return request.completeWithError(fmt::format(resp::kErrSelectPoolDb, pool_db));
    index = pool_db;
  }
  if (session.inTransaction()) return request.completeWithError(resp::kErrSelectWhileWatching);
  session.db = static_cast<int>(*index);
  common::ByteBuffer& out = replyBuffer();
  resp::appendSimple(out, "OK");
  request.complete(out.view());
}

// Compares in time that depends only on the lengths, so the reply time leaks nothing about
// how much of a guess was right.
bool samePassword(std::string_view given, std::string_view expected) {
  if (given.size() != expected.size()) return false;
  unsigned char differ = 0;
  for (size_t i = 0; i < given.size(); ++i) {
    differ |= static_cast<unsigned char>(given[i] ^ expected[i]);
  }
  return differ == 0;
}

// Redis's ACLAuthenticateUser for a server whose only user is "default" (the name is
// case-sensitive), with the pool's client password or, when there is none, "nopass" (any
// password is accepted). A failure leaves the connection's state as it was: a client that
// authenticated once stays authenticated, as in Redis 7.0.
bool authenticate(ClientSession& session, std::string_view user, std::string_view password) {
  const std::string& expected = session.host().poolAuth(session.poolIndex());
  bool ok = user == "default" && (expected.empty() || samePassword(password, expected));
  if (ok) session.authenticated = true;
  return ok;
}

void replyOk(PendingRequest& request) {
  common::ByteBuffer& out = replyBuffer();
  resp::appendSimple(out, "OK");
  request.complete(out.view());
}

// AUTH password | AUTH username password, as Redis 7.0 answers it.
void auth(ClientSession& session, PendingRequest& request, std::span<const std::string_view> args) {
  if (args.size() > 3) return request.completeWithError(resp::kErrSyntax);
  if (args.size() == 2 && !session.host().poolRequiresAuth(session.poolIndex())) {
    return request.completeWithError(resp::kErrAuthWithoutPassword);
  }
  std::string_view user = args.size() == 3 ? args[1] : std::string_view("default");
  if (!authenticate(session, user, args.back())) {
    return request.completeWithError(resp::kErrWrongPass);
  }
  replyOk(request);
}

bool validClientName(std::string_view name) {
  return std::all_of(name.begin(), name.end(), [](char c) { return c >= '!' && c <= '~'; });
}

void appendNullFor(const ClientSession& session, common::ByteBuffer& out, bool array) {
  out.append(resp::nullReply(session.protocol, array));
}

void helloReply(ClientSession& session, PendingRequest& request) {
  common::ByteBuffer& out = replyBuffer();
  if (session.protocol == 3) {
    resp::appendMapHeader(out, 7);
  } else {
    resp::appendArrayHeader(out, 14);
  }
  resp::appendBulk(out, "server");
  resp::appendBulk(out, "redis");
  resp::appendBulk(out, "version");
  resp::appendBulk(out, command::kPresentedRedisVersion);
  resp::appendBulk(out, "proto");
  resp::appendInteger(out, session.protocol);
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

// HELLO [protover [AUTH user pass] [SETNAME name]], checked in Redis 7.0's order: version,
// options, credentials, authentication; then the protocol and the name are set. Without a
// version the protocol stays as it is. A session whose backend state lives on connections of
// its protocol (subscriptions, a transaction or WATCH) keeps it.
void hello(ClientSession& session, PendingRequest& request,
           std::span<const std::string_view> args) {
  int64_t version = session.protocol;
  if (args.size() >= 2) {
    auto parsed = parseInteger(args[1]);
    if (!parsed) return request.completeWithError(resp::kErrHelloProtocolNotInteger);
    if (*parsed < 2 || *parsed > 3) return request.completeWithError(resp::kErrNoProto);
    version = *parsed;
  }
  std::optional<std::string_view> user, password, name;
  for (size_t i = 2; i < args.size(); ++i) {
    size_t more = args.size() - 1 - i;
    if (is(args[i], "AUTH") && more >= 2) {
      user = args[i + 1];
      password = args[i + 2];
      i += 2;
    } else if (is(args[i], "SETNAME") && more >= 1) {
      name = args[++i];
      if (!validClientName(*name)) return request.completeWithError(resp::kErrBadClientName);
    } else {
      return request.completeWithError(fmt::format(resp::kErrHelloSyntax, args[i].substr(0, 64)));
    }
  }
  if (user && !authenticate(session, *user, *password)) {
    return request.completeWithError(resp::kErrWrongPass);
  }
  if (session.host().poolRequiresAuth(session.poolIndex()) && !session.authenticated) {
    return request.completeWithError(resp::kErrHelloNoAuth);
  }
  if (version != session.protocol && (session.subscribed() || session.inTransaction())) {
    return request.completeWithError(resp::kErrHelloProtocolWhileStateful);
  }
  session.protocol = static_cast<int>(version);
  if (name) session.client_name = std::string(*name);
  helloReply(session, request);
}

// "host:port" of a socket's peer or local end; empty when it has none (a unix socket).
std::string socketAddress(int fd, bool peer) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  if ((peer ? ::getpeername(fd, generic, &length) : ::getsockname(fd, generic, &length)) != 0) {
    return {};
  }
  char host[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
    return fmt::format("{}:{}", host, ntohs(v4->sin_port));
  }
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
    return fmt::format("{}:{}", host, ntohs(v6->sin6_port));
  }
  return "unix:0";  // a unix socket has no host and port
}

// The calling connection as Redis's CLIENT INFO describes one (the fields a proxy knows).
std::string clientLine(ClientSession& session) {
  return fmt::format(
      "id={} addr={} laddr={} fd={} name={} db={} multi={} cmd=client|info user=default "
      "resp={} proxy=switchyard\n",
      session.id(), socketAddress(session.fd(), true), socketAddress(session.fd(), false),
      session.fd(), session.client_name, clientDb(session), session.inTransaction() ? 0 : -1,
      session.protocol);
}

void client(ClientSession& session, PendingRequest& request,
            std::span<const std::string_view> args) {
  common::ByteBuffer& out = replyBuffer();
  std::string_view sub = args[1];
  if (is(sub, "SETNAME")) {
    if (!validClientName(args[2])) return request.completeWithError(resp::kErrBadClientName);
    session.client_name = std::string(args[2]);
    resp::appendSimple(out, "OK");
  } else if (is(sub, "GETNAME")) {
    if (session.client_name.empty()) {
      appendNullFor(session, out, false);
    } else {
      resp::appendBulk(out, session.client_name);
    }
  } else if (is(sub, "ID")) {
    resp::appendInteger(out, static_cast<int64_t>(session.id()));
  } else if (is(sub, "INFO") || is(sub, "LIST")) {
    // CLIENT LIST shows the calling connection alone: the proxy's other clients live on
    // other threads, and the backends' lists show the proxy's own connections.
    if (session.protocol == 3) {
      resp::appendVerbatim(out, "txt", clientLine(session));
    } else {
      resp::appendBulk(out, clientLine(session));
    }
  } else {
    return request.completeWithError(
        fmt::format(resp::kErrClientSubcommandNotSupported, sub.substr(0, 64)));
  }
  request.complete(out.view());
}

void commandInfo(ClientSession& session, PendingRequest& request,
                 std::span<const std::string_view> args, bool docs) {
  common::ByteBuffer& out = replyBuffer();
  const bool resp3 = session.protocol == 3;
  auto entry = [&](const command::CommandInfo& info) {
    return docs ? (resp3 ? info.docs_reply3 : info.docs_reply)
                : (resp3 ? info.info_reply3 : info.info_reply);
  };
  // DOCS answers a map of name to docs: RESP3's map, or RESP2's flat array.
  auto header = [&](size_t entries) {
    if (!docs) {
      resp::appendArrayHeader(out, entries);
    } else if (resp3) {
      resp::appendMapHeader(out, entries);
    } else {
      resp::appendArrayHeader(out, entries * 2);
    }
  };
  size_t names = args.size() - 2;
  if (names == 0) {  // every command
    auto all = command::allCommands();
    header(all.size());
    for (const auto& info : all) out.append(entry(info));
    return request.complete(out.view());
  }
  size_t found = 0;
  for (size_t i = 2; i < args.size(); ++i) found += command::findTopLevel(args[i]) != nullptr;
  header(docs ? found : names);
  for (size_t i = 2; i < args.size(); ++i) {
    const command::CommandInfo* info = command::findTopLevel(args[i]);
    if (info != nullptr) {
      out.append(entry(*info));
    } else if (!docs) {
      appendNullFor(session, out, true);
    }
  }
  request.complete(out.view());
}

void commandGetKeys(PendingRequest& request, std::span<const std::string_view> args) {
  auto target = args.subspan(2);
  const command::CommandInfo* info = command::findCommand(target);
  if (info == nullptr) return request.completeWithError(resp::kErrGetKeysUnknownCommand);
  if (!command::arityOk(*info, target.size())) {
    return request.completeWithError(resp::kErrGetKeysWrongArity);
  }
  thread_local std::vector<uint32_t> positions;
  if (!command::extractKeys(*info, target, positions) || positions.empty()) {
    return request.completeWithError(resp::kErrGetKeysNoKeys);
  }
  common::ByteBuffer& out = replyBuffer();
  resp::appendArrayHeader(out, positions.size());
  for (uint32_t position : positions) resp::appendBulk(out, target[position]);
  request.complete(out.view());
}

void commandFamily(ClientSession& session, PendingRequest& request,
                   std::span<const std::string_view> args) {
  common::ByteBuffer& out = replyBuffer();
  if (args.size() == 1) {
    auto all = command::allCommands();
    resp::appendArrayHeader(out, all.size());
    for (const auto& info : all) {
      out.append(session.protocol == 3 ? info.info_reply3 : info.info_reply);
    }
    return request.complete(out.view());
  }
  std::string_view sub = args[1];
  if (is(sub, "COUNT")) {
    resp::appendInteger(out, static_cast<int64_t>(command::allCommands().size()));
    return request.complete(out.view());
  }
  if (is(sub, "INFO")) return commandInfo(session, request, args, false);
  if (is(sub, "DOCS")) return commandInfo(session, request, args, true);
  if (is(sub, "GETKEYS")) return commandGetKeys(request, args);
  if (is(sub, "LIST")) {
    auto all = command::allCommands();
    resp::appendArrayHeader(out, all.size());
    for (const auto& info : all) resp::appendBulk(out, info.name);
    return request.complete(out.view());
  }
  request.completeWithError(
      fmt::format(resp::kErrUnknownSubcommand, sub.substr(0, 128), "COMMAND"));
}

// CLUSTER INFO and CLUSTER KEYSLOT: a cluster pool answers from its view (the proxy is the one
// node its clients see); any other pool as a standalone Redis does.
void clusterFamily(ClientSession& session, PendingRequest& request,
                   std::span<const std::string_view> args) {
  const topology::PoolTopology& pool = session.host().pool(session.poolIndex());
  if (!pool.config->cluster) return request.completeWithError(resp::kErrClusterDisabled);
  common::ByteBuffer& out = replyBuffer();
  if (is(args[1], "KEYSLOT")) {
    resp::appendInteger(out, hash::clusterSlot(args[2]));
    return request.complete(out.view());
  }
  size_t served = 0, ok = 0, nodes = 0, shards_with_slots = 0;
  if (const topology::ClusterView* view = pool.cluster.get()) {
    served = view->slots_served;
    for (size_t shard = 0; shard < view->shards.size(); ++shard) {
      nodes += view->shards[shard].nodes.size();
      shards_with_slots += view->slot_counts[shard] > 0 ? 1 : 0;
      const bool writable =
          shard < pool.servers.size() && pool.servers[shard].writes == topology::WriteState::kOpen;
      if (writable) ok += view->slot_counts[shard];
    }
  }
  const std::string text = fmt::format(
      "cluster_state:{}\r\ncluster_slots_assigned:{}\r\ncluster_slots_ok:{}\r\n"
      "cluster_slots_pfail:0\r\ncluster_slots_fail:{}\r\ncluster_known_nodes:{}\r\n"
      "cluster_size:{}\r\n",
      ok == topology::kClusterSlotCount ? "ok" : "fail", served, ok, served - ok, nodes,
      shards_with_slots);
  resp::appendBulk(out, text);
  request.complete(out.view());
}

}  // namespace

void executeLocal(ClientSession& session, PendingRequest& request,
                  std::span<const std::string_view> args, const command::CommandInfo& command) {
  std::string_view name = args[0];
  if (is(name, "PING")) return ping(session, request, args, command);
  if (is(name, "RESET")) return session.resetConnection(request);
  if (is(name, "ECHO")) {
    common::ByteBuffer& out = replyBuffer();
    resp::appendBulk(out, args[1]);
    return request.complete(out.view());
  }
  if (is(name, "QUIT")) return quit(request);
  if (is(name, "SELECT")) return select(session, request, args[1]);
  if (is(name, "AUTH")) return auth(session, request, args);
  if (is(name, "HELLO")) return hello(session, request, args);
  if (is(name, "CLIENT") && args.size() >= 2) return client(session, request, args);
  if (is(name, "COMMAND")) return commandFamily(session, request, args);
  if (is(name, "INFO")) return executeInfo(session, request, args);
  if (is(name, "CLUSTER") && args.size() >= 2) return clusterFamily(session, request, args);
  request.completeWithError(fmt::format(resp::kErrNoLocalHandler, command.name));
}

}  // namespace sy::server
