"""forecast: the exact rates of the stated model, checked against enumeration and a plain simulation written here;
thresholds for a target rate, which validate; the check's defaults from its spec, its interval as the Agent reads it."""

import itertools
import json

import numpy as np
import pytest
from agent_standin.config import CheckConfigWarning
from my_metric_provisioning import forecast as fc

from .common import REPO_INTEGRATION, cli, integration_copy


def forecast_json(*argv):
    code, out = cli("forecast", *argv)
    assert code == 0, out
    return json.loads(out)


def write_monitor(path, query=None, **options):
    asset = json.loads((REPO_INTEGRATION / fc.MONITOR_FILE).read_text())
    asset["definition"]["options"].update(options)
    asset["definition"]["query"] = query or asset["definition"]["query"]
    path.write_text(json.dumps(asset))
    return path


def test_sums_match_enumeration():
    for n in (0, 1, 2, 3):
        outcomes = [sum(values) for values in itertools.product(range(4), repeat=n)]
        pmf, tail = fc.sums(4, n)
        assert pmf == pytest.approx([outcomes.count(total) / len(outcomes) for total in range(3 * n + 1)])
        assert tail == pytest.approx([np.mean([o >= total for o in outcomes]) for total in range(3 * n + 2)])


def test_a_five_minute_window_holds_seven_points_two_thirds_of_the_time():
    points = {}
    for share, shared, leaving, _entering in fc.window_segments(45, 300):
        points[shared + leaving] = points.get(shared + leaving, 0) + share
    assert points == pytest.approx({7: 2 / 3, 6: 1 / 3})


def simulated_changes(check, monitor, evaluations, seed=0):
    """Changes into OK, WARN and ALERT per evaluation, by drawing the points and evaluating every minute."""
    rng = np.random.default_rng(seed)
    times = np.arange(rng.uniform(0, check.interval), evaluations * 60 + monitor.window, check.interval)
    values = rng.integers(check.min_value, check.max_value + 1, len(times))
    ends = np.arange(monitor.window, evaluations * 60 + monitor.window, 60)
    first, last = np.searchsorted(times, ends - monitor.window, "right"), np.searchsorted(times, ends, "right")
    sums = np.concatenate([[0], np.cumsum(values)])
    averages = (sums[last] - sums[first]) / (last - first)
    states = (averages > monitor.warning).astype(int) + (averages > monitor.critical)  # 0 OK, 1 WARN, 2 ALERT
    changed = states[1:] != states[:-1]
    return [float(np.mean(changed & (states[1:] == state))) for state in range(3)]


def test_the_exact_rates_agree_with_a_simulation_of_the_model():
    check = fc.load_check(REPO_INTEGRATION / fc.CHECK_CONFIG_FILE, REPO_INTEGRATION)
    monitor = fc.load_monitor(REPO_INTEGRATION / fc.MONITOR_FILE)
    evaluations = 200_000
    _, exact = fc.rates(check, monitor)
    for kind, simulated, rate in zip(fc.KINDS, simulated_changes(check, monitor, evaluations), exact, strict=True):
        assert abs(simulated - rate) < 5 * (rate / evaluations) ** 0.5, kind


