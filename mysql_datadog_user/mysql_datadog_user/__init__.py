"""Create and verify the Datadog Agent's least-privilege MySQL/MariaDB user.

    admin = admin_settings_from_env()
    if (reason := unreachable_reason(admin)) is None:
        apply(admin, password)                       # AccountExists if any 'datadog'@<host> exists
        results = verify(admin.as_user('datadog', password))
"""

from .accounts import (
    DATADOG_USER,
    MAX_USER_CONNECTIONS,
    AccountExists,
    ServerInfo,
    apply,
    drop_user,
    ensure_app_user,
    user_exists,
)
from .connection import ConnectionSettings, admin_settings_from_env, connect, unreachable_reason
from .temporary import TemporaryAccounts, drop_accounts, run_accounts, temporary_accounts
from .verification import CHECK_NAMES, CheckResult, verify, verify_with_witness

__version__ = '1.0.0'

__all__ = [
    'CHECK_NAMES',
    'DATADOG_USER',
    'MAX_USER_CONNECTIONS',
    'AccountExists',
    'CheckResult',
    'ConnectionSettings',
    'ServerInfo',
    'TemporaryAccounts',
    'admin_settings_from_env',
    'apply',
    'connect',
    'drop_accounts',
    'drop_user',
    'ensure_app_user',
    'run_accounts',
    'temporary_accounts',
    'unreachable_reason',
    'user_exists',
    'verify',
    'verify_with_witness',
]
