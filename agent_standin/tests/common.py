"""Constants and helpers of the agent_standin tests; the fixtures are in conftest.py."""

import textwrap
from pathlib import Path

# The base Agent 7.72 ships on Python 3.13; any installable version would do for these tests.
AGENT_BASE_VERSION = '37.21.1'
CHECK_NAME = 'example'
METRIC_NAME = 'example.value'
# A real package the Agent's Python does not hold: with --no-deps it must stay absent.
EXTRA_REQUIREMENT = 'tomli-w'


def make_integration(project_dir: Path, *, depends_on_base: bool = True, value: int = 1) -> Path:
    """Write a minimal integration project (integrations-extras layout) named `example`."""
    dependencies = [f'"{EXTRA_REQUIREMENT}"']
    if depends_on_base:
        dependencies.insert(0, '"datadog-checks-base>=36.16.0"')
    files = {
        'pyproject.toml': f"""
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "datadog-{CHECK_NAME}"
            version = "0.1.0"
            requires-python = ">=3.12"
            dependencies = [{', '.join(dependencies)}]

            [tool.hatch.build.targets.wheel]
            include = ["/datadog_checks/{CHECK_NAME}"]
            """,
        f'datadog_checks/{CHECK_NAME}/__init__.py': """
            from .check import ExampleCheck

            __all__ = ['ExampleCheck']
            """,
        f'datadog_checks/{CHECK_NAME}/check.py': f"""
            import os

            from datadog_checks.base import AgentCheck, ConfigurationError


            class ExampleCheck(AgentCheck):
                def check(self, instance):
                    if instance.get('fail'):
                        raise ConfigurationError('`fail` is set')
                    self.gauge('{METRIC_NAME}', instance.get('value', {value}), tags=instance.get('tags', []))
                    self.gauge('example.api_key_visible', int('DD_API_KEY' in os.environ))
            """,
        f'datadog_checks/{CHECK_NAME}/data/conf.yaml.example': """
            init_config:

            instances:
              - value: 3
            """,
        'README.md': '# example\n',
    }
    for relative, text in files.items():
        path = project_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return project_dir
