"""The m-sweep (study.scaling): config checks, which splits its jobs run, scoring past the
exact limit, its tables, best m and paired comparison, and the section's computed text."""

import copy
import types
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import pytest

from emnn.core.errors import ConfigError
from emnn.models.scoring import hidden_units_used
from emnn.parts.scaling import summary as scaling
from emnn.parts.scaling.section import comparison_table, scaling_context, sweep_table
from emnn.parts.scaling.sentences import (
    best_sentence,
    cap_sentence,
    convergence_sentence,
    limits_text,
    overlap_sentence,
    summary_sentence,
    verdict,
)
from emnn.parts.scaling.units import pruning_sentence
from emnn.parts.timing.figure import estep_cost
from emnn.study.checks import check_study
from emnn.study.config import load_config, validate
from emnn.study.jobs import first_splits, job_spec, runs
from emnn.study.methods import check_method
from emnn.study.training import run_splits

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "config/config.yaml"
SMOKE = REPO / "config/smoke.yaml"


# ------------------------------------------------------------------ config


def em(**params):
    return {"model": "em", "params": {"n_hidden": 7, **params}}


def test_approximate_e_steps_take_more_than_24_hidden_units():
    check_method("em-variational", em(e_step="variational"), 64)
    check_method("em-mc", em(e_step="monte-carlo"), 48)


def test_exact_e_step_past_24_units_names_the_key_to_change():
    with pytest.raises(ConfigError, match=r"methods\.em-x\.params\.e_step") as error:
        check_method("em-x", em(), 32)
    assert "n_hidden=32" in str(error.value) and "24" in str(error.value)
    with pytest.raises(ConfigError, match="exact E-step takes at most 24"):
        check_method("lbfgs", {"model": "lbfgs", "params": {"n_hidden": 25}})


def config_with(**scaling_changes):
    config = load_config([CONFIG, SMOKE])
    raw = copy.deepcopy(config)
    raw["study"]["scaling"].update(scaling_changes)
    return raw


def test_scaling_roles_must_match_their_e_steps():
    with pytest.raises(ConfigError, match=r"study\.scaling\.approximate.*e_step"):
        check_study(validate(config_with(approximate="em-exact")))
    with pytest.raises(ConfigError, match=r"study\.scaling\.exact.*exact E-step"):
        check_study(validate(config_with(exact="em-variational")))
    with pytest.raises(ConfigError, match=r"study\.scaling\.baseline names unknown method"):
        check_study(validate(config_with(baseline="nope")))


def test_scaling_jobs_run_the_first_splits_and_shared_jobs_all():
    config = load_config([CONFIG])
    assert ("digits", "em-variational", 64) in runs(config)
    assert ("digits", "em-variational", 64) not in runs(config, scaling=False)
    assert ("digits", "em-exact", 16) not in runs(config)  # past exact_max_hidden
    wanted = config["study"]["scaling"]["n_splits"]
    assert job_spec(config, "digits", "sgd", 64)["first_splits"] == wanted
    assert "first_splits" not in job_spec(config, "digits", "sgd", 7)  # the main study's
    # A job the main study also wants runs all its splits.
    shared = copy.deepcopy(config)
    shared["study"]["scaling"]["n_hidden"] = [7, 64]
    assert first_splits(shared, "digits", "sgd", 7) is None
    assert first_splits(shared, "digits", "sgd", 64) == wanted


def test_max_hidden_stops_a_small_dataset_short_of_the_last_m():
    config = load_config([CONFIG])
    config["study"]["scaling"]["max_hidden"] = {"iris": 12}
    config["study"]["scaling"]["datasets"] = ["iris", "digits"]
    swept = [job for job in runs(config) if job not in runs(config, scaling=False)]
    assert max(m for d, _, m in swept if d == "iris") == 12
    assert max(m for d, _, m in swept if d == "digits") == 64
    assert ("iris", "em-variational", 12) in swept and ("iris", "em-exact", 12) in swept
    with pytest.raises(ConfigError, match=r"max_hidden names unknown dataset 'irs'"):
        check_study(validate(config_with(max_hidden={"irs": 12})))
    with pytest.raises(ConfigError, match=r"max_hidden\.iris is 1, below every m"):
        check_study(validate(config_with(max_hidden={"iris": 1})))


