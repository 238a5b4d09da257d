"""Bring committed records written before ``record.schema.json`` to it, changing no measured value.

What it changes, and only where missing: ``kind`` (``recipe``, or ``grad-cam`` for the Grad-CAM
study's records, told apart by their ``grad_cam`` key), ``stage`` (``full``: every committed record is
a finished, evaluated run), and ``weights`` as an object (a study trained from scratch said nothing,
or a sentence). Run once, on 2026-12-03, over ``results/``; kept so the change can be read and redone.

    python scripts/migrate_records_to_schema.py results
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cifar_lessons.backbones import describe_weights
from cifar_lessons.records.schema import record_problems


def migrate(record: dict) -> dict:
    out = dict(record)
    out.setdefault("kind", "grad-cam" if "grad_cam" in out else "recipe")
    out.setdefault("stage", "full")
    if not isinstance(out.get("weights"), dict):
        out["weights"] = describe_weights(None, backbone=None)
    order = ["producer", "kind", "stage"]
    return {**{k: out[k] for k in order if k in out}, **{k: v for k, v in out.items() if k not in order}}


def main(root: str) -> int:
    bad = 0
    for path in sorted(Path(root).glob("*/record.json")):
        record = json.loads(path.read_text())
        new = migrate(record)
        if new != record:
            path.write_text(json.dumps(new, indent=2) + ("\n" if path.read_text().endswith("\n") else ""))
            print(f"migrated {path}")
        for problem in record_problems(new):
            print(f"{path}: {problem}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "results"))
