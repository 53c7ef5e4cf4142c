"""Benchmark (not a test): requests by method, writes and wall time of first apply, plan, a second apply with
nothing changed, and destroy, in an empty and in a large org.

Run with `uv run --frozen --all-extras python -m tests.bench_scale` from provisioning/. The local API server is
seeded in memory (10,000 dashboards, 5,000 monitors, 50,000 downtimes of which 1 in 50 active); the reconcile loop is
driven directly, without the offline validation `my-metric-provision` runs first (identical for both orgs).
"""

from __future__ import annotations

import argparse
import copy
import secrets
import time
from collections import Counter
from zoneinfo import ZoneInfo

from my_metric_provisioning.assets import Assets
from my_metric_provisioning.provision import Provisioner, Settings
from my_metric_provisioning.reconcile import Reconciler

from .common import LARGE_ORG, REPO_INTEGRATION, WEEKNIGHT, WORKING_HOURS
from .fake_datadog import FakeDatadog

STEPS = ("first apply", "plan", "second apply", "destroy")


def lifecycle(assets: Assets, org: dict, repeat: int, at) -> dict[str, tuple[Counter, float]]:
    """Median wall time over `repeat` fresh orgs; requests by method of the last one."""
    results: dict[str, list] = {step: [] for step in STEPS}
    for _ in range(repeat):
        with FakeDatadog(now=lambda: at) as fake:
            fake.seed(**org)
            settings = Settings(
                notify="@bench@example.com",
                timezone=ZoneInfo("Europe/Paris"),
                api_url=fake.url,
                max_retries=0,
                api_key=secrets.token_hex(16),
                app_key=secrets.token_hex(20),
            )
            provisioner = Provisioner(settings, log=lambda text: None)
            reconciler = Reconciler(provisioner, copy.deepcopy(assets), now=lambda: at)
            actions = (reconciler.apply, reconciler.plan, reconciler.apply, reconciler.destroy)
            try:
                for step, action in zip(STEPS, actions, strict=True):
                    before = len(fake.requests)
                    started = time.perf_counter()
                    action()
                    methods = Counter(method for method, _ in fake.requests[before:])
                    results[step].append((methods, time.perf_counter() - started))
            finally:
                provisioner.close()
    return {step: (runs[-1][0], sorted(t for _, t in runs)[len(runs) // 2]) for step, runs in results.items()}


def by_method(methods: Counter) -> str:
    return " ".join(f"{method} {count}" for method, count in sorted(methods.items()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh orgs per size; the median time is shown")
    parser.add_argument(
        "--weeknight", action="store_true", help="apply at 23:30 in Paris (adds the catch-up downtime), not at 17:00"
    )
    args = parser.parse_args(argv)
    at = WEEKNIGHT if args.weeknight else WORKING_HOURS
    assets = Assets.load(REPO_INTEGRATION)
    started = time.perf_counter()
    empty = lifecycle(assets, {}, args.repeat, at)
    large = lifecycle(assets, LARGE_ORG, args.repeat, at)
    org = ", ".join(f"{count:,} {kind}" for kind, count in LARGE_ORG.items())
    print(f"empty org vs large org ({org}); apply at {at:%Y-%m-%d %H:%M} UTC; median of {args.repeat} runs\n")
    print("| step | requests empty | requests large | writes empty | writes large | ms empty | ms large | ratio |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for step in STEPS:
        (m_empty, t_empty), (m_large, t_large) = empty[step], large[step]
        w_empty, w_large = (sum(n for method, n in m.items() if method != "GET") for m in (m_empty, m_large))
        print(
            f"| {step} | {by_method(m_empty)} | {by_method(m_large)} | {w_empty} | {w_large} | "
            f"{t_empty * 1000:.0f} | {t_large * 1000:.0f} | {t_large / t_empty:.2f} |"
        )
    print(f"\nwhole benchmark: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