def test_the_tables_keep_each_dataset_to_its_m_and_splits():
    runs = synthetic_runs(BASE).drop(columns="role")
    runs["method"] = runs["method"].replace({"em-vb": "em-variational"})
    spec = {**SPEC, "approximate": "em-variational"}
    assert sorted(set(scaling.keep(runs, spec)["n_hidden"])) == [2, 4, 16]
    limited = scaling.keep(runs, {**spec, "max_hidden": {"d": 4}, "n_splits": 2})
    assert sorted(set(limited["n_hidden"])) == [2, 4] and set(limited["split"]) == {0, 1}
    assert list(limited.columns) == scaling.RUN_COLUMNS


def test_a_scaling_job_past_the_exact_limit_scores_by_monte_carlo():
    config = load_config([CONFIG, SMOKE])
    spec = job_spec(config, "iris", "em-variational", 16)
    assert spec["first_splits"] == 2
    results = run_splits(spec)
    assert [record["split"]["index"] for record, _ in results] == [0, 1]
    record = results[0][0]
    assert record["metrics"]["predictor"] == "monte-carlo"
    assert set(record["cross_scores"]) == {"monte-carlo", "mean-field"}
    # Past the exact limit only the initial and the final weights are scored.
    assert record["history"]["iteration"] == [0, record["metrics"]["iterations"]]
    small = run_splits(job_spec(config, "iris", "em-variational", 2), [0])[0][0]
    assert small["metrics"]["predictor"] == "exact"
    assert set(small["cross_scores"]) == {"exact", "mean-field"}


# ------------------------------------------------------------------ tables

SPEC = {
    "datasets": ["d"],
    "n_hidden": [2, 4, 16],
    "exact": "em-exact",
    "approximate": "em-vb",
    "baseline": "sgd",
    "exact_max_hidden": 4,
    "n_splits": 4,
}


def synthetic_runs(accuracy: dict, converged=None, units=None) -> pd.DataFrame:
    """Runs of dataset "d": accuracy[(role, m)] is a list of per-split accuracies; the
    log-loss is 1 - accuracy, so the best m by log-loss is the best by accuracy. Every
    run uses all its m hidden units unless units[(role, m)] says how many."""
    rows = []
    methods = {"exact": "em-exact", "approximate": "em-vb", "baseline": "sgd",
               "exact_lbfgs": "lbfgs", "approximate_lbfgs": "lbfgs-vb"}  # fmt: skip
    for (role, m), values in accuracy.items():
        for split, value in enumerate(values):
            rows.append(
                {"dataset": "d", "role": role, "method": methods[role], "n_hidden": m,
                 "split": split, "test_accuracy": value, "test_log_loss": 1.0 - value,
                 "converged": (converged or {}).get((role, m), True), "iterations": 10,
                 "predictor": "exact" if m <= 4 else "monte-carlo", "n_train": 80,
                 "n_test": 20, "hidden_units_used": (units or {}).get((role, m), m)}
            )  # fmt: skip
    return pd.DataFrame(rows)


def sweep_tables(runs, spec=SPEC):
    summary = scaling.summarize(runs)
    best, choices = scaling.best_table(summary, runs, spec)
    return {
        "scaling_runs": runs,
        "scaling": summary,
        "scaling_best": best,
        "scaling_comparisons": scaling.compare(runs, choices, spec),
    }


