"""One schema for every run record's ``record.json``: :data:`SCHEMA_PATH`, a JSON Schema file.

Why a schema: the recipe, the studies and the student's solution write their records in different
modules, and a reader (a results table, a run card, a test, a student's own script) should find
``weights``, ``timing.run_seconds`` and ``made_by`` in the same place and shape in all of them.
The file says what each key means; :func:`record_problems` checks a record against it with
``jsonschema``, and :func:`cifar_lessons.records.store.save_record` refuses to write a record that
does not match, so a writer that forgets a key fails in its first test, not in a reader's hands.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path

#: The schema, beside this module (it ships in the wheel as package data).
SCHEMA_PATH = Path(__file__).with_name("record.schema.json")


@cache
def record_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


@cache
def _validator():
    import jsonschema  # imported here: reading records needs no validator, only writing them does

    cls = jsonschema.validators.validator_for(record_schema())
    return cls(record_schema(), format_checker=cls.FORMAT_CHECKER)


def record_problems(record: Mapping) -> list[str]:
    """Every way ``record`` differs from the schema, one short line each (``[]`` when it matches)."""
    problems = []
    for error in sorted(_validator().iter_errors(dict(record)), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in error.absolute_path) or "record"
        problems.append(f"{where}: {error.message}")
    return problems
