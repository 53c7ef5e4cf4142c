"""`my-metric-provision validate | plan | apply | destroy | snapshot | calendar | forecast`."""

import importlib.util
import json
import math
import os
import re
import sys
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import click

from my_metric_provisioning import __version__
from my_metric_provisioning.assets import AssetFileError, Assets, default_integration_dir
from my_metric_provisioning.findings import did_you_mean
from my_metric_provisioning.settings import KNOWN_SITES, ProvisioningError, Settings

DEFAULT_TIMEZONE = "America/New_York"
ASSETS_DIR_ENV = "MY_METRIC_ASSETS_DIR"
TIMEZONE_HELP = "IANA timezone of the downtimes ($MY_METRIC_TIMEZONE); given after the command, it wins"
CHANGES_EXIT = 4  # plan: there are changes to make (like `terraform plan -detailed-exitcode`'s 2, which is taken)
BROKEN_PIPE_EXIT = 141  # 128 + SIGPIPE, what a shell reports for a tool the pipe's reader left behind
PICTURES_EXTRA = (
    "pip install 'my-metric-provisioning[pictures]' (from a checkout: pip install ../agent_standin -e '.[pictures]')"
)


class UsageError(Exception):
    """Bad input from the person running the command; the message names the option and the fix."""


def resolve_integration_dir(option: str | None) -> Path:
    chosen = option or os.environ.get(ASSETS_DIR_ENV)
    path = Path(chosen) if chosen else default_integration_dir()
    if not (path / "manifest.json").is_file():
        origin = "--assets-dir" if option else (ASSETS_DIR_ENV if chosen else "the default location")
        fix = f"pass --assets-dir (or set {ASSETS_DIR_ENV}) to the repository's my_metric/ integration directory"
        raise UsageError(f"{origin}: no manifest.json in {path}; {fix}.")
    return path


def this_year(tz: ZoneInfo) -> int:
    """The one default year: the current year in --timezone."""
    return datetime.now(tz).year


# ---------------------------------------------------------------- option types: each value checked once, at the edge
class Timezone(click.ParamType):
    name = "timezone"

    def convert(self, value, param, ctx):
        if isinstance(value, ZoneInfo):
            return value
        try:
            if "/" in value or value == "UTC":  # "Japan", "EST": old aliases, refused like a misspelling
                return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        hint = did_you_mean(value, available_timezones()) or "use an IANA name such as Europe/Paris"
        self.fail(f"{value!r}: not an IANA timezone ({hint}).", param, ctx)


class Matching(click.ParamType):
    """A string that matches `pattern`, else refused with what to give."""

    def __init__(self, name: str, pattern: str, give: str):
        self.name, self.pattern, self.give = name, pattern, give

    def convert(self, value, param, ctx):
        if not re.fullmatch(self.pattern, value):
            self.fail(f"{value!r}: give {self.give}.", param, ctx)
        return value


