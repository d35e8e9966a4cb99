"""The paper's mixture-of-experts section: verdicts computed from the tables (each changes
when the table does), its tables as data, its text template and its figure."""

import re
from importlib import resources

import jinja2
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from emnn import templates
from emnn.paper import inputs
from emnn.parts.moe import against_mlp, contract
from emnn.parts.moe import figure as moe_figures
from emnn.parts.moe import runs as moe_study
from emnn.parts.moe import verdicts as moe_verdicts
from emnn.parts.moe.section import FIGURE, moe_context, objective_kind, rate_text
from emnn.study.config import validate
from emnn.typeset.markup import literal
from tests.conftest import small_config

DATASETS = ("iris", "digits")
MOE = {
    "datasets": list(DATASETS), "methods": list(contract.METHODS), "n_experts": 3,
    "irls_rate": 0.5, "max_iter": 150, "tol": 1e-6, "l2": 0.1,
    "sgd": {"learning_rate": 0.05, "batch_size": 16, "momentum": 0.9, "tol": 1e-4,
            "n_iter_no_change": 10},
    "limits": {"digits": {"max_iter": 20, "n_splits": 4}},
}  # fmt: skip
PLAN = {
    "main": {"datasets": list(DATASETS), "methods": ["sgd", "lbfgs"]},
    "n_hidden": {"sgd": 7, "lbfgs": 7},
    "labels": {"sgd": "SGD back-propagation", "lbfgs": "L-BFGS"},
}


def fake_runs(n_splits=6, fell=(), converged=True, ecm_gain=0.0) -> pd.DataFrame:
    """moe_runs-like rows: `fell` lists (dataset, method) pairs whose objective fell in
    every run; `converged` False leaves every EM run on digits at its cap; ECM's final
    objective per example exceeds the others' by `ecm_gain`."""
    rng = np.random.default_rng(0)
    lines = []
    for dataset in DATASETS:
        for shift, method in enumerate(contract.METHODS):
            for k in range(n_splits):
                done = converged or dataset != "digits" or method == "moe-sgd"
                gain = ecm_gain * 120 if method == "moe-ecm" else 0.0
                objective = -20.0 + 0.3 * rng.random() + gain
                lines.append({
                    "dataset": dataset, "method": method, "split": k, "n_train": 120, "n_test": 30,
                    "algorithm": "x", "irls_rate": 0.5, "learning_rate": np.nan, "n_experts": 3,
                    "max_iter": 20 if dataset == "digits" else 150,
                    "test_accuracy": 0.8 + 0.01 * shift + 0.02 * rng.random(),
                    "test_log_loss": 0.5 + 0.02 * rng.random(), "n_correct": 24,
                    "initial_objective": -100.0, "train_objective": objective,
                    "iterations": 40 if done else 20, "converged": done, "diverged": False,
                    "ever_decreased": (dataset, method) in fell,
                    "n_decreases": 3 if (dataset, method) in fell else 0,
                    "largest_decrease": 0.5 if (dataset, method) in fell else 0.0,
                    "first_decrease": 2 + k if (dataset, method) in fell else 0,
                })  # fmt: skip
    return pd.DataFrame(lines)


def fake_mlp(n_splits=6) -> pd.DataFrame:
    lines = [{"dataset": d, "method": m, "n_hidden": 7, "split": k, "converged": True,
              "test_accuracy": acc + 0.002 * k, "test_log_loss": 0.3}
             for d in DATASETS for m, acc in (("sgd", 0.85), ("lbfgs", 0.9))
             for k in range(n_splits)]  # fmt: skip
    return pd.DataFrame(lines)


