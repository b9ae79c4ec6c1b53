#!/usr/bin/python3
"""Generates switchyard's command table from a real redis-server.

Starts redis-server on a free 127.0.0.1 port, reads `COMMAND` and `COMMAND DOCS` over a raw
socket (keeping the exact reply bytes of every entry), in RESP2 and again after HELLO 3 in
RESP3, stops the server by its pid and writes:

  src/command/command_table.inc  flags, arity, key specs and subcommands of every command
  src/command/command_info.inc   each command's `COMMAND INFO` entry as raw RESP2 and RESP3
  src/command/command_docs.inc   each command's `COMMAND DOCS` entry as raw RESP2 and RESP3

Usage:
  tools/gen_command_table.py            regenerate the files in place
  tools/gen_command_table.py --check    exit 1 if the committed files differ from the output
Options: --redis-server PATH (default: redis-server on PATH), --out DIR.
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

FLAG_NAMES = {
    "write": "kFlagWrite",
    "readonly": "kFlagReadOnly",
    "denyoom": "kFlagDenyOom",
    "admin": "kFlagAdmin",
    "pubsub": "kFlagPubSub",
    "noscript": "kFlagNoScript",
    "blocking": "kFlagBlocking",
    "loading": "kFlagLoading",
    "stale": "kFlagStale",
    "skip_monitor": "kFlagSkipMonitor",
    "skip_slowlog": "kFlagSkipSlowlog",
    "fast": "kFlagFast",
    "no_auth": "kFlagNoAuth",
    "may_replicate": "kFlagMayReplicate",
    "no_multi": "kFlagNoMulti",
    "movablekeys": "kFlagMovableKeys",
    "allow_busy": "kFlagAllowBusy",
    "asking": "kFlagAsking",
    "no_mandatory_keys": "kFlagNoMandatoryKeys",
    "no_async_loading": "kFlagNoAsyncLoading",
    "module": "kFlagModule",
}

KEY_SPEC_FLAG_NAMES = {
    "RO": "kKeyRo",
    "RW": "kKeyRw",
    "OW": "kKeyOw",
    "RM": "kKeyRm",
    "access": "kKeyAccess",
    "update": "kKeyUpdate",
    "insert": "kKeyInsert",
    "delete": "kKeyDelete",
    "not_key": "kKeyNotKey",
    "incomplete": "kKeyIncomplete",
    "variable_flags": "kKeyVariableFlags",
}


class Node:
    """One RESP value and the [start, end) range of its bytes in the reply buffer."""

    def __init__(self, kind, value, start, end):
        self.kind = kind  # '+', '-', ':', '$', '*', and RESP3's '%', '~', '_'
        # str for '+'/'-', int for ':', bytes or None for '$', list for '*' and '~', the flat
        # list key, value, key, value ... for '%', None for '_'
        self.value = value
        self.start = start
        self.end = end


class NeedMore(Exception):
    pass


def parse(buf, pos):
    """Parses one RESP2 value, or one of the RESP3 types COMMAND replies with (map, set,
    null), at buf[pos:]; raises NeedMore if the buffer ends first."""
    eol = buf.find(b"\r\n", pos)
    if eol < 0:
        raise NeedMore()
    kind = chr(buf[pos])
    line = buf[pos + 1 : eol]
    nxt = eol + 2
    if kind in "+-":
        return Node(kind, line.decode(), pos, nxt)
    if kind == ":":
        return Node(kind, int(line), pos, nxt)
    if kind == "$":
        length = int(line)
        if length < 0:
            return Node(kind, None, pos, nxt)
        if len(buf) < nxt + length + 2:
            raise NeedMore()
        return Node(kind, bytes(buf[nxt : nxt + length]), pos, nxt + length + 2)
    if kind == "_":
        return Node(kind, None, pos, nxt)
    if kind in "*~%":
        items = []
        for _ in range(int(line) * (2 if kind == "%" else 1)):
            item = parse(buf, nxt)
            items.append(item)
            nxt = item.end
        return Node(kind, items, pos, nxt)
    raise ValueError(f"unexpected RESP type byte {kind!r} at {pos}")


class Redis:
    """A redis-server on a free loopback port, stopped by its pid."""

    def __init__(self, binary):
        self.dir = tempfile.mkdtemp(prefix="sy-gen-command-")
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.dir, "--daemonize", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.sock = self._connect()

    def _connect(self):
        deadline = time.monotonic() + 10
        while True:
            try:
                return socket.create_connection(("127.0.0.1", self.port), timeout=10)
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    sys.exit(f"redis-server did not start on port {self.port}")
                time.sleep(0.05)

    def call(self, *args):
        """Sends one command; returns (root Node, raw reply bytes)."""
        out = b"*%d\r\n" % len(args)
        for arg in args:
            arg = arg.encode() if isinstance(arg, str) else arg
            out += b"$%d\r\n%s\r\n" % (len(arg), arg)
        self.sock.sendall(out)
        buf = bytearray()
        while True:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                sys.exit("redis-server closed the connection")
            buf += chunk
            try:
                node = parse(buf, 0)
            except NeedMore:
                continue
            if node.end != len(buf):
                sys.exit("unexpected bytes after the reply")
            if node.kind == "-":
                sys.exit(f"redis-server replied {node.value}")
            return node, bytes(buf)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def pairs(node):
    """A map (RESP3's, or RESP2's flat array of key, value, ...) as a dict of name -> Node."""
    items = node.value
    return {items[i].value.decode() if items[i].kind == "$" else items[i].value: items[i + 1]
            for i in range(0, len(items), 2)}


def cpp_string(raw, indent):
    """Raw bytes as adjacent C++ string literals, one RESP line per literal where it fits."""
    pieces = []
    for line in raw.split(b"\r\n")[:-1]:
        text = ""
        for byte in line:
            ch = chr(byte)
            if ch in '"\\':
                text += "\\" + ch
            elif 32 <= byte < 127:
                text += ch
            else:
                text += "\\%03o" % byte
        pieces.append(text + "\\r\\n")
    lines, current = [], ""
    for piece in pieces:
        if current and len(current) + len(piece) > 90:
            lines.append(current)
            current = ""
        current += piece
    if current:
        lines.append(current)
    return ("\n" + " " * indent).join(f'"{line}"' for line in lines)


def ident(name):
    return re.sub(r"[^a-z0-9]", "_", name)


def key_spec_cpp(spec_node):
    spec = pairs(spec_node)
    flags = [KEY_SPEC_FLAG_NAMES[f.value] for f in spec["flags"].value]
    begin = pairs(spec["begin_search"])
    find = pairs(spec["find_keys"])
    begin_type = begin["type"].value.decode()
    find_type = find["type"].value.decode()
    begin_spec = pairs(begin["spec"]) if begin["spec"].value else {}
    find_spec = pairs(find["spec"]) if find["spec"].value else {}
    index, keyword = 0, ""
    if begin_type == "index":
        index = begin_spec["index"].value
    elif begin_type == "keyword":
        index = begin_spec["startfrom"].value
        keyword = begin_spec["keyword"].value.decode()
    elif begin_type != "unknown":
        sys.exit(f"unknown begin_search type {begin_type}")
    last_key = key_step = limit = keynum_index = first_key = 0
    if find_type == "range":
        last_key = find_spec["lastkey"].value
        key_step = find_spec["keystep"].value
        limit = find_spec["limit"].value
    elif find_type == "keynum":
        keynum_index = find_spec["keynumidx"].value
        first_key = find_spec["firstkey"].value
        key_step = find_spec["keystep"].value
    elif find_type != "unknown":
        sys.exit(f"unknown find_keys type {find_type}")
    flag_expr = " | ".join(flags) if flags else "0"
    return (f"{{{flag_expr}, BeginSearch::k{begin_type.capitalize()}, "
            f"FindKeys::k{find_type.capitalize()}, {index}, \"{keyword}\", {last_key}, "
            f"{key_step}, {limit}, {keynum_index}, {first_key}}}")


class Command:
    """One `COMMAND` entry. Redis lists subcommands in its dict's order, which changes as the
    dict rehashes, so a container's raw entry is rebuilt with its subcommands sorted by name;
    every other byte is exactly as redis-server sent it."""

    def __init__(self, node, raw, parent=None):
        items = node.value
        self.parent = parent
        self.name = items[0].value.decode()
        self.arity = items[1].value
        self.flags = [f.value for f in items[2].value]
        for flag in self.flags:
            if flag not in FLAG_NAMES:
                sys.exit(f"{self.name}: flag {flag!r} has no CommandFlag; add one to command.h")
        self.key_specs = items[8].value
        self.subcommands = sorted((Command(sub, raw, self) for sub in items[9].value),
                                  key=lambda c: c.name)
        subs_node = items[9]
        # The subcommands' header as sent: an array in RESP2, a set in RESP3.
        self.info_raw = (raw[node.start:subs_node.start]
                         + b"%s%d\r\n" % (subs_node.kind.encode(), len(self.subcommands))
                         + b"".join(sub.info_raw for sub in self.subcommands))
        self.info_raw3 = self.docs_raw3 = None  # the RESP3 entries, set by set_resp3()
        self.docs_raw = None  # the name bulk and docs map, set by set_docs()

    def set_docs(self, name_node, docs_node, raw):
        docs = pairs(docs_node)
        subs_node = docs.get("subcommands")
        if subs_node is None:
            self.docs_raw = raw[name_node.start:docs_node.end]
            return
        items = subs_node.value
        sub_nodes = {items[i].value.decode(): (items[i], items[i + 1])
                     for i in range(0, len(items), 2)}
        for sub in self.subcommands:
            sub.set_docs(*sub_nodes[sub.name], raw)
        header = (b"%%%d\r\n" % len(self.subcommands) if subs_node.kind == "%"
                  else b"*%d\r\n" % (2 * len(self.subcommands)))
        self.docs_raw = (raw[name_node.start:subs_node.start] + header
                         + b"".join(sub.docs_raw for sub in self.subcommands)
                         + raw[subs_node.end:docs_node.end])

    def set_resp3(self, twin):
        """Takes the RESP3 entries of `twin`, this command as read after HELLO 3."""
        if twin.name != self.name or [s.name for s in twin.subcommands] != [
                s.name for s in self.subcommands]:
            sys.exit(f"{self.name}: the RESP3 COMMAND entry names other subcommands")
        self.info_raw3, self.docs_raw3 = twin.info_raw, twin.docs_raw
        for sub, sub_twin in zip(self.subcommands, twin.subcommands):
            sub.set_resp3(sub_twin)


def read_commands(redis):
    """Every command with its COMMAND and COMMAND DOCS entries, in the connection's protocol."""
    info_root, info_raw = redis.call("COMMAND")
    docs_root, docs_raw = redis.call("COMMAND", "DOCS")
    commands = sorted((Command(node, info_raw) for node in info_root.value),
                      key=lambda c: c.name)
    items = docs_root.value
    docs = {items[i].value.decode(): (items[i], items[i + 1]) for i in range(0, len(items), 2)}
    for command in commands:
        command.set_docs(*docs[command.name], docs_raw)
    check_against_command_info(redis, commands)
    return commands


