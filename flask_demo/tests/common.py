"""Constants the flask_demo tests share."""

from pathlib import Path

from flask_demo_harness import SNAPSHOT_REGEX_PLACEHOLDERS

SNAPSHOT_DIR = Path(__file__).parent / "snapshots"
APP_ENV = "test"
SERVICE = "flask_demo"
# The app's own MySQL account and database (never the Agent's `datadog` user), one per run.
APP_ACCOUNT_PATTERN = r"dd_test_app_[0-9a-f]{8}"
REGEX_PLACEHOLDERS = {**SNAPSHOT_REGEX_PLACEHOLDERS, "app_account": APP_ACCOUNT_PATTERN}
SUPPLIED_ROUTES = {
    "/": "Entrypoint to the Application",
    "/api/apm": "Getting APM Started",
    "/api/trace": "Posting Traces",
}
