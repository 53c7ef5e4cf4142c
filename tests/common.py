import re
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The README's Agent table (what each part needs, the deploy pins), between two markers; tests/test_pins.py
# checks each row against its own source.
AGENT_TABLE = re.compile(r"^<!-- agent-table\b.*?-->\n(.*?)^<!-- /agent-table -->", re.MULTILINE | re.DOTALL)

# The Agent that first embeds each Python (datadog-agent release notes); the integration's
# requires-python therefore decides the oldest Agent the docs may promise.
FIRST_AGENT_FOR_PYTHON = {"3.11": "7.51", "3.12": "7.58", "3.13": "7.72"}


def python_floor() -> str:
    requires = tomllib.loads((REPO_ROOT / "my_metric" / "pyproject.toml").read_text())["project"]["requires-python"]
    match = re.fullmatch(r">=\s*(3\.\d+)", requires)
    assert match, f"my_metric requires-python {requires!r} is not of the form >=3.X"
    return match.group(1)
