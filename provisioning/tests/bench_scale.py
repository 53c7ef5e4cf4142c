"""Benchmark for issue 12 (not a test): requests and wall time of apply, apply, destroy in an empty and a large org.

Run with `uv run python tests/bench_scale.py` from provisioning/. The local API server is seeded in memory
(10,000 dashboards, 5,000 monitors, 50,000 downtimes of which 1 in 50 active); the provisioner is
driven directly, without the offline validation `my-metric-provision` runs first (identical for both orgs).
"""

from __future__ import annotations

import argparse
import copy
import secrets
import time

from common import LARGE_ORG, REPO_INTEGRATION, WEEKNIGHT, WORKING_HOURS
from fake_datadog import FakeDatadog
from my_metric_provisioning.assets import Assets
from my_metric_provisioning.provision import Provisioner, Settings

STEPS = ("first apply", "second apply", "destroy")


def lifecycle(assets: Assets, org: dict, repeat: int, at) -> dict[str, tuple[int, float]]:
    """Median wall time over `repeat` fresh orgs; request counts of the last one."""
    results: dict[str, list] = {step: [] for step in STEPS}
    for _ in range(repeat):
        with FakeDatadog(now=lambda: at) as fake:
            fake.seed(**org)
            settings = Settings(
                notify="@bench@example.com",
                timezone="Europe/Paris",
                api_url=fake.url,
                max_retries=0,
                api_key=secrets.token_hex(16),
                app_key=secrets.token_hex(20),
            )
            provisioner = Provisioner(copy.deepcopy(assets), settings, log=lambda text: None, now=lambda: at)
            try:
                for step, action in zip(
                    STEPS, (provisioner.apply, provisioner.apply, provisioner.destroy), strict=True
                ):
                    before = len(fake.requests)
                    started = time.perf_counter()
                    action()
                    results[step].append((len(fake.requests) - before, time.perf_counter() - started))
            finally:
                provisioner.close()
    return {step: (runs[-1][0], sorted(t for _, t in runs)[len(runs) // 2]) for step, runs in results.items()}


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
    print("| step | requests empty | requests large | ratio | ms empty | ms large | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for step in STEPS:
        (n_empty, t_empty), (n_large, t_large) = empty[step], large[step]
        print(
            f"| {step} | {n_empty} | {n_large} | {n_large / n_empty:.2f} | {t_empty * 1000:.0f} | "
            f"{t_large * 1000:.0f} | {t_large / t_empty:.2f} |"
        )
    print(f"\nwhole benchmark: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