BASE = {
    ("exact", 2): [0.80, 0.82, 0.81, 0.79],
    ("exact", 4): [0.85, 0.86, 0.84, 0.85],
    ("approximate", 2): [0.80, 0.81, 0.80, 0.79],
    ("approximate", 4): [0.84, 0.86, 0.85, 0.85],
    ("approximate", 16): [0.90, 0.91, 0.92, 0.90],
    ("baseline", 2): [0.70, 0.72, 0.71, 0.70],
    ("baseline", 4): [0.75, 0.76, 0.74, 0.75],
    ("baseline", 16): [0.78, 0.77, 0.79, 0.78],
}


def test_lbfgs_on_the_same_objectives_is_a_family_of_its_own():
    """Where EM stops at its cap, L-BFGS on the same objective is chosen and compared on
    its own converged cells: the table separates the objective from EM's optimizer."""
    spec = {**SPEC, "exact_lbfgs": "lbfgs", "approximate_lbfgs": "lbfgs-vb"}
    runs = {
        **BASE,
        ("exact_lbfgs", 2): [0.81, 0.82, 0.81, 0.80],
        ("exact_lbfgs", 4): [0.86, 0.87, 0.85, 0.86],
        ("approximate_lbfgs", 2): [0.80, 0.80, 0.80, 0.80],
        ("approximate_lbfgs", 4): [0.85, 0.85, 0.85, 0.85],
        ("approximate_lbfgs", 16): [0.93, 0.94, 0.93, 0.92],
    }
    capped = {("approximate", 16): False}
    tables = sweep_tables(synthetic_runs(runs, converged=capped), spec)
    best = tables["scaling_best"].set_index("family")
    assert list(best.index) == ["em", "lbfgs", "baseline"]
    assert (best.loc["em", "role"], best.loc["em", "n_hidden"]) == ("exact", 4)  # 16 capped
    assert (best.loc["lbfgs", "role"], best.loc["lbfgs", "n_hidden"]) == ("approximate_lbfgs", 16)
    cells = scaling.family_cells(tables["scaling"], "d", "lbfgs")
    assert list(zip(cells["role"], cells["n_hidden"], strict=True)) == [
        ("exact_lbfgs", 2), ("exact_lbfgs", 4), ("approximate_lbfgs", 16)
    ]  # fmt: skip
    comparisons = tables["scaling_comparisons"]
    assert list(dict.fromkeys(comparisons["family"])) == ["em", "lbfgs"]
    assert comparisons["family_size"].iloc[0] == 4  # Holm over both families and metrics
    ours = comparisons[(comparisons["family"] == "lbfgs") & (comparisons["metric"] == "accuracy")]
    assert ours["family_mean"].iloc[0] == pytest.approx(0.93)
    # Without the L-BFGS roles configured, its rows are ignored.
    plain = sweep_tables(synthetic_runs(runs, converged=capped))
    assert list(plain["scaling_best"]["family"]) == ["em", "baseline"]


def test_best_m_skips_unconverged_cells_and_em_uses_exact_where_it_ran():
    tables = sweep_tables(synthetic_runs(BASE))
    best = tables["scaling_best"].set_index("family")
    assert (best.loc["em", "role"], best.loc["em", "n_hidden"]) == ("approximate", 16)
    assert best.loc["baseline", "n_hidden"] == 16
    # The approximate cell at m = 4 is never EM's candidate: exact ran there.
    cells = scaling.family_cells(tables["scaling"], "d", "em")
    assert list(zip(cells["role"], cells["n_hidden"], strict=True)) == [
        ("exact", 2), ("exact", 4), ("approximate", 16)
    ]  # fmt: skip
    capped = sweep_tables(synthetic_runs(BASE, converged={("approximate", 16): False}))
    best = capped["scaling_best"].set_index("family")
    assert (best.loc["em", "role"], best.loc["em", "n_hidden"]) == ("exact", 4)
    assert bool(best.loc["em", "only_converged"])
    assert (best.loc["em", "n_converged_cells"], best.loc["em", "n_cells"]) == (2, 3)
    sentence = best_sentence(capped["scaling_best"], ["d"])
    assert "; on d, EM's was chosen among the 2 of 3 values of $m$ whose runs all converged" in (
        sentence
    )
    free = best_sentence(sweep_tables(synthetic_runs(BASE))["scaling_best"], ["d"])
    assert "chosen among" not in free and free.endswith("[#tab-scaling-comparison].")


