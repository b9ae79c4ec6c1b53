"""The command line: -h, -V, -t on good and bad configs, signals, -p and -o.

Config errors must name the file, the line and the key, like
"conf.yml:4: pool 'alpha': hash: unknown hash function 'x'".
"""

import re
import signal
import subprocess
import time

import pytest

from harness import HarnessError, pool_config, selected_proxy_class

GOOD_CONFIG = """\
alpha:
  listen: 127.0.0.1:{port_a}
  hash: fnv1a_64
  hash_tag: "{{}}"
  distribution: ketama
  timeout: 400
  backlog: 1024
  client_connections: 100
  redis: true
  redis_db: 2
  redis_auth: secret
  preconnect: false
  tcpkeepalive: true
  auto_eject_hosts: false
  server_connections: 2
  server_retry_timeout: 2000
  server_failure_limit: 3
  servers:
   - 127.0.0.1:6390:1 one
   - 127.0.0.1:6391:2 two
beta:
  listen: {socket} 0600
  hash: murmur
  distribution: modula
  redis: true
  servers:
   - 127.0.0.1:6392:1
   - 127.0.0.1:6393:1
"""


def binary() -> str:
    failure = None
    try:
        return str(selected_proxy_class().binary())
    except HarnessError as err:
        failure = str(err)
    pytest.fail(failure, pytrace=False)


