"""Build an integration's wheel and install it as `datadog-agent integration install -w` does.

The Agent's embedded Python is stood in for by a virtualenv that holds only
`datadog-checks-base[deps]` (and pip, which the Agent's installer runs), every package from the lock
of that base version in agent_python_locks/ (exact versions and hashes). Installing follows the
Agent's steps: the wheel must depend on `datadog-checks-base`; it is installed without its
dependencies; the files in `datadog_checks/<name>/data/` are copied to `conf.d/<name>.d/`.
"""

import importlib.resources
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import NamedTuple

from uv import find_uv_bin

BASE_PACKAGE = 'datadog-checks-base'
# Written into a virtualenv once create_agent_python has finished it.
COMPLETE_MARKER = '.agent-standin-complete'
# datadog-checks-base-<version>.txt: the hashed lock of one base version's [deps] (written by scripts/lock).
AGENT_PYTHON_LOCKS = importlib.resources.files('agent_standin') / 'agent_python_locks'


class WheelMetadata(NamedTuple):
    name: str
    version: str
    requires_python: str
    requirements: list[str]


def _uv(*arguments) -> subprocess.CompletedProcess:
    return subprocess.run([find_uv_bin(), *(str(argument) for argument in arguments)], check=True)


def build_wheel(integration_dir, out_dir, python=sys.executable) -> Path:
    """Build the wheel of the integration project in integration_dir into out_dir; return its path.

    A wheel of the same name already in out_dir is replaced.
    """
    integration_dir, out_dir = Path(integration_dir), Path(out_dir)
    if not (integration_dir / 'pyproject.toml').is_file():
        raise ValueError(f'{integration_dir} has no pyproject.toml; pass the directory of the integration project')
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as build_dir:
        _uv('build', '--quiet', '--wheel', '--python', python, '--out-dir', build_dir, integration_dir)
        [built] = Path(build_dir).glob('*.whl')
        return Path(shutil.move(built, out_dir / built.name))


def wheel_metadata(wheel) -> WheelMetadata:
    """Name, version, Requires-Python and Requires-Dist lines from the wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        [metadata_path] = [name for name in archive.namelist() if name.endswith('.dist-info/METADATA')]
        headers = archive.read(metadata_path).decode().split('\n\n', 1)[0].splitlines()
    fields: dict[str, list[str]] = {}
    for line in headers:
        key, _, value = line.partition(': ')
        fields.setdefault(key, []).append(value)
    return WheelMetadata(
        name=fields['Name'][0],
        version=fields['Version'][0],
        requires_python=fields.get('Requires-Python', [''])[0],
        requirements=fields.get('Requires-Dist', []),
    )


def locked_base_versions() -> list[str]:
    """The datadog-checks-base versions a stand-in can hold (those with a lock), oldest first."""
    names = [lock.name for lock in AGENT_PYTHON_LOCKS.iterdir() if lock.name.endswith('.txt')]
    versions = [name.removeprefix(f'{BASE_PACKAGE}-').removesuffix('.txt') for name in names]
    return sorted(versions, key=lambda version: tuple(int(part) for part in version.split('.')))


def create_agent_python(venv_dir, python=sys.executable, base_version=None, reuse=False) -> Path:
    """Create a virtualenv holding only `datadog-checks-base[deps]` (and pip); return its interpreter.

    base_version pins the base package to the version an Agent release ships (e.g. '36.16.0' for
    Agent 7.58); without it the newest locked version is taken. Every package comes from that
    version's lock, hashes checked, nothing resolved. With reuse, a virtualenv this function completed
    earlier in venv_dir is returned as it is (one left half-made is made again).
    """
    versions = locked_base_versions()
    base_version = base_version or versions[-1]
    if base_version not in versions:
        raise ValueError(
            f'no lock for {BASE_PACKAGE} {base_version} (locked: {", ".join(versions)}); add '
            f'{BASE_PACKAGE}-{base_version}.in to agent_standin/agent_python_locks/ and run scripts/lock'
        )
    venv_dir = Path(venv_dir)
    agent_python, complete = venv_dir / 'bin' / 'python', venv_dir / COMPLETE_MARKER
    if reuse and complete.exists():
        return agent_python
    shutil.rmtree(venv_dir, ignore_errors=True)
    _uv('venv', '--quiet', '--python', python, venv_dir)
    with importlib.resources.as_file(AGENT_PYTHON_LOCKS / f'{BASE_PACKAGE}-{base_version}.txt') as lock:
        _uv('pip', 'install', '--quiet', '--python', agent_python, '--require-hashes', '--no-deps', '-r', lock)
    complete.touch()
    return agent_python


def agent_python_is_complete(venv_dir) -> bool:
    """True when create_agent_python completed a virtualenv in venv_dir (so reuse=True takes it as it is)."""
    return (Path(venv_dir) / COMPLETE_MARKER).exists()


def installed_version(agent_python, distribution) -> str:
    """The version of a distribution installed in the given interpreter's environment."""
    return subprocess.run(
        [
            str(agent_python),
            '-c',
            'import importlib.metadata, sys; print(importlib.metadata.version(sys.argv[1]))',
            distribution,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def install_integration(agent_python, wheel, conf_d) -> Path:
    """Install the wheel into the Agent's Python and lay out its example config; return conf.d/<name>.d."""
    wheel = Path(wheel)
    metadata = wheel_metadata(wheel)
    dependencies = {re.split(r'[<>=!~;\[ (]', requirement, maxsplit=1)[0] for requirement in metadata.requirements}
    if BASE_PACKAGE not in dependencies:
        raise ValueError(
            f'{wheel.name} does not depend on {BASE_PACKAGE}; the Agent refuses such a wheel as "not an agent check". '
            f'Add {BASE_PACKAGE} to the dependencies in the integration\'s pyproject.toml'
        )
    check_name = metadata.name.removeprefix('datadog-').replace('-', '_')

    # --reinstall: a rebuilt wheel keeps its version number, and the installer would otherwise keep the old files.
    _uv('pip', 'install', '--quiet', '--python', agent_python, '--no-deps', '--reinstall', wheel)
    data_dir = subprocess.run(
        [
            str(agent_python),
            '-c',
            'import importlib, os, sys; module = importlib.import_module("datadog_checks." + sys.argv[1]); '
            'print(os.path.join(os.path.dirname(module.__file__), "data"))',
            check_name,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()

    check_conf_dir = Path(conf_d) / f'{check_name}.d'
    check_conf_dir.mkdir(parents=True, exist_ok=True)
    if Path(data_dir).is_dir():
        for source in sorted(Path(data_dir).iterdir()):
            if '.yaml' in source.name:
                shutil.copy2(source, check_conf_dir / source.name)
    return check_conf_dir


def install_check(agent_python, wheel, conf_d, config=None) -> Path:
    """install_integration, then give the check its conf.d/<name>.d/conf.yaml; return that file.

    The conf.yaml is a copy of config, else of the conf.yaml.example the wheel ships: what
    `datadog-agent check <name>` (run_agent_check) runs it with. An earlier conf.yaml is replaced.
    """
    check_conf_dir = install_integration(agent_python, wheel, conf_d)
    return Path(shutil.copyfile(config or check_conf_dir / 'conf.yaml.example', check_conf_dir / 'conf.yaml'))
