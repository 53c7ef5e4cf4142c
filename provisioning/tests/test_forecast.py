"""forecast: the exact notifications per week of the stated model, checked against enumeration and a plain
simulation written here; thresholds for a target rate, which validate; the check's defaults from its spec."""

import io
import itertools
import json
import shutil
import sys

import numpy as np
import pytest
from my_metric_provisioning import forecast as fc
from my_metric_provisioning.cli import run

from .common import REPO_INTEGRATION, cli, integration_copy


def forecast_json(*argv):
    out = io.StringIO()
    assert run(["forecast", "--json", *argv], out=out) == 0, out.getvalue()
    return json.loads(out.getvalue())


def monitor_with(tmp_path, **thresholds):
    asset = json.loads((REPO_INTEGRATION / fc.MONITOR_FILE).read_text())
    asset["definition"]["options"]["thresholds"] = thresholds
    if "critical" in thresholds:
        asset["definition"]["query"] = f"avg(last_5m):avg:my_metric{{*}} by {{host}} > {thresholds['critical']}"
    path = tmp_path / "monitor.json"
    path.write_text(json.dumps(asset))
    return path


def test_sum_distribution_matches_enumeration():
    sums = fc.SumDistribution(2, 5)
    for n in (1, 2, 3):
        outcomes = [sum(values) for values in itertools.product(range(2, 6), repeat=n)]
        for total in range(2 * n, 5 * n + 1):
            assert sums.pmf(n)[total - 2 * n] == pytest.approx(outcomes.count(total) / len(outcomes))
        assert sums.survival(n, [3 * n + 1])[0] == pytest.approx(sum(o >= 3 * n + 1 for o in outcomes) / len(outcomes))


def test_a_five_minute_window_holds_seven_points_two_thirds_of_the_time():
    segments = fc.window_segments(45, 300)
    assert sum(w for w, *_ in segments) == pytest.approx(1)
    points = {}
    for weight, common, leaving, _entering in segments:
        points[common + leaving] = points.get(common + leaving, 0) + weight
    assert points == pytest.approx({7: 2 / 3, 6: 1 / 3})


