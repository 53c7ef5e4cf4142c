"""How noisy the monitor will be (`my-metric-provision forecast`): notifications per week for one host, computed
exactly for the model the README states, and the thresholds that give a target rate."""

import itertools
import json
import math
import re
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from fractions import Fraction
from functools import cache
from pathlib import Path

import numpy as np
import yaml
from agent_standin.config import CheckConfigError, collection_interval, read_check_config
from matplotlib.figure import Figure

from my_metric_provisioning import downtime_calendar
from my_metric_provisioning.assets import MONITOR_FILE, Assets, load_json
from my_metric_provisioning.cli import UsageError, resolve_integration_dir

CHECK_CONFIG_FILE = "datadog_checks/my_metric/data/conf.yaml.example"
SPEC_FILE = "assets/configuration/spec.yaml"
EVALUATION = 60  # seconds between two evaluations of the monitor
KINDS = ("recovery", "warning", "alert")  # what a change into OK, WARN or ALERT sends
QUERY = re.compile(r"avg\(last_(\d+)([mh])\):.+?>\s*-?[\d.]+\s*$")
UNMODELLED = ("critical_recovery", "warning_recovery", "renotify_interval")
MAX_SUMS = 5_000_000  # possible sums of one window's points; beyond, the exact distribution takes too long


@dataclass(frozen=True)
class Check:
    min_value: int
    max_value: int
    interval: float  # seconds between points, as the Agent reads min_collection_interval


@dataclass(frozen=True)
class Monitor:
    window: int  # seconds
    warning: float | None
    critical: float


@dataclass(frozen=True)
class Week:
    live_minutes: int = 7 * 24 * 60
    unmutes: int = 0  # downtime ends
    notify_end_states: tuple[str, ...] = ()


def load_check(config: Path, integration_dir: Path) -> Check:
    """min_value and max_value of the first instance, else the defaults the check's spec documents (in the layout
    `ddev validate config` checks); the interval as the Agent reads it."""
    spec = yaml.safe_load((integration_dir / SPEC_FILE).read_text(encoding="utf-8"))
    instances = next(
        section["options"] for section in spec["files"][0]["options"] if section["template"] == "instances"
    )
    defaults = {option["name"]: option["value"].get("display_default") for option in instances if "name" in option}
    try:
        instance = {**defaults, **read_check_config(config)["instances"][0]}
        interval = collection_interval(config)
    except CheckConfigError as exc:
        raise UsageError(f"--check-config {exc}") from None
    low, high = instance.get("min_value"), instance.get("max_value")
    for name, value in (("min_value", low), ("max_value", high)):
        if type(value) is not int:
            raise UsageError(f"--check-config {config}: instances[0].{name} is {value!r}; give an integer.")
    if low > high:
        raise UsageError(f"--check-config {config}: min_value {low} is above max_value {high}; swap them.")
    return Check(low, high, interval)


def load_monitor(path: Path) -> Monitor:
    definition = load_json(path)
    definition = definition.get("definition", definition) if isinstance(definition, dict) else {}
    options = definition.get("options") or {}
    thresholds = options.get("thresholds") or {}
    if not (match := QUERY.match(str(definition.get("query")))):
        raise UsageError(f"--monitor {path}: query is not like 'avg(last_5m):avg:my_metric{{*}} by {{host}} > 800'.")
    for name, value in (("critical", thresholds.get("critical")), ("warning", thresholds.get("warning") or 0)):
        if type(value) not in (int, float):
            raise UsageError(f"--monitor {path}: options.thresholds.{name} is {value!r}; give the query's threshold.")
    for name in UNMODELLED:
        if thresholds.get(name) is not None or options.get(name):
            raise UsageError(f"--monitor {path}: {name} is not modelled; remove it (or set it to 0) to forecast.")
    window = int(match[1]) * {"m": 60, "h": 3600}[match[2]]
    return Monitor(window, thresholds.get("warning"), thresholds["critical"])


