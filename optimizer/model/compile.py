"""Compile a linear Pyomo model to sparse matrix form for ``Highs.passModel``.

This is a general compiler for linear Pyomo models, not a second copy of the spokehub
formulation: it reads whatever constraints and objective the model holds.  Rows whose body is a
single :class:`LinearExpression` (how :mod:`optimizer.model.linear` builds them) are read
directly from their coefficient and variable lists; any other row or the objective goes through
Pyomo's own ``LinearRepnVisitor``.  A test checks the result against Pyomo's
``LinearStandardFormCompiler`` on the same model.

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
from pyomo.core.expr.numeric_expr import LinearExpression
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

    @property
    def nnz(self) -> int:
        return int(self.A.nnz)


def compile_model(m: pyo.ConcreteModel) -> MatrixForm:
    """Matrix form of the active linear constraints and the single active objective."""
    with PauseGC():
        return _compile(m)


def _compile(m: pyo.ConcreteModel) -> MatrixForm:
    columns: list = []
    var_blocks: dict[str, tuple[int, int]] = {}
    col_lo, col_hi, integer = [], [], []
    for var in m.component_objects(pyo.Var, active=True, descend_into=True):
        datas = list(var.values())
        start = len(columns)
        columns.extend(datas)
        var_blocks[var.name] = (start, len(datas))
        lo = np.fromiter((v.lb if v.lb is not None else -INF for v in datas), dtype=float, count=len(datas))
        hi = np.fromiter((v.ub if v.ub is not None else INF for v in datas), dtype=float, count=len(datas))
        fixed = [i for i, v in enumerate(datas) if v.fixed]
        for i in fixed:
            lo[i] = hi[i] = datas[i].value
        col_lo.append(lo)
        col_hi.append(hi)
        integer.append(np.fromiter((v.is_integer() for v in datas), dtype=bool, count=len(datas)))
    col_of = {id(v): i for i, v in enumerate(columns)}
    n_cols = len(columns)

    coef_chunks: list[list[float]] = []
    var_chunks: list[list] = []
    lens: list[int] = []
    row_lo: list[float] = []
    row_hi: list[float] = []
    row_blocks: dict[str, tuple[int, int]] = {}
    visitor = None
    n_rows = 0
    for con in m.component_objects(pyo.Constraint, active=True, descend_into=True):
        start = n_rows
        coefs_c: list[float] = []
        vars_c: list = []
        for cd in con.values():
            if not cd.active:
                continue
            lb, body, ub = _split(cd)
            if body.__class__ is LinearExpression:
                const = body.constant
                coefs = body.linear_coefs
                vs = body.linear_vars
            else:
                if visitor is None:
                    visitor = LinearRepnVisitor({})
                repn = visitor.walk_expression(body)
                if repn.nonlinear is not None:
                    raise ValueError(f"constraint {cd.name} is not linear")
                const = repn.constant
                vs = [visitor.var_map[i] for i in repn.linear]
                coefs = [repn.multiplier * c for c in repn.linear.values()] if repn.multiplier != 1 else list(repn.linear.values())
                const = repn.multiplier * const
            coefs_c.extend(coefs)
            vars_c.extend(vs)
            lens.append(len(vs))
            row_lo.append(-INF if lb is None else lb - const)
            row_hi.append(INF if ub is None else ub - const)
            n_rows += 1
        coef_chunks.append(coefs_c)
        var_chunks.append(vars_c)
        row_blocks[con.name] = (start, n_rows - start)

    n_terms = sum(lens)
    cols = np.fromiter((col_of[id(v)] for chunk in var_chunks for v in chunk), dtype=np.int64, count=n_terms)
    vals = np.fromiter((float(c) for chunk in coef_chunks for c in chunk), dtype=float, count=n_terms)
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.asarray(lens, dtype=np.int64))
    A = sp.csr_matrix((vals, (rows, cols)), shape=(n_rows, n_cols))
    A.sum_duplicates()
    A.eliminate_zeros()

    objs = list(m.component_data_objects(pyo.Objective, active=True))
    if len(objs) != 1:
        raise ValueError(f"expected one active objective, found {len(objs)}")
    obj = objs[0]
    if visitor is None:
        visitor = LinearRepnVisitor({})
    repn = visitor.walk_expression(obj.expr)
    if repn.nonlinear is not None:
        raise ValueError("objective is not linear")
    c = np.zeros(n_cols)
    for vid, coef in repn.linear.items():
        c[col_of[id(visitor.var_map[vid])]] += repn.multiplier * coef
    offset = float(repn.multiplier * repn.constant)
    return MatrixForm(
        c=c, offset=offset, A=A,
        row_lo=np.asarray(row_lo, dtype=float), row_hi=np.asarray(row_hi, dtype=float),
        col_lo=np.concatenate(col_lo) if col_lo else np.zeros(0),
        col_hi=np.concatenate(col_hi) if col_hi else np.zeros(0),
        integer=np.concatenate(integer) if integer else np.zeros(0, dtype=bool),
        columns=columns, var_blocks=var_blocks, row_blocks=row_blocks,
        sense=1 if obj.sense == pyo.minimize else -1,
    )


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