def fake_traces(fell_at=None) -> pd.DataFrame:
    frames = []
    for dataset in DATASETS:
        for method in contract.METHODS:
            objective = -120.0 * (0.2 + 0.8 * np.exp(-np.arange(16) / 4))
            fell = np.zeros(16, dtype=bool)
            if fell_at and (dataset, method) == fell_at[:2]:
                objective[fell_at[2]] = objective[fell_at[2] - 1] - 5.0
                fell[fell_at[2]] = True
            frames.append(pd.DataFrame({"dataset": dataset, "method": method, "split": 0,
                                        "n_train": 120, "iteration": np.arange(16),
                                        "objective": objective, "decreased": fell}))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def context(runs, mlp=None, timing=True):
    tables = {"moe_runs": runs, "moe_summary": moe_study.summarize(runs)}
    if mlp is not None:
        tables["runs"] = mlp
    fit = pd.DataFrame(
        {"dataset": d, "method": m, "n_splits": 6, "fit_seconds_median": 1.5,
         "fit_seconds_total": 9.0, "seconds_per_iteration_median": 0.01}
        for d in DATASETS for m in contract.METHODS
    )  # fmt: skip
    config = {"study": {"moe": MOE}}
    return moe_context(config, PLAN, tables, {"moe_fit_summary": fit} if timing else None)


# ------------------------------------------------------------------ verdicts


def test_claim_one_follows_whether_the_rate_below_one_ever_lowered_the_objective():
    steady = moe_verdicts.claim_monotone(fake_runs(), DATASETS, 0.5)
    assert steady["failed"] == [] and "support the claim on every dataset" in steady["verdict"]
    assert "the objective fell in no run ([#tab-moe-training])." in steady["evidence"]
    falling = moe_verdicts.claim_monotone(fake_runs(fell=[("digits", "moe-irls")]), DATASETS, 0.5)
    assert falling["failed"] == ["digits"] and falling["held"] == ["iris"]
    assert falling["verdict"] == "The data support the claim on iris and contradict it on digits."
    assert "fell in all 6 runs on digits and in no run elsewhere" in falling["evidence"]
    # The first fall of each run, so that a fall cannot be blamed on a cap it precedes.
    assert (
        "(the largest fall: 0.00417 per training example, on digits; first falls at iteration "
        "2 to 7; [#tab-moe-training])." in (falling["evidence"])
    )
    assert "largest fall" not in steady["evidence"]


def test_claim_two_is_borne_out_only_where_rate_one_lowered_the_objective():
    quiet = moe_verdicts.claim_can_fail(fake_runs(), DATASETS)
    assert quiet["failed"] == [] and "do not bear the claim out" in quiet["verdict"]
    runs = fake_runs(fell=[("iris", "moe-irls-1")])
    runs.loc[(runs["method"] == "moe-irls-1") & (runs["split"] > 1), "ever_decreased"] = False
    loud = moe_verdicts.claim_can_fail(runs, DATASETS)
    assert loud["failed"] == ["iris"] and "bear the claim out on iris" in loud["verdict"]
    assert "fell in 2 of 6 runs on iris and in no run elsewhere" in loud["evidence"]
    assert "finite" not in loud["evidence"]  # no run diverged: the table says so
    runs.loc[(runs["method"] == "moe-irls-1") & (runs["dataset"] == "digits"), "diverged"] = True
    blown = moe_verdicts.claim_can_fail(runs, DATASETS)
    assert "; the objective stopped being finite in all 6 runs on digits" in blown["evidence"]


def test_claim_three_states_its_senses_and_pairs_accuracy_over_converged_runs_only():
    # Ten splits: the objective's sign test can reach p < 0.05 after Holm's adjustment.
    runs = fake_runs(10, converged=False, ecm_gain=0.05, fell=[("iris", "moe-irls-1")])
    table = moe_verdicts.paired_table(runs)
    claim = moe_verdicts.claim_ecm_better(runs, table, DATASETS, 0.5)
    objective = claim["better"]["moe-irls"]["objective"]
    assert set(objective["better"]) == set(DATASETS)
    accuracy = claim["better"]["moe-irls"]["accuracy"]
    assert accuracy["untested"] == ["digits"]  # no EM run converged there
    assert (
        "test accuracy and test log-loss are not compared on digits, where fewer than two "
        "splits have both runs converged" in claim["verdict"]
    )
    assert (
        "In every other paired comparison the two show no detectable difference"
        in (claim["verdict"])
    )
    # IRLS at rate 1 fell there, ECM never
    assert (
        "in monotonicity (the other fell in at least one run, ECM in none) on iris"
        in (claim["verdict"])
    )
    assert "in final objective where the runs stopped on iris and digits" in (claim["verdict"])
    # Against the second rate the sense is named, not explained again.
    assert claim["verdict"].count("where the runs stopped") == 1
    assert "on iris and in final objective on iris and digits." in claim["verdict"]
    converged = fake_runs(ecm_gain=0.05)
    tested = moe_verdicts.claim_ecm_better(
        converged, moe_verdicts.paired_table(converged), DATASETS, 0.5
    )
    assert tested["better"]["moe-irls"]["accuracy"]["untested"] == []
    steady = runs.assign(ever_decreased=False)
    same = moe_verdicts.claim_ecm_better(steady, table, DATASETS, 0.5)
    assert "monotonicity" not in same["verdict"]
    # a comparison that Holm leaves undecided but that went one way on every split is named
    unanimous = table.assign(p_holm=table["p_holm"].where(table["metric"] != "objective", 0.5))
    one_way = moe_verdicts.claim_ecm_better(runs, unanimous, DATASETS, 0.5)["verdict"]
    assert "ECM's final objective per training example is better on all 10 splits of iris" in (
        one_way
    )


