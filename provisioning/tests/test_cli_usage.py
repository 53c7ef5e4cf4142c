"""Usage errors: the tool's own one-line message on stdout, exit 2, before the assets are read or the network used."""

import fcntl
import json
import os
import subprocess
import sys

import pytest
from my_metric_provisioning.assets import Assets
from my_metric_provisioning.settings import KNOWN_SITES

from .common import assert_no_key, cli, integration_copy

pytestmark = pytest.mark.usefixtures("fake_keys")

NO_NETWORK = ["--api-url", "http://127.0.0.1:9"]


@pytest.fixture
def assets_never_read(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the assets were read before the options were checked")

    monkeypatch.setattr(Assets, "load", refuse)


BAD_OPTIONS = [
    (["--timezone", "Mars/Base", "apply", "--dry-run"], "--timezone 'Mars/Base': use an IANA timezone name"),
    (["--timezone", "Mars/Base", "validate"], "--timezone 'Mars/Base'"),
    (["apply", "--dry-run", "--notify", "@a", "--timezone", "Mars/Base"], "--timezone 'Mars/Base'"),
    (["validate", "--timezone", "Moon"], "--timezone 'Moon'"),
    (["--timezone", "", "destroy", "--dry-run"], "--timezone ''"),
    (["--timezone", "europe/paris", "apply", "--dry-run"], "did you mean Europe/Paris?"),
    (["apply", "--dry-run", "--notify", "me"], "--notify 'me': give one handle starting with @"),
    (["apply", "--notify", "@"], "--notify '@'"),
    (["apply", "--notify", "@a @b"], "--notify '@a @b'"),
    (["apply", *NO_NETWORK], "--notify is required for apply"),
    (["apply", "--dry-run", "--max-retries", "-1"], "--max-retries"),
    (["destroy", "--retry-backoff", "-2"], "--retry-backoff"),
    (["apply", "--dry-run", "--connect-timeout", "0"], "--connect-timeout"),
    (["destroy", "--read-timeout", "-1"], "--read-timeout"),
    (["apply", "--dry-run", "--read-timeout", "nan"], "--read-timeout"),
    (["apply", "--dry-run", "--deadline", "0"], "--deadline"),
    (["apply", "--dry-run", "--deadline", "soon"], "--deadline"),
    (["apply", "--dry-run", "--notfy", "@a"], "--notfy"),
    (["validate", "--year", "next"], "--year"),
    (["validate", "--year", "99999"], "--year"),
    (["validate", "--year", "-1"], "--year"),
    (["calendar", "--output", "x.png", "--year", "0"], "--year"),
    (["forecast", "--target-warnings-per-week", "-5"], "--target-warnings-per-week"),
    (["forecast", "--target-warnings-per-week", "5", "--target-alerts-per-week", "0"], "--target-alerts-per-week"),
    (["deploy"], "deploy"),
    ([], "give a command"),
    (["apply", "--notify", "@a", "--api-url", "ftp://example.com"], "--api-url 'ftp://example.com'"),
    (["--assets-dir", "/nonexistent", "validate"], "--assets-dir: no manifest.json in /nonexistent"),
    (["snapshot", *NO_NETWORK], "--notify is required for snapshot"),
    (["snapshot", "--notify", "me", *NO_NETWORK], "--notify 'me': give one handle starting with @"),
    (["snapshot", "--notify", "@a", "--minutes", "0", *NO_NETWORK], "--minutes"),
    (["snapshot", "--notify", "@a", "--minutes", "99999", *NO_NETWORK], "--minutes"),
    (["snapshot", "--notify", "@a", "--deadline", "-1", *NO_NETWORK], "--deadline"),
    (["apply", "--notify", "@a", "--full-scan"], "--full-scan"),
    (["plan", "--notify", "@a", "--dry-run"], "--dry-run"),
]


@pytest.mark.parametrize("argv, expected", BAD_OPTIONS, ids=[" ".join(argv) for argv, _ in BAD_OPTIONS])
def test_bad_option_is_refused_before_any_work(assets_never_read, fake_keys, argv, expected):
    code, out = cli(*argv)
    assert code == 2, out
    assert out.startswith("error: ") and expected in out
    assert len(out.strip().splitlines()) == 1 and "Traceback" not in out
    if argv and argv[-1].lstrip("-").replace(".", "").isdigit():  # a number out of range: the range is said
        assert "range" in out
    assert_no_key(out, fake_keys)


def test_missing_keys_are_a_usage_error_before_any_work(assets_never_read, monkeypatch):
    monkeypatch.delenv("DD_APP_KEY")
    code, out = cli("destroy", *NO_NETWORK)
    assert code == 2 and "DD_APP_KEY not set" in out


SITE_TYPOS = {
    "datadoghq.con": "did you mean 'datadoghq.com'?",
    "app.datadoghq.com": "did you mean 'datadoghq.com'?",
    "https://datadoghq.eu": "did you mean 'datadoghq.eu'?",
    "https://app.datadoghq.eu/": "did you mean 'datadoghq.eu'?",
    "us5.datadoghq.co": "did you mean 'us5.datadoghq.com'?",
    "datadoghq": "did you mean",
    "": "not a Datadog site",
    "DATADOGHQ.COM": "not a Datadog site",
}


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "apply"])
@pytest.mark.parametrize("site", SITE_TYPOS)
def test_mistyped_site_is_a_usage_error_listing_the_sites(assets_never_read, site, dry_run):
    argv = ["apply", "--notify", "@a@example.com", "--site", site] + (["--dry-run"] if dry_run else [])
    code, out = cli(*argv)
    assert code == 2, out
    assert out.startswith(f"error: --site {site!r}: not a Datadog site") and SITE_TYPOS[site] in out
    assert all(known in out for known in KNOWN_SITES)