def generate(redis):
    version = pairs(redis.call("HELLO", "2")[0])["version"].value.decode()
    commands = read_commands(redis)
    redis.call("HELLO", "3")
    for command, twin in zip(commands, read_commands(redis), strict=True):
        command.set_resp3(twin)
    header = (f"// Generated by tools/gen_command_table.py from redis-server {version}. "
              "Do not edit.\n// clang-format off\n")
    return version, {
        "command_table.inc": header + table_inc(commands),
        "command_info.inc": header + raw_inc(commands, "kInfo_", lambda c: c.info_raw) + "\n"
        + raw_inc(commands, "kInfo3_", lambda c: c.info_raw3),
        "command_docs.inc": header + raw_inc(commands, "kDocs_", lambda c: c.docs_raw) + "\n"
        + raw_inc(commands, "kDocs3_", lambda c: c.docs_raw3),
    }


def check_against_command_info(redis, commands):
    """Each entry must equal `COMMAND INFO name` (up to the order of subcommands)."""
    everything = commands + [sub for c in commands for sub in c.subcommands]
    root, raw = redis.call("COMMAND", "INFO", *[c.name for c in everything])
    for command, node in zip(everything, root.value):
        if Command(node, raw).info_raw != command.info_raw:
            sys.exit(f"COMMAND INFO {command.name} differs from its COMMAND entry")


