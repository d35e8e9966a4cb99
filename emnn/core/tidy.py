"""Tidy tables to and from CSV: every stage writes its tables with csv_text and reads
them with read_table, so the same frame gives the same bytes and a name that pandas
would read as missing ("NA") stays a name."""

from __future__ import annotations

import io

import pandas as pd


def read_table(path) -> pd.DataFrame:
    """A result table with its name columns kept as text (a dataset may be called "NA")."""
    names = {c: str for c in ("dataset", "method", "baseline", "metric", "value")}
    return pd.read_csv(path, dtype=names, keep_default_na=False, na_values=[""])


def csv_text(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def is_true(value) -> bool:
    """A boolean cell of a table read back from CSV (True, or the text "True")."""
    return value is True or str(value).strip().lower() in ("true", "1")


def rows_by(table: pd.DataFrame, keys: list[str]) -> dict:
    """A table's rows as dicts, keyed by the values of `keys`."""
    return {tuple(row[k] for k in keys): row for row in table.to_dict("records")}
