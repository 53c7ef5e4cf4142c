"""Install and run a Datadog Agent integration wheel the way the Agent does, without the Agent."""

from agent_standin.install import (
    build_wheel,
    create_agent_python,
    install_integration,
    installed_version,
    wheel_metadata,
)
from agent_standin.run import LoaderError, run_agent_check

__version__ = '1.0.0'

__all__ = [
    'LoaderError',
    'build_wheel',
    'create_agent_python',
    'install_integration',
    'installed_version',
    'run_agent_check',
    'wheel_metadata',
]
