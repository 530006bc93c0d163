"""The README's "Which business model pays" table, from business-model sweeps.

Reads the folders ``spokehub sweep instances/<market> --grid
instances/<market>/scenarios/business-models/grid.toml --out DIR`` wrote (each scenario's
``solution.json``) and prints one Markdown row per market and model: net annual profit,
tonnes captured of those available, acquisition cost, mean price per tonne captured, the sites
opened and the gap.  Run from the repository root::

    python scripts/business_models.py north-america=results/bm-na europe=results/bm-eu ...
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from optimizer.solution import Solution  # noqa: E402

MODELS = ("third-party", "battery-maker", "oem-alliance")


def rows(market: str, folder: Path) -> list[str]:
    """One table row per business model of one market's sweep folder."""
    out = []
    for model in MODELS:
        sol = Solution.load(folder / model)
        ch = sol.channels
        avail, captured = ch["available_t"].sum(), ch["captured_t"].sum()
        acq = ch["acquisition_cost"].sum()
        opened = sol.sites[sol.sites["open"].astype(bool)]
        spokes, hubs = (opened["kind"] == "spoke").sum(), (opened["kind"] == "hub").sum()
        gap = "—" if sol.gap is None else f"{100 * sol.gap:.2f} %"
        out.append(f"| {market} | {model} | {-sol.objective / 1e6:,.0f} M {sol.currency} | {captured / 1e3:,.0f} of "
                   f"{avail / 1e3:,.0f} kt ({100 * captured / avail:.0f} %) | {acq / 1e6:,.0f} M | "
                   f"{acq / max(captured, 1e-9):,.0f} | {spokes} / {hubs} | {gap} |")
    return out


def main(argv: list[str]) -> int:
    print("| market | business model | net annual profit | packs captured | acquisition cost | mean price per t "
          "captured | spokes / hubs open | gap |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for arg in argv:
        market, _, folder = arg.partition("=")
        print("\n".join(rows(market, Path(folder))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
