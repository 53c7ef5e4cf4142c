"""How noisy the monitor will be (`my-metric-provision forecast`): simulated and exact, per week, one host.

The model (a model of Datadog's evaluation, not Datadog; see the README):
- the check submits a uniformly random integer in [min_value, max_value] every `min_collection_interval`
  seconds, at a fixed phase, without gaps or jitter;
- the monitor evaluates once a minute the average of the points inside its window (t - window, t];
- the state is ALERT above the critical threshold, WARN above the warning threshold, OK otherwise;
  a change of state notifies (to WARN: warning, to ALERT: alert, to OK: recovery);
- a muted minute (downtime) sends nothing, but the state still changes; when a downtime ends while
  the state is one of its `notify_end_states`, one notification of that state is sent;
- `renotify_interval` > 0 re-sends a notification while the state stays in `renotify_statuses`;
- `require_full_window` and no-data change nothing for a host that reports steadily.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from my_metric_provisioning.assets import MONITOR_FILE, Assets, load_json
from my_metric_provisioning.cli import UsageError, resolve_integration_dir

CHECK_CONFIG_FILE = "datadog_checks/my_metric/data/conf.yaml.example"
EVALUATION_SECONDS = 60
WEEK_MINUTES = 7 * 24 * 60
OK, WARN, ALERT = 0, 1, 2
KINDS = {WARN: "warning", ALERT: "alert", OK: "recovery"}
STATE_OF_END_STATE = {"warn": WARN, "alert": ALERT}
_QUERY = re.compile(r"^\s*(\w+)\(last_(\d+)([mhd])\)\s*:(.+?)\s*(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400}
_DEFAULT = re.compile(r"@param (\w+) - \w+ - optional - default: (\S+)")
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
    no_data_timeframe: int | None
    renotify_interval: int
    renotify_statuses: tuple[str, ...]
    require_full_window: bool
    source: str


# ---------------------------------------------------------------- inputs
def _read_yaml(path: Path, option: str):
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"{option} {path}: cannot read it ({exc.strerror}). Pass the check's conf.yaml, e.g. "
            f"my_metric/{CHECK_CONFIG_FILE}."
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(
            f"{option} {path}: invalid YAML{where}: {problem}. Fix the file's indentation/syntax."
        ) from None


def shipped_defaults(example: Path) -> dict[str, str]:
    """Defaults documented in the shipped conf.yaml.example (`## @param NAME - TYPE - optional - default: X`)."""
    try:
        return dict(_DEFAULT.findall(example.read_text(encoding="utf-8")))
    except OSError:
        return {}


def load_check(config_path: Path, example: Path) -> CheckModel:
    option = "--check-config"
    config = _read_yaml(config_path, option)
    if not isinstance(config, dict) or not isinstance(config.get("instances"), list) or not config["instances"]:
        raise UsageError(f"{option} {config_path}: no `instances:` list. A check config needs at least one instance.")
    instance = config["instances"][0] or {}
    init_config = config.get("init_config") or {}
    if not isinstance(instance, dict) or not isinstance(init_config, dict):
        raise UsageError(f"{option} {config_path}: `instances[0]` and `init_config` must be mappings.")
    defaults = shipped_defaults(example)

    def setting(name, kind, where):
        raw = instance.get(name, init_config.get(name) if where == "either" else None)
        if raw is None:
            if name not in defaults:
                raise UsageError(f"{option} {config_path}: {name} not set and no default documented in {example}.")
            raw = kind(defaults[name])
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or (kind is int and not isinstance(raw, int)):
            raise UsageError(
                f"{option} {config_path}: instances[0].{name} is {raw!r}; give a number ({kind.__name__})."
            )
        return raw

    low = setting("min_value", int, "instance")
    high = setting("max_value", int, "instance")
    interval = float(setting("min_collection_interval", float, "either"))
    if low > high:
        raise UsageError(f"{option} {config_path}: min_value {low} is above max_value {high}; swap them.")
    if interval <= 0:
        raise UsageError(f"{option} {config_path}: min_collection_interval must be greater than 0 seconds.")
    return CheckModel(low, high, interval, str(config_path))


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
    warning = thresholds.get("warning")
    if warning is not None and not isinstance(warning, (int, float)):
        raise UsageError(f"--monitor {path}: options.thresholds.warning must be a number.")
    return MonitorModel(
        window=int(amount) * _UNIT_SECONDS[unit],
        comparator=comparator,
        critical=thresholds["critical"],
        warning=warning,
        no_data_timeframe=options.get("no_data_timeframe") if options.get("notify_no_data") else None,
        renotify_interval=int(options.get("renotify_interval") or 0),
        renotify_statuses=tuple(options.get("renotify_statuses") or ("alert", "no data")),
        require_full_window=bool(options.get("require_full_window", False)),
        source=str(path),
    )


# ---------------------------------------------------------------- exact calculation
class SumDistribution:
    """Exact distribution of the sum of n independent uniform integers in [low, high] (by convolution)."""

    def __init__(self, low: int, high: int):
        import numpy as np

        self.low, self.high, self.width = low, high, high - low + 1
        self._np = np
        self._cache = {}

    def pmf(self, n: int):
        """Probabilities of sums n*low .. n*high."""
        np = self._np
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
        np = self._np
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
    import numpy as np

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


# ---------------------------------------------------------------- simulation
@dataclass
class Simulation:
    times: object  # evaluation minutes since the first Monday 00:00
    averages: object
    states: object
    point_times: object  # seconds
    point_values: object
    sent: dict[str, list[list[int]]]  # "without_downtimes"/"with_downtimes" -> per kind -> evaluation indexes


def simulate(check, monitor, muted_week, weeks: int, seed: int, end_states=("alert", "no data", "warn")) -> Simulation:
    import numpy as np

    rng = np.random.default_rng(seed)
    evaluations = weeks * WEEK_MINUTES
    phase = rng.uniform(0, check.interval)
    end = evaluations * EVALUATION_SECONDS
    first = math.floor((-monitor.window - phase) / check.interval)
    last = math.floor((end - phase) / check.interval) + 1
    index = np.arange(first, last + 1)
    point_times = phase + check.interval * index
    point_values = rng.integers(check.min_value, check.max_value, size=len(index), endpoint=True)
    cumulative = np.concatenate([[0], np.cumsum(point_values)])
    times = np.arange(evaluations) * EVALUATION_SECONDS
    lo = np.floor((times - monitor.window - phase) / check.interval).astype(np.int64) + 1 - first
    hi = np.floor((times - phase) / check.interval).astype(np.int64) - first
    counts = hi - lo + 1
    averages = (cumulative[hi + 1] - cumulative[lo]) / counts
    above = np.greater if monitor.comparator == ">" else np.greater_equal
    states = np.where(above(averages, monitor.critical), ALERT, OK)
    if monitor.warning is not None:
        states = np.where((states == OK) & above(averages, monitor.warning), WARN, states)
    muted = np.tile(np.asarray(muted_week, dtype=bool), weeks)
    sent = {
        "without_downtimes": notifications(states, np.zeros_like(muted), monitor, ()),
        "with_downtimes": notifications(states, muted, monitor, end_states),
    }
    return Simulation(times / 60, averages, states, point_times, point_values, sent)


def notifications(states, muted, monitor: MonitorModel, end_states) -> dict[str, list[int]]:
    """Evaluation indexes at which each kind of notification is sent."""
    import numpy as np

    previous = np.concatenate([[OK], states[:-1]])
    was_muted = np.concatenate([[False], muted[:-1]])
    changed = (states != previous) & ~muted
    unmuted_now = was_muted & ~muted
    sent = {kind: list(np.flatnonzero(changed & (states == state))) for state, kind in KINDS.items()}
    for name, state in STATE_OF_END_STATE.items():
        if name in end_states:
            sent[KINDS[state]] += list(np.flatnonzero(unmuted_now & (previous == state)))
    if monitor.renotify_interval > 0:
        renotified = {state for name, state in STATE_OF_END_STATE.items() if name in monitor.renotify_statuses}
        since = 0
        for i in range(len(states)):
            since = 0 if states[i] != previous[i] else since + 1
            if states[i] in renotified and since and since % monitor.renotify_interval == 0 and not muted[i]:
                sent[KINDS[states[i]]].append(i)
    return {kind: sorted(indexes) for kind, indexes in sent.items()}


def weekly_counts(sent: dict[str, list[int]], weeks: int) -> dict[str, list[int]]:
    import numpy as np

    return {
        kind: np.bincount(np.asarray(idx, dtype=np.int64) // WEEK_MINUTES, minlength=weeks).tolist()
        for kind, idx in sent.items()
    }


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


# ---------------------------------------------------------------- picture of one day
def draw_day(sim: Simulation, check: CheckModel, monitor: MonitorModel, muted_week, day: int, label: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    start, end = day * 24 * 60, (day + 1) * 24 * 60
    figure, ax = plt.subplots(figsize=(13, 5.2))
    in_day = (sim.point_times >= start * 60) & (sim.point_times < end * 60)
    hours = sim.point_times[in_day] / 3600 - day * 24
    ax.scatter(hours, sim.point_values[in_day], s=2, color="#9ecae1", label="my_metric points", zorder=2)
    minutes = np.arange(start, end)
    ax.plot(
        (minutes - start) / 60, sim.averages[start:end], color="#08519c", lw=0.7, label="5-minute average", zorder=3
    )
    ax.axhline(monitor.critical, color="#d62728", ls="--", lw=1.2, label=f"alert > {monitor.critical:g}", zorder=4)
    if monitor.warning is not None:
        ax.axhline(monitor.warning, color="#ff7f0e", ls="--", lw=1.2, label=f"warning > {monitor.warning:g}", zorder=4)
    muted = np.asarray(muted_week[(start % WEEK_MINUTES) : (start % WEEK_MINUTES) + 24 * 60], dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], muted.astype(int), [0]])))
    for first, stop in zip(edges[::2], edges[1::2], strict=True):
        ax.axvspan(first / 60, stop / 60, color="#bdbdbd", alpha=0.45, lw=0, zorder=1)
    colours = {"warning": "#ff7f0e", "alert": "#d62728", "recovery": "#2ca02c"}
    sent_today = {}
    for kind, indexes in sim.sent["with_downtimes"].items():
        today = [i for i in indexes if start <= i < end]
        sent_today[kind] = len(today)
        ax.scatter(
            [(i - start) / 60 for i in today],
            [check.max_value * 1.04] * len(today),
            marker="|",
            s=60,
            color=colours[kind],
            label=f"{kind} sent ({len(today)})",
            zorder=5,
        )
    ax.set_xlim(0, 24)
    ax.set_ylim(check.min_value, check.max_value * 1.08)
    ax.set_xticks(range(0, 25, 2))
    ax.set_xticklabels([f"{h:02d}:00" for h in range(0, 25, 2)])
    ax.set_xlabel("local time (grey: muted by the downtimes)")
    ax.set_ylabel("my_metric")
    ax.set_title(f"One simulated {label}, one host: points every {check.interval:g} s, monitor evaluated each minute")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, -0.32), ncol=4, fontsize=8, frameon=False)
    figure.tight_layout()
    return figure


# ---------------------------------------------------------------- command
def live_pattern(assets: Assets, tz_name: str) -> tuple[list[int], int, int, str, tuple[str, ...]]:
    """Muted flag per minute of an ordinary week (from Monday 00:00), live minutes, unmutes, week start,
    and the states the downtimes notify at their end (`notify_end_states`)."""
    from datetime import datetime

    from my_metric_provisioning import downtime_calendar as cal
    from my_metric_provisioning import downtimes

    tz = downtimes.zone(tz_name)
    year = datetime.now(tz).year
    payloads = cal.sent_payloads(assets, tz_name, year)
    recurrences = [r for p in payloads for r in downtimes.recurrences_of(p)]
    end_states = sorted({s for p in payloads for s in p["data"]["attributes"].get("notify_end_states", [])})
    week = cal.week_grid(recurrences, tz, cal.ordinary_monday(tz, year), "ordinary week")
    muted = [int(state != cal.LIVE) for day in week.days for _, _, state in day.minutes]
    unmutes = sum(1 for i in range(len(muted)) if muted[i - 1] and not muted[i])
    return muted, muted.count(0), unmutes, week.monday.isoformat(), tuple(end_states)


def _format_rate(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def forecast(args) -> dict:
    integration = resolve_integration_dir(args.assets_dir)
    example = integration / CHECK_CONFIG_FILE
    check = load_check(Path(args.check_config) if args.check_config else example, example)
    monitor = load_monitor(Path(args.monitor) if args.monitor else integration / MONITOR_FILE)
    if check.interval >= monitor.window:
        raise UsageError(
            f"min_collection_interval {check.interval:g} s is not shorter than the monitor's "
            f"{monitor.window} s window: some evaluations would see no point. Lower it in --check-config."
        )
    assets = Assets.load(integration)
    muted_week, live_minutes, unmutes, monday, end_states = live_pattern(assets, args.timezone)
    model = exact(check, monitor)
    sim = simulate(check, monitor, muted_week, args.weeks, args.seed, end_states)
    import numpy as np

    result = {"per_week": {}, "simulated": {}, "exact": {}}
    for basis, (live, ends, notified_at_end) in {
        "without_downtimes": (WEEK_MINUTES, 0, ()),
        "with_downtimes": (live_minutes, unmutes, end_states),
    }.items():
        weekly = weekly_counts(sim.sent[basis], args.weeks)
        mean = {k: float(np.mean(v)) for k, v in weekly.items()}
        stderr = {
            k: float(np.std(v, ddof=1) / math.sqrt(args.weeks)) if args.weeks > 1 else None for k, v in weekly.items()
        }
        exact_counts = model.per_week(live, ends, notified_at_end) if monitor.renotify_interval == 0 else None
        order = ("warning", "alert", "recovery")
        result["per_week"][basis] = {k: round(mean[k], 1) for k in order}
        result["simulated"][basis] = {k: {"mean": mean[k], "standard_error": stderr[k]} for k in order}
        result["exact"][basis] = {k: exact_counts[k] for k in order} if exact_counts else None
    simulated_states = {
        name: float(np.mean(sim.states == s)) for s, name in ((OK, "ok"), (WARN, "warn"), (ALERT, "alert"))
    }
    result["per_evaluation"] = {"exact": model.state_probability, "simulated": simulated_states}
    result["model"] = {
        "check": asdict(check),
        "monitor": {**asdict(monitor), "renotify_statuses": list(monitor.renotify_statuses)},
        "evaluation_every_seconds": EVALUATION_SECONDS,
        "points_per_window": {str(n): w for n, w in model.points_per_window.items()},
        "p_average_above": {k: {str(n): p for n, p in v.items()} for k, v in model.above.items()},
        "downtimes": {
            "timezone": args.timezone,
            "week_from": monday,
            "live_minutes_per_week": live_minutes,
            "unmutes_per_week": unmutes,
            "notify_end_states": list(end_states),
        },
        "no_data_per_week": 0,
        "simulation": {"weeks": args.weeks, "seed": args.seed},
        "assumptions": [line.strip("- ").strip() for line in __doc__.split("\n- ")[1:]],
    }
    if args.target_warnings_per_week is not None:
        alerts = args.target_alerts_per_week or args.target_warnings_per_week / 10
        given = "--target-alerts-per-week" if args.target_alerts_per_week else "--target-warnings-per-week / 10"
        targets = (args.target_warnings_per_week, alerts, given)
        result["proposal"] = propose(check, monitor, (live_minutes, unmutes, end_states), *targets)
        result["proposal"]["targets"] = {"warning": args.target_warnings_per_week, "alert": alerts}
    if args.output:
        from my_metric_provisioning.downtime_calendar import _check_output, save_figure

        _check_output(args.output)
        save_figure(draw_day(sim, check, monitor, muted_week, 1, "Tuesday"), args.output)
    return result


def render(result: dict) -> str:
    model = result["model"]
    check, monitor = model["check"], model["monitor"]
    downtime = model["downtimes"]
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
        exact_text = ", ".join(f"{n} points {p:.5f}" for n, p in per_n.items())
        lines.append(f"P(average {monitor['comparator']} {threshold:g}) exact: {exact_text}")
    states = result["per_evaluation"]
    lines.append(
        "state per evaluation     exact: "
        + ", ".join(f"{k} {v:.4f}" for k, v in states["exact"].items())
        + "\n                     simulated: "
        + ", ".join(f"{k} {v:.4f}" for k, v in states["simulated"].items())
    )
    lines.append(
        f"\nNotifications per week   simulated ({model['simulation']['weeks']} weeks, seed "
        f"{model['simulation']['seed']}, +- standard error)   exact"
    )
    for basis in ("without_downtimes", "with_downtimes"):
        extra = (
            f" ({downtime['live_minutes_per_week']} live minutes, {downtime['unmutes_per_week']} unmutes a week "
            f"in {downtime['timezone']})"
            if basis == "with_downtimes"
            else ""
        )
        lines.append(f"  {basis.replace('_', ' ')}{extra}")
        for kind, figures in result["simulated"][basis].items():
            exact_value = result["exact"][basis][kind] if result["exact"][basis] else None
            error = figures["standard_error"]
            lines.append(
                f"    {kind:9} {_format_rate(figures['mean']):>8} +- {error or 0:6.1f}"
                f"   {_format_rate(exact_value) if exact_value is not None else 'n/a (renotify)':>8}"
            )
    lines.append("  no data: 0 (a host that reports steadily always has a point in the last 10 minutes)")
    if "proposal" in result:
        proposal = result["proposal"]
        got = proposal["per_week_with_downtimes"]
        lines.append(
            f"\nProposed thresholds for about {proposal['targets']['warning']:g} warnings and "
            f"{proposal['targets']['alert']:g} alerts a week (downtimes included): warning {proposal['warning']:g}, "
            f"critical {proposal['critical']:g} -> exact {got['warning']:.1f} warnings, {got['alert']:.1f} alerts, "
            f"{got['recovery']:.1f} recoveries a week.\n"
            f'  In the monitor: "query": "avg(last_5m):avg:my_metric{{*}} by {{host}} > {proposal["critical"]:g}", '
            f'"thresholds": {{"critical": {proposal["critical"]:g}, "warning": {proposal["warning"]:g}}}'
        )
    return "\n".join(lines)


def run(args, out) -> int:
    result = forecast(args)
    if args.json:
        print(json.dumps(result, indent=1, default=float), file=out)
    else:
        print(render(result), file=out)
        if args.output:
            print(f"wrote {args.output}: one simulated Tuesday.", file=out)
    return 0
