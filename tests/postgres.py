"""A throwaway PostgreSQL server for the tests: initdb on a temp folder, reachable only through a Unix
socket in that folder (no TCP port, so nothing can clash or leak), stopped at the end of the session.

It needs the server binaries (`initdb`, `pg_ctl`: Debian's postgresql package; `XMODAL_POSTGRES=1
scripts/setup.sh` installs them) and psycopg (the dev extra). initdb refuses to run as root, so as
root the server runs as the `postgres` user the Debian package creates. Without these the tests that
need it are skipped, saying which part is missing.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

SERVER_BINARIES = ("initdb", "pg_ctl")
USER = "xm"


def missing_parts() -> str | None:
    """Why a server cannot be started here, or None when it can."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'xmodal[postgres]')"
    absent = [name for name in SERVER_BINARIES if _binary(name) is None]
    if absent:
        return f"PostgreSQL server binaries not found ({', '.join(absent)}): install Debian's postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run initdb as"
    return None


class PostgresServer:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="xmodal-pg-"))  # short: a socket path has ~100 characters
        self.data = self.folder / "data"
        self._names = itertools.count()
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self.folder, account.pw_uid, account.pw_gid)
        self._run(_binary("initdb"), "-D", self.data, "-A", "trust", "-U", USER, "--no-sync", "-E", "UTF8")
        options = f"-k {self.folder} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        self._run(_binary("pg_ctl"), "-D", self.data, "-o", options, "-l", self.folder / "log", "-w", "start")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}@/{database}?host={self.folder}"

    def new_database(self) -> str:
        """The URL of a new, empty database (one per test: tests never see each other's rows)."""
        import psycopg

        name = f"test_{next(self._names)}"
        with psycopg.connect(host=str(self.folder), user=USER, dbname="postgres", autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(_binary("pg_ctl"), "-D", self.data, "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _run(self, *command: object) -> None:
        words = [str(word) for word in command]
        if os.geteuid() == 0:
            words = ["runuser", "-u", "postgres", "--", *words]
        done = subprocess.run(words, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(words)} failed: {done.stderr or done.stdout}")


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found is None:  # Debian keeps them off PATH
        candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
        found = str(candidates[-1]) if candidates else None
    return found
