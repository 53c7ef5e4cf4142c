"""How noisy the monitor will be (`my-metric-provision forecast`): notifications per week for one host, computed
exactly, and the thresholds that give a target rate.

The model (a model of Datadog's evaluation, not Datadog; see the README):
- the check submits a uniformly random integer in [min_value, max_value] every `min_collection_interval`
  seconds, at a fixed phase, without gaps or jitter;
- the monitor evaluates once a minute the average of the points inside its window (t - window, t];
- the state is ALERT above the critical threshold, WARN above the warning threshold, OK otherwise;
  a change of state notifies (to WARN: warning, to ALERT: alert, to OK: recovery);
- a muted minute (downtime) sends nothing, but the state still changes; when a downtime ends while
  the state is one of its `notify_end_states`, one notification of that state is sent;
- `require_full_window` and no-data change nothing for a host that reports steadily.

numpy, matplotlib and agent-standin come with the `pictures` extra; this module imports them.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import yaml
from agent_standin.config import CheckConfigError, collection_interval, read_check_config

from my_metric_provisioning.assets import MONITOR_FILE, Assets, load_json
from my_metric_provisioning.cli import UsageError, resolve_integration_dir

CHECK_CONFIG_FILE = "datadog_checks/my_metric/data/conf.yaml.example"
SPEC_FILE = "assets/configuration/spec.yaml"
EVALUATION_SECONDS = 60
WEEK_MINUTES = 7 * 24 * 60
OK, WARN, ALERT = 0, 1, 2
KINDS = {WARN: "warning", ALERT: "alert", OK: "recovery"}
STATE_OF_END_STATE = {"warn": WARN, "alert": ALERT}
_QUERY = re.compile(r"^\s*(\w+)\(last_(\d+)([mhd])\)\s*:(.+?)\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
MAX_SUM_SUPPORT = 5_000_000


@dataclass(frozen=True)
class CheckModel:
    min_value: int
    max_value: int
    interval: float
    source: str


@dataclass(frozen=True)
class MonitorModel:
    window: int  # seconds
    comparator: str
    critical: float
    warning: float | None
    source: str


# ---------------------------------------------------------------- inputs
def spec_defaults(integration_dir: Path) -> dict[str, object]:
    """The defaults the check's spec documents for its instance options (`display_default`)."""
    try:
        spec = yaml.safe_load((integration_dir / SPEC_FILE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    # The layout `ddev validate config` enforces: files -> the instances template -> its named options.
    return {
        option["name"]: option["value"]["display_default"]
        for spec_file in spec.get("files", [])
        for section in spec_file.get("options", [])
        if section.get("template") == "instances"
        for option in section.get("options", [])
        if "name" in option and "display_default" in option.get("value", {})
    }


def load_check(config_path: Path, integration_dir: Path) -> CheckModel:
    """min_value and max_value of the first instance (else the spec's defaults); the interval as the Agent reads it."""
    try:
        instance = read_check_config(config_path)["instances"][0]
        interval = collection_interval(config_path)
    except CheckConfigError as exc:
        raise UsageError(f"--check-config {exc}") from None
    defaults = spec_defaults(integration_dir)
    bounds = []
    for name in ("min_value", "max_value"):
        value = instance.get(name, defaults.get(name))
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"--check-config {config_path}: instances[0].{name} is {value!r}; give an integer.")
        bounds.append(value)
    low, high = bounds
    if low > high:
        raise UsageError(f"--check-config {config_path}: min_value {low} is above max_value {high}; swap them.")
    return CheckModel(low, high, interval, str(config_path))


# ---------------------------------------------------------------- monitor
def load_monitor(path: Path) -> MonitorModel:
    asset = load_json(path)
    definition = asset.get("definition", asset) if isinstance(asset, dict) else None
    if not isinstance(definition, dict):
        raise UsageError(f"--monitor {path}: not a monitor JSON object.")
    query = definition.get("query", "")
    match = _QUERY.match(query or "")
    if not match:
        raise UsageError(
            f"--monitor {path}: query {query!r} is not like 'avg(last_5m):avg:my_metric{{*}} by {{host}} > 800'."
        )
    aggregation, amount, unit, _, comparator, _ = match.groups()
    if aggregation != "avg":
        raise UsageError(f"--monitor {path}: the forecast models avg(last_...) monitors, not {aggregation}(...).")
    if comparator not in (">", ">="):
        raise UsageError(f"--monitor {path}: the forecast models monitors that trigger above a threshold (> or >=).")
    options = definition.get("options") or {}
    thresholds = options.get("thresholds") or {}
    if not isinstance(thresholds.get("critical"), (int, float)) or isinstance(thresholds.get("critical"), bool):
        raise UsageError(
            f"--monitor {path}: options.thresholds.critical is missing; set it to the query's threshold "
            f"(and options.thresholds.warning for warnings)."
        )
    for name in ("critical_recovery", "warning_recovery"):
        if name in thresholds:
            raise UsageError(f"--monitor {path}: thresholds.{name} is not modelled; remove it to forecast.")
    if options.get("renotify_interval"):
        raise UsageError(f"--monitor {path}: renotify_interval is not modelled; set it to 0 to forecast.")
    warning = thresholds.get("warning")
    if warning is not None and not isinstance(warning, (int, float)):
        raise UsageError(f"--monitor {path}: options.thresholds.warning must be a number.")
    return MonitorModel(
        window=int(amount) * _UNIT_SECONDS[unit],
        comparator=comparator,
        critical=thresholds["critical"],
        warning=warning,
        source=str(path),
    )


# ---------------------------------------------------------------- exact calculation


# ---------------------------------------------------------------- exact calculation
class SumDistribution:
    """Exact distribution of the sum of n independent uniform integers in [low, high] (by convolution)."""

    def __init__(self, low: int, high: int):
        self.low, self.high, self.width = low, high, high - low + 1
        self._cache = {}

    def pmf(self, n: int):
        """Probabilities of sums n*low .. n*high."""
        if n not in self._cache:
            if n == 0:
                self._cache[n] = np.ones(1)
            else:
                size = n * (self.width - 1) + 1
                if size > MAX_SUM_SUPPORT:
                    raise UsageError(
                        f"value range [{self.low}, {self.high}] with {n} points per window is too wide to compute "
                        f"exactly; narrow min_value/max_value or lengthen min_collection_interval."
                    )
                single = np.full(self.width, 1.0 / self.width)
                length = 1 << (size - 1).bit_length()
                pmf = np.fft.irfft(np.fft.rfft(single, length) ** n, length)[:size]
                self._cache[n] = np.clip(pmf, 0.0, None) / np.clip(pmf, 0.0, None).sum()
        return self._cache[n]

    def survival(self, n: int, sums):
        """P(sum of n >= s) for an array of integer sums s."""
        pmf = self.pmf(n)
        tail = np.concatenate([np.cumsum(pmf[::-1])[::-1], [0.0]])
        index = np.clip(np.asarray(sums) - n * self.low, 0, len(pmf))
        return tail[index]


def minimal_breaching_sum(threshold: float, n: int, comparator: str) -> int:
    """Smallest integer sum s of n points whose average s/n breaches the threshold."""
    bound = Fraction(str(threshold)) * n
    return math.floor(bound) + 1 if comparator == ">" else math.ceil(bound)


def window_segments(interval: float, window: int) -> list[tuple[float, int, int, int]]:
    """(weight, points common to two consecutive windows, points leaving, points entering), over the phase.

    u is the time since the last point at an evaluation; the counts only change where u crosses one
    of a few breakpoints, so the average over a uniform phase is a weighted sum over those segments.
    """
    period = interval
    step = EVALUATION_SECONDS
    cuts = sorted({0.0, window % period, (window - step) % period, (-step) % period, period})
    segments = []
    for left, right in zip(cuts, cuts[1:], strict=False):
        if right - left <= 1e-9:
            continue
        u = (left + right) / 2
        in_window = math.ceil((window - u) / period)
        leaving = sum(1 for j in range(in_window) if window - step <= u + period * j < window)
        entering = math.floor((step + u) / period)
        segments.append(((right - left) / period, in_window - leaving, leaving, entering))
    return segments


@dataclass
class Exact:
    state_probability: dict[str, float]  # per evaluation: ok, warn, alert
    per_evaluation: dict[str, float]  # probability that an evaluation is a change into warning/alert/recovery
    above: dict[str, dict[int, float]]  # P(average > threshold) for each number of points in a window
    points_per_window: dict[int, float]

    def per_week(self, live_minutes: int, unmutes: int, end_states: tuple[str, ...]) -> dict[str, float]:
        counts = {kind: live_minutes * self.per_evaluation[kind] for kind in ("warning", "alert", "recovery")}
        for name, state in STATE_OF_END_STATE.items():
            if name in end_states:
                counts[KINDS[state]] += unmutes * self.state_probability[("ok", "warn", "alert")[state]]
        return counts


def exact(check: CheckModel, monitor: MonitorModel, warning=None, critical=None) -> Exact:
    warning = monitor.warning if warning is None else warning
    critical = monitor.critical if critical is None else critical
    sums = SumDistribution(check.min_value, check.max_value)

    def cuts(n):
        alert_at = minimal_breaching_sum(critical, n, monitor.comparator)
        warn_at = alert_at if warning is None else min(minimal_breaching_sum(warning, n, monitor.comparator), alert_at)
        return warn_at, alert_at

    def state_given_common(common_sums, extra, n):
        warn_at, alert_at = cuts(n)
        at_least_warn = sums.survival(extra, warn_at - common_sums)
        alert = sums.survival(extra, alert_at - common_sums)
        return np.vstack([1 - at_least_warn, at_least_warn - alert, alert])

    joint = np.zeros((3, 3))
    counts: dict[int, float] = {}
    for weight, common, leaving, entering in window_segments(check.interval, monitor.window):
        common_sums = np.arange(len(sums.pmf(common))) + common * check.min_value
        before = state_given_common(common_sums, leaving, common + leaving) * sums.pmf(common)
        after = state_given_common(common_sums, entering, common + entering)
        joint += weight * before @ after.T
        counts[common + leaving] = counts.get(common + leaving, 0.0) + weight
    marginal = joint.sum(axis=0)
    per_evaluation = {
        KINDS[target]: float(sum(joint[source, target] for source in range(3) if source != target))
        for target in (WARN, ALERT, OK)
    }
    above = {}
    for label, threshold in (("warning", warning), ("critical", critical)):
        if threshold is not None:
            above[label] = {
                n: float(sums.survival(n, minimal_breaching_sum(threshold, n, monitor.comparator))) for n in counts
            }
    return Exact(
        {"ok": float(marginal[OK]), "warn": float(marginal[WARN]), "alert": float(marginal[ALERT])},
        per_evaluation,
        above,
        dict(sorted(counts.items())),
    )


# ---------------------------------------------------------------- thresholds for a target
def _solve(function, target: float, low: float, high: float) -> float:
    """Threshold in [low, high] (rounded to 0.1) whose decreasing rate `function` is closest to target."""
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if function(middle) > target else (low, middle)
    candidates = {math.floor(low * 10) / 10, math.ceil(high * 10) / 10}
    return min(candidates, key=lambda t: abs(function(t) - target))


def _check_target(option: str, kind: str, target: float, most: float, condition: str) -> None:
    """A target must lie below the most the thresholds allow (it is above 0: the option's type says so)."""
    if not target < most:
        raise UsageError(
            f"{option} {target:g}: {condition}, between 0 and {most:.0f} {kind} a week are possible; ask for less."
        )


def propose(check, monitor, downtimes, warnings_target, alerts_target, alerts_option) -> dict:
    """Warning and critical thresholds giving about the target notifications per week, downtimes included.

    `downtimes` is (live minutes, unmutes, notify_end_states) of a week.
    """

    def per_week(warning, critical):
        return exact(check, monitor, warning, critical).per_week(*downtimes)

    median = (check.min_value + check.max_value) / 2
    top = float(check.max_value)
    most_alerts = per_week(None, median)["alert"]
    values = f"with values in [{check.min_value}, {check.max_value}] and a critical threshold above the median"
    _check_target(alerts_option, "alerts", alerts_target, most_alerts, values)
    critical = _solve(lambda c: per_week(None, c)["alert"], alerts_target, median, top)
    most_warnings = per_week(median, critical)["warning"]
    condition = f"with the critical threshold at {critical:g}"
    _check_target("--target-warnings-per-week", "warnings", warnings_target, most_warnings, condition)
    warning = _solve(lambda w: per_week(w, critical)["warning"], warnings_target, median, critical)
    return {"warning": warning, "critical": critical, "per_week_with_downtimes": per_week(warning, critical)}


# ---------------------------------------------------------------- picture
def draw_rates(check: CheckModel, monitor: MonitorModel, downtimes):
    """Notifications per week (downtimes included) against each threshold, the other one kept."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    median = (check.min_value + check.max_value) / 2
    thresholds = np.linspace(median, check.max_value, 41)[:-1]
    figure, axes = plt.subplots(figsize=(10, 5))
    below = thresholds[thresholds < monitor.critical]  # a warning threshold sits below the critical one
    warnings = [exact(check, monitor, t).per_week(*downtimes)["warning"] for t in below]
    alerts = [exact(check, monitor, None, t).per_week(*downtimes)["alert"] for t in thresholds]
    axes.plot(below, warnings, label=f"warnings a week, warning threshold on x (critical {monitor.critical:g})")
    axes.plot(thresholds, alerts, label="alerts a week, critical threshold on x")
    for value, name in ((monitor.warning, "warning"), (monitor.critical, "critical")):
        if value is not None:
            axes.axvline(value, linestyle="--", color="grey")
            axes.annotate(f"{name} {value:g}", (value, 1), rotation=90, va="bottom")
    axes.set_yscale("log")
    axes.set_ylim(bottom=0.01)
    axes.set_xlabel("threshold")
    axes.set_ylabel("notifications per week, one host, downtimes included")
    axes.legend()
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------- the command
def live_pattern(assets: Assets, tz) -> tuple[int, int, str, tuple[str, ...]]:
    """Live minutes and unmutes of an ordinary week, its Monday, and the states the downtimes notify at their end."""
    from datetime import datetime

    from my_metric_provisioning import downtime_calendar as cal
    from my_metric_provisioning import downtimes

    year = datetime.now(tz).year
    payloads = cal.sent_payloads(assets, tz, year)
    recurrences = [r for p in payloads for r in downtimes.recurrences_of(p)]
    end_states = sorted({s for p in payloads for s in p["data"]["attributes"].get("notify_end_states", [])})
    week = cal.week_grid(recurrences, tz, cal.ordinary_monday(tz, year), "ordinary week")
    muted = [int(state != cal.LIVE) for day in week.days for _, _, state in day.minutes]
    unmutes = sum(1 for i in range(len(muted)) if muted[i - 1] and not muted[i])
    return muted.count(0), unmutes, week.monday.isoformat(), tuple(end_states)


def forecast(args) -> dict:
    integration = resolve_integration_dir(args.assets_dir)
    check = load_check(Path(args.check_config) if args.check_config else integration / CHECK_CONFIG_FILE, integration)
    monitor = load_monitor(Path(args.monitor) if args.monitor else integration / MONITOR_FILE)
    if check.interval >= monitor.window:
        raise UsageError(
            f"min_collection_interval {check.interval:g} s is not shorter than the monitor's "
            f"{monitor.window} s window: some evaluations would see no point. Lower it in --check-config."
        )
    if args.output:
        from my_metric_provisioning.downtime_calendar import _check_output

        _check_output(args.output)
    live_minutes, unmutes, monday, end_states = live_pattern(Assets.load(integration), args.timezone)
    downtimes = (live_minutes, unmutes, end_states)
    model = exact(check, monitor)
    result = {
        "per_week": {
            "without_downtimes": model.per_week(WEEK_MINUTES, 0, ()),
            "with_downtimes": model.per_week(*downtimes),
        },
        "per_evaluation": model.state_probability,
        "model": {
            "check": asdict(check),
            "monitor": asdict(monitor),
            "evaluation_every_seconds": EVALUATION_SECONDS,
            "points_per_window": {str(n): w for n, w in model.points_per_window.items()},
            "p_average_above": {k: {str(n): p for n, p in v.items()} for k, v in model.above.items()},
            "downtimes": {
                "timezone": args.timezone.key,
                "week_from": monday,
                "live_minutes_per_week": live_minutes,
                "unmutes_per_week": unmutes,
                "notify_end_states": list(end_states),
            },
            "no_data_per_week": 0,
            "assumptions": [line.strip("- ").strip() for line in __doc__.split("\n\n")[1].split("\n- ")[1:]],
        },
    }
    if args.target_warnings_per_week is not None:
        alerts = args.target_alerts_per_week or args.target_warnings_per_week / 10
        given = "--target-alerts-per-week" if args.target_alerts_per_week else "--target-warnings-per-week / 10"
        result["proposal"] = propose(check, monitor, downtimes, args.target_warnings_per_week, alerts, given)
        result["proposal"]["targets"] = {"warning": args.target_warnings_per_week, "alert": alerts}
    if args.output:
        from my_metric_provisioning.downtime_calendar import save_figure

        save_figure(draw_rates(check, monitor, downtimes), args.output)
    return result


def _rate(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def render(result: dict) -> str:
    model = result["model"]
    check, monitor, downtime = model["check"], model["monitor"], model["downtimes"]
    lines = [
        f"Forecast for one host: my_metric uniform in [{check['min_value']}, {check['max_value']}] every "
        f"{check['interval']:g} s ({check['source']})",
        f"monitor avg(last_{monitor['window'] // 60}m) {monitor['comparator']} {monitor['critical']:g} alert, "
        f"{monitor['comparator']} {monitor['warning']} warning, evaluated every minute ({monitor['source']})",
        "points per window: "
        + ", ".join(f"{n} ({w:.0%} of evaluations)" for n, w in model["points_per_window"].items()),
    ]
    for label, per_n in model["p_average_above"].items():
        threshold = monitor["critical"] if label == "critical" else monitor["warning"]
        figures = ", ".join(f"{n} points {p:.5f}" for n, p in per_n.items())
        lines.append(f"P(average {monitor['comparator']} {threshold:g}): {figures}")
    lines.append("state per evaluation: " + ", ".join(f"{k} {v:.4f}" for k, v in result["per_evaluation"].items()))
    lines.append(f"\nNotifications per week (exact)  {'warning':>8} {'alert':>8} {'recovery':>8}")
    for basis, figures in result["per_week"].items():
        lines.append(f"  {basis.replace('_', ' '):30}" + "".join(f" {_rate(v):>8}" for v in figures.values()))
    lines.append(
        f"  ({downtime['live_minutes_per_week']} live minutes and {downtime['unmutes_per_week']} unmutes a week "
        f"in {downtime['timezone']}; no data: 0, a host that reports steadily always has a recent point)"
    )
    if "proposal" in result:
        proposal = result["proposal"]
        got = proposal["per_week_with_downtimes"]
        lines.append(
            f"\nProposed thresholds for about {proposal['targets']['warning']:g} warnings and "
            f"{proposal['targets']['alert']:g} alerts a week (downtimes included): warning {proposal['warning']:g}, "
            f"critical {proposal['critical']:g} -> {got['warning']:.1f} warnings, {got['alert']:.1f} alerts, "
            f"{got['recovery']:.1f} recoveries a week.\n"
            f'  In the monitor: "query": "avg(last_5m):avg:my_metric{{*}} by {{host}} > {proposal["critical"]:g}", '
            f'"thresholds": {{"critical": {proposal["critical"]:g}, "warning": {proposal["warning"]:g}}}'
        )
    return "\n".join(lines)


def run(args, out) -> int:
    result = forecast(args)
    print(json.dumps(result, indent=1, default=float) if args.json else render(result), file=out)
    if args.output and not args.json:
        print(f"wrote {args.output}: notifications per week against each threshold.", file=out)
    return 0
