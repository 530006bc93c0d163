"""The direct hand-off compiles exactly what Pyomo's own standard-form compiler sees."""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import pytest
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from optimizer import build_model, load_instance, solve
from optimizer.model.compile import compile_model

from .helpers import DEMO
from .test_optimum_small import random_instance


def _rows_ours(m, mf):
    """{constraint name: (lo, hi, {var name: coef})} from our matrix form."""
    out = {}
    A = mf.A.tocsr()
    for con in m.component_objects(pyo.Constraint, active=True):
        start, n = mf.row_blocks[con.name]
        for k, cd in enumerate(c for c in con.values() if c.active):
            i = start + k
            sl = slice(A.indptr[i], A.indptr[i + 1])
            terms = {mf.columns[j].name: v for j, v in zip(A.indices[sl], A.data[sl], strict=True)}
            out[cd.name] = (mf.row_lo[i], mf.row_hi[i], terms)
    return out


def _rows_pyomo(info):
    """Same from Pyomo's LinearStandardFormCompiler (mixed form: bound_type -1 >=, 0 ==, 1 <=)."""
    out = {}
    A = info.A.tocsr()
    for i, entry in enumerate(info.rows):
        sl = slice(A.indptr[i], A.indptr[i + 1])
        terms = {info.columns[j].name: v for j, v in zip(A.indices[sl], A.data[sl], strict=True) if v != 0}
        rhs = info.rhs[i]
        name = entry.constraint.name
        lo, hi = (-np.inf, np.inf)
        if entry.bound_type == 0:
            lo = hi = rhs
        elif entry.bound_type == 1:
            hi = rhs
        else:
            lo = rhs
        prev = out.get(name)
        if prev is not None:  # ranged rows come as two entries
            lo, hi = max(lo, prev[0]), min(hi, prev[1])
        out[name] = (lo, hi, terms)
    return out


@pytest.mark.parametrize("use_tables", [True, False])
@pytest.mark.parametrize("source", ["demo", "random", "single-sourcing"])
def test_matrix_equals_pyomo_standard_form(tmp_path, source, use_tables):
    """Both compile paths (term tables, row by row) give Pyomo's own standard form."""
    from optimizer.model.build import ModelOptions

    folder = DEMO if source == "demo" else random_instance(tmp_path / "r", seed=5)
    built = build_model(load_instance(folder), ModelOptions(single_sourcing=source == "single-sourcing"))
    mf = compile_model(built.model, use_tables=use_tables)
    if use_tables:
        assert mf.fast_families == len(mf.row_blocks)  # every family took the table path
    info = LinearStandardFormCompiler().write(built.model, mixed_form=True)
    ours, theirs = _rows_ours(built.model, mf), _rows_pyomo(info)
    assert ours.keys() == theirs.keys()
    for name, (lo, hi, terms) in ours.items():
        tlo, thi, tterms = theirs[name]
        assert (lo, hi) == pytest.approx((tlo, thi)), name
        assert terms.keys() == tterms.keys(), name
        for v, coef in terms.items():
            assert coef == pytest.approx(tterms[v]), (name, v)
    c_dense = info.c.toarray().ravel()
    c_theirs = {info.columns[j].name: v for j, v in enumerate(c_dense) if v != 0}
    c_ours = {mf.columns[j].name: v for j, v in enumerate(mf.c) if v != 0}
    assert c_ours.keys() == c_theirs.keys()
    for k, v in c_ours.items():
        assert v == pytest.approx(c_theirs[k])
    # Every column's bounds and integrality come from the Pyomo variable.
    for j, var in enumerate(mf.columns):
        assert mf.col_lo[j] == (var.lb if var.lb is not None else -np.inf)
        assert mf.col_hi[j] == (var.ub if var.ub is not None else np.inf)
        assert bool(mf.integer[j]) == var.is_integer()


def test_direct_and_pyomo_routes_agree():
    inst = load_instance(DEMO)
    a = solve(inst, mip_rel_gap=0, handoff="direct")
    b = solve(inst, mip_rel_gap=0, handoff="pyomo")
    assert a.objective == pytest.approx(b.objective, rel=1e-9)


def test_user_changes_are_compiled_from_the_model():
    """A row a user replaces or deactivates, or a constraint a user adds, is read from the model,
    not from the tables the family was built from."""
    built = build_model(load_instance(DEMO))
    m = built.model
    key = next(iter(m.spoke_capacity))
    original = m.spoke_capacity[key].expr
    m.spoke_capacity[key].set_value(original.args[0] <= 1234.0)
    first_link = next(iter(m.link_region_spoke))
    m.link_region_spoke[first_link].deactivate()
    m.extra = pyo.Constraint(expr=m.open_hub["H-TOLEDO", "medium", "base"] >= 1)
    mf = compile_model(m)
    theirs = _rows_pyomo(LinearStandardFormCompiler().write(m, mixed_form=True))
    ours = _rows_ours(m, mf)
    assert ours.keys() == theirs.keys()
    assert ours[m.spoke_capacity[key].name][1] == pytest.approx(1234.0)
    assert m.link_region_spoke[first_link].name not in ours
    assert ours["extra"][0] == pytest.approx(1.0)
    assert mf.fast_families == len(mf.row_blocks) - 3  # the two changed families and the new one
    sol = solve(load_instance(DEMO), mip_rel_gap=0)
    assert sol.status.value == "optimal"