def table_inc(commands):
    out = []

    def emit_specs(command):
        if not command.key_specs:
            return "{}"
        var = f"kKeySpecs_{ident(command.name)}"
        specs = ",\n    ".join(key_spec_cpp(spec) for spec in command.key_specs)
        out.append(f"inline constexpr KeySpec {var}[] = {{\n    {specs}}};\n")
        return var

    def entry(command, subs):
        flags = " | ".join(FLAG_NAMES[f] for f in command.flags) or "0"
        specs = emit_specs(command)
        var = ident(command.name)
        return (f"makeCommand(\"{command.name}\", {command.arity}, {flags}, {specs}, {subs}, "
                f"kInfo_{var}, kDocs_{var}, kInfo3_{var}, kDocs3_{var})")

    entries = []
    for command in commands:
        subs = "{}"
        if command.subcommands:
            subs = f"kSubcommands_{ident(command.name)}"
            rows = ",\n    ".join(entry(sub, "{}") for sub in command.subcommands)
            out.append(f"inline constexpr CommandInfo {subs}[] = {{\n    {rows}}};\n")
        entries.append(entry(command, subs))
    out.append("inline constexpr CommandInfo kCommands[] = {\n    " + ",\n    ".join(entries)
               + "};\n")
    return "\n".join(out)


def raw_inc(commands, prefix, raw_of):
    """Raw RESP per command; a subcommand's bytes are a substring of its container's."""
    out = []
    for command in commands:
        var = prefix + ident(command.name)
        raw = raw_of(command)
        out.append(f"inline constexpr std::string_view {var} =\n    {cpp_string(raw, 4)};\n")
        for sub in command.subcommands:
            sub_raw = raw_of(sub)
            start = raw.index(sub_raw)
            out.append(f"inline constexpr std::string_view {prefix}{ident(sub.name)} = "
                       f"{var}.substr({start}, {len(sub_raw)});\n")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--out", default=os.path.join(here, "..", "src", "command"))
    args = parser.parse_args()

    redis = Redis(args.redis_server)
    try:
        version, files = generate(redis)
    finally:
        redis.stop()

    stale = []
    for name, text in files.items():
        path = os.path.join(args.out, name)
        if args.check:
            try:
                with open(path, encoding="ascii") as f:
                    if f.read() != text:
                        stale.append(path)
            except FileNotFoundError:
                stale.append(path)
        else:
            with open(path, "w", encoding="ascii") as f:
                f.write(text)
    if stale:
        print(f"out of date with redis-server {version}: {', '.join(stale)}\n"
              "run tools/gen_command_table.py to regenerate", file=sys.stderr)
        return 1
    print(f"{'checked' if args.check else 'wrote'} {len(files)} files from redis-server {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
