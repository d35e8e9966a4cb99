"""The convergence target's accounting (emnn.parts.timing.bench_study): shares per cell and
exemptions."""

import pandas as pd

from emnn.parts.timing.bench_study import convergence_cells, slow_em_baseline

CONFIG = {
    "methods": {
        "em-newton": {"model": "em", "params": {"n_hidden": 7}},
        "em-squarem": {"model": "em", "params": {"n_hidden": 7, "acceleration": "squarem"}},
        "sgd": {"model": "sgd", "params": {"n_hidden": 7}},
    },
    "study": {
        "main": {"datasets": ["a"], "methods": ["em-newton", "em-squarem", "sgd"]},
        "scaling": {},
    },
}


def write(tables, name, rows):
    pd.DataFrame(rows).to_csv(tables / f"{name}.csv", index=False)


def runs(method, converged, n_hidden=7):
    return [{"dataset": "a", "method": method, "n_hidden": n_hidden, "split": k, "converged": c}
            for k, c in enumerate(converged)]  # fmt: skip


def test_every_part_counts_each_cell_against_the_target(tmp_path):
    main = (
        runs("em-newton", [False] * 20)
        + runs("em-squarem", [True] * 19 + [False])
        + runs("sgd", [True] * 18 + [False] * 2)
        + runs("sgd", [False] * 3, n_hidden=4)  # another m: the sweep's, not the main study's
    )
    write(tmp_path, "runs", main)
    write(tmp_path, "moe_runs", [
        {"dataset": "a", "method": m, "split": k, "converged": k > 0}
        for m in ("moe-irls-1", "moe-ecm") for k in range(5)
    ])  # fmt: skip
    write(tmp_path, "scaling", [
        {"dataset": "a", "role": r, "method": r, "n_hidden": m, "n_splits": 3, "converged": c}
        for r, m, c in [("exact", 8, 0), ("exact_lbfgs", 8, 3), ("approximate", 16, 1),
                        ("approximate_lbfgs", 16, 2), ("baseline", 16, 3)]
    ])  # fmt: skip
    cells = convergence_cells(tmp_path, CONFIG).set_index(["part", "method"])
    # The main study's own m only; plain EM (no SQUAREM) is the exempt slow baseline.
    assert len(cells.loc["main"]) == 3
    assert cells.loc[("main", "em-newton"), "exempt"] and cells.loc[("main", "em-newton"), "meets"]
    assert cells.loc[("main", "em-squarem"), "share"] == 0.95
    assert cells.loc[("main", "em-squarem"), "meets"]
    assert not cells.loc[("main", "sgd"), "meets"]  # 18 of 20
    # IRLS-EM at rate 1 is exempt, ECM is not.
    assert cells.loc[("moe", "moe-irls-1"), "meets"] and not cells.loc[("moe", "moe-ecm"), "meets"]
    # An EM cell of the sweep is exempt where L-BFGS on its objective converged there.
    assert cells.loc[("m-sweep", "exact"), "exempt"] and cells.loc[("m-sweep", "exact"), "meets"]
    assert not cells.loc[("m-sweep", "approximate"), "meets"]  # its L-BFGS row: 2 of 3
    assert not cells.loc[("m-sweep", "approximate_lbfgs"), "meets"]
    assert cells.loc[("m-sweep", "baseline"), "meets"]


def test_the_slow_em_baselines_are_em_without_squarem():
    assert slow_em_baseline({"model": "em", "params": {"m_step": "gradient"}})
    assert not slow_em_baseline({"model": "em", "params": {"acceleration": "squarem"}})
    assert not slow_em_baseline({"model": "lbfgs", "params": {}})