def test_a_capped_cell_better_than_the_best_m_is_named():
    free = sweep_tables(synthetic_runs(BASE))
    assert cap_sentence(free["scaling"], free["scaling_best"], "d", LABELS) == ""
    capped = sweep_tables(synthetic_runs(BASE, converged={("approximate", 16): False}))
    said = cap_sentence(capped["scaling"], capped["scaling_best"], "d", LABELS)
    assert said.startswith("Among the cells stopped at their cap, variational EM reaches a")
    assert "(0.092 at $m = 16$) than EM's best $m$ on d" in said
    # A capped cell worse than the choice says nothing.
    worse = dict(BASE)
    worse[("exact", 2)] = [0.5, 0.5, 0.5, 0.5]
    tables = sweep_tables(synthetic_runs(worse, converged={("exact", 2): False}))
    assert cap_sentence(tables["scaling"], tables["scaling_best"], "d", LABELS) == ""


def test_a_cell_capped_on_one_split_is_chosen_for_no_split():
    runs = dict(BASE)
    runs[("baseline", 2)] = [0.99, 0.99, 0.99, 0.70]  # best on the other splits of split 3
    capped = synthetic_runs(runs, converged={("baseline", 2): False})
    capped.loc[(capped["role"] == "baseline") & (capped["n_hidden"] == 2), "converged"] = [
        True, True, True, False
    ]  # fmt: skip
    tables = sweep_tables(capped)
    assert tables["scaling_best"].set_index("family").loc["baseline", "split_choices"] == (
        "16 16 16 16"
    )
    comparison = tables["scaling_comparisons"].set_index("metric")
    assert comparison.loc["accuracy", "baseline_converged"] == 4


def test_each_split_is_scored_at_the_m_chosen_on_the_others():
    runs = dict(BASE)
    # Split 0 alone makes m = 2 look best for SGD; the others prefer m = 16.
    runs[("baseline", 2)] = [0.99, 0.72, 0.71, 0.70]
    tables = sweep_tables(synthetic_runs(runs))
    best = tables["scaling_best"].set_index("family")
    assert best.loc["baseline", "split_choices"] == "16 2 2 2"
    comparison = tables["scaling_comparisons"].set_index("metric")
    assert comparison.loc["accuracy", "n_splits"] == 4
    # EM at m = 16 on every split minus SGD at the left-out choices.
    expected = np.mean(np.array([0.90, 0.91, 0.92, 0.90]) - np.array([0.78, 0.72, 0.71, 0.70]))
    assert comparison.loc["accuracy", "mean_difference"] == pytest.approx(expected)


# ------------------------------------------------------------------ the section

LABELS = {"exact": "exact EM", "approximate": "variational EM", "baseline": "SGD"}


def test_sentences_follow_the_tables():
    first = sweep_tables(synthetic_runs(BASE))
    changed = dict(BASE)
    changed[("approximate", 4)] = [0.74, 0.76, 0.75, 0.75]
    changed[("baseline", 16)] = [0.95, 0.96, 0.95, 0.97]
    second = sweep_tables(synthetic_runs(changed, converged={("baseline", 4): False}))

    one = overlap_sentence(first["scaling"], ["d"], LABELS)
    two = overlap_sentence(second["scaling"], ["d"], LABELS)
    assert one != two and "within 10.00 percentage points" in two
    assert "variational EM's mean test accuracy is within 0.50 percentage points" in one

    assert convergence_sentence(first["scaling"], LABELS).startswith("All 32 runs")
    capped = convergence_sentence(second["scaling"], LABELS)
    assert capped.startswith("28 of the 32 runs") and "SGD on d at $m$ = 4 (4 of 4)" in capped


