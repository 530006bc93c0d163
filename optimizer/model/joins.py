"""Index joins between the model's tables, vectorised (numpy + pandas; no Pyomo).

The formulation (:mod:`optimizer.model.build`) states each constraint family as "these terms of
these variables in these rows"; which row a term belongs to is a join between two index tables on
some key columns.  These helpers do those joins in a few vectorised calls, so the formulation
module reads as the math and no Python loop runs over a dense cross-product.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def index_tuples(df: pd.DataFrame, cols: list[str]) -> list[tuple]:
    """The rows of ``df`` as tuples of ``cols`` (a Pyomo set's members, in row order)."""
    return list(zip(*(df[c].tolist() for c in cols), strict=True))


def codes(frames: list[pd.DataFrame], cols: list[str]) -> list[np.ndarray]:
    """One compact int64 code per row of each frame, equal exactly when the ``cols`` values are."""
    sizes = [len(f) for f in frames]
    code = np.zeros(sum(sizes), dtype=np.int64)
    for c in cols:
        col, uniques = pd.factorize(np.concatenate([f[c].to_numpy() for f in frames]))
        code, _ = pd.factorize(code * len(uniques) + col)
    return np.split(code, np.cumsum(sizes)[:-1])


def positions(keys: pd.DataFrame, table: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Row position in ``table`` of each row of ``keys`` (joined on ``cols``; all must exist)."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    k, t = codes([keys, table], cols)
    lookup = np.full(int(max(k.max(), t.max())) + 1, -1, dtype=np.int64)
    lookup[t] = np.arange(len(t))
    pos = lookup[k]
    if (pos < 0).any():
        raise AssertionError(f"index join on {cols} left rows unmatched")
    return pos


def pairs(left: pd.DataFrame, right: pd.DataFrame, cols: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) with ``left`` row i and ``right`` row j equal on ``cols`` (a vectorised join)."""
    a, b = codes([left, right], cols)
    order = np.argsort(b, kind="stable")
    sb = b[order]
    start = np.searchsorted(sb, a, "left")
    count = np.searchsorted(sb, a, "right") - start
    i = np.repeat(np.arange(len(left)), count)
    offset = np.arange(len(i)) - np.repeat(np.cumsum(count) - count, count)
    return i, order[np.repeat(start, count) + offset]


def size_ranks(opts: pd.DataFrame) -> np.ndarray:
    """Rank of each option's size within its site, by capacity (0 = smallest offered)."""
    sizes = opts[["site_id", "size", "capacity_t"]].drop_duplicates(["site_id", "size"])
    sizes = sizes.sort_values(["site_id", "capacity_t", "size"], kind="stable")
    sizes["rank"] = sizes.groupby("site_id").cumcount()
    return opts.merge(sizes[["site_id", "size", "rank"]], on=["site_id", "size"], how="left")["rank"].to_numpy()
