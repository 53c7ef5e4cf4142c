"""`my-metric-provision validate | plan | apply | destroy | snapshot | calendar | forecast`."""

from __future__ import annotations

import math
import os
import sys
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import click

from my_metric_provisioning import __version__
from my_metric_provisioning.assets import AssetFileError, Assets, default_integration_dir, is_integration_dir
from my_metric_provisioning.downtimes import UnknownTimezone, zone
from my_metric_provisioning.findings import did_you_mean
from my_metric_provisioning.settings import KNOWN_SITES, Settings

DEFAULT_TIMEZONE = "America/New_York"
DRY_RUN_HANDLE = "@your-handle"
ASSETS_DIR_ENV = "MY_METRIC_ASSETS_DIR"
MAX_SNAPSHOT_MINUTES = 7 * 24 * 60
NOTIFY_PURPOSE = {
    "plan": "notify from the monitor and downtimes",
    "apply": "notify from the monitor and downtimes",
    "snapshot": "send the snapshot to",
}
CHANGES_EXIT = 4  # plan: there are changes to make (like `terraform plan -detailed-exitcode`'s 2, which is taken)
BROKEN_PIPE_EXIT = 141  # 128 + SIGPIPE, what a shell reports for a tool the pipe's reader left behind


class UsageError(Exception):
    """Bad input from the person running the command; the message names the option and the fix."""


def resolve_integration_dir(option: str | None) -> Path:
    chosen = option or os.environ.get(ASSETS_DIR_ENV)
    path = Path(chosen) if chosen else default_integration_dir()
    if not is_integration_dir(path):
        origin = "--assets-dir" if option else (ASSETS_DIR_ENV if chosen else "the default location")
        raise UsageError(
            f"{origin}: no manifest.json in {path}. Pass --assets-dir pointing at the my_metric integration "
            f"directory of the repository (the one holding manifest.json and assets/), or set {ASSETS_DIR_ENV}."
        )
    return path


def check_timezone(name: str) -> ZoneInfo:
    """The one place --timezone is parsed: everything after it receives the ZoneInfo."""
    try:
        return zone(name)
    except UnknownTimezone as exc:
        if exc.suggestion:
            raise UsageError(
                f"--timezone {name!r}: unknown IANA timezone (did you mean {exc.suggestion}?). Example: Europe/Paris."
            ) from None
        raise UsageError(
            f"--timezone {name!r}: use an IANA timezone name such as America/New_York, Europe/Paris or UTC."
        ) from None


def check_site(site: str, api_url: str | None) -> str:
    sites = KNOWN_SITES
    if api_url:
        if not api_url.startswith(("http://", "https://")) or "//" not in api_url or not api_url.split("//", 1)[1]:
            raise UsageError(f"--api-url {api_url!r}: give a base URL such as https://proxy.example.com:8443.")
        return site
    if site not in sites:
        bare = site.strip().removeprefix("https://").removeprefix("http://").strip("/")
        bare = bare.removeprefix("app.").removeprefix("api.")
        hint = f"did you mean {bare!r}?" if bare in sites else did_you_mean(bare or site, sites, n=1)
        raise UsageError(
            f"--site {site!r}: not a Datadog site{f' ({hint})' if hint else ''}. Give the site name only "
            f"(--site or DD_SITE), one of: {', '.join(sites)}; or --api-url for a proxy or a test server."
        )
    return site


def check_notify(handle: str) -> str:
    if not handle or not handle.startswith("@") or " " in handle or len(handle) < 2:
        raise UsageError(
            f"--notify {handle!r}: give one handle starting with @, e.g. @alice@example.com or @slack-ops."
        )
    return handle


