import re
import subprocess
import sys
import zipfile

import pytest
from agent_standin import (
    agent_python_is_complete,
    build_wheel,
    create_agent_python,
    install_check,
    install_integration,
    installed_version,
    locked_base_versions,
    run_agent_check,
    wheel_metadata,
)
from agent_standin.install import AGENT_PYTHON_LOCKS

from .common import AGENT_BASE_VERSION, CHECK_NAME, EXTRA_REQUIREMENT, METRIC_NAME, make_integration

pytestmark = pytest.mark.filterwarnings('error')


def test_build_wheel_builds_the_project_into_out_dir(wheel):
    assert wheel.name == f'datadog_{CHECK_NAME}-0.1.0-py3-none-any.whl'
    with zipfile.ZipFile(wheel) as archive:
        assert f'datadog_checks/{CHECK_NAME}/data/conf.yaml.example' in archive.namelist()


def test_build_wheel_replaces_a_wheel_of_the_same_name(tmp_path):
    out_dir = tmp_path / 'dist'
    out_dir.mkdir()
    stale = out_dir / f'datadog_{CHECK_NAME}-0.1.0-py3-none-any.whl'
    stale.write_text('not a wheel')

    wheel = build_wheel(make_integration(tmp_path / 'project'), out_dir)

    assert wheel == stale
    assert zipfile.is_zipfile(wheel)
    assert [path.name for path in out_dir.iterdir()] == [wheel.name]


def test_build_wheel_names_the_missing_pyproject(tmp_path):
    with pytest.raises(ValueError, match='has no pyproject.toml'):
        build_wheel(tmp_path, tmp_path / 'dist')


def test_wheel_metadata_reads_name_version_and_requirements(wheel):
    metadata = wheel_metadata(wheel)

    assert (metadata.name, metadata.version, metadata.requires_python) == (f'datadog-{CHECK_NAME}', '0.1.0', '>=3.12')
    assert metadata.requirements == ['datadog-checks-base>=36.16.0', EXTRA_REQUIREMENT]