def test_mistyped_dd_site_is_named_too(assets_never_read, monkeypatch):
    monkeypatch.setenv("DD_SITE", "datadoghq.con")
    code, out = cli("destroy")
    assert code == 2 and "--site 'datadoghq.con': not a Datadog site" in out and "DD_SITE" in out


@pytest.mark.parametrize("site", KNOWN_SITES)
def test_every_known_site_is_accepted(site):
    code, out = cli("apply", "--dry-run", "--site", site)
    assert code == 0, out
    assert f"for site {site}," in out


def command(*argv, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "my_metric_provisioning", *argv], **kwargs)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["apply", "--dry-run", "--notify", "@a", "--timezone", "Mars/Base"], "error: --timezone 'Mars/Base'"),
        (["apply", "--dry-run", "--notify", "me", "--timezone", "Europe/Paris"], "error: --notify 'me'"),
        (["apply", "--dry-run", "--notify", "@a", "--timezone", "UTC", "--site", "eu"], "error: --site 'eu'"),
    ],
)
def test_the_real_command_reports_usage_errors_on_stdout_with_exit_2(argv, expected):
    """The order the local tour uses: `apply --dry-run --notify X --timezone Y`, options after the command."""
    result = subprocess.run(
        [sys.executable, "-m", "my_metric_provisioning", *argv], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stdout.startswith(expected) and result.stderr == ""


def test_options_after_the_command_are_used():
    code, out = cli("apply", "--dry-run", "--notify", "@a@example.com", "--timezone", "Europe/Paris")
    assert code == 0, out
    assert "timezone Europe/Paris, notifying @a@example.com" in out and '"timezone": "Europe/Paris"' in out


@pytest.mark.parametrize("argv", [["apply", "--dry-run"], ["--assets-dir", "{broken}", "validate"]])
def test_a_reader_that_stops_early_gets_no_traceback(argv, tmp_path):
    """`my-metric-provision ... | head -1`: the pipe is made as small as Linux allows so the command is
    still writing when the reader closes it."""
    if "{broken}" in argv:
        argv = [str(broken_assets(tmp_path)) if a == "{broken}" else a for a in argv]
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    process = command(*argv, stdout=write_end, stderr=subprocess.PIPE)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        first = reader.readline()
    stderr = process.communicate(timeout=120)[1].decode()
    assert first.strip()
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
    assert process.returncode == 141


def broken_assets(tmp_path):
    """A copy of the integration whose dashboard has hundreds of problems, so validate prints many lines."""
    copy = integration_copy(tmp_path)
    path = copy / "assets/dashboards/my_metric_overview.json"
    dashboard = json.loads(path.read_text())
    dashboard["widgets"] = [{"definition": {"type": "note", "content": "x", f"colour{i}": i}} for i in range(500)]
    path.write_text(json.dumps(dashboard))
    return copy


def test_the_site_list_is_the_clients():
    from datadog_api_client import Configuration

    client_sites = Configuration().get_host_settings()[0]["variables"]["site"]["enum_values"]
    assert list(KNOWN_SITES) == list(dict.fromkeys(client_sites))


@pytest.mark.parametrize(
    "argv",
    [["apply", "--dry-run", "--notify", "me"], ["snapshot", "--dry-run", "--notify", "@a", "--minutes", "0"]],
    ids=["apply", "snapshot"],
)
def test_a_usage_error_does_not_import_the_datadog_client(argv):
    code = (
        f"import sys; from my_metric_provisioning.cli import run; "
        f"assert run({argv!r}) == 2; "
        "assert not [m for m in sys.modules if m.startswith('datadog_api_client')], 'client imported'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_an_unreadable_asset_names_the_file_and_line(tmp_path):
    copy = broken_assets(tmp_path)
    path = copy / "assets/dashboards/my_metric_overview.json"
    path.write_text('{\n  "title": "x",\n  "widgets": [,]\n}\n')
    code, out = cli("--assets-dir", str(copy), "validate")
    assert code == 2
    assert out.startswith(f"error: {path}: invalid JSON at line 3 column") and "Traceback" not in out


@pytest.mark.parametrize("year", ["2024", "2025"])
def test_a_year_before_the_stored_downtimes_began_is_refused_naming_year(year):
    code, out = cli("validate", "--year", year)
    assert code == 2 and f"--year {year}" in out and "2026" in out and "ERROR" not in out
    assert cli("validate", "--year", "2026")[0] == 0
