import io
import itertools
import json
import shutil

import pytest
from common import REPO_INTEGRATION, cli, integration_copy
from my_metric_provisioning import forecast as fc
from my_metric_provisioning.cli import run

# Simulated weekly means must sit within this many standard errors of the exact expectation.
TOLERANCE_STANDARD_ERRORS = 4


def forecast_json(*argv):
    out = io.StringIO()
    assert run(["forecast", "--json", *argv], out=out) == 0, out.getvalue()
    return json.loads(out.getvalue())


def monitor_with(tmp_path, **thresholds):
    asset = json.loads((REPO_INTEGRATION / fc.MONITOR_FILE).read_text())
    options = asset["definition"]["options"]
    options["thresholds"] = thresholds
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


def test_default_simulation_agrees_with_the_exact_figures():
    result = forecast_json("--seed", "0", "--weeks", "52")
    for basis in ("without_downtimes", "with_downtimes"):
        for kind in ("warning", "alert", "recovery"):
            simulated = result["simulated"][basis][kind]
            exact = result["exact"][basis][kind]
            assert abs(simulated["mean"] - exact) <= TOLERANCE_STANDARD_ERRORS * simulated["standard_error"], (
                basis,
                kind,
                simulated,
                exact,
            )
            assert result["per_week"][basis][kind] == round(simulated["mean"], 1)
    for state, probability in result["per_evaluation"]["exact"].items():
        assert result["per_evaluation"]["simulated"][state] == pytest.approx(probability, abs=0.005)
    model = result["model"]
    assert model["check"]["interval"] == 45 and model["monitor"]["window"] == 300
    assert model["downtimes"]["live_minutes_per_week"] == 5 * 10 * 60
    assert model["downtimes"]["unmutes_per_week"] == 5
    assert model["downtimes"]["notify_end_states"] == ["alert", "no data", "warn"]  # read from the payloads
    # The downtimes leave 3000 of 10080 minutes live, so they remove about 70% of the transitions.
    without, with_ = result["exact"]["without_downtimes"], result["exact"]["with_downtimes"]
    assert with_["warning"] / without["warning"] == pytest.approx(3000 / 10080, rel=0.02)


def test_exact_probability_of_an_average_above_800():
    result = forecast_json("--weeks", "1")
    above = result["model"]["p_average_above"]["critical"]
    # Sum of 7 uniform integers in [0, 1000] above 5600: by symmetry equals P(sum < 1400).
    sums = fc.SumDistribution(0, 1000)
    assert above["7"] == pytest.approx(sums.pmf(7)[:1400].sum())
    assert 0.001 < above["7"] < above["6"] < 0.01


def test_proposed_thresholds_give_the_asked_rate_when_fed_back(tmp_path):
    proposal = forecast_json("--weeks", "1", "--target-warnings-per-week", "20")["proposal"]
    assert proposal["targets"] == {"warning": 20, "alert": 2}
    assert 500 < proposal["warning"] < proposal["critical"] < 1000
    monitor = monitor_with(tmp_path, critical=proposal["critical"], warning=proposal["warning"])
    adapted = integration_copy(tmp_path)  # what the proposal is for: a monitor that validates and can be applied
    shutil.copy(monitor, adapted / fc.MONITOR_FILE)
    code, out = cli("--assets-dir", str(adapted), "validate", "--year", "2026")
    assert code == 0, out
    again = forecast_json("--monitor", str(monitor), "--weeks", "52", "--seed", "3")
    exact = again["exact"]["with_downtimes"]
    assert exact["warning"] == pytest.approx(20, rel=0.05)
    assert exact["alert"] == pytest.approx(2, rel=0.05)
    simulated = again["simulated"]["with_downtimes"]["warning"]
    assert abs(simulated["mean"] - 20) <= TOLERANCE_STANDARD_ERRORS * simulated["standard_error"] + 1


def test_forecast_draws_a_simulated_day(tmp_path):
    picture = tmp_path / "day.png"
    out = io.StringIO()
    assert run(["forecast", "--weeks", "1", "--output", str(picture)], out=out) == 0
    assert picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "with downtimes" in out.getvalue() and "exact" in out.getvalue()


def test_renotify_adds_notifications_and_has_no_exact_figure(tmp_path):
    asset = json.loads((REPO_INTEGRATION / fc.MONITOR_FILE).read_text())
    asset["definition"]["options"]["renotify_interval"] = 1
    asset["definition"]["options"]["renotify_statuses"] = ["warn"]
    path = tmp_path / "renotify.json"
    path.write_text(json.dumps(asset))
    plain = forecast_json("--weeks", "2")
    renotified = forecast_json("--weeks", "2", "--monitor", str(path))
    assert renotified["exact"]["without_downtimes"] is None
    assert renotified["per_week"]["without_downtimes"]["warning"] > plain["per_week"]["without_downtimes"]["warning"]


@pytest.mark.parametrize(
    "setup, expected",
    [
        ("missing-config", "cannot read it"),
        ("yaml-error", "invalid YAML at line 3"),
        ("min-above-max", "min_value 10 is above max_value 5"),
        ("no-thresholds", "options.thresholds.critical is missing"),
        ("bad-timezone", "--timezone 'Mars/Olympus'"),
        ("unwritable-output", "cannot write"),
        ("impossible-target", "--target-warnings-per-week 100000: with the critical threshold at"),
        ("impossible-alerts-target", "--target-alerts-per-week 100000: with values in ["),
        ("impossible-derived-alerts", "--target-warnings-per-week / 10 100000: with values in ["),
    ],
)
def test_bad_forecast_input_is_a_clear_error(tmp_path, setup, expected):
    argv = ["forecast", "--weeks", "1"]
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
    assert expected in out.getvalue()
    assert "Traceback" not in out.getvalue()


def test_a_check_config_without_bounds_uses_the_shipped_defaults(tmp_path):
    config = tmp_path / "conf.yaml"
    config.write_text("init_config:\ninstances:\n  - min_collection_interval: 60\n")
    shutil.copy(config, tmp_path / "copy.yaml")
    result = forecast_json("--check-config", str(config), "--weeks", "1")
    check = result["model"]["check"]
    assert (check["min_value"], check["max_value"], check["interval"]) == (0, 1000, 60)
    assert result["model"]["points_per_window"] == {"5": 1.0}


def test_notifications_follow_the_stated_model():
    import numpy as np

    monitor = fc.load_monitor(REPO_INTEGRATION / fc.MONITOR_FILE)
    states = np.array([0, 1, 1, 0, 2, 2, 1, 0])
    muted = np.array([0, 0, 1, 1, 1, 0, 0, 0], dtype=bool)
    assert fc.notifications(states, np.zeros_like(muted), monitor, ()) == {
        "warning": [1, 6],
        "alert": [4],
        "recovery": [3, 7],
    }
    # Muted 2-4: the recovery at 3 and the alert at 4 are not sent; the downtime ends in ALERT, so an
    # alert is sent at 5 (notify_end_states), then the warning at 6 and the recovery at 7 as usual.
    assert fc.notifications(states, muted, monitor, ("alert", "no data", "warn")) == {
        "warning": [1, 6],
        "alert": [5],
        "recovery": [7],
    }
