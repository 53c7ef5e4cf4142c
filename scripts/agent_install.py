"""Build the my_metric wheel and install it as `datadog-agent integration install -w` does.

The Agent's embedded Python is stood in for by a virtualenv that holds only
`datadog-checks-base[deps]`. Installing follows the Agent's steps: the wheel must depend on
`datadog-checks-base`; it is installed with `--no-deps`; the files in
`datadog_checks/<name>/data/` are copied to `conf.d/<name>.d/`.

Only the standard library is used, so the tests (in the integration's hatch environment) and the
one-command local run (in the repository's virtualenv) share this module.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
INTEGRATION_DIR = REPO_ROOT / 'my_metric'
AGENT_CHECK_SCRIPT = Path(__file__).with_name('agent_check.py')
CHECK_NAME = 'my_metric'


def _run(command, **kwargs):
    return subprocess.run([str(part) for part in command], check=True, **kwargs)


def _pip_install(python, *arguments):
    _run([python, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', *arguments])


def build_wheel(out_dir, python=sys.executable):
    """Build `datadog_my_metric-<version>-py3-none-any.whl` into out_dir and return its path."""
    out_dir = Path(out_dir)
    _run([python, '-m', 'pip', 'wheel', '--quiet', '--no-deps', '--wheel-dir', out_dir, INTEGRATION_DIR])
    [wheel] = out_dir.glob('datadog_my_metric-*-py3-none-any.whl')
    return wheel


def wheel_metadata(wheel):
    """Return (name, version, requires_python, [requirements]) from the wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        [metadata_path] = [name for name in archive.namelist() if name.endswith('.dist-info/METADATA')]
        headers = archive.read(metadata_path).decode().split('\n\n', 1)[0].splitlines()
    fields = {}
    for line in headers:
        key, _, value = line.partition(': ')
        fields.setdefault(key, []).append(value)
    requires_python = fields.get('Requires-Python', [''])[0]
    return fields['Name'][0], fields['Version'][0], requires_python, fields.get('Requires-Dist', [])


def create_agent_python(venv_dir, python=sys.executable):
    """Create a virtualenv holding only `datadog-checks-base[deps]` and return its interpreter."""
    venv_dir = Path(venv_dir)
    _run([python, '-m', 'venv', venv_dir])
    agent_python = venv_dir / 'bin' / 'python'
    _pip_install(agent_python, 'datadog-checks-base[deps]')
    return agent_python


def install_integration(agent_python, wheel, conf_d):
    """Install the wheel into the Agent's Python and lay out its example config; return conf.d/<name>.d."""
    name, _, _, requirements = wheel_metadata(wheel)
    dependencies = {re.split(r'[<>=!~;\[ ]', requirement, maxsplit=1)[0] for requirement in requirements}
    if 'datadog-checks-base' not in dependencies:
        raise ValueError(f'{wheel.name} does not depend on datadog-checks-base; the Agent refuses such a wheel')
    check_name = name.removeprefix('datadog-').replace('-', '_')

    # --force-reinstall: a rebuilt wheel keeps its version number, and pip would otherwise keep the old files.
    _pip_install(agent_python, '--no-deps', '--force-reinstall', wheel)
    data_dir = subprocess.run(
        [
            str(agent_python),
            '-c',
            f'import datadog_checks.{check_name} as m, os; print(os.path.join(os.path.dirname(m.__file__), "data"))',
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()

    check_conf_dir = Path(conf_d) / f'{check_name}.d'
    check_conf_dir.mkdir(parents=True, exist_ok=True)
    for source in sorted(Path(data_dir).iterdir()):
        if '.yaml' in source.name:
            shutil.copy2(source, check_conf_dir / source.name)
    return check_conf_dir


def run_agent_check(agent_python, config_path, runs=1, interval=None, check_name=CHECK_NAME, on_run=None):
    """Run the check as `datadog-agent check` does; return one document per run (see agent_check.py).

    on_run, if given, is called with each document as soon as that run has finished.
    """
    command = [agent_python, AGENT_CHECK_SCRIPT, check_name, '--config', config_path, '--runs', runs]
    if interval is not None:
        command += ['--interval', interval]
    env = {key: value for key, value in os.environ.items() if not key.startswith('DD_')}
    process = subprocess.Popen([str(part) for part in command], stdout=subprocess.PIPE, text=True, env=env)
    documents = []
    for line in process.stdout:
        document = json.loads(line)
        documents.append(document)
        if on_run is not None:
            on_run(document)
    process.wait()
    return documents
