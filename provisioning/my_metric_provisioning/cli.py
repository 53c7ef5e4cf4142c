"""`my-metric-provision validate | apply | destroy | snapshot | calendar | forecast`."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime

from my_metric_provisioning import __version__
from my_metric_provisioning.assets import Assets, UsageError, resolve_integration_dir
from my_metric_provisioning.downtimes import zone
from my_metric_provisioning.provision import (
    Provisioner,
    ProvisioningError,
    Settings,
    check_notify,
    dumps,
    plan,
)
from my_metric_provisioning.rules import validate_all
from my_metric_provisioning.snapshot import check_minutes, dashboard_url, my_metric_graph, now_utc, take

DEFAULT_TIMEZONE = "America/New_York"
DRY_RUN_HANDLE = "@your-handle"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="my-metric-provision", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument(
        "--assets-dir",
        help="the my_metric integration directory (default: the repository's my_metric/, or $MY_METRIC_ASSETS_DIR)",
    )
    parser.add_argument(
        "--timezone",
        default=os.environ.get("MY_METRIC_TIMEZONE", DEFAULT_TIMEZONE),
        help=f"IANA timezone of the downtimes (default {DEFAULT_TIMEZONE})",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="check the dashboard, monitor, manifest and downtimes offline")
    validate.add_argument("--year", type=int, default=2026, help="year over which downtime coverage is proven")

    for name, text in (
        ("apply", "create or update everything in the org"),
        ("destroy", "remove what apply made"),
        ("snapshot", "snapshot the my_metric graph over the last minutes and @-mention a handle with it"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument(
            "--dry-run", action="store_true", help="print the plan and payloads; no network, no keys needed"
        )
        sub.add_argument(
            "--site",
            default=os.environ.get("DD_SITE", "datadoghq.com"),
            help="Datadog site, e.g. datadoghq.eu (default $DD_SITE or datadoghq.com)",
        )
        sub.add_argument(
            "--api-url", help="send requests to this base URL instead of the site (a proxy or a test server)"
        )
        if name == "snapshot":
            sub.add_argument(
                "--notify",
                default=os.environ.get("MY_METRIC_NOTIFY"),
                help="who gets the snapshot, e.g. @alice@example.com (or $MY_METRIC_NOTIFY)",
            )
            sub.add_argument("--minutes", type=int, default=5, help="timeframe of the snapshot (default 5)")
            sub.set_defaults(full_scan=False)
        else:
            sub.add_argument(
                "--full-scan",
                action="store_true",
                help="also list every dashboard and downtime of the org to find marked ones the monitor lost track of",
            )
        sub.add_argument("--max-retries", type=int, default=3, help="retries on 429 and 5xx (default 3)")
        sub.add_argument(
            "--retry-backoff",
            type=float,
            default=2.0,
            help="backoff factor in seconds when no rate-limit header says how long to wait",
        )
        if name == "apply":
            sub.add_argument(
                "--notify",
                default=os.environ.get("MY_METRIC_NOTIFY"),
                help="who the monitor and downtimes notify, e.g. @alice@example.com (or $MY_METRIC_NOTIFY)",
            )
    add_picture_commands(commands)
    return parser


def add_picture_commands(commands) -> None:
    """`calendar` and `forecast`: offline pictures and figures (matplotlib is imported only when they run)."""
    calendar = commands.add_parser("calendar", help="draw the downtime week (PNG or SVG) in --timezone")
    calendar.add_argument("--output", required=True, help="picture to write, .png or .svg")
    calendar.add_argument("--year", type=int, help="year whose clock changes are drawn (default: this year)")
    calendar.add_argument("--data", help="also write the grid behind the picture as JSON to this file")
    forecast = commands.add_parser("forecast", help="estimate the monitor's notifications per week for one host")
    forecast.add_argument("--check-config", help="the check's conf.yaml (default: the shipped conf.yaml.example)")
    forecast.add_argument("--monitor", help="monitor JSON (default: the integration's my_metric_high.json)")
    forecast.add_argument("--json", action="store_true", help="print the figures as JSON")
    forecast.add_argument("--seed", type=int, default=0, help="seed of the simulation (default 0)")
    forecast.add_argument("--weeks", type=int, default=52, help="simulated weeks (default 52)")
    forecast.add_argument("--output", help="draw one simulated weekday to this .png or .svg")
    forecast.add_argument(
        "--target-warnings-per-week", type=float, help="propose thresholds giving about this many warnings a week"
    )
    forecast.add_argument(
        "--target-alerts-per-week", type=float, help="with --target-warnings-per-week (default: a tenth of it)"
    )


def run_picture_command(args, out) -> int:
    if args.command == "calendar":
        from my_metric_provisioning import downtime_calendar

        zone(args.timezone)
        year = args.year or datetime.now(zone(args.timezone)).year
        assets = Assets.load(resolve_integration_dir(args.assets_dir))
        weeks = downtime_calendar.write_calendar(assets, args.timezone, year, args.output, args.data)
        changes = "; ".join(w.change for w in weeks if w.change) or f"no clock change in {year}"
        print(f"wrote {args.output}: {len(weeks)} week(s) in {args.timezone} ({changes}).", file=out)
        return 0
    from my_metric_provisioning import forecast

    return forecast.run(args, out)


def _settings(args) -> Settings:
    zone(args.timezone)
    notify = getattr(args, "notify", None)
    if args.command == "apply":
        if notify is None and args.dry_run:
            notify = DRY_RUN_HANDLE
        elif notify is None:
            raise UsageError(
                "--notify is required for apply: pass the handle to notify, e.g. --notify @alice@example.com "
                "(or set MY_METRIC_NOTIFY)."
            )
        check_notify(notify)
    if args.max_retries < 0:
        raise UsageError("--max-retries must be 0 or more.")
    if args.retry_backoff < 0:
        raise UsageError("--retry-backoff must be 0 or more seconds.")
    if not args.site or "/" in args.site or "." not in args.site:
        raise UsageError(
            f"--site {args.site!r}: give a Datadog site such as datadoghq.com, datadoghq.eu or us5.datadoghq.com."
        )
    settings = Settings(
        notify=notify or "",
        timezone=args.timezone,
        site=args.site,
        api_url=args.api_url,
        max_retries=args.max_retries,
        retry_backoff=args.retry_backoff,
    )
    if not args.dry_run:
        missing = [name for name in ("DD_API_KEY", "DD_APP_KEY") if not os.environ.get(name)]
        if missing:
            raise UsageError(
                f"{' and '.join(missing)} not set: export the organisation's API key as DD_API_KEY and an "
                f"application key as DD_APP_KEY (or use --dry-run)."
            )
        settings.api_key = os.environ["DD_API_KEY"]
        settings.app_key = os.environ["DD_APP_KEY"]
    return settings


def _validate(assets: Assets, args, out) -> int:
    year = getattr(args, "year", 2026)
    findings = validate_all(assets, args.timezone, year)
    for finding in findings:
        print(f"ERROR {finding}", file=out)
    checked = (
        f"dashboard, monitor, manifest and {len(assets.downtimes)} downtimes "
        f"(coverage in {args.timezone} over {year}, minute by minute)"
    )
    if findings:
        print(f"{len(findings)} problem(s) in {checked}.", file=out)
        return 1
    print(f"OK: {checked} are valid.", file=out)
    return 0


def run(argv=None, out=sys.stdout) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command in ("calendar", "forecast"):
            return run_picture_command(args, out)
        assets = Assets.load(resolve_integration_dir(args.assets_dir))
        if args.command == "validate":
            return _validate(assets, args, out)
        settings = _settings(args)
        if _validate(assets, args, out):
            print("Not provisioning invalid assets; fix the errors above first.", file=out)
            return 1
        if args.command == "apply" and args.dry_run:
            print(
                f"Plan (dry run, nothing sent) for site {settings.site}, timezone {settings.timezone}, "
                f"notifying {settings.notify}:",
                file=out,
            )
            for kind, payload in plan(assets, settings):
                print(f"\n== create or update {kind} ==\n{dumps(payload)}", file=out)
            return 0
        if args.command == "destroy" and args.dry_run:
            print(
                "Plan (dry run): cancel the marked downtimes of the marked monitor, delete that monitor, "
                "delete the marked dashboard. Nothing else is touched.",
                file=out,
            )
            return 0
        if args.command == "snapshot":
            return _snapshot(assets, settings, args, out)
        provisioner = Provisioner(assets, settings, log=lambda text: print(text, file=out), full_scan=args.full_scan)
        try:
            summary = provisioner.apply() if args.command == "apply" else provisioner.destroy()
        finally:
            provisioner.close()
        for kind, (action, object_id) in summary.items():
            print(f"{action:8} {kind} (id {object_id})", file=out)
        if not summary:
            print("nothing to do: no object carries the provisioning marker.", file=out)
        if args.command == "apply" and provisioner.dashboard_id:
            now = now_utc()
            print(
                f"dashboard (past 5 minutes): {dashboard_url(settings.site, provisioner.dashboard_id, now)}", file=out
            )
        return 0
    except UsageError as exc:
        print(f"error: {exc}", file=out)
        return 2
    except ProvisioningError as exc:
        print(f"error: {exc}", file=out)
        return 3


def _snapshot(assets: Assets, settings: Settings, args, out) -> int:
    if not args.notify:
        raise UsageError(
            "--notify is required for snapshot: pass the handle to send it to, e.g. --notify @alice@example.com "
            "(or set MY_METRIC_NOTIFY)."
        )
    notify, minutes = check_notify(args.notify), check_minutes(args.minutes)
    graph = my_metric_graph(assets)
    if args.dry_run:
        print(
            f"Plan (dry run, nothing sent): snapshot {graph.query!r} ({graph.title}) over the past {minutes} "
            f"minutes, then an event @-mentioning {notify} with the snapshot's link.",
            file=out,
        )
        return 0
    provisioner = Provisioner(assets, settings, log=lambda text: print(text, file=out))
    try:
        result = take(provisioner, notify, minutes)
    finally:
        provisioner.close()
    print(f"snapshot: {result['snapshot_url']}", file=out)
    print(f"notified {notify} in event {result['event_id']}: {result['event_url'] or ''}".rstrip(": "), file=out)
    return 0


def main(argv=None) -> int:
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