class Finite(click.FloatRange):
    """A FloatRange that also refuses nan and inf (which compare false with any bound)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number.", param, ctx)
        return number


SECONDS = Finite(min=0, min_open=True)
YEAR = click.IntRange(2, 9998)  # datetime's last year is 9999, and proving a year's coverage reads into the next one
ASSETS_DIR = click.option("--assets-dir", help=f"the my_metric integration directory (default: ${ASSETS_DIR_ENV})")
HANDLE = Matching("@handle", r"@\S+", "one handle starting with @, e.g. @alice@example.com or @slack-ops")
NOTIFY = click.option("--notify", type=HANDLE, envvar="MY_METRIC_NOTIFY", help="the handle to notify, e.g. @a@b.c")
DRY_RUN = click.option("--dry-run", is_flag=True, help="print what would be sent, offline: no network, no keys")
NETWORK = [
    click.option("--site", type=click.Choice(KNOWN_SITES), envvar="DD_SITE", default="datadoghq.com", show_envvar=True),
    click.option(
        "--api-url",
        type=Matching("url", r"https?://\S+", "a base URL such as https://proxy.example.com:8443"),
        help="send requests to this base URL instead (a proxy or a test server)",
    ),
    click.option("--max-retries", type=click.IntRange(0, 100), default=3, help="retries on 429, 5xx"),
    click.option("--retry-backoff", type=Finite(min=0), default=2.0, help="backoff factor, seconds"),
    click.option("--connect-timeout", type=SECONDS, default=Settings.connect_timeout, help="seconds"),
    click.option("--read-timeout", type=SECONDS, default=Settings.read_timeout, help="seconds"),
    click.option("--deadline", type=SECONDS, default=Settings.deadline, help="seconds for the whole command"),
]


def command(*options, talks_to_datadog=False):
    """A subcommand taking --assets-dir and --timezone (after it wins over before it) and `options`; its function
    receives the out stream and one namespace of every option."""

    def decorate(function):
        def callback(**given):
            ctx = click.get_current_context()
            before = ctx.parent.params
            given["assets_dir"] = given["assets_dir"] or before["assets_dir"]
            given["timezone"] = given["timezone"] or before["timezone"]
            # run by `run` once click is done: click would turn a broken pipe into exit 1
            return lambda: function(SimpleNamespace(command=ctx.info_name, **given), ctx.obj["out"])

        timezone = click.option("--timezone", type=Timezone(), help=TIMEZONE_HELP)
        for option in reversed([ASSETS_DIR, timezone, *options, *(NETWORK if talks_to_datadog else [])]):
            callback = option(callback)
        return commands.command(function.__name__, help=function.__doc__)(callback)

    return decorate


@click.group(context_settings={"max_content_width": 110, "show_default": True})
@click.version_option(__version__, prog_name="my-metric-provision")
@ASSETS_DIR
@click.option("--timezone", type=Timezone(), envvar="MY_METRIC_TIMEZONE", default=DEFAULT_TIMEZONE, help=TIMEZONE_HELP)
def commands(assets_dir, timezone):
    """Validate and provision the my_metric dashboard, monitor and downtimes."""


def settings_of(args) -> Settings:
    """The settings of a command that talks to Datadog, checked before any work; keys from the environment only."""
    notify, offline = getattr(args, "notify", ""), getattr(args, "dry_run", False)
    if notify is None and not (offline and args.command == "apply"):
        raise UsageError(
            f"--notify is required for {args.command}: e.g. --notify @alice@example.com (or MY_METRIC_NOTIFY)."
        )
    keys = {"api_key": os.environ.get("DD_API_KEY"), "app_key": os.environ.get("DD_APP_KEY")}
    missing = [f"DD_{name.upper()}" for name, value in keys.items() if not value]
    if missing and not offline:
        raise UsageError(f"{' and '.join(missing)} not set: export the organisation's API and application keys.")
    options = {field.name: getattr(args, field.name) for field in fields(Settings) if hasattr(args, field.name)}
    notify = notify or ("@your-handle" if offline else "")  # a placeholder in apply's offline preview
    return Settings(**{**options, "notify": notify}, **({} if offline else keys))


def with_datadog(settings: Settings, out, work):
    """`work(provisioner)` under the command's deadline, with one client closed afterwards."""
    from my_metric_provisioning.provision import Provisioner

    provisioner = Provisioner(settings, log=lambda text: print(text, file=out))
    try:
        return provisioner.within_deadline(lambda: work(provisioner))
    finally:
        provisioner.close()


