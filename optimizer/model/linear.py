"""Building many linear rows in Pyomo without per-term Python overhead.

Pyomo's usual style (``sum(m.x[i, j] for j in ...) <= ...`` inside a rule) creates one Python
object per term and per partial sum, and the cyclic garbage collector rescans them all as the
model grows; at a million nonzeros that is most of the build time.  Here the terms of a whole
constraint family are gathered with numpy from the index tables (:class:`Terms`: row position,
variable family, position in the family, coefficient), each row's body becomes one
``LinearExpression`` whose arguments are the variables themselves (unit coefficients) or
monomials, and the callers run with the garbage collector paused.

The result is an ordinary Pyomo model: any writer or solver interface reads it.  Each family
built here also keeps its term tables on the component (``_spokehub_terms``) together with the
expression objects they produced, so :mod:`optimizer.model.compile` can assemble the matrix with
numpy -- after checking, row by row, that the model still holds exactly those expressions (a row
replaced, added or deactivated by a user is compiled from the model instead).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo
from pyomo.core.base.constraint import ConstraintData
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression
from pyomo.core.expr.relational_expr import EqualityExpression, InequalityExpression


@dataclass
class Terms:
    """Terms ``coef * var[pos]`` of rows ``row`` for one indexed variable family ``var``."""

    row: np.ndarray
    var: pyo.Var
    pos: np.ndarray
    coef: np.ndarray

    @staticmethod
    def of(row, var: pyo.Var, pos=None, coef=1.0) -> Terms:
        """Terms ``coef * var[pos]`` placed in rows ``row`` (pos defaults to 0..n-1, coef broadcast)."""
        row = np.asarray(row, dtype=np.int64)
        pos = np.arange(len(row), dtype=np.int64) if pos is None else np.asarray(pos, dtype=np.int64)
        coef = np.broadcast_to(np.asarray(coef, dtype=float), row.shape).copy()
        return Terms(row, var, pos, coef)


@dataclass
class RowCache:
    """What a family was built from: its expressions (for the identity check) and term tables."""

    exprs: list
    parts: list[Terms]
    lo: np.ndarray
    hi: np.ndarray


@dataclass
class ExpressionCache:
    expr: object
    parts: list[Terms]


def var_array(var: pyo.Var) -> np.ndarray:
    """The data objects of an indexed Var in index order, as an object array (cached per Var)."""
    cached = getattr(var, "_spokehub_data", None)
    if cached is not None and len(cached) == len(var):
        return cached
    out = np.empty(len(var), dtype=object)
    out[:] = list(var.values())
    var._spokehub_data = out
    return out


def _args(parts: Sequence[Terms]):
    """Flat (row, arg) arrays: variables for unit coefficients, monomials otherwise."""
    rows, args = [], []
    for p in parts:
        if not len(p.row):
            continue
        objs = var_array(p.var)[p.pos]
        unit = p.coef == 1.0
        if not unit.all():
            k = np.flatnonzero(~unit)
            objs = objs.copy()
            objs[k] = [MonomialTermExpression((c, v)) for c, v in zip(p.coef[k].tolist(), objs[k].tolist(), strict=True)]
        rows.append(p.row)
        args.append(objs)
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    return np.concatenate(rows), np.concatenate(args)


def row_bodies(n_rows: int, parts: Sequence[Terms]) -> list[LinearExpression]:
    """One LinearExpression per row from term tables (rows without terms get an empty body)."""
    row, args = _args(parts)
    order = np.argsort(row, kind="stable")
    bounds = np.searchsorted(row[order], np.arange(n_rows + 1)).tolist()
    a = args[order].tolist()
    return [LinearExpression(args=a[bounds[i]:bounds[i + 1]]) for i in range(n_rows)]


def add_rows(
    block: pyo.Block,
    name: str,
    index,
    parts: Sequence[Terms],
    sense: str,
    rhs,
    doc: str = "",
) -> pyo.Constraint | None:
    """Add ``Constraint`` ``name`` over ``index`` with rows ``sum(terms) <sense> rhs``.

    ``index`` is a list of index tuples (a new ordered Set ``<name>_index`` is declared) or an
    existing Pyomo Set (one row per element, e.g. one linking row per arc).  ``sense`` is
    ``"<="``, ``">="`` or ``"=="``; ``rhs`` is a scalar or one value per row.  Returns ``None``
    (adding nothing) when ``index`` is empty, like PyPSA's early return.
    """
    n = len(index)
    if n == 0:
        return None
    bodies = row_bodies(n, parts)
    rhs_a = np.broadcast_to(np.asarray(rhs, dtype=float), (n,)).copy()
    rhs_l = rhs_a.tolist()
    inf = np.full(n, np.inf)
    if sense == "<=":
        exprs = [InequalityExpression((b, r), False) for b, r in zip(bodies, rhs_l, strict=True)]
        lo, hi = -inf, rhs_a
    elif sense == ">=":
        exprs = [InequalityExpression((r, b), False) for b, r in zip(bodies, rhs_l, strict=True)]
        lo, hi = rhs_a, inf
    elif sense == "==":
        exprs = [EqualityExpression((b, r)) for b, r in zip(bodies, rhs_l, strict=True)]
        lo, hi = rhs_a, rhs_a
    else:
        raise ValueError(sense)
    if isinstance(index, pyo.Set):
        index_set = index
    else:
        index_set = pyo.Set(initialize=index, ordered=True, dimen=_dimen(index))
        block.add_component(name + "_index", index_set)
    con = pyo.Constraint(index_set, doc=doc)
    block.add_component(name, con)
    _fill(con, list(index_set), exprs)
    con._spokehub_terms = RowCache(exprs, list(parts), lo, hi)
    return con


def _fill(con: pyo.Constraint, keys: list, exprs: list) -> None:
    """Give the (rule-less, constructed) constraint one data object per key.

    Creating ``ConstraintData`` directly, as Pyomo's own templated constraints do, is three times
    faster than Pyomo calling a rule per index.  The result is checked through Pyomo's public API
    on the first row; on any mismatch (another Pyomo version) the rows are set the public way.
    """
    global _DIRECT_OK
    if _DIRECT_OK is not False:
        ref = weakref.ref(con)
        data = {}
        new = ConstraintData.__new__
        for key, expr in zip(keys, exprs, strict=True):
            cd = new(ConstraintData)
            cd._component = ref
            cd._active = True
            cd._index = key
            cd._expr = expr
            data[key] = cd
        con._data = data
        if _DIRECT_OK is None:
            first = con[keys[0]]
            _DIRECT_OK = (first.expr is exprs[0] and first.parent_component() is con and first.index() == keys[0]
                          and first.active and len(con) == len(keys))
            if not _DIRECT_OK:
                con._data = {}
        if _DIRECT_OK:
            return
    for key, expr in zip(keys, exprs, strict=True):
        con[key] = expr


_DIRECT_OK: bool | None = None


def add_linear_expression(block: pyo.Block, name: str, parts: Sequence[Terms], doc: str = "") -> pyo.Expression:
    """A named ``Expression`` ``sum(terms)`` (one row of terms, all with row 0)."""
    body = row_bodies(1, parts)[0]
    comp = pyo.Expression(expr=body, doc=doc)
    block.add_component(name, comp)
    comp._spokehub_terms = ExpressionCache(body, list(parts))
    return comp


def _dimen(index: list) -> int:
    first = index[0]
    return len(first) if isinstance(first, tuple) else 1
