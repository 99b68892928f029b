"""The production stack the fault suite breaks: its own PostgreSQL cluster and Redis on
free ports, the Procfile's web (gunicorn), worker and beat, all on 127.0.0.1.

Everything started here is recorded in ``<root>/pids`` (process groups) and
``<root>/pgdata`` so that ``tests/faults/run.sh`` can remove it even when pytest
itself is killed. The machine's shared PostgreSQL, Redis and RabbitMQ are never touched.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"
IS_ROOT = os.geteuid() == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, check: Callable[[], object], timeout: float, every: float = 0.25):
    """Call ``check`` until it returns something truthy; its value, or TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except Exception:  # not up yet
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


class Proc:
    """One process started in its own session (process group = its pid)."""

    def __init__(self, name: str, argv: list[str], *, env: dict, log: Path, root: Path) -> None:
        self.name, self.argv, self.env, self.log, self.root = name, argv, env, log, root
        self.popen: subprocess.Popen | None = None
        self.log_offset = 0

    def start(self) -> Proc:
        self.log_offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as out:
            out.write(f"\n=== {time.strftime('%H:%M:%S')} start {self.name}\n".encode())
            self.popen = subprocess.Popen(
                self.argv,
                cwd=REPO,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with open(self.root / "pids", "a") as pids:
            pids.write(f"{self.popen.pid}\n")
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def kill9(self) -> None:
        """SIGKILL the whole process group at once (main process and its children)."""
        self.signal_group(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self.signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.signal_group(signal.SIGKILL)  # leftover children of the group
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def logged_since_start(self, text: str) -> bool:
        with open(self.log, "rb") as log:
            log.seek(self.log_offset)
            return text.encode() in log.read()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *argv] if IS_ROOT else argv


class Postgres:
    """A throw-away cluster: initdb into the suite's temp dir, trust auth, 127.0.0.1 only."""

    def __init__(self, root: Path, logs: Path) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
        if not bins:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
        self.bin = Path(bins[-1])
        self.dir = root / "pg"
        self.data = self.dir / "data"
        self.port = free_port()
        self.log = logs / "postgres.log"
        self.dir.mkdir()
        if IS_ROOT:
            shutil.chown(self.dir, "postgres", "postgres")
            self.log.touch()
            shutil.chown(self.log, "postgres", "postgres")
        (root / "pgdata").write_text(f"{self.bin}\n{self.data}\n")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/remediator"

    def _run(self, *argv: str, timeout: float = 120) -> None:
        subprocess.run(
            as_postgres([str(self.bin / argv[0]), *argv[1:]]),
            check=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-sync", "--locale=C.UTF-8")  # fmt: skip
        self.start()
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE remediator")

    def dsn(self, db: str = "remediator") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={db} connect_timeout=3"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def processes(self) -> list[int]:
        """The postmaster and every process it started (backends, checkpointer...)."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == postmaster:  # field 4 of stat: the parent's pid
                children.append(int(stat.split("/")[2]))
        return [postmaster, *children]

    def freeze(self) -> list[int]:
        """SIGSTOP the whole server: it keeps its sockets (the kernel still accepts
        connections and acknowledges data) and answers nothing, as a hung host does."""
        pids = self.processes()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        return pids

    def thaw(self, pids: list[int]) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def query(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: tuple | list = ()):
        return self.query(sql, params)[0][0]


class Redis:
    """Our own redis-server (AOF on, as a broker should be) on a free port."""

    def __init__(self, root: Path, logs: Path) -> None:
        self.port = free_port()
        self.dir = root / "redis"
        self.dir.mkdir()
        self.logs = logs
        self.root = root
        self.proc: Proc | None = None
        self.url = f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                "--dir", str(self.dir), "--save", "", "--appendonly", "yes",
                "--appendfsync", "everysec", "--protected-mode", "yes"]  # fmt: skip
        self.proc = Proc("redis", argv, env=dict(os.environ), log=self.logs / "redis.log",
                         root=self.root).start()  # fmt: skip
        wait_for("redis up", self.ping, 30)

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(timeout=20)  # SIGTERM: Redis flushes its AOF and exits

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.alive


def procfile() -> dict[str, str]:
    entries = {}
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and ":" in line:
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


class App:
    """The Procfile's processes, run by bash exactly as honcho would run each line."""

    def __init__(self, root: Path, logs: Path, env: dict) -> None:
        self.root, self.logs, self.env = root, logs, env
        self.commands = procfile()
        self.procs: dict[str, Proc] = {}
        self.starts: dict[str, int] = {}

    def manage(self, *args: str, input: str | None = None, timeout: float = 300) -> str:
        result = subprocess.run(
            [str(PYTHON), "manage.py", *args],
            cwd=REPO,
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {shlex.join(args)}: {result.stderr[-2000:]}")
        return result.stdout

    def start(self, name: str, app_name: str | None = None) -> Proc:
        self.starts[name] = self.starts.get(name, 0) + 1
        env = {**self.env, "PGAPPNAME": app_name or f"faults-{name}"}
        argv = ["bash", "-c", f"exec {self.commands[name]}"]
        proc = Proc(name, argv, env=env, log=self.logs / f"{name}.log", root=self.root).start()
        self.procs[name] = proc
        return proc

    def start_with(self, name: str, command: str, **overrides: str) -> Proc:
        """The Procfile's ``command`` line as process ``name``, its environment changed
        by ``overrides`` (another broker URL, another port...)."""
        env = {**self.env, "PGAPPNAME": f"faults-{name}", **overrides}
        argv = ["bash", "-c", f"exec {self.commands[command]}"]
        proc = Proc(name, argv, env=env, log=self.logs / f"{name}.log", root=self.root).start()
        self.procs[name] = proc
        return proc

    def stop_all(self) -> None:
        for proc in self.procs.values():
            proc.stop()
