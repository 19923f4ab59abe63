"""What the digits scripts that repeat a training over seeds share: their --runs / --epochs flags (refused
before any training when below 1) and their result lines, median [min, max] over the runs."""

from __future__ import annotations

import argparse
import statistics


def parse_runs(description: str, argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", type=int, default=1, help="trainings (seeds 1..N)")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)
    if args.runs < 1 or args.epochs < 1:
        parser.error(f"--runs and --epochs must be >= 1, got {args.runs} and {args.epochs}")
    return args


def spread_line(label: str, percents: list[float], width: int) -> str:
    return f"  {label:<{width}} {statistics.median(percents):6.2f}%  [{min(percents):.2f}, {max(percents):.2f}]"
