import io
import re
from pathlib import Path

from my_metric_provisioning.cli import run

REPO_INTEGRATION = Path(__file__).resolve().parents[2] / "my_metric"
FAST = ["--retry-backoff", "0", "--max-retries", "2"]
NOTIFY = "@ops-team@example.com"
# A large org as issue 12 describes it: most downtimes ended long ago.
LARGE_ORG = {"dashboards": 10_000, "monitors": 5_000, "downtimes": 50_000}


def cli(*argv):
    out = io.StringIO()
    code = run(list(argv), out=out)
    return code, out.getvalue()


def apply(fake, *extra, timezone="Europe/Paris"):
    return cli("--timezone", timezone, "apply", "--notify", NOTIFY, "--api-url", fake.url, *FAST, *extra)


def destroy(fake, *extra):
    return cli("destroy", "--api-url", fake.url, *FAST, *extra)


def assert_no_key(text, keys):
    for value in keys.values():
        assert value not in text
    assert not re.search(r"\b[0-9a-f]{32}\b|\b[0-9a-f]{40}\b", text)


def requests_of(fake, step):
    """Run `step` and return the requests it made, by (method, route)."""
    before = fake.routes.copy()
    code, out = step()
    assert code == 0, out
    return fake.routes - before
