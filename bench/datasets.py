"""Generated data sets, kept between runs, fresh copies of them, and API keys in them.

A data set is named by its size, its seed and a digest of what shapes it (bench/generate.py
and the migrations): a rerun with the same three reuses it, a changed schema makes a new one
(and the stale ones of the same size and seed are removed to spare the disk).
"""

import hashlib
import os
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from bench.processes import APP_BIN, ROOT, log

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
PREFIX = "bench_a_"


def schema_digest() -> str:
    digest = hashlib.sha256((ROOT / "bench" / "generate.py").read_bytes())
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:10]


def admin(dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={dbname}", autocommit=True)


def drop_database(name: str) -> None:
    with admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class DataSet:
    engine: str  # "sqlite" or "postgresql"
    incidents: int
    seed: int
    work_dir: Path
    digest: str = field(default_factory=schema_digest)
    """Fixed when the run starts, so that a migration edited meanwhile does not rename it."""

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.incidents}_{self.seed}_{self.digest}"

    @property
    def file(self) -> Path:
        return self.work_dir / "data" / f"{self.name}.db"

    @property
    def url(self) -> str:
        return f"sqlite:///{self.file}" if self.engine == "sqlite" else f"{POSTGRES}/{self.name}"

    def ensure(self) -> str:
        """Generate the data set unless it exists; its URL."""
        if self.engine == "sqlite":
            self._ensure_sqlite()
        else:
            self._ensure_postgresql()
        return self.url

    def _generate(self, url: str) -> None:
        log(f"generating {self.incidents:,} incidents into {url}")
        argv = [str(APP_BIN / "python"), "-m", "bench.generate", "--url", url]
        argv += ["--incidents", str(self.incidents), "--seed", str(self.seed)]
        subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)

    def _ensure_sqlite(self) -> None:
        if self.file.exists():
            return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        for stale in self.file.parent.glob(f"{PREFIX}{self.incidents}_{self.seed}_*"):
            stale.unlink()
        partial = self.file.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        self._generate(f"sqlite:///{partial}")
        partial.rename(self.file)

    def _ensure_postgresql(self) -> None:
        with admin() as conn:
            names = [
                r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [PREFIX + "%"])
            ]
        if self.name in names:
            return
        for stale in names:
            if stale.startswith(f"{PREFIX}{self.incidents}_{self.seed}_") or stale == self.name + "_partial":
                drop_database(stale)
        partial = self.name + "_partial"
        with admin() as conn:
            conn.execute(f'CREATE DATABASE "{partial}"')
        self._generate(f"{POSTGRES}/{partial}")
        with admin() as conn:
            conn.execute(f'ALTER DATABASE "{partial}" RENAME TO "{self.name}"')

    def copy(self, suffix: str) -> str:
        """A fresh copy of the data set (nothing may be connected to it); its URL. A copy of a
        PostgreSQL data set is analyzed, as a database in service has been: made from a
        template, it holds the template's statistics but no record of any analysis, and the
        server's look for stale statistics (``app.db._analyze_stale``) would take each table
        for one never analyzed and analyze them all after the first write it commits, in that
        write's request (0.7 s at 100,000 incidents). The copy is made file by file
        (``STRATEGY FILE_COPY``: 9 s at 1,000,000 incidents, where through the WAL, PostgreSQL
        15's default, it took 32 s and six checkpoints), and a checkpoint ends it, so that no
        page of it is left to write while the case runs."""
        if self.engine == "sqlite":
            target = self.file.with_name(f"{self.file.stem}_{suffix}.db")
            for leftover in target.parent.glob(target.name + "*"):
                leftover.unlink()
            with sqlite3.connect(self.file) as source, sqlite3.connect(target) as copy:
                source.backup(copy)
            return f"sqlite:///{target}"
        name = f"{self.name}_{suffix}"
        drop_database(name)
        with admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}" STRATEGY FILE_COPY')
        with admin(name) as conn:
            conn.execute("ANALYZE")
            conn.execute("CHECKPOINT")
        return f"{POSTGRES}/{name}"

    def discard(self, url: str) -> None:
        if self.engine == "sqlite":
            path = Path(url.removeprefix("sqlite:///"))
            for leftover in path.parent.glob(path.name + "*"):
                leftover.unlink()
        else:
            drop_database(url.rsplit("/", 1)[1])


def create_key(database_url: str, scope: str, name: str) -> str | None:
    """A new API key's secret, made with ``demarche keys create``; None when the command is
    not there (or fails), and the reason is logged."""
    argv = [str(APP_BIN / "demarche"), "keys", "create", "--scope", scope, "--name", name]
    done = subprocess.run(
        argv, cwd=ROOT, env=os.environ | {"DEMARCHE_DATABASE_URL": database_url}, capture_output=True, text=True
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        log(f"no {scope} key: `demarche keys create` is not available ({(done.stderr or done.stdout).strip()[-200:]})")
        return None
    return lines[-1].strip()