@cache
def sums(width: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """P(S = s) for s = 0 .. n * (width - 1), and P(S >= s) one further, S the sum of n uniform integers in [0, width);
    by FFT."""
    if (size := n * (width - 1) + 1) > MAX_SUMS:
        raise UsageError(f"--check-config: {n} points a window of {width} values are too many to forecast exactly.")
    length = 1 << (size - 1).bit_length()
    pmf = np.clip(np.fft.irfft(np.fft.rfft(np.full(width, 1 / width), length) ** n, length)[:size], 0, None)
    return pmf / pmf.sum(), np.append(np.cumsum(pmf[::-1])[::-1] / pmf.sum(), 0.0)


def window_segments(interval: float, window: int):
    """(share of evaluations, points two consecutive windows share, points leaving, points entering).

    u, the time from the last point to an evaluation, is uniform over [0, interval); the counts change only where
    u crosses one of a few breakpoints, so each stretch between two of them is one segment.
    """
    cuts = sorted({0.0, interval, window % interval, (window - EVALUATION) % interval, -EVALUATION % interval})
    for left, right in itertools.pairwise(cuts):
        if right - left > 1e-9:
            u = (left + right) / 2
            in_window = math.ceil((window - u) / interval)
            leaving = sum(window - EVALUATION <= u + interval * j < window for j in range(in_window))
            yield (right - left) / interval, in_window - leaving, leaving, math.floor((EVALUATION + u) / interval)


def rates(check: Check, monitor: Monitor) -> tuple[np.ndarray, np.ndarray]:
    """P(OK, WARN, ALERT) at an evaluation, and the probability that an evaluation changes into each."""

    width = check.max_value - check.min_value + 1  # sums are counted from min_value: each point adds 0 .. width - 1

    def breaching_sum(threshold, n):  # the smallest sum of n points whose average is above the threshold
        return math.floor((Fraction(str(threshold)) - check.min_value) * n) + 1

    def states(shared_sum, more, n):  # P(OK, WARN, ALERT | the shared points' sum), `more` points added
        alert_at = breaching_sum(monitor.critical, n)
        warn_at = alert_at if monitor.warning is None else min(breaching_sum(monitor.warning, n), alert_at)
        tail = sums(width, more)[1]
        warn_or_alert, alert = (tail[np.clip(at - shared_sum, 0, len(tail) - 1)] for at in (warn_at, alert_at))
        return np.vstack([1 - warn_or_alert, warn_or_alert - alert, alert])

    joint = np.zeros((3, 3))  # P(state at an evaluation, state at the next)
    for share, shared, leaving, entering in window_segments(check.interval, monitor.window):
        pmf = sums(width, shared)[0]
        shared_sum = np.arange(len(pmf))
        before, after = states(shared_sum, leaving, shared + leaving), states(shared_sum, entering, shared + entering)
        joint += share * (before * pmf) @ after.T
    return joint.sum(axis=0), joint.sum(axis=0) - joint.diagonal()


def per_week(check: Check, monitor: Monitor, week: Week) -> dict[str, float]:
    """Changes in the live minutes, plus one notification at each downtime end in a state it notifies."""
    state, changes = rates(check, monitor)
    at_end = state * [0, "warn" in week.notify_end_states, "alert" in week.notify_end_states]
    return dict(zip(KINDS, (week.live_minutes * changes + week.unmutes * at_end).tolist(), strict=True))


def closest(rate, target: float, low: float, high: float) -> float:
    """The threshold, a multiple of 0.1 in [low, high], whose rate (decreasing with it) is closest to target."""
    low, high = math.ceil(low * 10), math.floor(high * 10)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if rate(middle / 10) > target else (low, middle)
    return min(low / 10, high / 10, key=lambda threshold: abs(rate(threshold) - target))


def propose(check: Check, monitor: Monitor, week: Week, warnings: float, alerts: float, alerts_option: str) -> dict:
    """The critical threshold for the alerts wanted (they depend on it alone), then the warning threshold for the
    warnings wanted under it; both above the median."""
    median = (check.min_value + check.max_value) / 2

    def solve(option, target, kind, threshold, high, base):
        def rate(value):
            return per_week(check, replace(base, **{threshold: value}), week)[kind]

        if target >= rate(median):
            raise UsageError(f"{option} {target:g}: at most {rate(median):.0f} {kind}s a week are possible here.")
        return closest(rate, target, median, high)

    critical = solve(alerts_option, alerts, "alert", "critical", check.max_value, monitor)
    under = replace(monitor, critical=critical)
    warning = solve("--target-warnings-per-week", warnings, "warning", "warning", critical, under)
    proposed, targets = replace(under, warning=warning), {"warning": warnings, "alert": alerts}
    return {"warning": warning, "critical": critical, "per_week": per_week(check, proposed, week), "targets": targets}


def draw_rates(check: Check, monitor: Monitor, week: Week) -> Figure:
    """Notifications per week (downtimes included) against each threshold, the other one kept."""
    thresholds = np.linspace((check.min_value + check.max_value) / 2, check.max_value, 41)[:-1]
    below = thresholds[thresholds < monitor.critical]  # a warning threshold sits below the critical one
    axes = (figure := Figure(figsize=(10, 5), layout="tight")).subplots()
    warnings = [per_week(check, replace(monitor, warning=t), week)["warning"] for t in below]
    alerts = [per_week(check, replace(monitor, critical=t), week)["alert"] for t in thresholds]
    axes.plot(below, warnings, label=f"warnings a week, warning threshold on x (critical {monitor.critical:g})")
    axes.plot(thresholds, alerts, label="alerts a week, critical threshold on x")
    for name, value in (("warning", monitor.warning), ("critical", monitor.critical)):
        if value is not None:
            axes.axvline(value, linestyle="--", color="grey")
            axes.annotate(f"{name} {value:g}", (value, 1), rotation=90, va="bottom")
    axes.set(yscale="log", ylim=(0.01, None), xlabel="threshold")
    axes.set_ylabel("notifications a week, one host, downtimes included")
    axes.legend()
    return figure


def downtime_week(assets: Assets, tz) -> Week:
    """Live minutes and downtime ends of an ordinary week of this year in `tz`."""
    week = downtime_calendar.calendar_weeks(assets, tz, datetime.now(tz).year)[0]
    muted = [state != downtime_calendar.LIVE for _, state in week.minutes]
    unmutes = sum(before and not after for before, after in itertools.pairwise([muted[-1], *muted]))
    attributes = [downtime["data"]["attributes"] for downtime in assets.downtimes.values()]
    end_states = sorted({state for each in attributes for state in each.get("notify_end_states", [])})
    return Week(muted.count(False), unmutes, tuple(end_states))


def forecast(args) -> dict:
    integration = resolve_integration_dir(args.assets_dir)
    check = load_check(Path(args.check_config or integration / CHECK_CONFIG_FILE), integration)
    monitor = load_monitor(Path(args.monitor or integration / MONITOR_FILE))
    if check.interval >= monitor.window:
        raise UsageError("--check-config: min_collection_interval is not shorter than the monitor's window.")
    if args.output:
        downtime_calendar.check_output(args.output)
    week = downtime_week(Assets.load(integration), args.timezone)
    result = {
        "per_week": {
            "without_downtimes": per_week(check, monitor, Week()),
            "with_downtimes": per_week(check, monitor, week),
        },
        "model": {
            "check": asdict(check),
            "monitor": asdict(monitor),
            "downtimes": {"timezone": args.timezone.key, **asdict(week)},
        },
    }
    if args.target_warnings_per_week:
        warnings = args.target_warnings_per_week
        alerts = args.target_alerts_per_week or warnings / 10
        option = "--target-alerts-per-week" if args.target_alerts_per_week else "--target-warnings-per-week / 10"
        result["proposal"] = propose(check, monitor, week, warnings, alerts, option)
    if args.output:
        downtime_calendar.save_figure(draw_rates(check, monitor, week), args.output)
    return result


def run(args, out) -> int:
    print(json.dumps(forecast(args), indent=1), file=out)
    return 0