def test_agent_python_holds_the_pinned_base_on_the_given_python(agent_python):
    assert installed_version(agent_python, 'datadog-checks-base') == AGENT_BASE_VERSION
    version = subprocess.run(
        [agent_python, '-c', 'import sys; print(sys.version_info[:2])'], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert version == str(sys.version_info[:2])
    # Nothing of the test environment leaks in: not this package, not pytest.
    for absent in ('agent-standin', 'pytest'):
        with pytest.raises(subprocess.CalledProcessError):
            installed_version(agent_python, absent)


def test_install_lays_out_the_example_config_and_skips_dependencies(agent_python, check_conf_dir):
    assert check_conf_dir.name == f'{CHECK_NAME}.d'
    assert sorted(path.name for path in check_conf_dir.iterdir()) == ['conf.yaml.example']
    assert installed_version(agent_python, f'datadog-{CHECK_NAME}') == '0.1.0'
    with pytest.raises(subprocess.CalledProcessError):
        installed_version(agent_python, EXTRA_REQUIREMENT)


def test_install_check_configures_the_check_with_the_example_or_the_given_config(agent_python, wheel, tmp_path):
    given = tmp_path / 'mine.yaml'
    given.write_text('instances:\n  - value: 7\n')

    example_config = install_check(agent_python, wheel, tmp_path / 'conf.d')
    example_text = example_config.read_text()
    given_config = install_check(agent_python, wheel, tmp_path / 'conf.d', given)

    assert example_config == given_config == tmp_path / 'conf.d' / f'{CHECK_NAME}.d' / 'conf.yaml'
    assert example_text == (example_config.parent / 'conf.yaml.example').read_text()
    assert given_config.read_text() == given.read_text()
    [document] = run_agent_check(agent_python, given_config, interval=0)
    assert {series['metric']: series['value'] for series in document['series']}[METRIC_NAME] == 7


def test_install_refuses_a_wheel_without_the_base_dependency(agent_python, tmp_path):
    project = make_integration(tmp_path / 'project', depends_on_base=False)
    wheel = build_wheel(project, tmp_path / 'dist')

    with pytest.raises(ValueError, match='does not depend on datadog-checks-base') as error:
        install_integration(agent_python, wheel, tmp_path / 'conf.d')

    assert 'pyproject.toml' in str(error.value)
    assert not (tmp_path / 'conf.d').exists()


def test_reinstalling_a_rebuilt_wheel_of_the_same_version_replaces_the_code(agent_python, wheel, tmp_path):
    rebuilt = build_wheel(make_integration(tmp_path / 'project', value=42), tmp_path / 'dist')
    assert rebuilt.name == wheel.name
    try:
        conf_dir = install_integration(agent_python, rebuilt, tmp_path / 'conf.d')
        config = conf_dir / 'conf.yaml'
        config.write_text('instances:\n  - {}\n')

        [document] = run_agent_check(agent_python, config, interval=0)

        assert {series['metric']: series['value'] for series in document['series']}[METRIC_NAME] == 42
    finally:
        install_integration(agent_python, wheel, tmp_path / 'conf.d')


def test_reuse_takes_a_completed_stand_in_as_it_is(agent_python):
    venv_dir = agent_python.parent.parent
    witness = venv_dir / 'left-by-an-earlier-run'
    witness.write_text('')

    assert agent_python_is_complete(venv_dir)
    assert create_agent_python(venv_dir, sys.executable, AGENT_BASE_VERSION, reuse=True) == agent_python
    assert witness.exists()


def test_reuse_makes_a_half_made_stand_in_again(tmp_path):
    venv_dir = tmp_path / 'embedded'
    (venv_dir / 'bin').mkdir(parents=True)
    (venv_dir / 'bin' / 'python').write_text('left by an interrupted run')

    agent_python = create_agent_python(venv_dir, sys.executable, AGENT_BASE_VERSION, reuse=True)

    assert agent_python_is_complete(venv_dir)
    assert installed_version(agent_python, 'datadog-checks-base') == AGENT_BASE_VERSION


def test_agent_python_holds_exactly_the_packages_of_its_base_versions_lock(agent_python):
    lock = AGENT_PYTHON_LOCKS / f'datadog-checks-base-{AGENT_BASE_VERSION}.txt'
    locked = dict(re.findall(r'^([A-Za-z0-9._-]+)==(\S+)', lock.read_text(), re.MULTILINE))
    listing = subprocess.run(
        [
            agent_python,
            '-c',
            'import importlib.metadata as m; print(*(f"{d.name}=={d.version}" for d in m.distributions()))',
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # The tests install the example check into this stand-in; everything else must come from the lock.
    installed = {
        name: version for name, version in (line.split('==') for line in listing) if name != f'datadog-{CHECK_NAME}'
    }

    def normalized(packages):
        return {re.sub(r'[-_.]+', '-', name).lower(): version for name, version in packages.items()}

    # Universal lock: a package behind a marker this Python does not meet is locked but not installed.
    assert normalized(installed).items() <= normalized(locked).items()
    assert {'datadog-checks-base', 'pip', 'pyyaml'} <= normalized(installed).keys()


def test_agent_python_refuses_a_base_version_without_a_lock(tmp_path):
    with pytest.raises(ValueError, match=r'no lock for datadog-checks-base 1\.2\.3 .*scripts/lock'):
        create_agent_python(tmp_path / 'embedded', sys.executable, '1.2.3')
    assert not (tmp_path / 'embedded').exists()


def test_without_a_base_version_the_newest_locked_one_is_taken(tmp_path):
    newest = max(locked_base_versions(), key=lambda version: tuple(map(int, version.split('.'))))

    agent_python = create_agent_python(tmp_path / 'embedded', sys.executable)

    assert installed_version(agent_python, 'datadog-checks-base') == newest
