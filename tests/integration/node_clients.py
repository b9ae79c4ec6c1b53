"""Node.js clients for the integration tests, from npm: BullMQ (node/jobs.js) and node-redis
(node/resp3.js), pinned by node/package-lock.json.

installed() runs `npm ci` (the npm registry only) into SY_NODE_DIR (ctest sets one in the
build tree; else the source folder), once: a stamp names the manifests it was installed from,
and a file lock keeps two test runs from installing at the same time. The scripts are copied
beside node_modules and run from there.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SOURCE_DIR = Path(__file__).resolve().parent / "node"
SCRIPTS = ("jobs.js", "resp3.js")
NPM_CI_TIMEOUT_S = 180


def install_dir() -> Path:
    return Path(os.environ.get("SY_NODE_DIR") or SOURCE_DIR)


def copy_in(target: Path, name: str) -> None:
    """SOURCE_DIR/name copied to target/name in one rename (another run may be reading it)."""
    partial = target / f"{name}.partial"
    shutil.copyfile(SOURCE_DIR / name, partial)
    os.replace(partial, target / name)


def installed() -> Path:
    """The folder whose node_modules holds the pinned packages, with the scripts beside it."""
    target = install_dir()
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.fail("node and npm are needed (scripts/install-deps.sh installs them)",
                    pytrace=False)
    target.mkdir(parents=True, exist_ok=True)
    manifests = b"".join((SOURCE_DIR / name).read_bytes()
                         for name in ("package.json", "package-lock.json"))
    digest = hashlib.sha256(manifests).hexdigest()
    modules = target / "node_modules"
    stamp = target / ".npm-ci-stamp"
    with open(target / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target != SOURCE_DIR:
            for script in SCRIPTS:
                copy_in(target, script)
        if stamp.exists() and stamp.read_text() == digest and modules.is_dir():
            return target
        if target != SOURCE_DIR:
            for name in ("package.json", "package-lock.json"):
                copy_in(target, name)
        stamp.unlink(missing_ok=True)
        env = dict(os.environ, npm_config_update_notifier="false", npm_config_fund="false",
                   npm_config_audit="false")
        # No install scripts: the one dependency that has some (msgpackr-extract, an
        # optional native speed-up) falls back to plain JavaScript without them.
        result = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                                cwd=target, env=env, capture_output=True, text=True,
                                timeout=NPM_CI_TIMEOUT_S)
        if result.returncode != 0:
            pytest.fail(f"npm ci in {target} failed ({result.returncode}):\n"
                        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}", pytrace=False)
        stamp.write_text(digest)
    return target
