"""Start the app the one supported way: ``ddtrace-run gunicorn`` with unified service tags.

``ddtrace-run`` reads DD_SERVICE / DD_VERSION when the interpreter starts, so their defaults
must be in the environment before it runs; that is the only job of this wrapper.
"""

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from .__about__ import __version__

DEFAULT_SERVICE = "flask_demo"
WSGI_APP = "flask_demo.app:app"
GUNICORN_CONFIG = "python:flask_demo.gunicorn_conf"


def find_executable(name: str) -> str:
    """Return the console script ``name`` installed beside the running interpreter, else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is neither beside {sys.executable} nor on PATH")
    return found


def unified_service_env(base: Mapping[str, str]) -> dict[str, str]:
    """Copy of ``base`` with DD_SERVICE and DD_VERSION defaulted (DD_ENV is left to the caller)."""
    env = dict(base)
    env.setdefault("DD_SERVICE", DEFAULT_SERVICE)
    env.setdefault("DD_VERSION", __version__)
    return env


def gunicorn_command(*, traced: bool = True, extra_args: Sequence[str] = (), wsgi_app: str = WSGI_APP) -> list[str]:
    """argv that serves ``wsgi_app`` with gunicorn, wrapped in ddtrace-run when ``traced``."""
    command = [find_executable("gunicorn"), "--config", GUNICORN_CONFIG, *extra_args, wsgi_app]
    if traced:
        command.insert(0, find_executable("ddtrace-run"))
    return command


def main() -> None:
    """Console entry point ``flask-demo-serve``: exec ddtrace-run gunicorn in place of this process."""
    command = gunicorn_command(extra_args=sys.argv[1:])
    os.execve(command[0], command, unified_service_env(os.environ))


if __name__ == "__main__":
    main()
