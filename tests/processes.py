"""`python -m app …` as separate processes, started in milliseconds: forked from a process that
has imported the service once (the standard library's forkserver, with the service preloaded).

Each command or server is still a process of its own, with its own environment, standard streams,
exit code and signals, running `app.cli.main` exactly as `python -m app` does; only the
interpreter's start and the import of the service (two seconds of CPU, paid by every one of the
suite's hundred-odd commands and servers) are done once. Tests that must see a fresh
interpreter (a server's `--workers`, which uvicorn spawns anew) still get one from uvicorn.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import tempfile
from multiprocessing.context import ForkServerContext
from pathlib import Path

#: What every command imports sooner or later: imported once, in the fork server.
PRELOAD = ["tests.processes", "app.cli", "app.main", "app.programme.seeding", "app.questionnaire.seeding",
           "app.settings_register.importer", "app.backup", "app.retention.services", "app.pdf", "weasyprint",
           "piccolo.apps.migrations.commands.forwards", "uvicorn", "uvicorn.main", "uvloop", "httptools"]

_context: ForkServerContext | None = None


def _forkserver() -> ForkServerContext:
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        _context = context
    return _context


def _run(argv: list[str], env: dict[str, str], cwd: str, stdin: str | None, out: str, err: str) -> None:
    """In the forked process: the environment, the streams and the working folder of a process
    started as `python -m app ARGV`, then the command itself."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # multiprocessing ignores it in children
    for fd, path, mode in ((1, out, os.O_WRONLY), (2, err, os.O_WRONLY), (0, stdin, os.O_RDONLY)):
        target = os.open(path or os.devnull, mode)
        os.dup2(target, fd)
        os.close(target)
    sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the process's own standard input
    sys.argv = [str(Path(cwd) / "app" / "__main__.py"), *argv]
    from app.cli import main

    try:
        code = main(argv)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    raise SystemExit(code)


class AppProcess:
    """One `python -m app ARGV` process; its standard output and error go to files."""

    def __init__(self, argv: list[str], env: dict[str, str], *, cwd: Path, stdin: str | None = None,
                 merge_output: bool = False):
        self._files = []
        self.stdout_path = self._file("out")
        self.stderr_path = self.stdout_path if merge_output else self._file("err")
        stdin_path = None
        if stdin is not None:
            stdin_path = self._file("in")
            Path(stdin_path).write_text(stdin)
        self.process = _forkserver().Process(
            target=_run, args=(list(argv), dict(env), str(cwd), stdin_path, self.stdout_path, self.stderr_path),
            daemon=False)
        self.process.start()

    def _file(self, what: str) -> str:
        handle, path = tempfile.mkstemp(prefix=f"sgb-cli-{what}-")
        os.close(handle)
        self._files.append(path)
        return path

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.exitcode

    def wait(self, timeout: float | None = None) -> int | None:
        self.process.join(timeout)
        if self.process.exitcode is None:
            raise TimeoutError(f"python -m app {' '.join(self.process._args[0])} still running after {timeout} s")  # type: ignore[attr-defined]
        return self.process.exitcode

    def terminate(self) -> None:
        if self.process.exitcode is None:
            self.process.terminate()

    def kill(self) -> None:
        if self.process.exitcode is None:
            self.process.kill()

    def output(self) -> tuple[str, str]:
        out = Path(self.stdout_path).read_text(errors="replace")
        err = "" if self.stderr_path == self.stdout_path else Path(self.stderr_path).read_text(errors="replace")
        return out, err

    def remove_files(self) -> None:
        for path in self._files:
            Path(path).unlink(missing_ok=True)
