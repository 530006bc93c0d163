"""Small table helpers shared by every layer (pandas only; no spokehub imports).

``concat_rows`` stacks tables leaving out empty ones: pandas 2.2 warns (and pandas 3 changes the
result dtypes) when an empty or all-NA frame takes part in a concatenation, so an empty hub table
beside a full spoke table must not decide the dtypes.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def concat_rows(frames: Iterable[pd.DataFrame], columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of ``frames`` stacked (fresh index); empty frames are left out.  With nothing to
    stack, an empty frame with ``columns`` (or the first frame's columns)."""
    frames = list(frames)
    full = [f for f in frames if len(f)]
    if not full:
        cols = columns if columns is not None else (list(frames[0].columns) if frames else [])
        if frames:  # keep the first frame's dtypes: an object column breaks later arithmetic and fillna
            return frames[0].iloc[:0].reindex(columns=cols).reset_index(drop=True)
        return pd.DataFrame(columns=cols)
    out = pd.concat(full, ignore_index=True) if len(full) > 1 else full[0].reset_index(drop=True)
    return out if columns is None else out[columns]
