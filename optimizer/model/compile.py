"""Compile a linear Pyomo model to sparse matrix form for ``Highs.passModel``.

This is a general compiler for linear Pyomo models, not a second copy of the spokehub
formulation: it reads whatever constraints and objective the model holds.

* Constraint families built by :func:`optimizer.model.linear.add_rows` carry the term tables
  their expressions were made from.  If every row of the family is active and still holds the
  very expression object built from those tables (Pyomo expressions are immutable, so identity
  means "unchanged"), the family's block of the matrix is assembled from the tables with numpy.
* Any other family -- or one a user changed (a row replaced, added or deactivated) -- is read
  row by row: bodies that are a single ``LinearExpression`` from their arguments, anything else
  through Pyomo's own ``LinearRepnVisitor``.
* The objective likewise: a sum of named ``Expression`` components built by
  :func:`~optimizer.model.linear.add_linear_expression` is assembled from their tables when all of
  them are unchanged, else walked by the visitor.

Column bounds, fixed variables and integrality are always read from the Pyomo variables.  A test
checks the result against Pyomo's ``LinearStandardFormCompiler``, with and without the fast paths.

Columns are every variable of the model in declaration order, so each indexed ``Var`` occupies a
contiguous block ``var_blocks[name] = (start, length)`` and solution values map back to the index
tables by position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression
from pyomo.core.expr.relational_expr import EqualityExpression, InequalityExpression
from pyomo.repn.linear import LinearRepnVisitor

INF = float("inf")


@dataclass
class MatrixForm:
    """``min c x + offset  s.t.  row_lo <= A x <= row_hi, col_lo <= x <= col_hi``."""

    c: np.ndarray
    offset: float
    A: sp.csr_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray  # bool per column
    columns: list  # VarData per column
    var_blocks: dict[str, tuple[int, int]] = field(default_factory=dict)
    row_blocks: dict[str, tuple[int, int]] = field(default_factory=dict)
    sense: int = 1  # 1 minimise, -1 maximise (c is as written)
    fast_families: int = 0  # constraint families assembled from their term tables

    @property
    def nnz(self) -> int:
        """Non-zeros of the constraint matrix."""
        return int(self.A.nnz)


def compile_model(m: pyo.ConcreteModel, use_tables: bool = True) -> MatrixForm:
    """Matrix form of the active linear constraints and the single active objective.

    ``use_tables=False`` reads every row from the model (the reference path used in tests).
    """
    with PauseGC():
        return _compile(m, use_tables)


class _Columns:
    def __init__(self, m: pyo.ConcreteModel):
        self.columns: list = []
        self.blocks: dict[str, tuple[int, int]] = {}
        self.start_of: dict[int, int] = {}  # id(Var component) -> first column
        lo, hi, integer = [], [], []
        for var in m.component_objects(pyo.Var, active=True, descend_into=True):
            datas = list(var.values())
            start = len(self.columns)
            self.columns.extend(datas)
            self.blocks[var.name] = (start, len(datas))
            self.start_of[id(var)] = start
            bounds = [v.bounds for v in datas]
            lo.append(np.fromiter((-INF if b[0] is None else b[0] for b in bounds), dtype=float, count=len(datas)))
            hi.append(np.fromiter((INF if b[1] is None else b[1] for b in bounds), dtype=float, count=len(datas)))
            for i, v in enumerate(datas):
                if v.fixed:
                    lo[-1][i] = hi[-1][i] = v.value
            integer.append(np.fromiter((v.is_integer() for v in datas), dtype=bool, count=len(datas)))
        self.lo = np.concatenate(lo) if lo else np.zeros(0)
        self.hi = np.concatenate(hi) if hi else np.zeros(0)
        self.integer = np.concatenate(integer) if integer else np.zeros(0, dtype=bool)
        self._col_of: dict[int, int] | None = None

    def col_of(self, var_data) -> int:
        if self._col_of is None:
            self._col_of = {id(v): i for i, v in enumerate(self.columns)}
        return self._col_of[id(var_data)]

    def terms(self, parts) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(row, col, coef) of term tables, or None if a table's Var is not in this model."""
        rows, cols, coefs = [], [], []
        for p in parts:
            start = self.start_of.get(id(p.var))
            if start is None:
                return None
            rows.append(p.row)
            cols.append(start + p.pos)
            coefs.append(p.coef)
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(coefs)


