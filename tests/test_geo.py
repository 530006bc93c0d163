"""Distances against closed-form values."""

import math

import numpy as np
import pandas as pd
import pytest

from optimizer.geo import EARTH_RADIUS_KM, great_circle_km, lanes_between


def test_great_circle_closed_forms():
    assert great_circle_km(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert great_circle_km(0, 0, 90, 0) == pytest.approx(math.pi / 2 * EARTH_RADIUS_KM)
    assert great_circle_km(10, 20, 10, 20) == pytest.approx(0.0)
    # one degree of longitude at 60 degrees latitude on a sphere, to first order
    assert great_circle_km(60, 0, 60, 0.01) == pytest.approx(0.01 * math.pi / 180 * EARTH_RADIUS_KM * 0.5, rel=1e-4)


def test_lanes_radius_and_overrides():
    o = pd.DataFrame({"id": ["a", "b"], "lat": [0.0, 0.0], "lon": [0.0, 10.0]})
    d = pd.DataFrame({"id": ["x", "y"], "lat": [0.0, 0.0], "lon": [1.0, 9.0]})
    one_deg = math.pi / 180 * EARTH_RADIUS_KM
    ov = pd.DataFrame({"origin": ["a"], "destination": ["y"], "km": [np.nan], "cost_per_t": [7.0]})
    lanes = lanes_between(o, d, circuity=1.5, rate_per_t_km=2.0, overrides=ov, radius_km=1.5 * one_deg * 1.01)
    pairs = [(int(i), int(j)) for i, j in zip(lanes.origin, lanes.destination, strict=True)]
    # the 1-degree lanes are within the radius; a -> y (9 degrees) is beyond it but quoted, so kept
    assert set(pairs) == {(0, 0), (1, 1), (0, 1)}
    near = [k for k, p in enumerate(pairs) if p != (0, 1)]
    assert np.allclose(lanes.km[near], 1.5 * one_deg)
    assert np.allclose(lanes.cost_per_t[near], 2.0 * 1.5 * one_deg)
    quoted = pairs.index((0, 1))
    assert lanes.cost_per_t[quoted] == 7.0 and lanes.quoted[quoted] and lanes.km[quoted] == pytest.approx(1.5 * 9 * one_deg)
    lanes = lanes_between(o, d, circuity=1.5, rate_per_t_km=2.0, overrides=ov, radius_km=None)
    k = [i for i, (a, b) in enumerate(zip(lanes.origin, lanes.destination, strict=True)) if (a, b) == (0, 1)][0]
    assert lanes.cost_per_t[k] == 7.0 and lanes.quoted[k]
