import pytest
from common import apply, assert_no_key, cli, destroy


def test_two_applies_make_one_of_each_and_second_only_updates(fake, fake_keys):
    code, first = apply(fake)
    assert code == 0, first
    code, second = apply(fake)
    assert code == 0, second
    assert len(fake.dashboards) == 1 and len(fake.monitors) == 1 and len(fake.active_downtimes()) == 2
    assert "created" not in second and second.count("updated") == 4
    monitor_id = next(iter(fake.monitors))
    assert {d["attributes"]["monitor_identifier"]["monitor_id"] for d in fake.active_downtimes()} == {monitor_id}
    assert all(d["attributes"]["schedule"]["timezone"] == "Europe/Paris" for d in fake.active_downtimes())
    assert all("@ops-team@example.com" in d["attributes"]["message"] for d in fake.active_downtimes())
    assert fake.monitors[monitor_id]["message"].endswith("Notify: @ops-team@example.com")
    sent = fake.headers_seen[0]
    assert sent["DD-API-KEY"] == fake_keys["DD_API_KEY"] and sent["DD-APPLICATION-KEY"] == fake_keys["DD_APP_KEY"]
    assert_no_key(first + second, fake_keys)


def test_destroy_removes_only_what_apply_made(fake, fake_keys):
    fake.dashboards["other-000-aaa"] = {
        "title": "my_metric - Overview",
        "description": "hand made",
        "layout_type": "ordered",
        "widgets": [],
    }
    fake.monitors[999] = {
        "id": 999,
        "name": "someone else's",
        "type": "query alert",
        "query": "avg(last_5m):avg:x{*} > 1",
        "tags": ["integration:my_metric"],
    }
    assert apply(fake)[0] == 0
    code, out = destroy(fake)
    assert code == 0, out
    assert list(fake.dashboards) == ["other-000-aaa"]
    assert list(fake.monitors) == [999]
    assert fake.active_downtimes() == []
    assert_no_key(out, fake_keys)


def test_403_names_the_key_and_permission_to_check(fake, fake_keys):
    fake.fail("POST", "/api/v1/dashboard", 403)
    code, out = apply(fake)
    assert code == 3
    assert "403 Forbidden" in out and "DD_APP_KEY" in out and "dashboards_write" in out
    assert fake.dashboards == {}
    assert_no_key(out, fake_keys)


def test_429_is_retried_and_apply_completes(fake, fake_keys):
    fake.fail("POST", "/api/v1/monitor", 429, headers={"X-RateLimit-Reset": "0"})
    code, out = apply(fake)
    assert code == 0, out
    assert fake.count("POST", "/api/v1/monitor") == 2
    assert len(fake.monitors) == 1


def test_429_after_all_retries_says_to_wait_and_rerun(fake, fake_keys):
    fake.fail("POST", "/api/v1/monitor", 429, times=3, headers={"X-RateLimit-Reset": "0"})
    code, out = apply(fake)
    assert code == 3 and "429" in out and "re-run" in out
    assert_no_key(out, fake_keys)


def test_500_midway_then_rerun_converges(fake, fake_keys):
    fake.fail("POST", "/api/v2/downtime", 500, times=3)
    code, out = apply(fake)
    assert code == 3 and "HTTP 500" in out and "Re-run" in out
    assert len(fake.dashboards) == 1 and len(fake.monitors) == 1 and fake.active_downtimes() == []
    code, out = apply(fake)
    assert code == 0, out
    assert len(fake.dashboards) == 1 and len(fake.monitors) == 1 and len(fake.active_downtimes()) == 2
    assert_no_key(out, fake_keys)


def test_dry_run_needs_no_keys_and_touches_no_network(monkeypatch):
    monkeypatch.delenv("DD_API_KEY", raising=False)
    monkeypatch.delenv("DD_APP_KEY", raising=False)
    code, out = cli("apply", "--dry-run", "--api-url", "http://127.0.0.1:9")
    assert code == 0, out
    assert "== create or update dashboard ==" in out and "== create or update downtime weekend ==" in out
    assert '"monitor_id": "<id of the monitor above>"' in out


def test_destroy_dry_run_describes_the_real_order(monkeypatch):
    monkeypatch.delenv("DD_API_KEY", raising=False)
    code, out = cli("destroy", "--dry-run", "--api-url", "http://127.0.0.1:9")
    assert code == 0, out
    steps = [out.index(step) for step in ("cancel the downtimes", "delete the dashboard", "delete the monitor last")]
    assert steps == sorted(steps) and "holds those records" in out


def test_missing_keys_are_named(monkeypatch):
    monkeypatch.delenv("DD_API_KEY", raising=False)
    monkeypatch.setenv("DD_APP_KEY", "x")
    code, out = cli("apply", "--notify", "@a@example.com")
    assert code == 2 and "DD_API_KEY not set" in out


@pytest.mark.parametrize(
    "argv, expected",
    [
        (
            ["apply", "--dry-run", "--notify", "ops@example.com"],
            "--notify 'ops@example.com': give one handle starting with @",
        ),
        (["--timezone", "Paris", "apply", "--dry-run"], "--timezone 'Paris': use an IANA timezone name"),
        (["--timezone", "europe/paris", "validate"], "did you mean Europe/Paris?"),
        (
            ["apply", "--dry-run", "--site", "https://app.datadoghq.com"],
            "--site 'https://app.datadoghq.com': not a Datadog site (did you mean 'datadoghq.com'?)",
        ),
        (["--assets-dir", "/nonexistent", "validate"], "--assets-dir: no manifest.json in /nonexistent"),
    ],
)
def test_bad_input_names_the_field_and_fix(argv, expected):
    code, out = cli(*argv)
    assert code == 2
    assert expected in out