def test_the_pruning_sentence_says_when_the_variational_network_prunes_units():
    full = sweep_tables(synthetic_runs(BASE))["scaling"]
    assert pruning_sentence(full, ["d"], LABELS) == ""
    pruned = synthetic_runs(BASE, units={("approximate", 4): 1, ("approximate", 16): 9})
    assert "over-pruning" in pruning_sentence(sweep_tables(pruned)["scaling"], ["d"], LABELS)
    summary, best = sweep_tables(pruned)["scaling"], sweep_tables(pruned)["scaling_best"]
    table = sweep_table(summary, best, "d", LABELS, first="d")
    assert [row[-1] for row in table["groups"][0]] == ["2 / 2 / 2", "4 / 1 / 4", "– / 9 / 16"]
    # Only the first dataset's caption explains the columns; the others point to it.
    later = sweep_table(summary.assign(dataset="e"), best.assign(dataset="e"), "e", LABELS, "d")
    assert "median number of hidden units" in table["caption"]
    assert later["caption"] == "The $m$-sweep on e, as [#tab-scaling-d]."
    # Half the units or fewer at the widest m is pruning, even where exact EM used as many.
    half = sweep_tables(synthetic_runs(BASE, units={("approximate", 16): 8}))["scaling"]
    assert pruning_sentence(half, ["d"], LABELS).startswith("On d, variational EM switched")


def test_sentences_on_a_dataset_that_stops_at_the_exact_limit():
    small = {key: value for key, value in BASE.items() if key[1] <= 4}
    small[("approximate", 2)] = small[("exact", 2)]
    small[("approximate", 4)] = small[("exact", 4)]
    tables = sweep_tables(synthetic_runs(small, units={("approximate", 4): 1}))
    said = overlap_sentence(tables["scaling"], ["d"], LABELS)
    assert said == (
        "Where both E-steps ran and every run of both converged ($m \\le 4$), variational EM's "
        "mean test accuracy is within 0.00 percentage points of exact EM's on d, and its mean "
        "test log-loss within 0.000."
    )
    looser = tables["scaling"].copy()
    looser.loc[looser["role"] == "approximate", "log_loss_mean"] += 0.01
    assert overlap_sentence(looser, ["d"], LABELS).endswith("log-loss within 0.010.")
    # Several datasets: one sentence, the values in the datasets' order.
    other = pd.concat([looser, looser.assign(dataset="e")])
    other.loc[(other["dataset"] == "d") & (other["role"] == "approximate"), "log_loss_mean"] -= 0.01
    assert overlap_sentence(other, ["d", "e"], LABELS).endswith(
        "on d and e, and its mean test log-loss within 0.000 and 0.010."
    )


def test_capped_cells_are_no_evidence_of_agreement_or_of_pruning():
    worse = dict(BASE)
    worse[("approximate", 4)] = [0.5, 0.5, 0.5, 0.5]  # far from exact EM, but capped
    tables = sweep_tables(synthetic_runs(worse, converged={("approximate", 4): False}))
    said = overlap_sentence(tables["scaling"], ["d"], LABELS)
    assert "Where both E-steps ran and every run of both converged ($m$ = 2)" in said
    assert "within 0.50 percentage points" in said
    none = synthetic_runs(BASE, converged={("exact", 2): False, ("approximate", 4): False})
    said = overlap_sentence(sweep_tables(none)["scaling"], ["d"], LABELS)
    assert said.endswith("at no common $m$, so their means are not compared.")
    # No converged cell of exact EM at all (the smoke study's 5 cycles).
    exact_capped = {("exact", 2): False, ("exact", 4): False}
    said = overlap_sentence(sweep_tables(synthetic_runs(BASE, exact_capped))["scaling"], ["d"],
                            LABELS)  # fmt: skip
    assert said.endswith("at no common $m$, so their means are not compared.")
    # Units switched off only in capped cells are not called pruning.
    units = {("approximate", 16): 2, ("approximate", 4): 1}
    capped = {("approximate", 16): False, ("approximate", 4): False}
    assert pruning_sentence(sweep_tables(synthetic_runs(BASE, units=units))["scaling"], ["d"],
                            LABELS)  # fmt: skip
    summary = sweep_tables(synthetic_runs(BASE, capped, units))["scaling"]
    assert pruning_sentence(summary, ["d"], LABELS) == ""


