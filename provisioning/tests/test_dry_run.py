"""apply --dry-run: the offline preview, every object in order with the payload apply would send."""

import json
import re
import socket

from my_metric_provisioning.assets import DASHBOARD_FILE
from my_metric_provisioning.provision import CATCH_UP, MANAGED_BY, downtime_marker

from .common import NOTIFY, REPO_INTEGRATION, WEEKNIGHT, cli

MONITOR_PLACEHOLDER = "<id of the monitor>"
CATCH_UP_STEP = f"downtime {CATCH_UP}"


def plan_steps(*argv) -> dict[str, str]:
    """Object -> the payload printed under its `== <object> ==` header."""
    code, out = cli("--timezone", "Europe/Paris", "apply", "--dry-run", "--notify", NOTIFY, *argv)
    assert code == 0, out
    parts = re.split(r"^== (.+) ==$", out, flags=re.MULTILINE)
    return {step: text.strip("\n") for step, text in zip(parts[1::2], parts[2::2], strict=True)}


def test_the_plan_lists_each_object_apply_sends_with_its_payload(real_assets):
    steps = plan_steps()
    names = list(real_assets.downtimes)
    assert list(steps) == ["monitor", "dashboard"] + [f"downtime {name}" for name in names]
    monitor = json.loads(steps["monitor"])
    assert monitor["name"] == real_assets.monitor["definition"]["name"] and MANAGED_BY in monitor["tags"]
    for name in names:
        attributes = json.loads(steps[f"downtime {name}"])["data"]["attributes"]
        assert attributes["message"].endswith(f"{NOTIFY} {downtime_marker(name)}")
        assert attributes["monitor_identifier"] == {"monitor_id": MONITOR_PLACEHOLDER}


def test_the_plan_shows_the_dashboard_as_its_file_reads_plus_the_marker():
    """Diffed against the asset file, the printed dashboard differs only by the marker in its description."""
    text = (REPO_INTEGRATION / DASHBOARD_FILE).read_text(encoding="utf-8").rstrip("\n")
    description = json.loads(text)["description"]
    marked = text.replace(json.dumps(description), json.dumps(f"{description} [{MANAGED_BY}]"), 1)
    assert marked != text
    assert plan_steps()["dashboard"] == marked


def test_at_night_the_plan_ends_with_the_catch_up_downtime(real_assets, clock):
    clock.now = WEEKNIGHT  # 23:30 on a Wednesday in Paris
    steps = plan_steps()
    assert list(steps)[-1] == CATCH_UP_STEP and len(steps) == 3 + len(real_assets.downtimes)
    catch_up = json.loads(steps[CATCH_UP_STEP])["data"]["attributes"]
    assert catch_up["schedule"] == {"end": "2026-05-21T09:00:00+02:00"}
    assert catch_up["message"].endswith(f"{NOTIFY} {downtime_marker(CATCH_UP)}")
    # the rest as the first stored downtime: scope, the monitor, which end states notify
    first = json.loads(steps[f"downtime {next(iter(real_assets.downtimes))}"])["data"]["attributes"]
    assert {k: v for k, v in catch_up.items() if k not in ("message", "schedule")} == {
        k: v for k, v in first.items() if k not in ("message", "schedule")
    }
    assert catch_up["monitor_identifier"] == {"monitor_id": MONITOR_PLACEHOLDER}


def test_the_preview_needs_no_keys_and_opens_no_connection(monkeypatch):
    monkeypatch.delenv("DD_API_KEY", raising=False)
    monkeypatch.delenv("DD_APP_KEY", raising=False)

    def refuse(*args):
        raise AssertionError("the offline preview opened a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    code, out = cli("apply", "--dry-run", "--notify", NOTIFY, "--api-url", "http://127.0.0.1:9")
    assert code == 0 and "== monitor ==" in out, out