def test_the_objective_pairs_every_split_and_the_test_metrics_the_converged_ones():
    runs = fake_runs(converged=False)
    runs.loc[(runs["dataset"] == "digits") & (runs["split"] < 3), "converged"] = True
    table = moe_verdicts.paired_table(runs).set_index(["dataset", "method", "other", "metric"])
    assert table.loc[("digits", "moe-ecm", "moe-irls", "objective"), "n_splits"] == 6
    assert table.loc[("digits", "moe-ecm", "moe-irls", "accuracy"), "n_splits"] == 3
    assert table.loc[("iris", "moe-ecm", "moe-irls", "accuracy"), "n_splits"] == 6
    # SGD counts epochs, not EM iterations: its objective pairs over converged splits too.
    assert table.loc[("digits", "moe-sgd", "moe-ecm", "objective"), "n_splits"] == 3
    assert (table["family_size"] == table["p_value"].notna().sum()).all()


def test_the_mlp_is_the_best_main_method_on_each_dataset_and_is_named():
    shown = context(fake_runs(), fake_mlp())
    assert "L-BFGS on iris and digits" in shown["mlp_choice"]
    assert "same test splits, which favours the MLP" in shown["mlp_choice"]
    # The MLP (L-BFGS at 0.9) beats every MoE method (about 0.8) in accuracy: named once each,
    # the rest said once for all.
    first = shown["mlp"][0]
    assert first.startswith("IRLS-EM at rate 1 is worse than the MLP in test accuracy on iris")
    assert "every other comparison with the MLP shows no detectable difference" in first
    table = moe_verdicts.paired_table(fake_runs(converged=False), fake_mlp(), "lbfgs")
    undecided = against_mlp.mlp_sentences(table.assign(p_holm=0.5), 0.5)
    assert undecided[0].startswith("No MoE method differs detectably from the MLP")
    # The EM algorithms have no converged run on digits: said once, for all three.
    (untested,) = [s for s in undecided if "not compared" in s]
    assert untested.startswith("IRLS-EM at rate 1, IRLS-EM at rate 0.5 and ECM are not compared")
    assert "on digits, where fewer than two splits have both runs converged" in untested
    (one_way,) = [s for s in undecided if "one way on every split" in s]
    assert (
        "IRLS-EM at rate 1 is worse in test accuracy and test log-loss on all 6 splits" in one_way
    )
    fixed = moe_context(
        {"study": {"moe": {**MOE, "baseline": "sgd"}}}, PLAN,
        {"moe_runs": fake_runs(), "moe_summary": moe_study.summarize(fake_runs()),
         "runs": fake_mlp()},
    )  # fmt: skip
    assert "SGD back-propagation" in fixed["mlp_choice"]
    assert "rather than chosen by test accuracy on these splits" in fixed["mlp_choice"]


# ------------------------------------------------------------------ tables as data


