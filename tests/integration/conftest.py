"""Fixtures for the integration tests: real redis-server backends and proxies.

Every process a fixture starts is stopped by pid in the fixture's finalizer, also when the
test fails; at the end of the session anything still alive is killed and reported.
"""

from __future__ import annotations

import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
from harness import (Nutcracker, Pool, Proxy, RedisServer, Switchyard,  # noqa: E402
                     pool_config, selected_proxy_class)


class ProcessGroup:
    """Owns the backends and proxies one fixture scope starts; close() stops them all.

    Switchyard must exit 0 on SIGTERM; close() reports any other exit code as a failure.
    """

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.servers: list[RedisServer] = []
        self.proxies: list[Proxy] = []

    def redis(self, count: int = 1, **kwargs) -> list[RedisServer]:
        """`count` started redis-servers; kwargs go to RedisServer (e.g. requirepass)."""
        started = []
        for _ in range(count):
            for attempt in range(3):
                server = RedisServer(self.workdir, **kwargs)
                self.servers.append(server)
                try:
                    started.append(server.start())
                    break
                except harness.HarnessError as err:
                    # Another process on this shared machine took the port after free_port().
                    if "Address already in use" not in str(err) or attempt == 2:
                        raise
        return started

    def proxy(self, pools: Optional[Sequence[Pool]] = None, config_text: Optional[str] = None,
              cls: Optional[type[Proxy]] = None, **kwargs) -> Proxy:
        """Starts a proxy of `cls` (default: the one PROXY selects) and returns it."""
        failure = None
        try:
            cls = cls or selected_proxy_class()
            proxy = cls(self.workdir, pools=pools, config_text=config_text, **kwargs)
            self.proxies.append(proxy)
            return proxy.start()
        except harness.HarnessError as err:
            failure = str(err)
        pytest.fail(failure, pytrace=False)

    def close(self) -> list[str]:
        problems = []
        for proxy in reversed(self.proxies):
            if proxy.proc is None or proxy.stopped:
                continue  # never started, or stopped (and checked) by the test itself
            was_running = proxy.is_running()
            code = proxy.stop(signal.SIGTERM)
            if not was_running:
                problems.append(f"{proxy.name} pid {proxy.pid} had exited by itself with "
                                f"{code}\n{proxy.log_text()[-4000:]}")
            elif proxy.exits_cleanly_on_sigterm and code != 0:
                problems.append(f"{proxy.name} pid {proxy.pid} exited with {code} on SIGTERM"
                                f"\n{proxy.log_text()[-4000:]}")
        for server in self.servers:
            server.stop()
        self.proxies.clear()
        self.servers.clear()
        return problems


@pytest.fixture
def procs(tmp_path):
    group = ProcessGroup(tmp_path)
    yield group
    problems = group.close()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def module_procs(tmp_path_factory):
    group = ProcessGroup(tmp_path_factory.mktemp("module"))
    yield group
    problems = group.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def redis_factory(procs):
    """redis_factory(n) -> n started redis-server backends."""
    return procs.redis


@pytest.fixture
def proxy_factory(procs):
    """proxy_factory(pools=[...] | config_text=..., cls=None) -> a started proxy."""
    return procs.proxy


@pytest.fixture
def switchyard_factory(procs):
    def start(**kwargs) -> Proxy:
        return procs.proxy(cls=Switchyard, **kwargs)
    return start


@pytest.fixture
def nutcracker_factory(procs):
    def start(**kwargs) -> Proxy:
        return procs.proxy(cls=Nutcracker, **kwargs)
    return start


@dataclass
class Sharded:
    """A started proxy over a pool of backends, plus a redis-py client through it."""

    servers: list[RedisServer]
    proxy: Proxy
    client: redis.Redis

    def locate(self, key) -> list[int]:
        return harness.locate(key, self.servers)


def start_sharded(procs: ProcessGroup, shards: int, **pool_kwargs) -> Sharded:
    servers = procs.redis(shards)
    pool_kwargs.setdefault("hash", "fnv1a_64")
    pool_kwargs.setdefault("distribution", "ketama")
    pool_kwargs.setdefault("hash_tag", "{}")
    proxy = procs.proxy(pools=[pool_config(servers, **pool_kwargs)])
    return Sharded(servers, proxy, proxy.client())


@pytest.fixture
def sharded(procs) -> Sharded:
    """Two backends behind the selected proxy (fnv1a_64, ketama, hash_tag "{}")."""
    return start_sharded(procs, 2)


@pytest.fixture
def single(procs) -> Sharded:
    """One backend behind the selected proxy."""
    return start_sharded(procs, 1)


@pytest.fixture
def sharded3(procs) -> Sharded:
    """Three backends behind the selected proxy (fnv1a_64, ketama, hash_tag "{}")."""
    return start_sharded(procs, 3)


# Last: pytest's own session finish tears down the fixtures still set up (after a failure
# under -x, module-scoped ones), and they must stop their processes and report first.
@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    leaked = harness.kill_all_started()
    if leaked:
        sys.stderr.write("integration harness killed leftover processes:\n  "
                         + "\n  ".join(leaked) + "\n")
        session.exitstatus = 1


@pytest.fixture(params=[1, 3], ids=["one-server", "three-shards"])
def pool_and_oracle(request, procs):
    """(switchyard, oracle, servers): a pool of one server or of three shards (fnv1a_64,
    ketama, hash tag {}) and a plain redis-server whose replies are the reference bytes."""
    servers = procs.redis(request.param)
    oracle = procs.redis(1)[0]
    proxy = procs.proxy(pools=[pool_config(servers, hash="fnv1a_64", distribution="ketama",
                                           hash_tag="{}", timeout=2000)], cls=Switchyard)
    return proxy, oracle, servers