def simulated_changes(check, monitor, evaluations, seed=0):
    """Changes into warning, alert and OK per evaluation, by drawing the points and evaluating every minute."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, check.interval)
    times = np.arange(phase, evaluations * 60 + monitor.window, check.interval)
    values = rng.integers(check.min_value, check.max_value + 1, len(times))
    ends = np.arange(monitor.window, evaluations * 60 + monitor.window, 60)
    first, last = np.searchsorted(times, ends - monitor.window, "right"), np.searchsorted(times, ends, "right")
    sums = np.concatenate([[0], np.cumsum(values)])
    averages = (sums[last] - sums[first]) / (last - first)
    states = np.where(averages > monitor.critical, 2, np.where(averages > monitor.warning, 1, 0))
    changed = states[1:] != states[:-1]
    return {kind: float(np.mean(changed & (states[1:] == state))) for state, kind in fc.KINDS.items()}


def test_the_exact_rates_agree_with_a_simulation_of_the_model():
    check = fc.load_check(REPO_INTEGRATION / fc.CHECK_CONFIG_FILE, REPO_INTEGRATION)
    monitor = fc.load_monitor(REPO_INTEGRATION / fc.MONITOR_FILE)
    evaluations = 200_000
    simulated = simulated_changes(check, monitor, evaluations)
    for kind, rate in fc.exact(check, monitor).per_evaluation.items():
        standard_error = (rate / evaluations) ** 0.5
        assert abs(simulated[kind] - rate) < 5 * standard_error + 1e-9, (kind, simulated[kind], rate)


def test_default_figures():
    result = forecast_json()
    model = result["model"]
    assert (model["check"]["interval"], model["monitor"]["window"]) == (45, 300)
    assert model["downtimes"]["live_minutes_per_week"] == 5 * 10 * 60 and model["downtimes"]["unmutes_per_week"] == 5
    assert model["downtimes"]["notify_end_states"] == ["alert", "no data", "warn"]  # read from the payloads
    without, with_ = result["per_week"]["without_downtimes"], result["per_week"]["with_downtimes"]
    assert with_["warning"] / without["warning"] == pytest.approx(3000 / 10080, rel=0.02)
    assert 1000 < without["warning"] < 1100 and 15 < without["alert"] < 25
    # Sum of 7 uniform integers in [0, 1000] above 5600: by symmetry P(sum < 1400).
    assert model["p_average_above"]["critical"]["7"] == pytest.approx(fc.SumDistribution(0, 1000).pmf(7)[:1400].sum())


def test_proposed_thresholds_give_the_asked_rate_and_validate(tmp_path):
    proposal = forecast_json("--target-warnings-per-week", "20")["proposal"]
    assert proposal["targets"] == {"warning": 20, "alert": 2}
    assert 500 < proposal["warning"] < proposal["critical"] < 1000
    monitor = monitor_with(tmp_path, critical=proposal["critical"], warning=proposal["warning"])
    adapted = integration_copy(tmp_path)  # what the proposal is for: a monitor that validates and can be applied
    shutil.copy(monitor, adapted / fc.MONITOR_FILE)
    code, out = cli("--assets-dir", str(adapted), "validate", "--year", "2026")
    assert code == 0, out
    again = forecast_json("--monitor", str(monitor))["per_week"]["with_downtimes"]
    assert again["warning"] == pytest.approx(20, rel=0.05) and again["alert"] == pytest.approx(2, rel=0.05)


def test_forecast_draws_the_rates_against_the_thresholds(tmp_path):
    picture = tmp_path / "rates.png"
    out = io.StringIO()
    assert run(["forecast", "--output", str(picture)], out=out) == 0, out.getvalue()
    assert picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and "with downtimes" in out.getvalue()


def test_bounds_default_to_the_spec_and_the_interval_is_read_as_the_agent_does(tmp_path):
    config = tmp_path / "conf.yaml"
    config.write_text("init_config:\ninstances:\n  - min_collection_interval: 60\n")
    check = forecast_json("--check-config", str(config))["model"]["check"]
    assert (check["min_value"], check["max_value"], check["interval"]) == (0, 1000, 60)
    copy = integration_copy(tmp_path)
    spec = copy / fc.SPEC_FILE
    spec.parent.mkdir(parents=True, exist_ok=True)
    text = (REPO_INTEGRATION / fc.SPEC_FILE).read_text()
    spec.write_text(text.replace("display_default: 1000", "display_default: 2000"))
    assert fc.load_check(config, copy).max_value == 2000


@pytest.mark.parametrize(
    "setup, expected",
    [
        ("missing-config", "--check-config"),
        ("yaml-error", "--check-config"),
        ("min-above-max", "min_value 10 is above max_value 5"),
        ("no-thresholds", "options.thresholds.critical"),
        ("renotify", "renotify_interval"),
        ("bad-timezone", "--timezone 'Mars/Olympus'"),
        ("unwritable-output", "cannot write"),
        ("impossible-target", "--target-warnings-per-week 100000"),
        ("impossible-alerts-target", "--target-alerts-per-week 100000"),
        ("impossible-derived-alerts", "--target-warnings-per-week / 10 100000"),
    ],
)
def test_bad_forecast_input_is_a_clear_error(tmp_path, setup, expected):
    argv = ["forecast"]
    config = tmp_path / "conf.yaml"
    if setup == "missing-config":
        argv += ["--check-config", str(tmp_path / "nope.yaml")]
    elif setup == "yaml-error":
        config.write_text("instances:\n  - min_value: [1\n")
        argv += ["--check-config", str(config)]
    elif setup == "min-above-max":
        config.write_text("instances:\n  - min_value: 10\n    max_value: 5\n")
        argv += ["--check-config", str(config)]
    elif setup == "no-thresholds":
        argv += ["--monitor", str(monitor_with(tmp_path))]
    elif setup == "renotify":
        path = monitor_with(tmp_path, critical=800, warning=500)
        asset = json.loads(path.read_text())
        asset["definition"]["options"]["renotify_interval"] = 60
        path.write_text(json.dumps(asset))
        argv += ["--monitor", str(path)]
    elif setup == "bad-timezone":
        argv = ["--timezone", "Mars/Olympus", *argv]
    elif setup == "unwritable-output":
        (tmp_path / "day.png").mkdir()
        argv += ["--output", str(tmp_path / "day.png")]
    elif setup == "impossible-target":
        argv += ["--target-warnings-per-week", "100000", "--target-alerts-per-week", "1"]
    elif setup == "impossible-alerts-target":
        argv += ["--target-warnings-per-week", "20", "--target-alerts-per-week", "100000"]
    elif setup == "impossible-derived-alerts":  # no alerts target given: the error names the option that was
        argv += ["--target-warnings-per-week", "1000000"]
    out = io.StringIO()
    assert run(argv, out=out) == 2
    assert expected in out.getvalue() and "Traceback" not in out.getvalue()


@pytest.mark.parametrize("command", [["forecast"], ["calendar", "--output", "x.png"]])
def test_without_the_pictures_extra_the_command_says_how_to_install_it(monkeypatch, command):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None if name == "matplotlib" else object())
    code, out = cli(*command)
    assert code == 2 and "matplotlib" in out and "[pictures]" in out
