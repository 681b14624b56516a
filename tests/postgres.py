"""A throw-away PostgreSQL server on 127.0.0.1 for tests of shared Optuna studies.

Debian's ``postgresql`` package (``.ci/run`` installs it) keeps its programs in
/usr/lib/postgresql/<version>/bin, off PATH; they are put on PATH here. The
server refuses to run as root, so under root it runs as the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

DEBIAN_BIN = Path("/usr/lib/postgresql")
USER = "sweep"
DATABASE = "sweeps"


def _put_postgres_on_path() -> None:
    if shutil.which("initdb"):
        return
    folders = sorted(DEBIAN_BIN.glob("*/bin"), key=lambda p: int(p.parent.name))
    if not folders:
        pytest.skip("PostgreSQL is not installed (initdb not found; .ci/run installs it)")
    os.environ["PATH"] = f"{folders[-1]}{os.pathsep}{os.environ['PATH']}"


def _as_server_user() -> list[str]:
    """The prefix that runs a command as a user the server accepts (not root)."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("runuser"):
        pytest.skip("running as root without runuser: PostgreSQL cannot start")
    try:
        subprocess.run(["id", "postgres"], check=True, capture_output=True)
    except subprocess.CalledProcessError:
        pytest.skip("running as root and there is no postgres user to run PostgreSQL as")
    return ["runuser", "-u", "postgres", "--"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Starts a server in a temporary folder; yields the URL of an empty database."""
    _put_postgres_on_path()
    prefix = _as_server_user()
    # pytest's tmp_path is private to root; the server's user must own its folder.
    folder = Path(tempfile.mkdtemp(prefix="pg-"))
    folder.chmod(0o755)
    if prefix:
        shutil.chown(folder, user="postgres")
    data, port = folder / "data", _free_port()
    try:
        _run([*prefix, "initdb", "-D", str(data), "-U", USER, "-A", "trust", "--no-sync"])
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = folder / "server.log"
        _run([*prefix, "pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w", "start"])
        try:
            _run(["createdb", "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE])
            yield f"postgresql://{USER}@127.0.0.1:{port}/{DATABASE}"
        finally:
            _run([*prefix, "pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