def test_default_figures_and_their_picture(tmp_path):
    result = forecast_json("--output", str(tmp_path / "rates.png"))
    assert (tmp_path / "rates.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    check, monitor, week = (result["model"][part] for part in ("check", "monitor", "downtimes"))
    assert (check["interval"], monitor["window"], monitor["warning"], monitor["critical"]) == (45, 300, 500, 800)
    assert (week["live_minutes"], week["unmutes"], week["notify_end_states"]) == (3000, 5, ["alert", "no data", "warn"])
    without, with_ = result["per_week"]["without_downtimes"], result["per_week"]["with_downtimes"]
    assert with_["alert"] / without["alert"] == pytest.approx(3000 / 10080, rel=0.02)  # plus the downtime ends
    assert 1000 < without["warning"] < 1100 and 15 < without["alert"] < 25


def test_proposed_thresholds_give_the_asked_rate_and_validate(tmp_path):
    proposal = forecast_json("--target-warnings-per-week", "20")["proposal"]
    assert proposal["targets"] == {"warning": 20, "alert": 2}
    assert 500 < proposal["warning"] < proposal["critical"] < 1000
    query = f"avg(last_5m):avg:my_metric{{*}} by {{host}} > {proposal['critical']}"
    adapted = integration_copy(tmp_path)  # what the proposal is for: a monitor that validates and can be applied
    thresholds = {name: proposal[name] for name in ("critical", "warning")}
    monitor = write_monitor(adapted / fc.MONITOR_FILE, query, thresholds=thresholds)
    code, out = cli("--assets-dir", str(adapted), "validate", "--year", "2026")
    assert code == 0, out
    again = forecast_json("--monitor", str(monitor))["per_week"]["with_downtimes"]
    assert again["warning"] == pytest.approx(20, rel=0.05) and again["alert"] == pytest.approx(2, rel=0.05)


def test_bounds_default_to_the_spec_and_the_interval_is_read_as_the_agent_does(tmp_path):
    copy = integration_copy(tmp_path)
    spec = copy / fc.SPEC_FILE
    spec.write_text(spec.read_text().replace("display_default: 1000", "display_default: 2000"))
    config = tmp_path / "conf.yaml"
    config.write_text("init_config:\ninstances:\n  - min_collection_interval: 60.7\n")
    with pytest.warns(CheckConfigWarning):  # the Agent keeps whole seconds, and says so
        check = forecast_json("--assets-dir", str(copy), "--check-config", str(config))["model"]["check"]
    assert (check["min_value"], check["max_value"], check["interval"]) == (0, 2000, 60)


@pytest.mark.parametrize(
    "argv, named",
    [
        (["forecast", "--check-config", "{tmp}/broken.yaml"], "--check-config"),
        (["forecast", "--check-config", "{tmp}/swapped.yaml"], "min_value"),
        (["forecast", "--check-config", "{tmp}/fraction.yaml"], "max_value"),
        (["forecast", "--check-config", "{tmp}/slow.yaml"], "--check-config"),  # no point in some windows
        (["forecast", "--check-config", "{tmp}/wide.yaml"], "--check-config"),  # too many sums to compute
        (["forecast", "--monitor", "{tmp}/no-thresholds.json"], "options.thresholds.critical"),
        (["forecast", "--monitor", "{tmp}/renotify.json"], "renotify_interval"),
        (["forecast", "--monitor", "{tmp}/maximum.json"], "--monitor"),
        (["forecast", "--output", "{tmp}/folder.png"], "--output"),
        (["forecast", "--target-warnings-per-week", "100000", "--target-alerts-per-week", "1"], "--target-warnings"),
        (["forecast", "--target-warnings-per-week", "20", "--target-alerts-per-week", "1e5"], "--target-alerts"),
        # no alerts target: the error names where it came from
        (["forecast", "--target-warnings-per-week", "1e6"], "--target-warnings-per-week / 10"),
    ],
)
def test_bad_forecast_input_exits_2_naming_the_option(tmp_path, argv, named):
    (tmp_path / "broken.yaml").write_text("instances:\n  - min_value: [1\n")
    (tmp_path / "swapped.yaml").write_text("instances:\n  - min_value: 10\n    max_value: 5\n")
    (tmp_path / "fraction.yaml").write_text("instances:\n  - max_value: 999.5\n")
    (tmp_path / "slow.yaml").write_text("instances:\n  - min_collection_interval: 300\n")
    (tmp_path / "wide.yaml").write_text("instances:\n  - min_collection_interval: 45\n    max_value: 10000000\n")
    write_monitor(tmp_path / "no-thresholds.json", thresholds={})
    write_monitor(tmp_path / "renotify.json", renotify_interval=60)
    write_monitor(tmp_path / "maximum.json", "max(last_5m):max:my_metric{*} by {host} > 800")
    (tmp_path / "folder.png").mkdir()
    code, out = cli(*(arg.replace("{tmp}", str(tmp_path)) for arg in argv))
    assert code == 2 and named in out and "Traceback" not in out