def valid_assets(args, out) -> Assets | None:
    """The assets, after the offline validation printed its findings; None when there are findings."""
    from my_metric_provisioning.rules import validate_all

    assets = Assets.load(resolve_integration_dir(args.assets_dir))
    year = getattr(args, "year", None) or this_year(args.timezone)
    findings = validate_all(assets, args.timezone, year)
    for finding in findings:
        print(f"ERROR {finding}", file=out)
    checked = f"dashboard, monitor and {len(assets.downtimes)} downtimes (coverage in {args.timezone} over {year}, "
    checked += "minute by minute)"
    print(f"{len(findings)} problem(s) in {checked}." if findings else f"OK: {checked} are valid.", file=out)
    return None if findings else assets


@command(click.option("--year", type=YEAR, help="year over which downtime coverage is proven (default: this year)"))
def validate(args, out):
    """check the dashboard, monitor and downtimes offline"""
    return 0 if valid_assets(args, out) else 1


def print_change(change, out) -> None:
    from my_metric_provisioning.reconcile import describe

    where = f" {change.object_id}" if change.object_id else ""
    note = " (deleted by hand; apply makes it again)" if change.action == "missing" else ""
    print(f"{change.action:9} {change.kind}{where}{note}", file=out)
    for difference in change.differences:
        print(f"    {describe(difference)}", file=out)


@command(NOTIFY, talks_to_datadog=True)
def plan(args, out):
    """show what apply would change in the org, object by object (exit 4 when there is a change)"""
    from my_metric_provisioning.reconcile import Reconciler

    settings, assets = settings_of(args), valid_assets(args, out)
    if not assets:
        return 1
    changes = with_datadog(settings, out, lambda provisioner: Reconciler(provisioner, assets).plan())
    for change in changes:
        print_change(change, out)
    counts = {action: sum(c.action == action for c in changes) for action in ("create", "missing", "update", "cancel")}
    print(f"Plan: {', '.join(f'{n} {action}' for action, n in counts.items() if n) or 'nothing to change'}.", file=out)
    return CHANGES_EXIT if any(counts.values()) else 0


@command(NOTIFY, DRY_RUN, talks_to_datadog=True)
def apply(args, out):
    """make the org match the assets, writing only what differs"""
    from my_metric_provisioning.provision import desired_payloads
    from my_metric_provisioning.reconcile import Reconciler
    from my_metric_provisioning.snapshot import dashboard_url

    settings, assets = settings_of(args), valid_assets(args, out)
    if not assets:
        return 1
    if args.dry_run:
        sent = desired_payloads(assets, settings, "<id of the monitor>")
        print(f"Offline preview for site {settings.site}, {settings.timezone}, notifying {settings.notify}:", file=out)
        for kind, payload in sent.items():
            if payload is not None:
                print(f"\n== {kind} ==\n{json.dumps(payload, indent=2)}", file=out)
        return 0
    # each change (an edit made in the UI with its field diffs) is shown before it is made
    changes = with_datadog(
        settings, out, lambda provisioner: Reconciler(provisioner, assets, show=lambda c: print_change(c, out)).apply()
    )
    done = {"create": "created", "missing": "created", "update": "updated", "cancel": "canceled", "adopt": "adopted"}
    for change in changes:
        if change.action in done:
            print(f"{done[change.action]:9} {change.kind} (id {change.object_id})", file=out)
    if all(change.action == "unchanged" for change in changes):
        print("nothing to change: the org already matches the assets.", file=out)
    dashboard = next(c.object_id for c in changes if c.kind == "dashboard")
    print(f"dashboard (past 5 minutes): {dashboard_url(settings.site, dashboard)}", file=out)
    return 0


@command(talks_to_datadog=True)
def destroy(args, out):
    """remove what apply made; reads no asset file"""
    from my_metric_provisioning.reconcile import Reconciler

    done = with_datadog(settings_of(args), out, lambda provisioner: Reconciler(provisioner, None).destroy())
    for change in done:
        print(f"{change.action:9} {change.kind} (id {change.object_id})", file=out)
    if not done:
        print("nothing to do: no monitor carries the provisioning marker.", file=out)
    return 0


