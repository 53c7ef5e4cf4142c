"""my_metric's manifest carries what integrations-extras now requires of an integration's manifest."""

import json

from .common import REPO_ROOT


def test_manifest_names_the_owner_integrations_extras_gives_community_agent_checks():
    # Every integrations-extras manifest has an "owner" since September 2025; the community Agent checks
    # (those with a datadog_checks package, syncthing among them) name "agent-integrations"
    # (DataDog/integrations-extras syncthing/manifest.json, pull request 2791). `ddev create` leaves "<FILL IN>".
    manifest = json.loads((REPO_ROOT / "my_metric" / "manifest.json").read_text())
    assert manifest["owner"] == "agent-integrations"
