import copy
import io
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

from my_metric_provisioning.assets import default_integration_dir
from my_metric_provisioning.cli import run
from my_metric_provisioning.provision import MANAGED_BY

REPO_INTEGRATION = default_integration_dir()
# A Wednesday, 17:00 in Paris and 11:00 in New York: working hours, so no catch-up downtime unless a test
# moves the clock (tests/test_downtime_starts.py). Apply and the local API server share this clock.
WORKING_HOURS = datetime(2026, 5, 20, 15, 0, tzinfo=timezone.utc)
# 23:30 in Paris: inside a weeknight, apply also makes the catch-up downtime.
WEEKNIGHT = datetime(2026, 5, 20, 21, 30, tzinfo=timezone.utc)
FAST = ["--retry-backoff", "0", "--max-retries", "2"]
NOTIFY = "@ops-team@example.com"
# A large org: most downtimes ended long ago.
LARGE_ORG = {"dashboards": 10_000, "monitors": 5_000, "downtimes": 50_000}


def cli(*argv):
    out = io.StringIO()
    code = run(list(argv), out=out)
    return code, out.getvalue()


def apply(fake, *extra, timezone="Europe/Paris"):
    return cli("--timezone", timezone, "apply", "--notify", NOTIFY, "--api-url", fake.url, *FAST, *extra)


def destroy(fake, *extra):
    return cli("destroy", "--api-url", fake.url, *FAST, *extra)


def plan(fake, *extra, timezone="Europe/Paris"):
    return cli("--timezone", timezone, "plan", "--notify", NOTIFY, "--api-url", fake.url, *FAST, *extra)


def reported(out) -> dict[str, tuple[str, str]]:
    """{kind: (action, id)} from the lines apply, plan and destroy print for each object, e.g.
    `created   dashboard (id abc-1)` or `unchanged downtime weekend 0000-12`."""
    found = {}
    for line in out.splitlines():
        if match := re.fullmatch(
            r"(\w+) +(monitor|dashboard|downtime [\w-]+)(?: \(id (\S+)\)| (\S+))?(?: \(.*\))?", line
        ):
            found[match.group(2)] = (match.group(1), match.group(3) or match.group(4))
    return found


def managed(fake):
    """How many dashboards, monitors and active downtimes carry the marker."""
    dashboards = [d for d in fake.dashboards.values() if MANAGED_BY in d.get("description", "")]
    monitors = [m for m in fake.monitors.values() if MANAGED_BY in m.get("tags", [])]
    downtimes = [d for d in fake.active_downtimes() if MANAGED_BY in d["attributes"]["message"]]
    return len(dashboards), len(monitors), len(downtimes)


def writes(fake) -> int:
    return sum(1 for method, _ in fake.requests if method != "GET")


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


def integration_copy(tmp_path) -> Path:
    """A copy of the integration's assets, manifest and metadata that a test may break."""
    copy = tmp_path / "my_metric"
    shutil.copytree(REPO_INTEGRATION / "assets", copy / "assets")
    shutil.copy(REPO_INTEGRATION / "manifest.json", copy)
    shutil.copy(REPO_INTEGRATION / "metadata.csv", copy)
    return copy


def payloads_in(assets, zone):
    """The two stored downtimes, moved to `zone`, as apply sends them."""
    moved = [copy.deepcopy(assets.downtimes[name]) for name in ("weeknights", "weekend")]
    for payload in moved:
        attributes = payload["data"]["attributes"]
        attributes["schedule"]["timezone"] = attributes["display_timezone"] = zone
    return moved


def set_rules(payload, recurrences):
    changed = copy.deepcopy(payload)
    changed["data"]["attributes"]["schedule"]["recurrences"] = recurrences
    return changed
