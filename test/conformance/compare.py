"""Value-by-value comparison of result frames, independent of row order where asked.

Every cell is normalised so that the same value compares equal whatever way it travelled:
timestamps become UTC epoch nanoseconds (naive means UTC), NaN/None/NaT become None, numpy scalars
become Python scalars (a float32 widens exactly, so floats compare exactly), dates become ISO text.
"""

import datetime as dt
import math
from typing import Any, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd


class CheckFailed(AssertionError):
    """A check's assertion failed; the message is the detail shown to the reader."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def to_ns(value: Any) -> int:
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value)


def norm(value: Any) -> Any:
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (pd.Timestamp, dt.datetime, np.datetime64)):
        return None if pd.isna(value) else to_ns(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, bytes):
        return value.hex()
    return value


def rows(df: pd.DataFrame, columns: Optional[Sequence[str]] = None) -> List[Tuple]:
    cols = list(columns) if columns is not None else list(df.columns)
    return [tuple(norm(v) for v in rec) for rec in df[cols].itertuples(index=False, name=None)]


def _sort_key(row: Tuple) -> Tuple:
    # None sorts first; values of different types never meet in one column.
    return tuple((0, 0) if v is None else (1, v) for v in row)


def sorted_rows(df: pd.DataFrame, columns: Optional[Sequence[str]] = None) -> List[Tuple]:
    return sorted(rows(df, columns), key=_sort_key)


def show(row: Tuple, columns: Sequence[str]) -> str:
    def fmt(name: str, v: Any) -> str:
        if isinstance(v, int) and ("timestamp" in name or name in ("created",)) and abs(v) > 10**17:
            return f"{name}={pd.Timestamp(v, tz='UTC').isoformat()}"
        return f"{name}={v!r}"

    return "{" + ", ".join(fmt(c, v) for c, v in zip(columns, row)) + "}"


def assert_columns(actual: pd.DataFrame, expected_columns: Sequence[str], what: str, ordered: bool = True) -> None:
    got = list(actual.columns)
    if ordered:
        expect(got == list(expected_columns), f"{what}: columns {got} != expected {list(expected_columns)}")
    else:
        expect(
            sorted(got) == sorted(expected_columns),
            f"{what}: column set {sorted(got)} != expected {sorted(expected_columns)}",
        )


def assert_same_rows(
    actual: pd.DataFrame,
    expected: pd.DataFrame,
    what: str,
    ordered: bool = False,
    columns_ordered: bool = True,
) -> None:
    """Same columns (in order unless columns_ordered=False) and the same rows as multisets, or
    row by row when ordered=True. The detail names the first differing row."""
    assert_columns(actual, list(expected.columns), what, ordered=columns_ordered)
    cols = list(expected.columns)
    expect(
        len(actual) == len(expected),
        f"{what}: {len(actual)} rows, expected {len(expected)}",
    )
    a = rows(actual, cols) if ordered else sorted_rows(actual, cols)
    e = rows(expected, cols) if ordered else sorted_rows(expected, cols)
    for i, (x, y) in enumerate(zip(a, e)):
        if x != y:
            where = f"row {i}" if ordered else f"sorted row {i}"
            raise CheckFailed(f"{what}: {where} differs:\n  got      {show(x, cols)}\n  expected {show(y, cols)}")


def assert_rows_subset(part: Iterable[Tuple], whole: Iterable[Tuple], what: str) -> None:
    remaining = {}
    for r in whole:
        remaining[r] = remaining.get(r, 0) + 1
    for r in part:
        if remaining.get(r, 0) == 0:
            raise CheckFailed(f"{what}: row {r} missing")
        remaining[r] -= 1


def all_null(df: pd.DataFrame, columns: Sequence[str]) -> bool:
    return all(norm(v) is None for c in columns for v in df[c].tolist())
