"""The README's "Which business model pays" tables, from business-model sweeps.

Reads the folders ``spokehub sweep instances/<market> --grid
instances/<market>/scenarios/business-models/grid.toml --out DIR`` wrote (each scenario's
``solution.json``) and prints one Markdown row per market and model: net annual profit,
tonnes captured of those available, acquisition cost, mean price per tonne captured, the sites
opened (collection points with their modes and the packs through them) and the gap; then one row per market, model, channel and chemistry: tonnes available and captured, the levels
chosen, acquisition cost, mean price per tonne captured and the marginal value of one more tonne
(median over the channel's regions, NaN rows left out); then the HiGHS solve seconds per preset.  Run from the repository
root::

    python scripts/business_models.py north-america=results/bm-na europe=results/bm-eu ...
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

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
        cps = opened[opened["kind"] == "collection_point"]
        modes = ", ".join(f"{n} {mode}" for mode, n in cps["size"].value_counts().sort_index().items()) or "none"
        via = sol.flows.loc[sol.flows["echelon"] == "collection_point_spoke", "flow_t"].sum()
        gap = "—" if sol.gap is None else f"{100 * sol.gap:.2f} %"
        out.append(f"| {market} | {model} | {-sol.objective / 1e6:,.0f} M {sol.currency} | {captured / 1e3:,.0f} of "
                   f"{avail / 1e3:,.0f} kt ({100 * captured / avail:.0f} %) | {acq / 1e6:,.0f} M | "
                   f"{acq / max(captured, 1e-9):,.0f} | {len(cps)} ({modes}), {via / 1e3:,.1f} kt | {spokes} / {hubs} | {gap} |")
    return out


def channel_rows(market: str, folder: Path) -> list[str]:
    """One row per business model, channel and chemistry of one market's sweep folder."""
    out = []
    for model in MODELS:
        sol = Solution.load(folder / model)
        for (channel, chem), g in sol.channels.groupby(["channel", "chemistry"], sort=False):
            cap, acq = g["captured_t"].sum(), g["acquisition_cost"].sum()
            # a channel without a ladder (owned, or free) is captured whole: "free"; an unmade offer: "none"
            label = g["level"].where(g["level"] != "", np.where(g["captured_t"] > 0, "free", "none"))
            levels = ", ".join(f"{lv} x{n}" for lv, n in label.value_counts().items())
            mv = g["marginal_value_per_t"].dropna()
            mv_text = f"{mv.median():,.0f}" if len(mv) else "—"
            out.append(f"| {market} | {model} | {channel} | {chem} | {g['available_t'].sum() / 1e3:,.1f} | {cap / 1e3:,.1f} | "
                       f"{levels} | {acq / 1e6:,.1f} M | {acq / cap if cap > 0 else 0:,.0f} | {mv_text} |")
    return out


def main(argv: list[str]) -> int:
    print("| market | business model | net annual profit | packs captured | acquisition cost | mean price per t "
          "captured | collection points open (modes), packs through them | spokes / hubs open | gap |")
    print("|---|---|---:|---:|---:|---:|---|---:|---:|")
    for arg in argv:
        market, _, folder = arg.partition("=")
        print("\n".join(rows(market, Path(folder))))
    print()
    print("| market | business model | channel | chemistry | kt available | kt captured | levels chosen (regions) | "
          "acquisition cost | mean price per t captured | marginal value per t (median) |")
    print("|---|---|---|---|---:|---:|---|---:|---:|---:|")
    for arg in argv:
        market, _, folder = arg.partition("=")
        print("\n".join(channel_rows(market, Path(folder))))
    print()
    print("| market | " + " | ".join(MODELS) + " |")
    print("|---|" + "---:|" * len(MODELS))
    for arg in argv:
        market, _, folder = arg.partition("=")
        times = [Solution.load(Path(folder) / model).timings.get("solve", float("nan")) for model in MODELS]
        print(f"| {market} | " + " | ".join(f"{t:.0f} s" for t in times) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
