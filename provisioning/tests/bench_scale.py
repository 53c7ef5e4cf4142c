"""Benchmark (not a test): requests by method, writes and wall time of first apply, plan, a second apply with
nothing changed, and destroy, in an empty and in a large org.

Run with `uv run --frozen --all-extras python -m tests.bench_scale [--repeat N] [--weeknight]` from provisioning/.
The local API server is seeded in memory (10,000 dashboards, 5,000 monitors, 50,000 downtimes of which 1 in 50
active); the reconcile loop is driven directly, without the offline validation the command runs first (identical
for both orgs). `--weeknight` applies at 23:30 in Paris (adding the catch-up downtime) instead of 17:00.
"""

import copy
import secrets
import statistics
import sys
import time
from collections import Counter
from zoneinfo import ZoneInfo

from my_metric_provisioning import provision
from my_metric_provisioning.assets import Assets
from my_metric_provisioning.provision import Provisioner, Settings
from my_metric_provisioning.reconcile import Reconciler

from .common import LARGE_ORG, REPO_INTEGRATION, WEEKNIGHT, WORKING_HOURS
from .fake_datadog import FakeDatadog

STEPS = ("first apply", "plan", "second apply", "destroy")


def lifecycle(assets: Assets, org: dict, repeat: int, at) -> dict[str, tuple[Counter, float]]:
    """Per step: requests by method (the same in every run) and the median wall time over `repeat` fresh orgs."""
    times = {step: [] for step in STEPS}
    for _ in range(repeat):
        with FakeDatadog(now=lambda: at) as fake:
            fake.seed(**org)
            keys = {"api_key": secrets.token_hex(16), "app_key": secrets.token_hex(20)}
            settings = Settings("@bench@example.com", ZoneInfo("Europe/Paris"), api_url=fake.url, max_retries=0, **keys)
            provisioner = Provisioner(settings, log=lambda text: None)
            provision.current_time = lambda tz: at.astimezone(tz)  # apply's clock, the same as the server's
            reconciler = Reconciler(provisioner, copy.deepcopy(assets))
            methods, actions = {}, (reconciler.apply, reconciler.plan, reconciler.apply, reconciler.destroy)
            for step, action in zip(STEPS, actions, strict=True):
                before, started = len(fake.requests), time.perf_counter()
                action()
                times[step].append(time.perf_counter() - started)
                methods[step] = Counter(method for method, _ in fake.requests[before:])
            provisioner.close()
    return {step: (methods[step], statistics.median(times[step])) for step in STEPS}


def main(argv) -> int:
    repeat = int(argv[argv.index("--repeat") + 1]) if "--repeat" in argv else 5
    at = WEEKNIGHT if "--weeknight" in argv else WORKING_HOURS
    assets = Assets.load(REPO_INTEGRATION)
    empty, large = lifecycle(assets, {}, repeat, at), lifecycle(assets, LARGE_ORG, repeat, at)
    org = ", ".join(f"{count:,} {kind}" for kind, count in LARGE_ORG.items())
    print(f"empty org vs large org ({org}); apply at {at:%Y-%m-%d %H:%M} UTC; median of {repeat} runs\n")
    print("| step | requests empty | requests large | writes empty | writes large | ms empty | ms large | ratio |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for step in STEPS:
        (m_empty, t_empty), (m_large, t_large) = empty[step], large[step]
        shown = [" ".join(f"{method} {n}" for method, n in sorted(m.items())) for m in (m_empty, m_large)]
        w_empty, w_large = (sum(n for method, n in m.items() if method != "GET") for m in (m_empty, m_large))
        row = [
            step,
            *shown,
            w_empty,
            w_large,
            f"{t_empty * 1000:.0f}",
            f"{t_large * 1000:.0f}",
            f"{t_large / t_empty:.2f}",
        ]
        print(f"| {' | '.join(map(str, row))} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