def test_the_capped_cells_are_listed_in_the_study_order_of_datasets():
    runs = pd.concat(
        [synthetic_runs(BASE, converged={("exact", 2): False}).assign(dataset=d) for d in "ba"]
    )
    summary = scaling.summarize(runs)
    said = convergence_sentence(summary, LABELS, ["b", "a"])
    assert said.index("on b at") < said.index("on a at")
    said = convergence_sentence(summary.iloc[::-1], LABELS, ["b", "a"])
    assert said.index("on b at") < said.index("on a at")


def test_a_unit_counts_as_used_when_it_moves_some_log_odds_by_the_threshold():
    net = types.SimpleNamespace(coefs_=[None, np.array([[0.0, 0.1], [0.3, 0.25], [-1, 1]])])
    assert hidden_units_used(net) == 2  # spreads 0.1, 0.05 and 2
    net.coefs_[1] = np.array([[0.0, 0.05, 0.1], [2.0, 2.0, 2.0]])
    assert hidden_units_used(net) == 1  # a row constant across classes moves no log-odds
    net.coefs_[1] = np.array([[0.2], [-0.05]])  # one logistic output: softmax over [0, v]
    assert hidden_units_used(net) == 1


def test_the_text_names_the_datasets_that_stop_short():
    spec = {**SPEC, "n_hidden": [1, 12, 64], "max_hidden": {"a": 12, "b": 12, "c": 64}}
    assert limits_text(spec, ["a", "b", "c"]) == " (on a and b up to $m = 12$)"
    assert limits_text(spec, ["c"]) == ""
    spec["max_hidden"]["c"] = 1
    assert limits_text(spec, ["a", "c"]) == " (on c up to $m = 1$ and a up to $m = 12$)"


def test_the_comparison_table_shows_the_m_each_split_is_scored_at():
    runs = dict(BASE)
    runs[("baseline", 2)] = [0.99, 0.72, 0.71, 0.70]  # split 0 alone prefers m = 2
    tables = sweep_tables(synthetic_runs(runs))
    table = comparison_table(tables["scaling_comparisons"], tables["scaling_best"], ["d"])
    accuracy = table["groups"][0][0]
    assert accuracy[3:5] == ["16", "16, 2, 2, 2"]
    tied = tables["scaling_comparisons"].copy()
    tied[["ties", "wins", "losses"]] = [4, 0, 0]
    table = comparison_table(tied, tables["scaling_best"], ["d"])
    assert table["groups"][0][0][7] == "0.00 [–]"  # a difference, in its own column


def test_the_verdict_is_computed_from_the_holm_p_value_and_the_sign():
    row = {"metric": "accuracy", "mean_difference": 0.02, "p_holm": 0.01}
    assert verdict(row) == "EM"
    assert verdict({**row, "family": "lbfgs"}) == "L-BFGS"
    assert verdict({**row, "mean_difference": -0.02}) == "back-propagation"
    assert verdict({**row, "p_holm": 0.2}) == "neither"
    assert verdict({**row, "metric": "log_loss"}) == "back-propagation"  # higher loss
    assert verdict({**row, "p_holm": float("nan")}) == "neither"


