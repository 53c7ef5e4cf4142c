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


BAD_OPTIONS = [  # what is given, then what the one line must name: the option, and the value or the fix
    (["--timezone", "Mars/Base", "apply", "--dry-run"], ["--timezone", "Mars/Base", "IANA"]),
    (["apply", "--dry-run", "--notify", "@a", "--timezone", "Mars/Base"], ["--timezone", "Mars/Base"]),
    (["validate", "--timezone", "Moon"], ["--timezone", "Moon"]),
    (["validate", "--timezone", "Japan"], ["--timezone", "Japan"]),  # old aliases refused like a misspelling
    (["--timezone", "", "destroy"], ["--timezone", "''"]),
    (["--timezone", "europe/paris", "apply", "--dry-run"], ["--timezone", "Europe/Paris"]),
    (["apply", "--dry-run", "--notify", "me"], ["--notify", "'me'", "@"]),
    (["apply", "--notify", "@a @b"], ["--notify", "'@a @b'"]),
    (["apply", *NO_NETWORK], ["--notify", "MY_METRIC_NOTIFY"]),
    (["apply", "--dry-run", "--max-retries", "-1"], ["--max-retries", "range"]),
    (["destroy", "--retry-backoff", "-2"], ["--retry-backoff", "range"]),
    (["apply", "--dry-run", "--connect-timeout", "0"], ["--connect-timeout", "range"]),
    (["apply", "--dry-run", "--read-timeout", "nan"], ["--read-timeout", "finite"]),
    (["apply", "--dry-run", "--deadline", "soon"], ["--deadline", "soon"]),
    (["apply", "--dry-run", "--notfy", "@a"], ["--notfy"]),
    (["validate", "--year", "99999"], ["--year", "range"]),
    (["calendar", "--output", "x.png", "--year", "0"], ["--year", "range"]),
    (["forecast", "--target-warnings-per-week", "-5"], ["--target-warnings-per-week", "range"]),
    (["deploy"], ["deploy"]),
    ([], ["validate", "plan", "apply", "destroy"]),
    (["apply", "--notify", "@a", "--api-url", "ftp://example.com"], ["--api-url", "ftp://example.com"]),
    (["--assets-dir", "/nonexistent", "validate"], ["--assets-dir", "/nonexistent", "manifest.json"]),
    (["plan", *NO_NETWORK], ["--notify"]),
    (["snapshot", *NO_NETWORK], ["--notify"]),
    (["snapshot", "--notify", "@a", "--minutes", "0", *NO_NETWORK], ["--minutes", "range"]),
    (["plan", "--notify", "@a", "--dry-run"], ["--dry-run"]),
    (["destroy", "--dry-run"], ["--dry-run"]),
]


@pytest.mark.parametrize("argv, named", BAD_OPTIONS, ids=[" ".join(argv) for argv, _ in BAD_OPTIONS])
def test_bad_option_is_refused_before_any_work(assets_never_read, fake_keys, argv, named):
    code, out = cli(*argv)
    assert code == 2, out
    assert out.startswith("error: ") and len(out.strip().splitlines()) == 1, out
    assert all(text in out for text in named), out
    assert_no_key(out, fake_keys)


def test_missing_keys_are_a_usage_error_before_any_work(assets_never_read, monkeypatch):
    monkeypatch.delenv("DD_APP_KEY")
    code, out = cli("destroy", *NO_NETWORK)
    assert code == 2 and out.split(":")[1].strip() == "DD_APP_KEY not set", out  # the missing one only


@pytest.mark.parametrize("site", ["datadoghq.con", "https://app.datadoghq.eu/", "", "DATADOGHQ.COM"])
def test_mistyped_site_is_a_usage_error_listing_the_sites(assets_never_read, site):
    code, out = cli("apply", "--notify", "@a@example.com", "--site", site)
    assert code == 2, out
    assert f"--site {site!r}" in out and all(known in out for known in KNOWN_SITES)


def test_a_value_from_the_environment_is_named_with_its_variable(assets_never_read, monkeypatch):
    monkeypatch.setenv("DD_SITE", "datadoghq.con")
    code, out = cli("destroy")
    assert code == 2 and "'datadoghq.con'" in out and "$DD_SITE" in out


@pytest.mark.parametrize("site", KNOWN_SITES)
def test_every_known_site_is_accepted(site):
    code, out = cli("apply", "--dry-run", "--site", site)
    assert code == 0 and site in out, out


def test_the_real_command_reports_usage_errors_on_stdout_with_exit_2():
    """The order the local tour uses: `apply --dry-run --notify X --timezone Y`, options after the command."""
    argv = ["apply", "--dry-run", "--notify", "me", "--timezone", "Europe/Paris"]
    result = subprocess.run([sys.executable, "-m", "my_metric_provisioning", *argv], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stdout.startswith("error: --notify 'me'") and result.stderr == ""


def test_options_after_the_command_win_over_those_before_it():
    code, out = cli(
        "--timezone", "Asia/Tokyo", "apply", "--dry-run", "--notify", "@a@b.c", "--timezone", "Europe/Paris"
    )
    assert code == 0, out
    assert '"timezone": "Europe/Paris"' in out and "Asia/Tokyo" not in out and "@a@b.c" in out


@pytest.mark.parametrize("broken", [False, True], ids=["payloads", "findings"])
def test_a_reader_that_stops_early_gets_no_traceback(tmp_path, broken):
    """`my-metric-provision ... | head -1`: the pipe is made as small as Linux allows so the command is
    still writing when the reader closes it."""
    argv = ["--assets-dir", str(broken_assets(tmp_path)), "validate"] if broken else ["apply", "--dry-run"]
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    command = [sys.executable, "-m", "my_metric_provisioning", *argv]
    process = subprocess.Popen(command, stdout=write_end, stderr=subprocess.PIPE)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        assert reader.readline().strip()
    assert process.communicate(timeout=120)[1].decode() == "" and process.returncode == 141


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


def test_a_usage_error_does_not_import_the_datadog_client():
    argv = ["snapshot", "--notify", "@a", "--minutes", "0"]
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
    assert out.startswith("error: ") and str(path) in out and "line 3" in out and "Traceback" not in out
