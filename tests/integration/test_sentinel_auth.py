"""sentinel_auth against real redis-sentinel processes that require a password.

With the right password the watcher discovers the group from Sentinel. With a wrong one
every Sentinel refuses it: the watcher reports them unreachable and falls back to the
group's configured first guess, which it still confirms with ROLE on the node itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import HOST  # noqa: E402
from test_sentinel_watcher import Watch, addr, healthy, reachable  # noqa: E402
from topology import Topology  # noqa: E402

PASSWORD = "s3cret pass"  # a space inside: everything after the first space is the password


@pytest.fixture(scope="module")
def topo(tmp_path_factory):
    topology = Topology(tmp_path_factory.mktemp("sentinel-auth"), groups=1, replicas=1,
                        sentinels=2, sentinel_password=PASSWORD)
    topology.start()
    yield topology
    topology.stop()


def start_watch(tmp_path, topo, auth, guess=None):
    group = topo.groups[0].name + (f"={guess}" if guess else "")
    return Watch(tmp_path, topo, extra_args=["--auth", auth], group_args=[group],
                 seeds=topo.sentinels)


def test_right_password_discovers(topo, tmp_path):
    master = topo.master_of("g0")
    replica = topo.replicas_of("g0")[0]
    watch = start_watch(tmp_path, topo, f"default {PASSWORD}")
    try:
        _, view = watch.wait("g0", lambda v: v["confirmed"] and v["from_sentinel"]
                             and len(reachable(v)) == 2 and healthy(v) == {addr(replica)},
                             "discovery through password-protected Sentinels")
        assert view["master"] == addr(master)
    finally:
        assert watch.stop() == 0


def test_wrong_password_falls_back_to_first_guess(topo, tmp_path):
    master = topo.master_of("g0")
    watch = start_watch(tmp_path, topo, "wrong", guess=f"{HOST}:{master.port}")
    try:
        _, view = watch.wait("g0", lambda v: v["confirmed"] and not v["from_sentinel"],
                             "the first guess confirmed by ROLE without Sentinel")
        assert view["master"] == addr(master)
        assert not reachable(view), view
        assert "AUTH refused" in watch.log() or "WRONGPASS" in watch.log(), watch.log()
    finally:
        assert watch.stop() == 0
