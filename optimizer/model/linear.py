"""Building many linear rows in Pyomo without per-term Python overhead.

Pyomo's usual style (``sum(m.x[i, j] for j in ...) <= ...`` inside a rule) creates one Python
object per term and per partial sum, and the cyclic garbage collector rescans them all as the
model grows; at a million nonzeros that is most of the build time.  Here each row's body is one
:class:`~pyomo.core.expr.numeric_expr.LinearExpression` made from a list of coefficients and a
list of variables, gathered with numpy from term tables, and construction runs with the garbage
collector paused.  The result is an ordinary Pyomo model: any writer or solver interface reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression
from pyomo.core.expr.relational_expr import EqualityExpression, InequalityExpression


@dataclass
class Terms:
    """Terms ``coef * var`` of rows: ``row`` positions, variable objects, coefficients."""

    row: np.ndarray
    var: np.ndarray  # dtype=object, VarData
    coef: np.ndarray

    @staticmethod
    def of(row, var, coef) -> Terms:
        row = np.asarray(row, dtype=np.int64)
        coef = np.broadcast_to(np.asarray(coef, dtype=float), row.shape)
        return Terms(row, np.asarray(var, dtype=object), coef)


def var_array(var: pyo.Var) -> np.ndarray:
    """The data objects of an indexed Var, in index order, as an object array."""
    out = np.empty(len(var), dtype=object)
    out[:] = list(var.values())
    return out


def row_bodies(n_rows: int, parts: Sequence[Terms]) -> list[LinearExpression]:
    """One LinearExpression per row from term tables (rows without terms get an empty body)."""
    parts = [p for p in parts if len(p.row)]
    if parts:
        row = np.concatenate([p.row for p in parts])
        var = np.concatenate([p.var for p in parts])
        coef = np.concatenate([p.coef for p in parts])
        order = np.argsort(row, kind="stable")
        row, var, coef = row[order], var[order], coef[order]
        bounds = np.searchsorted(row, np.arange(n_rows + 1))
        var_l = var.tolist()
        coef_l = coef.tolist()
        b = bounds.tolist()
    else:
        var_l, coef_l, b = [], [], [0] * (n_rows + 1)
    return [
        LinearExpression(constant=0, linear_coefs=coef_l[b[i]:b[i + 1]], linear_vars=var_l[b[i]:b[i + 1]])
        for i in range(n_rows)
    ]


def add_rows(
    block: pyo.Block,
    name: str,
    index: list,
    parts: Sequence[Terms],
    sense: str,
    rhs,
    doc: str = "",
) -> pyo.Constraint | None:
    """Add ``Constraint`` ``name`` over ``index`` with rows ``sum(terms) <sense> rhs``.

    ``sense`` is ``"<="``, ``">="`` or ``"=="``; ``rhs`` is a scalar or one value per row.
    Returns ``None`` (adding nothing) when ``index`` is empty, like PyPSA's early return.
    """
    n = len(index)
    if n == 0:
        return None
    bodies = row_bodies(n, parts)
    rhs_l = np.broadcast_to(np.asarray(rhs, dtype=float), (n,)).tolist()
    if sense == "<=":
        exprs = [InequalityExpression((bodies[i], rhs_l[i]), False) for i in range(n)]
    elif sense == ">=":
        exprs = [InequalityExpression((rhs_l[i], bodies[i]), False) for i in range(n)]
    elif sense == "==":
        exprs = [EqualityExpression((bodies[i], rhs_l[i])) for i in range(n)]
    else:
        raise ValueError(sense)
    index_set = pyo.Set(initialize=index, ordered=True, dimen=_dimen(index))
    block.add_component(name + "_index", index_set)
    it = iter(exprs)
    con = pyo.Constraint(index_set, rule=lambda _m, *_idx: next(it), doc=doc)
    block.add_component(name, con)
    return con


def linear_sum(var: np.ndarray, coef) -> LinearExpression:
    """``sum(coef * var)`` as one LinearExpression."""
    coef = np.broadcast_to(np.asarray(coef, dtype=float), var.shape)
    return LinearExpression(constant=0, linear_coefs=coef.tolist(), linear_vars=list(var))


def _dimen(index: list) -> int:
    first = index[0]
    return len(first) if isinstance(first, tuple) else 1