class Finite(click.FloatRange):
    """A FloatRange that also refuses nan and inf (which compare false with any bound)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number.", param, ctx)
        return number


SECONDS = Finite(min=0, min_open=True)
# datetime's last year is 9999, and proving a year's coverage reads into the next one
YEAR = click.IntRange(2, 9998)


def this_year(tz: ZoneInfo) -> int:
    """The one default year: the current year in --timezone."""
    return datetime.now(tz).year


def everywhere(function):
    """--assets-dir and --timezone, given before the command or after it (after it wins)."""
    function = click.option(
        "--assets-dir",
        help=f"the my_metric integration directory (default: the repository's my_metric/, or ${ASSETS_DIR_ENV})",
    )(function)
    return click.option(
        "--timezone", help=f"IANA timezone of the downtimes (default $MY_METRIC_TIMEZONE or {DEFAULT_TIMEZONE})"
    )(function)


def network(function):
    """The options of every command that talks to Datadog."""
    for option in reversed(
        [
            click.option("--site", envvar="DD_SITE", default="datadoghq.com", show_envvar=True, help="Datadog site"),
            click.option("--api-url", help="send requests to this base URL instead (a proxy or a test server)"),
            click.option("--max-retries", type=click.IntRange(0, 100), default=3, help="retries on 429, 5xx"),
            click.option("--retry-backoff", type=Finite(min=0), default=2.0, help="backoff factor, seconds"),
            click.option("--connect-timeout", type=SECONDS, default=Settings.connect_timeout, help="seconds"),
            click.option("--read-timeout", type=SECONDS, default=Settings.read_timeout, help="seconds"),
            click.option("--deadline", type=SECONDS, default=Settings.deadline, help="seconds for the whole command"),
        ]
    ):
        function = option(function)
    return everywhere(function)


NOTIFY = click.option("--notify", envvar="MY_METRIC_NOTIFY", help="the handle to notify, e.g. @alice@example.com")
DRY_RUN = click.option("--dry-run", is_flag=True, help="print the payloads offline: no network, no keys needed")


@click.group(context_settings={"max_content_width": 110})
@click.version_option(__version__, prog_name="my-metric-provision")
@everywhere
@click.pass_context
def commands(ctx, assets_dir, timezone):
    """Validate and provision the my_metric dashboard, monitor and downtimes."""
    ctx.obj.update(assets_dir=assets_dir, timezone=timezone)


def _command(name: str, ctx, **options) -> int:
    """Runs a command with its options merged over those given before it; everything checked before any work."""
    given = ctx.obj
    args = SimpleNamespace(**{"command": name, "dry_run": False, **options})
    args.assets_dir = options["assets_dir"] or given["assets_dir"]
    chosen = (options["timezone"], given["timezone"], os.environ.get("MY_METRIC_TIMEZONE"))
    timezone = next((name for name in chosen if name is not None), DEFAULT_TIMEZONE)
    args.timezone = check_timezone(timezone)
    settings = _settings(args) if name in ("plan", "apply", "destroy", "snapshot") else None
    # destroy reads no asset: it removes what the monitor records, whatever the files say now
    integration_dir = None if name == "destroy" else resolve_integration_dir(args.assets_dir)
    ctx.obj["run"] = lambda: _run_command(args, settings, integration_dir, given["out"])
    return 0


@commands.command(help="check the dashboard, monitor, manifest and downtimes offline")
@everywhere
@click.option("--year", type=YEAR, help="year over which downtime coverage is proven (default: this year)")
@click.pass_context
def validate(ctx, **options):
    return _command("validate", ctx, **options)


@commands.command(help="show what apply would change in the org, object by object (exit 4 when there is a change)")
@network
@NOTIFY
@click.pass_context
def plan(ctx, **options):
    return _command("plan", ctx, **options)


@commands.command(help="make the org match the assets, writing only what differs")
@network
@NOTIFY
@DRY_RUN
@click.pass_context
def apply(ctx, **options):
    return _command("apply", ctx, **options)


@commands.command(help="remove what apply made")
@network
@DRY_RUN
@click.pass_context
def destroy(ctx, **options):
    return _command("destroy", ctx, **options)


@commands.command(help="snapshot the my_metric graph over the last minutes and @-mention a handle with it")
@network
@NOTIFY
@DRY_RUN
@click.option("--minutes", type=click.IntRange(1, MAX_SNAPSHOT_MINUTES), default=5, help="timeframe of the snapshot")
@click.pass_context
def snapshot(ctx, **options):
    return _command("snapshot", ctx, **options)


@commands.command(help="draw the downtime week (PNG or SVG) in --timezone")
@everywhere
@click.option("--output", required=True, help="picture to write, .png or .svg")
@click.option("--year", type=YEAR, help="year whose clock changes are drawn (default: this year)")
@click.option("--data", help="also write the grid behind the picture as JSON to this file")
@click.pass_context
def calendar(ctx, **options):
    return _command("calendar", ctx, **options)


@commands.command(help="the monitor's notifications per week for one host, and thresholds for a target")
@everywhere
@click.option("--check-config", help="the check's conf.yaml (default: the shipped conf.yaml.example)")
@click.option("--monitor", help="monitor JSON (default: the integration's my_metric_high.json)")
@click.option("--json", "json_", is_flag=True, help="print the figures as JSON")
@click.option("--output", help="draw notifications per week against each threshold (.png or .svg)")
@click.option("--target-warnings-per-week", type=Finite(min=0, min_open=True), help="warnings a week wanted")
@click.option("--target-alerts-per-week", type=Finite(min=0, min_open=True), help="default: a tenth of the warnings")
@click.pass_context
def forecast(ctx, json_, **options):
    return _command("forecast", ctx, json=json_, **options)


PICTURES_EXTRA = (
    "pip install 'my-metric-provisioning[pictures]' (from a checkout: pip install ../agent_standin -e '.[pictures]'; "
    "the package's test environment from uv.lock has it)"
)


def run_picture_command(args, integration_dir: Path, out) -> int:
    import importlib.util

    needed = ("matplotlib",) if args.command == "calendar" else ("numpy", "matplotlib", "agent_standin")
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"{args.command} needs the pictures extra ({', '.join(missing)} not installed): {PICTURES_EXTRA}."
        )
    if args.command == "calendar":
        from my_metric_provisioning import downtime_calendar

        year = args.year or this_year(args.timezone)
        assets = Assets.load(integration_dir)
        weeks = downtime_calendar.write_calendar(assets, args.timezone, year, args.output, args.data)
        changes = "; ".join(w.change for w in weeks if w.change) or f"no clock change in {year}"
        print(f"wrote {args.output}: {len(weeks)} week(s) in {args.timezone} ({changes}).", file=out)
        return 0
    from my_metric_provisioning import forecast

    return forecast.run(args, out)


def _settings(args) -> Settings:
    notify = getattr(args, "notify", None)
    args.dry_run = getattr(args, "dry_run", False)
    if args.command in NOTIFY_PURPOSE:
        if notify is None and args.dry_run and args.command == "apply":
            notify = DRY_RUN_HANDLE
        elif notify is None:
            raise UsageError(
                f"--notify is required for {args.command}: pass the handle to {NOTIFY_PURPOSE[args.command]}, "
                "e.g. --notify @alice@example.com (or set MY_METRIC_NOTIFY)."
            )
        check_notify(notify)
    check_site(args.site, args.api_url)
    # Every setting but the notify handle and the keys (read below) is an option of the same name.
    options = {field.name: getattr(args, field.name) for field in fields(Settings) if hasattr(args, field.name)}
    settings = Settings(**{**options, "notify": notify or ""})
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


def first_judged_year(assets: Assets) -> int:
    """The first year every stored recurrence has started before (a year before its anchor is half unmuted)."""
    starts = [
        str(item.get("start", ""))[:4]
        for payload in assets.downtimes.values()
        for item in (((payload.get("data") or {}).get("attributes") or {}).get("schedule") or {}).get("recurrences", [])
        if isinstance(item, dict)
    ]
    return max((int(year) + 1 for year in starts if year.isdigit()), default=2)


def _validate(assets: Assets, args, out) -> int:
    from my_metric_provisioning.rules import validate_all

    year = getattr(args, "year", None) or this_year(args.timezone)
    first = first_judged_year(assets)
    if year < first:
        raise UsageError(
            f"--year {year}: the stored downtimes start in {first - 1}, so their coverage can be judged from "
            f"{first} on; give --year {first} or later."
        )
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
    """Everything, errors included, is printed to `out`; the exit codes are in the README."""
    state = {"out": out}
    try:
        # Every option is checked before the assets are read and before the Datadog client is even imported.
        commands.main(args=argv, prog_name="my-metric-provision", standalone_mode=False, obj=state)
    except click.exceptions.NoArgsIsHelpError:
        print(f"error: give a command: {', '.join(commands.commands)}. See my-metric-provision --help.", file=out)
        return 2
    except click.ClickException as exc:
        print(f"error: {exc.format_message()} See my-metric-provision --help.", file=out)
        return 2
    except UsageError as exc:
        print(f"error: {exc}", file=out)
        return 2
    return state["run"]() if "run" in state else 0


def _run_command(args, settings: Settings | None, integration_dir: Path, out) -> int:
    from my_metric_provisioning.provision import ProvisioningError

    try:
        if args.command in ("calendar", "forecast"):
            return run_picture_command(args, integration_dir, out)
        if args.command == "destroy":
            return _destroy(settings, args, out)
        assets = Assets.load(integration_dir)
        if args.command == "validate":
            return _validate(assets, args, out)
        if _validate(assets, args, out):
            print("Not provisioning invalid assets; fix the errors above first.", file=out)
            return 1
        if args.command == "snapshot":
            return _snapshot(assets, settings, args, out)
        return _plan_or_apply(assets, settings, args, out)
    except UsageError as exc:  # found while working: picture options (--output, --monitor), a dashboard with no graph
        print(f"error: {exc}", file=out)
        return 2
    except AssetFileError as exc:
        print(f"error: {exc} Check the path given (--assets-dir, --monitor) or restore the file from git.", file=out)
        return 2
    except ProvisioningError as exc:
        print(f"error: {exc}", file=out)
        return 3


def _print_change(change, out) -> None:
    from my_metric_provisioning.reconcile import describe

    where = f" {change.object_id}" if change.object_id else ""
    note = " (deleted by hand; apply makes it again)" if change.action == "missing" else ""
    print(f"{change.action:9} {change.kind}{where}{note}", file=out)
    for difference in change.differences:
        print(f"    {describe(difference)}", file=out)


def _plan_or_apply(assets: Assets, settings: Settings, args, out) -> int:
    from my_metric_provisioning.provision import Provisioner, current_time, desired_payloads, dumps
    from my_metric_provisioning.reconcile import Reconciler
    from my_metric_provisioning.rules import check_monitor_notifies

    sent = desired_payloads(assets, settings, "<id of the monitor>", current_time(settings.timezone))
    not_notifying = check_monitor_notifies(sent["monitor"], settings.notify)
    for finding in not_notifying:
        print(f"ERROR {finding}", file=out)
    if not_notifying:
        return 1
    if args.dry_run:
        print(
            f"Offline preview (nothing read or sent) for site {settings.site}, timezone {settings.timezone}, "
            f"notifying {settings.notify}: the payloads apply sends.",
            file=out,
        )
        for kind, payload in sent.items():
            if payload is not None:
                print(f"\n== {kind} ==\n{dumps(payload)}", file=out)
        return 0
    provisioner = Provisioner(settings, log=lambda text: print(text, file=out))
    # apply shows each change (an edit made in the UI with its field diffs) before making it
    reconciler = Reconciler(
        provisioner, assets, show=None if args.command == "plan" else lambda c: _print_change(c, out)
    )
    try:
        changes = provisioner.within_deadline(reconciler.plan if args.command == "plan" else reconciler.apply)
    finally:
        provisioner.close()
    counts = {
        action: sum(c.action == action for c in changes)
        for action in ("create", "missing", "update", "cancel", "adopt")
    }
    if args.command == "plan":
        for change in changes:
            _print_change(change, out)
        summary = ", ".join(f"{n} {action}" for action, n in counts.items() if n) or "nothing to change"
        print(f"Plan: {summary}.", file=out)
        return CHANGES_EXIT if any(counts.values()) else 0
    done = {"create": "created", "missing": "created", "update": "updated", "cancel": "canceled", "adopt": "adopted"}
    for change in changes:
        if change.action in done:
            print(f"{done[change.action]:9} {change.kind} (id {change.object_id})", file=out)
    if not any(counts.values()):
        print("nothing to change: the org already matches the assets.", file=out)
    dashboard = next((c.object_id for c in changes if c.kind == "dashboard"), None)
    if dashboard:
        from my_metric_provisioning.snapshot import dashboard_url, now_utc

        print(f"dashboard (past 5 minutes): {dashboard_url(settings.site, dashboard, now_utc())}", file=out)
    return 0


def _destroy(settings: Settings, args, out) -> int:
    from my_metric_provisioning.provision import Provisioner
    from my_metric_provisioning.reconcile import Reconciler

    if args.dry_run:
        print(
            "Offline preview (nothing read or sent): cancel the downtimes recorded on the marked monitor, delete the "
            "dashboard it records, then delete the monitor last, since it holds those records. Nothing else is "
            "touched.",
            file=out,
        )
        return 0
    provisioner = Provisioner(settings, log=lambda text: print(text, file=out))
    try:
        done = provisioner.within_deadline(Reconciler(provisioner, None).destroy)
    finally:
        provisioner.close()
    for change in done:
        print(f"{change.action:9} {change.kind} (id {change.object_id})", file=out)
    if not done:
        print("nothing to do: no monitor carries the provisioning marker.", file=out)
    return 0


def _snapshot(assets: Assets, settings: Settings, args, out) -> int:
    from my_metric_provisioning.provision import Provisioner
    from my_metric_provisioning.snapshot import my_metric_graph, take

    graph = my_metric_graph(assets)
    if args.dry_run:
        print(
            f"Plan (dry run, nothing sent): snapshot {graph.query!r} ({graph.title}) over the past {args.minutes} "
            f"minutes, then an event @-mentioning {settings.notify} with the snapshot's link.",
            file=out,
        )
        return 0
    provisioner = Provisioner(settings, log=lambda text: print(text, file=out))
    try:
        result = provisioner.within_deadline(lambda: take(provisioner, assets, settings.notify, args.minutes))
    finally:
        provisioner.close()
    print(f"snapshot: {result['snapshot_url']}", file=out)
    print(
        f"notified {settings.notify} in event {result['event_id']}: {result['event_url'] or ''}".rstrip(": "), file=out
    )
    return 0


def main(argv=None) -> int:
    try:
        code = run(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # The reader went away (`... | head -1`): stop quietly, as Unix tools ended by SIGPIPE do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE_EXIT


if __name__ == "__main__":
    sys.exit(main())