def _compile(m: pyo.ConcreteModel, use_tables: bool) -> MatrixForm:
    cols = _Columns(m)
    n_cols = len(cols.columns)
    visitor = LinearRepnVisitor({})
    r_parts, c_parts, v_parts, lo_parts, hi_parts = [], [], [], [], []
    row_blocks: dict[str, tuple[int, int]] = {}
    n_rows = 0
    fast = 0
    for con in m.component_objects(pyo.Constraint, active=True, descend_into=True):
        datas = [cd for cd in con.values()]
        block = _from_tables(con, datas, cols) if use_tables else None
        if block is not None:
            fast += 1
        else:
            block = _from_rows(datas, cols, visitor)
        rows, cc, vv, lo, hi = block
        r_parts.append(rows + n_rows)
        c_parts.append(cc)
        v_parts.append(vv)
        lo_parts.append(lo)
        hi_parts.append(hi)
        row_blocks[con.name] = (n_rows, len(lo))
        n_rows += len(lo)

    rows = np.concatenate(r_parts) if r_parts else np.zeros(0, np.int64)
    cc = np.concatenate(c_parts) if c_parts else np.zeros(0, np.int64)
    vv = np.concatenate(v_parts) if v_parts else np.zeros(0)
    A = sp.csr_matrix((vv, (rows, cc)), shape=(n_rows, n_cols))
    A.sum_duplicates()
    A.eliminate_zeros()

    objs = list(m.component_data_objects(pyo.Objective, active=True))
    if len(objs) != 1:
        raise ValueError(f"expected one active objective, found {len(objs)}")
    obj = objs[0]
    c, offset = (_objective_from_tables(obj, cols, n_cols) if use_tables else None) or _objective_from_walk(obj, cols, n_cols, visitor)
    return MatrixForm(
        c=c, offset=offset, A=A,
        row_lo=np.concatenate(lo_parts) if lo_parts else np.zeros(0),
        row_hi=np.concatenate(hi_parts) if hi_parts else np.zeros(0),
        col_lo=cols.lo, col_hi=cols.hi, integer=cols.integer,
        columns=cols.columns, var_blocks=cols.blocks, row_blocks=row_blocks,
        sense=1 if obj.sense == pyo.minimize else -1, fast_families=fast,
    )


def _from_tables(con, datas, cols: _Columns):
    cache = getattr(con, "_spokehub_terms", None)
    if cache is None or len(datas) != len(cache.exprs):
        return None
    for cd, expr in zip(datas, cache.exprs, strict=True):
        if not cd.active or cd.expr is not expr:
            return None
    t = cols.terms(cache.parts)
    if t is None:
        return None
    rows, cc, vv = t
    return rows, cc, vv, cache.lo, cache.hi


def _from_rows(datas, cols: _Columns, visitor):
    rows, cc, vv, lo_l, hi_l = [], [], [], [], []
    k = 0
    for cd in datas:
        if not cd.active:
            continue
        lb, body, ub = _split(cd)
        const, coefs, vs = _linear(body, visitor)
        for v, a in zip(vs, coefs, strict=True):
            rows.append(k)
            cc.append(cols.col_of(v))
            vv.append(float(a))
        lo_l.append(-INF if lb is None else lb - const)
        hi_l.append(INF if ub is None else ub - const)
        k += 1
    return (np.asarray(rows, dtype=np.int64), np.asarray(cc, dtype=np.int64), np.asarray(vv, dtype=float),
            np.asarray(lo_l, dtype=float), np.asarray(hi_l, dtype=float))


def _linear(body, visitor):
    """(constant, coefficients, variables) of a linear body."""
    if body.__class__ is LinearExpression:
        coefs, vs, const = [], [], 0.0
        for arg in body.args:
            cls = arg.__class__
            if cls is MonomialTermExpression:
                coefs.append(pyo.value(arg.args[0]))
                vs.append(arg.args[1])
            elif cls in (int, float):
                const += arg
            elif arg.is_variable_type():
                coefs.append(1.0)
                vs.append(arg)
            else:
                break
        else:
            return const, coefs, vs
    repn = visitor.walk_expression(body)
    if repn.nonlinear is not None:
        raise ValueError(f"expression {body} is not linear")
    mult = repn.multiplier
    return mult * repn.constant, [mult * c for c in repn.linear.values()], [visitor.var_map[i] for i in repn.linear]


def _objective_from_tables(obj, cols: _Columns, n_cols: int):
    cache = getattr(obj.parent_component(), "_spokehub_terms", None)
    if cache is None:
        return None
    expr, comps = cache
    if obj.expr is not expr:
        return None
    c = np.zeros(n_cols)
    for sign, comp in comps:
        ec = getattr(comp, "_spokehub_terms", None)
        if ec is None or comp.expr is not ec.expr:
            return None
        t = cols.terms(ec.parts)
        if t is None:
            return None
        _rows, cc, vv = t
        np.add.at(c, cc, sign * vv)
    return c, 0.0


def _objective_from_walk(obj, cols: _Columns, n_cols: int, visitor):
    repn = visitor.walk_expression(obj.expr)
    if repn.nonlinear is not None:
        raise ValueError("objective is not linear")
    c = np.zeros(n_cols)
    for vid, coef in repn.linear.items():
        c[cols.col_of(visitor.var_map[vid])] += repn.multiplier * coef
    return c, float(repn.multiplier * repn.constant)


def _split(cd):
    """(lb, body, ub) of a constraint, reading our relational forms without evaluation."""
    expr = cd.expr
    cls = expr.__class__
    if cls is InequalityExpression and not expr.strict:
        a, b = expr.args
        if a.__class__ is LinearExpression and b.__class__ in (int, float):
            return None, a, b
        if b.__class__ is LinearExpression and a.__class__ in (int, float):
            return a, b, None
    elif cls is EqualityExpression:
        a, b = expr.args
        if a.__class__ is LinearExpression and b.__class__ in (int, float):
            return b, a, b
    lb, body, ub = cd.to_bounded_expression(evaluate_bounds=True)
    return lb, body, ub
