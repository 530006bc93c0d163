"""Model layer: sparse index tables (network), the Pyomo MILP (build), matrix hand-off (compile)."""

from .build import BuiltModel, ModelOptions, build_model

__all__ = ["BuiltModel", "ModelOptions", "build_model"]