def test_the_summary_counts_the_comparisons_that_differ():
    rows = pd.DataFrame(
        {"dataset": ["a", "a", "b", "b"], "family": "em", "metric": ["accuracy", "log_loss"] * 2,
         "mean_difference": [0.02, -0.1, -0.03, 0.2], "p_holm": [0.2, 0.3, 0.4, 0.5],
         "n_splits": 3}
    )  # fmt: skip
    names = {"approximate": "variational EM"}
    beyond = pd.DataFrame(
        {"dataset": ["a", "a", "b", "b"], "n_hidden": [16, 64, 16, 64], "converged": [0, 3, 1, 0],
         "n_splits": 3, "units_used_median": [2.0, 1.0, 9.0, 31.5]}
    )  # fmt: skip
    same = summary_sentence(rows, ["a", "b"], names, 64, beyond)
    assert same.startswith(
        "Past exact EM's limit, variational EM was run up to $m = 64$ hidden units: its runs "
        "there met their stopping rule in 3 of 6 on a and 1 of 6 on b, and at the widest $m$ "
        "they used a median of 1 of 64 hidden units on a and 31.5 of 64 on b (capped). At the "
        "best"
    )
    assert same.endswith(
        "differ in none of their 4 comparisons after Holm’s correction, which over 3 paired "
        "splits leaves the question undecided."
    )
    rows.loc[3, "p_holm"] = 0.01  # back-propagation's log-loss is lower on b
    differ = summary_sentence(rows, ["a", "b"], names, 64, beyond, capped=["b"])
    assert differ.endswith(
        "differ in 1 of their 4 comparisons after Holm’s correction over 3 paired splits "
        "(better: back-propagation on b in log-loss); on b a cell stopped at its iteration cap "
        "has a lower log-loss than the chosen $m$, so there the comparison measures the cap."
    )
    # L-BFGS's rows share the Holm family: the sentence says how large it is.
    both = pd.concat([rows, rows.assign(family="lbfgs")], ignore_index=True)
    assert "of their 4 comparisons after Holm’s correction over all 8 of " in summary_sentence(
        both, ["a", "b"], names, 64, beyond
    )


def context(tables):
    config = load_config([CONFIG])
    config["study"]["scaling"] = {**SPEC, "approximate": "em-variational", "exact": "em-exact"}
    config["study"]["scaling"]["datasets"] = ["d"]
    plan = {"scaling": config["study"]["scaling"]}
    tables = {k: v.replace({"em-vb": "em-variational"}) for k, v in tables.items()}
    return scaling_context(config, plan, tables)


def test_the_section_renders_with_the_report_delimiters():
    values = context(sweep_tables(synthetic_runs(BASE)))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(REPO / "emnn/templates/text"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        block_start_string="((*",
        block_end_string="*))",
        variable_start_string="(((",
        variable_end_string=")))",
        comment_start_string="((=",
        comment_end_string="=))",
    )
    figures = {"scaling-sweep": {"anchor": "fig-scaling-sweep"}}
    # The section and its appendix: its sentences across datasets, then the tables.
    text = "\n".join(env.get_template(name).render(scaling=values, figures=figures)
                     for name in ("scaling.j2", "scaling-detail.j2"))  # fmt: skip
    for sentence in ("convergence", "stopping", "overlap", "best"):
        assert values[sentence] and values[sentence] in text
    for name in values["sweep_tables"]:
        assert f"::: table {name}" in text
    assert "::: figure scaling-sweep" in text and "::: table tab-scaling-comparison" in text
    assert "(from $m = 16$ on) by its Monte-Carlo predictor" in text and "4,096 draws" in text
    anchors = [table["anchor"] for table in values["tables"]]
    assert anchors == ["tab-scaling-d", "tab-scaling-comparison"]
    for table in values["tables"]:
        width = len(table["columns"])
        assert all(len(row) == width for group in table["groups"] for row in group)


# ------------------------------------------------------------------ timing and figures


