"""The README's "Sensitivity to the channel estimates" tables, from channel-estimates sweeps.

Reads the folders ``spokehub sweep instances/<market> --grid
instances/<market>/scenarios/channel-estimates/grid.toml --out DIR`` wrote and prints, per
market, one Markdown row per scenario (profit and its change against the base, tonnes
captured, acquisition cost, spokes and hubs open, the hubs by id, the gap) and then the
robustness of the sites: how many open in every scenario, in most, in some, and which sites
change.  Run from the repository root::

    python scripts/channel_estimates.py north-america=results/ce-na europe=results/ce-eu
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from optimizer.solution import Solution  # noqa: E402


def scenario_rows(market: str, folder: Path) -> list[str]:
    comp = pd.read_csv(folder / "comparison.csv", keep_default_na=False)
    base = Solution.load(folder / "base")
    out = []
    for sc in comp["scenario"]:
        sol = Solution.load(folder / sc)
        ch = sol.channels
        opened = sol.sites[sol.sites["open"].astype(bool)]
        hubs = ", ".join(f"{r.site_id} {r.size}" for r in opened[opened["kind"] == "hub"].itertuples(index=False))
        change = 100 * (sol.objective - base.objective) / abs(base.objective)
        gap = "—" if sol.gap is None else f"{100 * sol.gap:.2f} %"
        if sol.status.value != "optimal":
            gap += " (time limit)"
        delta = "—" if sc == "base" else f"{-change:+.1f} %"
        out.append(f"| {market} | {sc} | {-sol.objective / 1e6:,.0f} M {sol.currency} | {delta} | "
                   f"{ch['captured_t'].sum() / 1e3:,.0f} kt | {ch['acquisition_cost'].sum() / 1e6:,.0f} M | "
                   f"{(opened['kind'] == 'collection_point').sum()} / {(opened['kind'] == 'spoke').sum()} / {(opened['kind'] == 'hub').sum()} | "
                   f"{hubs} | {gap} |")
    return out


def robustness_row(market: str, folder: Path) -> str:
    rob = pd.read_csv(folder / "robustness.csv", keep_default_na=False)
    rob = rob[rob["scenarios_open"] > 0]
    n = int(rob["scenarios_solved"].max())
    every = rob[rob["scenarios_open"] == n]
    most = rob[(rob["scenarios_open"] < n) & (rob["share_open"] >= 0.5)]
    some = rob[rob["share_open"] < 0.5]

    def names(df: pd.DataFrame) -> str:
        return ", ".join(f"{r.site_id} ({r.scenarios_open})" for r in df.itertuples(index=False)) or "—"

    return (f"| {market} | {n} | {(every['kind'] == 'collection_point').sum()} collection points, "
            f"{(every['kind'] == 'spoke').sum()} spokes, {(every['kind'] == 'hub').sum()} hubs | "
            f"{names(most)} | {names(some)} |")


def main(argv: list[str]) -> int:
    print("| market | scenario | net annual profit | change | packs captured | acquisition cost | collection points / spokes / hubs | hubs | gap |")
    print("|---|---|---:|---:|---:|---:|---:|---|---:|")
    pairs = [a.partition("=")[::2] for a in argv]
    for market, folder in pairs:
        print("\n".join(scenario_rows(market, Path(folder))))
    print()
    print("| market | scenarios | open in every scenario | open in half or more (not all) | open in fewer than half |")
    print("|---|---:|---|---|---|")
    for market, folder in pairs:
        print(robustness_row(market, Path(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