def _check_table(table):
    assert table["anchor"].startswith("tab-")
    width = len(table["columns"])
    if table["header_groups"]:
        assert sum(span for _, span in table["header_groups"]) == width
    for group in table["groups"]:
        for row in group:
            assert len(row) == width
            for cell in row:
                assert isinstance(cell, str) or {"text", "bold"} <= set(cell)


def test_the_tables_are_data_and_wall_times_stay_in_the_timing_table():
    shown = context(fake_runs(converged=False, fell=[("digits", "moe-irls")]), fake_mlp())
    for table in [*shown["tables"], shown["timing_table"]]:
        _check_table(table)
    training = shown["tables"][0]
    assert [t["anchor"] for t in shown["tables"]] == ["tab-moe-training", "tab-moe-comparisons"]
    digits = training["groups"][1]
    irls = next(row for row in digits if row[1] == "IRLS-EM at rate 0.5")
    assert irls[2] == "6 of 6" and irls[4] == "0 of 6" and irls[7] == "–"  # no converged run
    assert irls[5] == "20 (20)"
    text = repr(shown["tables"]) + repr(shown["claims"])
    assert "seconds" not in text.lower() and "(s)" not in text and "(ms)" not in text
    assert "fit (s)" in repr(shown["timing_table"])
    assert shown["figure"] == FIGURE == contract.FIGURE
    assert context(fake_runs(), timing=False)["timing_table"] is None


# ------------------------------------------------------------------ the text


def render(values) -> str:
    env = jinja2.Environment(
        variable_start_string="(((", variable_end_string=")))",
        block_start_string="((*", block_end_string="*))",
        comment_start_string="((=", comment_end_string="=))",
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
    )  # fmt: skip
    env.filters["lit"] = literal
    figures = {"moe-objective": {"anchor": "fig-moe-objective"}}
    # The section, then its appendix (setup and tables).
    texts = []
    for name in ("moe.j2", "moe-detail.j2"):
        source = (resources.files(templates) / "text" / name).read_text(encoding="utf-8")
        texts.append(env.from_string(source).render(moe=values, figures=figures))
    return "\n".join(texts)


@pytest.mark.parametrize("fell", [[], [("digits", "moe-irls")]])
def test_the_section_text_renders_the_verdicts_computed_from_the_tables(fell):
    values = context(fake_runs(fell=fell, converged=False), fake_mlp())
    text = render(values)
    for claim in values["claims"]:
        assert claim["evidence"] in text and claim["verdict"] in text
    assert "[@ng2004em]" in text and "((" not in text and "))" not in text.replace("))$", "")
    floats = [line.split()[2] for line in text.splitlines() if line.startswith("::: ")]
    assert floats == [FIGURE, "tab-moe-training", "tab-moe-comparisons"]
    assert values["setup"]["caps"] in text and "20 iterations on the 6 splits of digits" in text
    assert ("contradict it on digits" in text) == bool(fell)
    assert "On digits the cap is lower, fewer splits run, or both" in text


# ------------------------------------------------------------------ the figure


def test_the_figure_separates_iterations_from_epochs_and_marks_every_fall():
    study = {"moe": MOE}
    traces = fake_traces(("digits", "moe-irls", 5))
    fig, _, caption = moe_figures.objective_traces(traces, fake_runs(), study)
    axes = fig.axes
    assert len(axes) == 2 * len(DATASETS)
    assert [a.get_xlabel() for a in axes[-2:]] == ["EM iteration", "SGD epoch"]
    marked = [c for a in axes for c in a.collections if len(c.get_offsets())]
    assert len(marked) == 1 and len(marked[0].get_offsets()) == 1
    assert all(a.get_yscale() == "log" for a in axes)
    assert "the first split" in caption and "$-\\ell/n$" in caption
    plt.close(fig)
    fig, _, _ = moe_figures.objective_traces(fake_traces(), fake_runs(), study)
    assert not [c for a in fig.axes for c in a.collections if len(c.get_offsets())]
    assert not capped_ends(fig)
    plt.close(fig)


def capped_ends(fig) -> list:
    return [line for a in fig.axes for line in a.get_lines()
            if line.get_marker() == moe_figures.CAPPED_END]  # fmt: skip


