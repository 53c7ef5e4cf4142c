"""Install and run a Datadog Agent integration wheel the way the Agent does, without the Agent."""

from agent_standin.config import CheckConfigError, collection_interval, error_messages, read_check_config
from agent_standin.install import (
    agent_python_is_complete,
    build_wheel,
    create_agent_python,
    install_check,
    install_integration,
    installed_version,
    locked_base_versions,
    wheel_metadata,
)
from agent_standin.ports import free_ports
from agent_standin.run import LoaderError, RunsSummary, describe_run, run_agent_check, summarize_runs

__version__ = '1.0.0'

__all__ = [
    'CheckConfigError',
    'LoaderError',
    'RunsSummary',
    'agent_python_is_complete',
    'build_wheel',
    'collection_interval',
    'create_agent_python',
    'describe_run',
    'error_messages',
    'free_ports',
    'install_check',
    'install_integration',
    'installed_version',
    'locked_base_versions',
    'read_check_config',
    'run_agent_check',
    'summarize_runs',
    'wheel_metadata',
]
