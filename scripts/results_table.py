"""Print the results table (as in chapter 6) for every evaluated run record under a folder.

python scripts/results_table.py runs/measured
"""

import sys

import pandas as pd

from cifar_lessons.display.tables import results_table
from cifar_lessons.records.store import find_records

if __name__ == "__main__":
    root = sys.argv[1] if len(sys.argv) > 1 else "runs"
    table = results_table(find_records(root))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False) if len(table) else f"no evaluated run records under {root}")