@command(
    NOTIFY,
    click.option("--minutes", type=click.IntRange(1, 7 * 24 * 60), default=5, help="timeframe of the snapshot"),
    talks_to_datadog=True,
)
def snapshot(args, out):
    """snapshot the my_metric graph over the last minutes and @-mention a handle with it"""
    from my_metric_provisioning.snapshot import take

    settings, assets = settings_of(args), valid_assets(args, out)
    if not assets:
        return 1
    result = with_datadog(settings, out, lambda provisioner: take(provisioner, assets, settings.notify, args.minutes))
    print(f"snapshot: {result['snapshot_url']}", file=out)
    print(f"notified {settings.notify} in event {result['event_id']} {result['event_url'] or ''}".rstrip(), file=out)
    return 0


def pictures_installed(args, *needed) -> None:
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        needs = f"{args.command} needs the pictures extra ({', '.join(missing)} not installed)"
        raise UsageError(f"{needs}: {PICTURES_EXTRA}.")


@command(
    click.option("--output", required=True, help="picture to write, .png or .svg"),
    click.option("--year", type=YEAR, help="year whose clock changes are drawn (default: this year)"),
)
def calendar(args, out):
    """draw the downtime week (PNG or SVG) in --timezone"""
    pictures_installed(args, "matplotlib")
    from my_metric_provisioning import downtime_calendar

    year = args.year or this_year(args.timezone)
    assets = Assets.load(resolve_integration_dir(args.assets_dir))
    weeks = downtime_calendar.write_calendar(assets, args.timezone, year, args.output)
    changes = "; ".join(w.change for w in weeks if w.change) or f"no clock change in {year}"
    print(f"wrote {args.output}: {len(weeks)} week(s) in {args.timezone} ({changes}).", file=out)
    return 0


@command(
    click.option("--check-config", help="the check's conf.yaml (default: the shipped conf.yaml.example)"),
    click.option("--monitor", help="monitor JSON (default: the integration's my_metric_high.json)"),
    click.option("--output", help="draw notifications per week against each threshold (.png or .svg)"),
    click.option("--target-warnings-per-week", type=Finite(min=0, min_open=True), help="warnings a week wanted"),
    click.option("--target-alerts-per-week", type=Finite(min=0, min_open=True), help="default: a tenth of those"),
)
def forecast(args, out):
    """the monitor's notifications per week for one host, and thresholds for a target, as JSON"""
    pictures_installed(args, "numpy", "matplotlib", "agent_standin")
    from my_metric_provisioning import forecast

    return forecast.run(args, out)


def run(argv=None, out=sys.stdout) -> int:
    """Everything, errors included, is printed to `out`; the exit codes are in the README."""
    try:
        # Every option is checked before the assets are read and before the Datadog client is even imported.
        work = commands.main(args=argv, prog_name="my-metric-provision", standalone_mode=False, obj={"out": out})
        return work() if callable(work) else work
    except click.exceptions.NoArgsIsHelpError:
        print(f"error: give a command: {', '.join(commands.commands)}. See my-metric-provision --help.", file=out)
    except click.BadParameter as exc:  # named as given: `--timezone 'Mars/Base': ...`, and where it came from
        from_env = exc.ctx and exc.ctx.get_parameter_source(exc.param.name) == click.core.ParameterSource.ENVIRONMENT
        origin = f" (from ${exc.param.envvar})" if from_env else ""
        print(f"error: {exc.param.opts[0]}{origin} {exc.message} See my-metric-provision --help.", file=out)
    except click.ClickException as exc:
        print(f"error: {exc.format_message()} See my-metric-provision --help.", file=out)
    except UsageError as exc:
        print(f"error: {exc}", file=out)
    except AssetFileError as exc:
        print(f"error: {exc} Check the path given (--assets-dir, --monitor) or restore the file from git.", file=out)
    except ProvisioningError as exc:
        print(f"error: {exc}", file=out)
        return 3
    return 2


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
