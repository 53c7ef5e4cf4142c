"""Locating and loading the assets the command provisions."""

import csv
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

DASHBOARD_FILE = "assets/dashboards/my_metric_overview.json"
MONITOR_FILE = "assets/monitors/my_metric_high.json"


class AssetFileError(Exception):
    """An asset file is missing or is not JSON; the message names the file and the place."""


def default_integration_dir() -> Path:
    """The repository's my_metric/ above this file (also from a copy of the package in provisioning/mutants/)."""
    here = Path(__file__).resolve()
    found = (folder / "my_metric" for folder in here.parents if (folder / "my_metric" / "manifest.json").is_file())
    return next(found, here.parents[2] / "my_metric")


def load_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssetFileError(f"{path}: file not found.") from None
    except json.JSONDecodeError as exc:
        raise AssetFileError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}.") from None


def known_metrics() -> dict[str, str]:
    """Metrics of other integrations the assets may use, with where each name comes from."""
    text = (resources.files("my_metric_provisioning") / "data" / "known_metrics.csv").read_text(encoding="utf-8")
    return {row["metric_name"]: row["source"] for row in csv.DictReader(text.splitlines())}


def integration_metrics(integration_dir: Path) -> set[str]:
    with open(integration_dir / "metadata.csv", encoding="utf-8", newline="") as handle:
        return {row["metric_name"] for row in csv.DictReader(handle)}


@dataclass
class Assets:
    """The integration's dashboard and monitor, and the downtimes bundled with this package."""

    integration_dir: Path
    dashboard: dict
    monitor: dict
    downtimes: dict[str, dict]

    @classmethod
    def load(cls, integration_dir: Path) -> "Assets":
        folder = resources.files("my_metric_provisioning") / "data" / "downtimes"
        files = sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".json"))
        return cls(
            integration_dir=integration_dir,
            dashboard=load_json(integration_dir / DASHBOARD_FILE),
            monitor=load_json(integration_dir / MONITOR_FILE),
            downtimes={p.stem: load_json(p) for p in files},
        )