def test_the_figure_marks_the_end_of_a_run_stopped_at_its_cap():
    # Every EM run on digits at its cap: the three EM curves there end in a hollow square.
    fig, _, caption = moe_figures.objective_traces(
        fake_traces(), fake_runs(converged=False), {"moe": MOE}
    )
    ends = capped_ends(fig)
    assert len(ends) == 3 and all(line.get_markerfacecolor() == "none" for line in ends)
    assert "marked by a hollow square, the cap of iterations" in caption
    legend = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert "stopped at its cap" in legend
    plt.close(fig)


def test_a_curve_that_blows_up_leaves_the_axis_marked_and_spares_the_others():
    traces = fake_traces()
    blown = (traces["dataset"] == "digits") & (traces["method"] == "moe-irls")
    traces.loc[blown & (traces["iteration"] >= 5), "objective"] = -3e16  # 2.5e14 per example
    fig, _, caption = moe_figures.objective_traces(traces, fake_runs(), {"moe": MOE})
    row = DATASETS.index("digits")
    top = fig.axes[2 * row].get_ylim()[1]
    assert top == pytest.approx(moe_figures.CEILING * 120 / 120)  # 100 x the initial loss
    marks = [line for a in fig.axes for line in a.get_lines()
             if line.get_marker() == moe_figures.OFF_SCALE]  # fmt: skip
    # where it leaves the axis, and where it ends, its final loss written beside it
    last = traces.loc[blown, "iteration"].max()
    assert len(marks) == 2 and [m.get_xdata()[0] for m in marks] == [5, last]
    notes = [t.get_text() for t in fig.axes[2 * row].texts]
    assert "ends at 2.50e14" in notes
    assert "a triangle on the top edge marks where a curve whose weights blew up" in caption
    assert "with its final loss written beside it" in caption
    plt.close(fig)
    # A curve that comes back below the ceiling has one triangle and no note.
    traces.loc[blown & (traces["iteration"] == last), "objective"] = -120.0
    fig, _, _ = moe_figures.objective_traces(traces, fake_runs(), {"moe": MOE})
    marks = [line for a in fig.axes for line in a.get_lines()
             if line.get_marker() == moe_figures.OFF_SCALE]  # fmt: skip
    assert len(marks) == 1 and not fig.axes[2 * row].texts
    plt.close(fig)
    fig, _, caption = moe_figures.objective_traces(fake_traces(), fake_runs(), {"moe": MOE})
    assert "triangle" not in caption
    plt.close(fig)


# ------------------------------------------------------------------ wiring


def test_the_report_reads_the_moe_tables_and_lists_their_hashes(monkeypatch, tmp_path):
    """inputs.load reads moe_* (result tables with the artifacts, wall times with the timing
    listing) when the study has a moe section, and only then."""
    read = []
    monkeypatch.setattr(inputs, "study_table", lambda root, path: read.append(path) or path)
    monkeypatch.setattr(inputs, "read_figure", lambda *a: {"timing": False, "paths": []})
    monkeypatch.setattr(inputs, "read_runs", lambda root, dirs: [])
    monkeypatch.setattr(inputs, "sha256_file", lambda path: "0" * 64)
    config = validate(small_config(study={"main": {"datasets": ["iris"], "methods": ["sgd"]},
                                          "moe": {"datasets": ["iris"]}}))  # fmt: skip
    data = inputs.load(config, [], tmp_path)
    assert {"moe_runs", "moe_summary", "moe_traces"} <= set(data["tables"])
    assert {"moe_fit_times", "moe_fit_summary"} <= set(data["timing"])
    listed = [path for _, path in data["listing"]]
    timed = [path for _, path in data["timing_listing"]]
    assert "results/tables/moe_runs.csv" in listed and "results/tables/moe_runs.csv" not in timed
    assert "results/tables/timing/moe_fit_summary.csv" in timed
    assert not [p for p in listed if "timing" in p]
    del config["study"]["moe"]
    assert not [p for p in inputs.load(config, [], tmp_path)["tables"] if "moe" in p]