def test_iteration_cost_times_each_e_step_and_exact_only_up_to_its_limit():
    from sklearn.datasets import load_iris

    from emnn.parts.timing.estep_cost import iteration_cost_table

    X, y = load_iris(return_X_y=True)
    spec = {"n_hidden": [16, 2], "exact_max_hidden": 2, "n_samples": 8}
    table = iteration_cost_table(X, y, spec, repeats=1)
    assert list(zip(table["n_hidden"], table["e_step"], strict=True)) == [
        (2, "exact"), (2, "variational"), (2, "monte-carlo"),
        (16, "variational"), (16, "monte-carlo"),
    ]  # fmt: skip
    assert (table["iteration_seconds"] > 0).all() and set(table["n_samples"]) == {8}


def test_the_figures_draw_the_sweep_and_both_cost_panels():
    import matplotlib.pyplot as plt

    from emnn.paper import figures
    from emnn.parts.scaling.figure import scaling_sweep

    study = {"scaling": SPEC, "labels": {"em-exact": "EM exact"}}
    summary = scaling.summarize(synthetic_runs(BASE, converged={("baseline", 4): False}))
    fig, title, caption = scaling_sweep(summary, study)
    assert len(fig.axes) == 2 and "from $m = 16$" in caption and "EM exact" in caption
    hollow = [
        line for line in fig.axes[0].lines
        if line.get_markerfacecolor() == "white" and len(line.get_xdata())
    ]  # fmt: skip
    assert len(hollow) == 1  # the baseline's capped cell at m = 4
    plt.close(fig)
    # Three datasets: two side by side, the third below; its neighbour's panels hidden.
    three = pd.concat([summary.assign(dataset=d) for d in ("a", "b", "c")], ignore_index=True)
    fig, _, _ = scaling_sweep(three, {**study, "scaling": {**SPEC, "datasets":
                                              ["a", "b", "c"]}})  # fmt: skip
    shown = [axis for axis in fig.axes if axis.get_visible()]
    assert (len(fig.axes), len(shown)) == (8, 6)
    assert [axis.get_title() for axis in shown if axis.get_title()] == ["a", "b", "c"]
    assert sum(axis.get_xlabel() != "" for axis in shown) == 3  # each dataset's log-loss panel
    plt.close(fig)
    # A dataset swept to a smaller m gets its own x range: no empty stretch of axis.
    short = three[(three["dataset"] != "c") | (three["n_hidden"] <= 4)]
    fig, _, _ = scaling_sweep(short, {**study, "scaling": {**SPEC, "datasets":
                                              ["a", "b", "c"]}})  # fmt: skip
    ends = [axis.get_xlim()[1] for axis in fig.axes if axis.get_visible()]
    assert ends[-1] < 4 * 1.5 < ends[0] and ends[0] > summary["n_hidden"].max()
    plt.close(fig)
    cost = pd.DataFrame({"n_hidden": [2, 4], "n": 120, "e_step_seconds": [1e-4, 2e-4],
                         "m_step_seconds": [3e-4, 4e-4]})  # fmt: skip
    iterations = pd.DataFrame({"n_hidden": [2, 2, 16], "e_step": ["exact", "variational",
                               "variational"], "n": 120, "n_samples": 8,
                               "iteration_seconds": [1e-3, 2e-3, 5e-3]})  # fmt: skip
    fig, title, caption = estep_cost(cost, iterations, {})
    assert len(fig.axes) == 2 and "exact and approximate" in title and "Right:" in caption
    fig, title, caption = estep_cost(cost, {})
    assert len(fig.axes) == 1 and title == "Cost of one exact EM iteration"
    plt.close("all")
    assert figures.inputs("timing/estep-cost") == ["results/tables/timing/estep_cost.csv"]
    with_e_steps = {"estep_cost": {"e_steps": {"dataset": "digits"}}}
    assert figures.inputs("timing/estep-cost", with_e_steps)[-1].endswith("iteration_cost.csv")
