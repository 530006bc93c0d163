"""Scenarios (overrides of a base instance) and sweeps over them."""