def test_a_cautious_test_is_told_apart_from_a_split_by_split_sweep():
    """The corrected t-test can call two methods indistinguishable when one wins every
    split (a run that blew up inflates the variance): the sentence then says so."""
    row = {"dataset": "digits", "n_splits": 10, "mean_difference": 3e13, "p_holm": 0.4,
           "wins": 10, "ties": 0, "losses": 0}  # fmt: skip
    rows = pd.DataFrame([row, {**row, "dataset": "iris", "wins": 7, "losses": 3}])
    text = moe_verdicts.paired_sentence(rows, "objective", "ECM", "IRLS")
    assert text == (
        "In final objective per training example, ECM and IRLS show no detectable difference on "
        "digits and iris, although ECM is better on all 10 splits of digits."
    )
    significant = moe_verdicts.paired_sentence(rows.assign(p_holm=0.01), "objective", "ECM", "IRLS")
    assert significant.startswith("In final objective per training example, ECM is better than")
    assert "although" not in significant


def test_an_objective_that_blew_up_prints_its_whole_column_in_three_digits():
    assert objective_kind([-0.07921, -0.0137]) == "objective"
    assert objective_kind([-0.07921, np.nan, -359375994876725.75]) == "sci"
    runs = fake_runs(converged=False)
    blown = (runs["dataset"] == "digits") & (runs["method"] == "moe-irls")
    runs.loc[blown, "train_objective"] = -3.6e16  # -3e14 per training example
    column = [row[6] for group in context(runs)["tables"][0]["groups"] for row in group]
    assert "−3.00e14" in column
    assert all(re.fullmatch(r"−\d\.\d\de-?\d+", text) for text in column), column


def test_the_objective_differences_share_one_notation():
    """The median differences span decades (1e-5 to 1e14): each prints in scientific
    notation with three significant digits, never 0.000666 beside 2.42e-5 and 21.6."""
    runs = fake_runs(converged=False)
    blown = (runs["dataset"] == "digits") & (runs["method"] == "moe-irls")
    runs.loc[blown, "train_objective"] = -3.6e16
    shown = context(runs, fake_mlp())["tables"][1]
    cells = [row[2] for group in shown["groups"] for row in group]
    texts = [c["text"] if isinstance(c, dict) else c for c in cells if c != "–"]
    assert texts and any("e14" in t for t in texts) and any("e-" in t for t in texts)
    assert all(re.fullmatch(r"−?\d\.\d\de-?\d+|0", t) for t in texts), texts


def test_the_mixtures_sgd_is_named_apart_from_the_mlps():
    """The comparison table subtracts the MLP's trainer from each mixture algorithm; the
    mixture's SGD must not read as the MLP's ("SGD − SGD back-propagation")."""
    names = contract.labels(0.5)
    assert names["moe-sgd"] != "SGD" and "mixture" in names["moe-sgd"]


def test_the_sgd_rate_is_said_as_set_or_as_chosen_with_the_grid_edges_counted():
    runs = fake_runs().assign(learning_rate=0.05)
    assert rate_text({"learning_rate": 0.05}, runs, DATASETS) == "learning rate 0.05"
    sgd = runs["method"] == "moe-sgd"
    runs.loc[sgd, "learning_rate"] = [0.3] * 3 + [0.01] * (int(sgd.sum()) - 3)
    said = rate_text({"learning_rates": [0.01, 0.1, 0.3], "inner_folds": 3}, runs, DATASETS)
    assert said.startswith("learning rate chosen per split by 3-fold inner cross-validation")
    assert "from 0.01, 0.1 and 0.3; the rates chosen range from 0.01 to 0.3" in said
    assert said.endswith(f"at an end of the grid in all {int(sgd.sum())} runs")


def test_back_propagation_and_ecm_are_compared_on_test_metrics_not_on_where_their_rules_stop():
    values = context(fake_runs(), fake_mlp())
    said = " ".join(values["sgd"])
    assert "final objective" not in said.split("Their final objectives are not compared")[0]
    assert said.endswith(
        "Their final objectives are not compared: SGD (mixture) stops when its training loss "
        "per example has not fallen by $10^{-4}$ in 10 epochs and ECM at a relative change of "
        "$10^{-6}$, so where each ends measures its stopping rule as much as its algorithm."
    )