def run(*args, timeout=10):
    result = subprocess.run([binary(), *args], capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    return result.returncode, result.stdout + result.stderr


def test_help():
    code, out = run("-h")
    assert code == 0, out
    assert re.search(r"usage", out, re.IGNORECASE), out
    for flag in ("-c", "-t", "-s", "-a", "-v", "-o", "-p"):
        assert re.search(rf"(^|\s|,){flag}\b", out), f"{flag} missing from help:\n{out}"


def test_version():
    code, out = run("-V")
    assert code == 0, out
    assert re.search(r"\d+\.\d+\.\d+", out), out
    assert selected_proxy_class().name in out.lower()


def test_check_good_config(tmp_path):
    conf = tmp_path / "conf.yml"
    conf.write_text(GOOD_CONFIG.format(port_a=6400, socket=tmp_path / "beta.sock"))
    started = time.monotonic()
    code, out = run("-t", "-c", str(conf))
    assert code == 0, out
    assert "syntax is ok" in out
    assert time.monotonic() - started < 5
    assert not (tmp_path / "beta.sock").exists(), "-t must not start listening"


# Pools for the read/write splitting keys: {key} is one more line (line 5 and 4).
SENTINEL_POOL = ("alpha:\n  listen: 127.0.0.1:6400\n  redis: true\n"
                 "  sentinels: [127.0.0.1:26379]\n{key}\n  servers:\n   - 127.0.0.1:6390:1 g0\n")
PLAIN_POOL = ("alpha:\n  listen: 127.0.0.1:6400\n  redis: true\n{key}\n  servers:\n"
              "   - 127.0.0.1:6390:1 one\n   - 127.0.0.1:6391:1 two\n")

BAD_CONFIGS = {
    # name: (config text, line of the error, words the message must contain)
    "unknown_key": ("alpha:\n  listen: 127.0.0.1:6400\n  redis: true\n  hashh: fnv1a_64\n"
                    "  servers:\n   - 127.0.0.1:6390:1\n", 4, ["hashh"]),
    "bad_hash": ("alpha:\n  listen: 127.0.0.1:6400\n  redis: true\n  hash: fnv9_128\n"
                 "  servers:\n   - 127.0.0.1:6390:1\n", 4, ["hash", "fnv9_128"]),
    "bad_distribution": ("alpha:\n  listen: 127.0.0.1:6400\n  redis: true\n"
                         "  distribution: circle\n  servers:\n   - 127.0.0.1:6390:1\n",
                         4, ["distribution", "circle"]),
    "bad_timeout": ("alpha:\n  listen: 127.0.0.1:6400\n  redis: true\n  timeout: soon\n"
                    "  servers:\n   - 127.0.0.1:6390:1\n", 4, ["timeout"]),
    "bad_server_line": ("alpha:\n  listen: 127.0.0.1:6400\n  redis: true\n  servers:\n"
                        "   - 127.0.0.1:6390:1\n   - 127.0.0.1:notaport:1\n", 6, ["servers"]),
    "zero_weight": ("alpha:\n  listen: 127.0.0.1:6400\n  redis: true\n  servers:\n"
                    "   - 127.0.0.1:6390:0\n", 5, ["servers"]),
    "bad_listen": ("alpha:\n  listen: 127.0.0.1\n  redis: true\n  servers:\n"
                   "   - 127.0.0.1:6390:1\n", 2, ["listen"]),
    "duplicate_server_address": ("alpha:\n  listen: 127.0.0.1:6400\n  redis: true\n  servers:\n"
                                 "   - 127.0.0.1:6390:1\n   - 127.0.0.1:6390:1\n",
                                 6, ["127.0.0.1:6390"]),
    "duplicate_group_node": ("alpha:\n  listen: 127.0.0.1:6400\n  redis: true\n  servers:\n"
                             "   - 127.0.0.1:6390:1 same\n   - 127.0.0.1:6390:1 same\n",
                             6, ["same"]),
    "empty_client_auth": ("alpha:\n  listen: 127.0.0.1:6400\n  redis: true\n"
                          "  client_auth: \"\"\n  servers:\n   - 127.0.0.1:6390:1\n",
                          4, ["client_auth", "must not be empty"]),
    "read_from_bogus": (SENTINEL_POOL.format(key="  read_from: bogus"), 5,
                        ["read_from", "bogus"]),
    "read_from_replica_without_groups": (PLAIN_POOL.format(key="  read_from: replica"), 4,
                                         ["read_from"]),
    "failover_wait_negative": (SENTINEL_POOL.format(key="  failover_wait: -1"), 5,
                               ["failover_wait"]),
}


@pytest.mark.parametrize("name", list(BAD_CONFIGS))
def test_check_bad_config_names_file_line_and_key(tmp_path, name):
    text, line, words = BAD_CONFIGS[name]
    conf = tmp_path / "conf.yml"
    conf.write_text(text)
    code, out = run("-t", "-c", str(conf))
    assert code != 0, out
    assert re.search(rf"conf\.yml:{line}\b", out), f"no conf.yml:{line} in:\n{out}"
    for word in words:
        assert word in out, f"{word!r} missing from:\n{out}"
    assert "syntax is ok" not in out


def test_check_read_write_splitting_keys(tmp_path):
    conf = tmp_path / "conf.yml"
    keys = ("  read_from: prefer_replica\n  replica_max_lag: 5\n  failover_wait: 2000\n"
            "  sentinel_auth: secret")
    conf.write_text(SENTINEL_POOL.format(key=keys))
    code, out = run("-t", "-c", str(conf))
    assert code == 0 and "syntax is ok" in out, out
    # A role-probed group: servers sharing one name, no Sentinels.
    conf.write_text(PLAIN_POOL.replace("one\n", "g0\n").replace("two\n", "g0\n")
                    .format(key="  read_from: nearest\n  role_probe_interval: 250"))
    code, out = run("-t", "-c", str(conf))
    assert code == 0 and "syntax is ok" in out, out


def test_bad_config_refuses_to_start(tmp_path):
    conf = tmp_path / "conf.yml"
    conf.write_text(BAD_CONFIGS["bad_hash"][0])
    code, out = run("-c", str(conf))
    assert code != 0, out
    assert re.search(r"conf\.yml:4\b", out), out


def test_missing_config_file(tmp_path):
    missing = tmp_path / "nope" / "missing.yml"
    code, out = run("-t", "-c", str(missing))
    assert code != 0, out
    assert str(missing) in out or "missing.yml" in out, out


def test_yaml_syntax_error(tmp_path):
    conf = tmp_path / "conf.yml"
    conf.write_text("alpha:\n  listen: 127.0.0.1:6400\n  redis: true\n"
                    "  servers: [127.0.0.1:6390:1\n  hash: md5\n")
    code, out = run("-t", "-c", str(conf))
    assert code != 0, out
    assert re.search(r"conf\.yml:\d+", out), out


def test_memcached_pool_is_refused(tmp_path):
    conf = tmp_path / "conf.yml"
    conf.write_text("alpha:\n  listen: 127.0.0.1:6400\n  redis: false\n  servers:\n"
                    "   - 127.0.0.1:11211:1\n")
    code, out = run("-t", "-c", str(conf))
    assert code != 0, out
    assert "memcached" in out.lower(), out
    assert re.search(r"conf\.yml:3\b", out), out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly(procs, sig):
    (server,) = procs.redis(1)
    proxy = procs.proxy(pools=[pool_config([server])])
    client = proxy.client()
    assert client.set("k", "v") is True
    started = time.monotonic()
    code = proxy.stop(sig)
    assert code == 0, f"exit code {code} on {sig.name}\n{proxy.log_text()[-2000:]}"
    assert time.monotonic() - started < 5


def test_pid_file(procs, tmp_path):
    (server,) = procs.redis(1)
    pid_path = tmp_path / "proxy.pid"
    proxy = procs.proxy(pools=[pool_config([server])], extra_args=["-p", str(pid_path)])
    assert pid_path.read_text().strip() == str(proxy.pid)


def test_log_file(procs, tmp_path):
    (server,) = procs.redis(1)
    log_path = tmp_path / "switchyard.log"
    proxy = procs.proxy(pools=[pool_config([server])],
                        extra_args=["-o", str(log_path), "-v", "6"])
    assert proxy.client().set("k", "v") is True
    proxy.stop(signal.SIGTERM)
    text = log_path.read_text()
    assert text.strip(), "the log file is empty"
    first_line = text.strip().splitlines()[0]
    assert first_line not in proxy.log_text(), "log lines went to stderr too"
