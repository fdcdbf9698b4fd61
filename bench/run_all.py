"""Run every benchmark in bench/ and print one table of their figures.

Each benchmark prints lines ``BENCH {...}`` (see _common.report); this collects
them. Run: .venv/bin/python bench/run_all.py  (or `make bench`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    rows = []
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, check=False
        )
        for line in proc.stdout.splitlines():
            if line.startswith("BENCH "):
                rows.append(json.loads(line[6:]))
            else:
                print("   " + line)
        if proc.returncode != 0:
            failed.append(script.name)
            print(proc.stderr[-2000:])
    print()
    header = f"{'figure':<34} {'value':>14} {'unit':<9} {'goal':<10} meets"
    print(header)
    print("-" * len(header))
    for row in rows:
        ok = {True: "yes", False: "NO", None: ""}[row["ok"]]
        print(f"{row['figure']:<34} {row['value']:>14,.2f} {row['unit']:<9} {row['goal']:<10} {ok}")
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
