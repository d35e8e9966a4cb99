"""The revised paper's computed parts: the primary verdict sentences, the overfitting
evidence, the originating study's claims, and the replication's reversal and
below-chance rows, each from a small table built here."""

import numpy as np
import pandas as pd
import pytest

from emnn.paper.originating import own_setting, speed, standardizing
from emnn.parts.main import floats, primary
from emnn.parts.main.overfitting import rank_agreement, split_counts, tuned_sentence
from emnn.parts.main.primary_text import compact_sentence, verdict_sentence
from emnn.parts.main.results import capped_cells, comparison, endpoint_gradient
from emnn.parts.replication import findings as replication


def rows(verdicts: dict) -> list[dict]:
    return [{"dataset": d, "metric": m, "verdict": v} for (d, m), v in verdicts.items()]


def test_verdict_sentences_name_every_decided_cell_and_count_the_rest():
    shown = rows({
        ("a", "accuracy"): primary.EQUIVALENT, ("a", "log_loss"): primary.WORSE,
        ("b", "accuracy"): primary.UNDECIDED, ("b", "log_loss"): primary.TOO_FEW,
    })  # fmt: skip
    full = verdict_sentence(shown)
    assert full == (
        "worse in test log-loss on a; equivalent within the margins in test accuracy on a; "
        "undecided in the other 2 of 4 tests"
    )
    assert compact_sentence(shown) == (
        "worse in test log-loss on a, equivalent within the margins in 1 and undecided in 2 "
        "of 4 tests"
    )
    nothing = rows({("a", "accuracy"): primary.UNDECIDED})
    assert verdict_sentence(nothing) == "undecided in its one test"
    assert compact_sentence(nothing) == "undecided in 1 of 1 test, better or worse in none"
    # A verdict that no test reached goes unsaid.
    one_worse = rows({("a", "accuracy"): primary.UNDECIDED, ("a", "log_loss"): primary.WORSE})
    assert compact_sentence(one_worse) == "worse in test log-loss on a, undecided in 1 of 2 tests"
    all_named = rows({("a", "log_loss"): primary.WORSE})
    assert compact_sentence(all_named) == "worse in test log-loss on a"


def test_the_tuned_pair_is_given_with_the_penalty_it_chose_most_often():
    runs = pd.DataFrame({
        "dataset": "t", "method": ["cv"] * 4 + ["other"], "converged": [True] * 3 + [False, True],
        "test_log_loss": [0.7, 0.8, 0.9, 5.0, 0.1], "l2": [1.0, 1.0, 0.1, 0.1, 0.1],
    })  # fmt: skip
    (sentence,) = tuned_sentence(runs, "t", ["cv"], {"cv": "CV"})
    # The capped run is left out of the mean and of the count.
    assert "test log-loss of converged runs there is 0.800 for CV" in sentence
    assert "0.800 for CV, at $\\lambda = 1$ on 2 of 3 splits." in sentence
    assert tuned_sentence(runs, "t", [], {}) == []
    assert tuned_sentence(runs.drop(columns="l2"), "t", ["cv"], {})[0].endswith("for cv.")


def test_rank_agreement_counts_splits_where_the_higher_objective_tested_worse():
    frames = []
    for split, sign in enumerate([1, 1, -1]):
        objective = np.array([1.0, 2.0, 3.0])
        frames.append(pd.DataFrame({
            "dataset": "t", "split": split, "method": ["a", "b", "c"],
            "train_objective": objective, "test_log_loss": 0.5 + sign * 0.1 * objective,
        }))  # fmt: skip
    found = rank_agreement(pd.concat(frames), ["t"], ["a", "b", "c"])
    assert found == [{"dataset": "t", "worse": 2, "better": 1, "n_splits": 3}]
    # The split count is said once when every dataset has it.
    other = {"dataset": "u", "worse": 0, "better": 3, "n_splits": 3}
    assert split_counts([*found, other]) == "2 and 0 of the 3 splits of t and u"
    assert split_counts([*found, {**other, "n_splits": 5}]) == (
        "2 of 3 splits of t and 0 of 5 splits of u"
    )


def test_the_speed_claim_counts_capped_em_and_leaves_seconds_to_the_timing_appendix():
    config = {"methods": {"slow": {"model": "em"}, "fast": {"model": "em"},
                          "sgd": {"model": "sgd"}}}  # fmt: skip
    plan = {"main": {"methods": ["slow", "fast", "sgd"], "baseline": "sgd"},
            "labels": {"slow": "Slow EM", "fast": "Fast EM", "sgd": "SGD"}}  # fmt: skip
    convergence = pd.DataFrame({
        "method": ["slow", "fast", "sgd"] * 2, "dataset": ["x"] * 3 + ["y"] * 3,
        "converged": [2, 20, 20, 0, 20, 19], "n_splits": [20] * 6,
        "iterations_median": [1000, 60, 100, 1000, 80, 300],
    })  # fmt: skip
    sentence = speed(config, plan, convergence)
    assert sentence.startswith("True of Slow EM, whose rule was met in 2 of 40 runs within the cap")
    assert "; Fast EM met its rule in every run, in a median of 60 to 80 iterations" in sentence
    assert "against 100 to 300 epochs of SGD, not the same work; seconds" in sentence
    # Fewer iterations than epochs is no verdict on time; seconds vary, so no number here.
    assert "not of Fast EM" not in sentence and "×" not in sentence
    assert sentence.endswith("decide the claim in [#app-timing].")


def test_the_abstract_says_the_draws_luck_and_the_matched_budget_outcome():
    em, bp = [28, 27, 29, 28, 27, 29], [24, 25, 23, 24, 25, 23]
    spread = [{"model": "em", "reported": 28, "n_test": 30, "reaching": 6, "n_draws": 200}]
    budgets = contrasts(em, bp, converged=([28] * 6, [28] * 6))
    said = replication.abstract_sentence(spread, budgets)
    assert said.startswith("Replication: the originating EM's 28/30 or better comes from 6 of 200")
    assert "are undecided over 6 splits" in said and "95 % interval" in said
    apart = contrasts(em, bp, converged=(em, bp))
    assert "differ, EM ahead over 6 splits" in replication.abstract_sentence(spread, apart)
    assert replication.abstract_sentence(spread, {"corrected": budgets["corrected"]}) is None


def test_the_speed_claim_is_also_judged_in_the_originating_setting():
    em, bp = [28, 27, 29, 28], [24, 25, 23, 24]
    budgets = contrasts(em, bp, converged=(em, bp))
    sentence = own_setting(budgets)
    assert "EM needed a median of 101.5 iterations and back-propagation 101.5 epochs" in sentence
    assert own_setting({"corrected": budgets["corrected"]}) is None


def test_the_endpoint_gradient_sentence_sets_the_accelerated_em_beside_lbfgs():
    config = {"methods": {
        "fast": {"model": "em", "params": {"acceleration": "squarem"}},
        "direct": {"model": "lbfgs", "params": {"tol": 1e-5}},
        "sgd": {"model": "sgd", "params": {}},
    }}  # fmt: skip
    plan = {"main": {"methods": ["fast", "direct", "sgd"]},
            "labels": {"fast": "Fast EM", "direct": "L-BFGS"}}  # fmt: skip
    convergence = pd.DataFrame({
        "dataset": ["a", "b", "a", "b", "a", "b"],
        "method": ["fast", "fast", "direct", "direct", "sgd", "sgd"],
        "gradient_max_median": [0.02, 0.3, 4e-6, 4e-6, np.nan, np.nan],
    })  # fmt: skip
    sentence = endpoint_gradient(config, plan, convergence)
    assert sentence.startswith("where its runs end, the largest entry of the gradient is")
    assert "a median of 2.00e-2 to 3.00e-1 per dataset, against 4.00e-6 for L-BFGS" in sentence
    assert "whose rule bounds it by $10^{-5}$" in sentence
    assert endpoint_gradient(config, plan, convergence.drop(columns="gradient_max_median")) is None


def test_capped_methods_are_marked_in_the_secondary_and_cross_scoring_tables():
    main = pd.DataFrame({"dataset": ["a", "a", "a"], "method": ["slow", "fast", "floor"],
                         "converged_rate": [0.2, 1.0, np.nan]})  # fmt: skip
    assert capped_cells(main) == {("a", "slow")}
    plan = {"main": {"datasets": ["a"], "methods": ["base", "slow", "fast"], "baseline": "base"},
            "labels": {"slow": "Slow EM", "fast": "Fast EM", "base": "SGD"}}  # fmt: skip
    table = pd.DataFrame({"dataset": "a", "method": ["slow", "fast"], "metric": "accuracy",
                          "mean_difference": 0.01, "ci_low": -0.01, "ci_high": 0.03,
                          "test": "corrected t", "t": 1.0, "p_value": 0.3, "p_holm": 0.6,
                          "wins": 3, "ties": 0, "losses": 2, "family_size": 2})  # fmt: skip
    shown = floats.comparisons(comparison(plan, table, capped_cells(main)))
    labels = [row[1] for row in shown["groups"][0]]
    assert labels == ["Slow EM (capped)", "Fast EM"]
    assert "(capped): the method met its stopping rule on fewer than" in shown["caption"]
    sweep = {"dataset": "a", "n_hidden": 3, "accuracy_mean": 0.9, "accuracy_std": 0.01,
             "accuracy_ci_low": 0.88, "accuracy_ci_high": 0.92, "log_loss_mean": 0.3,
             "log_loss_std": 0.01, "iterations_mean": 10.0}  # fmt: skip
    rows = [{**sweep, "label": "Slow EM", "capped": True}, {**sweep, "label": "Fast EM"}]
    shown = floats.sweep(rows)
    assert [row[1] for row in shown["groups"][0]] == ["Slow EM (capped)", "Fast EM"]
    assert "(capped): the method met" in shown["caption"]
    assert "(capped)" not in floats.sweep(rows[1:])["caption"]


def test_standardizing_is_read_from_the_replication_rows():
    shown = [{"row": "em-bug-compatible", "mean": 0.5}, {"row": "em-standardized", "mean": 0.7}]
    assert "the bug-compatible EM from 50.00 % to 70.00 %" in standardizing(shown)
    assert standardizing([{"row": "em-bug-compatible", "mean": 0.5}]) is None


def ablation(em_correct, bp_correct, loss=1.0986, low_row=None, converged=None):
    """Corrected rows (original split first, then paired), and with converged=(em, bp)
    counts the rows trained to convergence, whose last split hits the cap."""
    lines = []
    budgets = [("corrected", em_correct, bp_correct, 50, 30)]
    if converged:
        budgets.append(("converged", *converged, 5000, 5000))
    for suffix, em, bp, em_steps, bp_steps in budgets:
        for model, counts, steps in (("em", em, em_steps), ("backprop", bp, bp_steps)):
            for protocol, split, n in [("original", 0, counts[0])] + [
                ("paired", k, c) for k, c in enumerate(counts)
            ]:
                capped = suffix == "corrected" or split == len(counts) - 1
                lines.append({"row": f"{model}-{suffix}", "name": f"{model} {suffix}",
                              "model": model, "removed": "all", "protocol": protocol,
                              "split": split, "n_correct": n, "n_test": 30, "n_train": 120,
                              "train_cross_entropy": loss, "train_correct": 100,
                              "n_steps": steps if capped else 100 + split,
                              "cap": steps})  # fmt: skip
    if low_row:
        lines.append({**lines[1], "row": low_row, "name": "a bad row", "n_correct": 1,
                      "train_correct": 3})  # fmt: skip
    return pd.DataFrame(lines)


def contrasts(*args, **kwargs) -> dict:
    """The replication's contrasts by budget, from a small ablation table."""
    return replication.budget_contrasts(ablation(*args, **kwargs))


def test_the_reversal_states_the_lead_and_the_unmatched_budgets():
    (sentence,) = replication.reversal(contrasts([28, 27, 29, 28], [24, 25, 23, 24]))
    assert "original split: there the corrected EM classifies 28/30 and the corrected " in sentence
    assert "ordering reverses on the original split" in sentence  # the originating EM was behind
    assert "paired over 4 splits EM leads by 13.33 percentage points" in sentence
    assert "Holm" not in sentence  # one budget only: nothing to adjust for
    (behind,) = replication.reversal(contrasts([24, 25, 23], [28, 27, 29]))
    assert "ordering stands" in behind and "back-propagation leads by" in behind
    assert "not matched: 50 EM iterations against 30 epochs" in sentence


def test_the_reversal_is_tested_at_matched_budgets_with_holm_over_both():
    em, bp = [28, 27, 29, 28, 27, 29], [24, 25, 23, 24, 25, 23]
    first, matched = replication.reversal(contrasts(em, bp, converged=([28] * 6, [28] * 6)))
    found = contrasts(em, bp, converged=([28] * 6, [28] * 6))
    (low, high) = sorted(found.values(), key=lambda c: c["test"]["p_value"])
    assert low["holm"] == pytest.approx(min(1, 2 * low["test"]["p_value"]))  # Holm, m = 2
    assert high["holm"] == pytest.approx(max(low["holm"], high["test"]["p_value"]))
    assert "Holm-adjusted over the two budgets" in first
    assert (
        "a rule met by EM on 5 of 6 splits in a median of 102.5 iterations" in matched
    )  # 1 capped
    assert "the corrected EM classifies 28/30 and the corrected back-propagation 28/30" in matched
    assert "does not survive training both to convergence" in matched
    same = replication.reversal(contrasts(em, bp, converged=(em, bp)))[1]
    assert "The difference survives training both to convergence." in same
    neither = replication.reversal(contrasts([28] * 6, [28] * 6, converged=([28] * 6, [28] * 6)))
    assert "nor training to convergence show a detectable difference" in neither[1]
    assert (
        "on the original split, though not detectably over the paired splits: on that split the"
        in neither[0]
    )
    assert "though not detectably" not in first


def test_below_chance_rows_are_explained_only_when_training_stalled():
    stalled = replication.below_chance(ablation([28] * 3, [24] * 3, low_row="em-x"))
    assert len(stalled) == 1 and "falls below chance (one class in three) on 1 of" in stalled[0]
    assert "training stalled at a near-uniform prediction" in stalled[0]
    assert "it classifies 3 of its 120 training examples correctly" in stalled[0]
    assert (
        "its favoured class, which changes from row to row, is a wrong one on most rows"
        in (stalled[0])
    )
    trained = replication.below_chance(ablation([28] * 3, [24] * 3, loss=0.3, low_row="em-x"))
    assert "stalled" not in trained[0] and "0.3000" in trained[0]
    assert replication.below_chance(ablation([28] * 3, [24] * 3)) == []


def test_paper_length_counts_main_sections_and_a_formula_as_one_word():
    from emnn.paper.length import html_words

    page = (
        '<section class="abstract"><h2>Abstract</h2><p>Two words.</p></section>'
        '<section id="introduction"><h2>1 Introduction</h2><p>One <b>two</b> '
        "<math><mi>a</mi><mo>+</mo><mi>b</mi></math> four.</p></section>"
        '<section id="conclusion"><h2>2 Conclusion</h2><table><tr><td>cell</td></tr>'
        "</table></section>"
        '<section id="timing"><h2>A Timing</h2><p>not counted at all</p></section>'
    )
    counted = html_words(page)
    assert counted["abstract"] == 2
    # "1 Introduction" + one two (formula) four; "2 Conclusion" + cell.
    assert counted["sections"] == {"introduction": 6, "conclusion": 3}
    assert counted["main"] == 9


def test_blow_ups_name_the_runs_whose_weights_ran_off():
    from emnn.parts.moe.falls import blow_ups

    runs = pd.DataFrame({
        "dataset": ["digits"] * 3 + ["iris"],
        "method": ["moe-irls", "moe-irls", "moe-ecm", "moe-irls"],
        "largest_weight": [5e14, 3.0, 120.0, 2.0],
        "train_objective": [-3e17, -30.0, -20.0, -5.0],
        "final_penalty": [1e7, 0.1, 1.0, 0.1],
        "n_train": [1000, 1000, 1000, 100],
        "test_accuracy": [0.1, 0.97, 0.98, 0.95],
        "converged": [False, False, True, True],
        "ever_decreased": [True, True, False, False],
        "largest_decrease": [3e17, 2.0, 0.0, 0.0],
        "initial_objective": [-2000.0, -2500.0, -2000.0, -200.0],
    })  # fmt: skip
    sentence = blow_ups(runs, {"moe-irls": "IRLS"})
    # The fall that did not blow the weights up is described on its own.
    assert sentence.endswith(
        "The other falls of an EM algorithm, in 1 of 2 runs of IRLS on digits, do not blow the "
        "weights up: the "
        "largest weight stays at most 3 and the largest single fall is 0.002 nats per "
        "training example."
    )
    # A run whose weights stay bounded may still end far below its start: said.
    ended = runs.assign(train_objective=[-3e17, -21600.0, -20.0, -5.0])
    assert blow_ups(ended, {"moe-irls": "IRLS"}).endswith(
        "training example, yet the worst ends at $\\ell/n$ = −21.6, from −2.5 at its start."
    )
    assert "in 1 of 2 runs of IRLS on digits" in sentence  # of its runs on that dataset
    assert "the largest weight ends between 5e14 and 5e14" in sentence
    assert "(at most 120 in every converged run)" in sentence
    assert "test accuracy between 10.00 % and 10.00 %" in sentence
    assert "intercepts" not in sentence  # without l2 the penalty bounds nothing
    # A penalty of 1e7 at l2 = 0.1 bounds every penalized weight by sqrt(2e8) ~ 1.41e4,
    # far below 5e14: the runaway parameter is an unpenalized intercept.
    named = blow_ups(runs, {"moe-irls": "IRLS"}, l2=0.1)
    assert "\\le$ 1.41e4: what runs away is the unpenalized intercepts." in named
    huge = runs.assign(final_penalty=[1e30, 0.1, 1.0, 0.1])  # a weight could be that large
    assert "intercepts" not in blow_ups(huge, {"moe-irls": "IRLS"}, l2=0.1)
    assert blow_ups(runs[runs["largest_weight"] < 1e6], {}) is None
    assert blow_ups(runs.drop(columns="largest_weight"), {}) is None


def test_the_tuned_contrasts_are_named_and_none_is_said_as_nothing():
    from emnn.parts.main.primary_text import contrast_names
    from emnn.study.jobs import tuned_contrasts

    def tuned_text(config):
        return contrast_names(tuned_contrasts(config))

    grid = {"grid": {"l2": [0.1, 1.0]}}
    config = {
        "methods": {"a": grid, "b": grid, "c": {}},
        "study": {"main": {"methods": ["c"], "primary": {"contrasts": [
            {"method": "c", "baseline": "a"}, {"method": "a", "baseline": "b"}]}}},
    }  # fmt: skip
    assert tuned_text(config) == "contrast 2"
    config["study"]["main"]["primary"]["contrasts"].pop()
    assert tuned_text(config) == ""  # the smoke study's config: no contrast tuned
    del config["study"]["main"]["primary"]
    assert tuned_text(config) == ""


def test_tuning_is_said_when_one_side_both_from_one_grid_or_each_its_own_are_tuned():
    from emnn.parts.main.primary_text import tuning

    config = {"methods": {"em": {}, "sgd": {"grid": {"learning_rate": [0.1]}},
                          "sk": {"grid": {"l2": [1.0]}}}}  # fmt: skip
    labels = {"em": "EM", "sgd": "SGD"}
    said = tuning(config, labels, "em", "sgd")
    assert said.startswith("Only SGD has a setting chosen by inner cross-validation")
    assert "EM runs at the configured settings" in said
    assert tuning(config, labels, "em", "em") == ""
    each = tuning(config, labels, "sk", "sgd")  # each side its own setting
    assert each.startswith("sk chooses the penalty $\\lambda$ from $\\{1\\}$ and SGD ")
    assert "each per split by inner cross-validation" in each
    config["methods"]["sk2"] = {"grid": {"l2": [1.0]}}
    both = tuning(config, labels, "sk", "sk2")
    assert both.startswith("Both choose the penalty $\\lambda$ from $\\{1\\}$ per split")


def test_the_latent_claim_is_answered_by_the_contrast_that_keeps_the_optimizer():
    from emnn.paper.originating import model_contrast
    from emnn.parts.main.primary_text import shared_training

    grid = {"l2": [0.1, 1.0]}
    config = {"methods": {
        "em": {"model": "em", "params": {}, "grid": grid},
        "sgd": {"model": "sgd", "params": {}, "grid": grid},
        "lb": {"model": "lbfgs", "params": {}, "grid": grid},
        "det": {"model": "lbfgs-deterministic", "params": {}, "grid": grid},
        "sk": {"model": "sklearn-mlp", "params": {"solver": "lbfgs"}, "grid": grid},
        "det-fixed": {"model": "lbfgs-deterministic", "params": {}},
    }}  # fmt: skip

    def shown(*pairs):
        return {"contrasts": [{"number": n, "shared": shared_training(config, *pair)}
                              for n, pair in enumerate(pairs, start=1)]}  # fmt: skip

    # Only the pair that one optimizer trains, each side at its tuned penalty, answers it:
    # not EM against SGD, not scikit-learn's optimizer, not a fixed penalty.
    assert model_contrast(shown(("em", "sgd"), ("lb", "det")))["number"] == 2
    for other in (("lb", "sk"), ("lb", "det-fixed"), ("em", "sgd")):
        assert model_contrast(shown(other)) is None
    assert model_contrast(None) is None


def test_the_latent_claim_names_what_the_stochastic_units_cost_not_the_counts_again():
    from emnn.paper.originating import latent_verdict
    from emnn.parts.main.primary_text import decided_cells, worse_side_cells

    rows = [{"metric": "log_loss", "dataset": "teacher", "verdict": "worse"},
            {"metric": "accuracy", "dataset": "wine", "verdict": "better"},
            {"metric": "accuracy", "dataset": "iris", "verdict": "undecided"}]  # fmt: skip
    assert decided_cells(rows) == (
        "worse in test log-loss on teacher and better in test accuracy on wine"
    )
    said = latent_verdict({"number": 1, "decided": decided_cells(rows), "worse_side": ""})
    assert said.endswith(
        "the stochastic-unit network is worse in test log-loss on teacher and better in test "
        "accuracy on wine."
    )
    none = latent_verdict({"number": 1, "decided": "", "worse_side": ""})
    assert none.endswith(
        "the stochastic-unit network is found worse in none of its tests after Holm's adjustment."
    )
    # An interval that already lies on the worse side is said, not hidden by Holm.
    leaning = [{**rows[2], "ci_low": -2.6, "ci_high": -0.5},
               {"metric": "log_loss", "dataset": "iris", "verdict": "undecided",
                "ci_low": 0.007, "ci_high": 0.056},
               {"metric": "accuracy", "dataset": "d", "verdict": "undecided",
                "ci_low": -1.0, "ci_high": 0.5}]  # fmt: skip
    assert worse_side_cells(leaning) == "test accuracy and test log-loss on iris"
    assert latent_verdict({"number": 1, "decided": "", "worse_side": "x on y"}).endswith(
        "though its unadjusted 95 % interval lies wholly on the worse side in x on y."
    )


def test_the_convergence_table_marks_a_method_stopped_at_its_cap():
    row = {"dataset": "a", "first": True, "span": 2, "converged": 2, "n_splits": 20,
           "iterations": 1000, "n_estep": 1001, "exact_objective": -0.1, "gap": 1e-3,
           "mean_field_objective": None, "gradient": 0.02}  # fmt: skip
    rows = [
        {**row, "label": "Capped EM", "capped": True},
        {**row, "label": "Fast EM", "capped": False, "first": False, "converged": 20},
    ]
    reference = "the split's reference optimum"
    shown = floats.convergence({"rows": rows, "reference": reference})
    labels = [cells[1] for group in shown["groups"] for cells in group]
    assert labels == ["Capped EM (capped)", "Fast EM"]
    assert "(capped): the method met its stopping rule on fewer than" in shown["caption"]
    assert "median gap to the split's reference optimum" in shown["caption"]
    caption = floats.convergence({"rows": rows[1:], "reference": reference})["caption"]
    assert "(capped)" not in caption


def test_the_penalty_caveat_names_a_contrast_that_tunes_one_side_only():
    from emnn.parts.main.narrative import penalty_caveat

    grid = {"grid": {"l2": [0.1, 1.0]}}
    contrasts = [{"method": "a", "baseline": "b"}, {"method": "em", "baseline": "sgd"}]
    config = {"methods": {"a": grid, "b": grid, "em": grid, "sgd": {}, "fixed": {}},
              "study": {"main": {"methods": ["fixed", "sgd"],
                                 "primary": {"contrasts": contrasts}}}}  # fmt: skip
    plan = {"main": config["study"]["main"], "labels": {"em": "EM (tuned)"}}
    (said,) = penalty_caveat(config, plan)
    assert said.startswith("Only contrast 1 chooses the penalty of both its methods, contrast 2")
    assert "contrast 2 that of EM (tuned) only; elsewhere it is fixed" in said
    config["study"]["main"]["primary"]["contrasts"].pop()
    (alone,) = penalty_caveat(config, plan)
    assert "Only contrast 1 chooses the penalty of both its methods; elsewhere" in alone


def test_the_primary_tables_show_the_unadjusted_tost_p_beside_holms():
    from emnn.parts.main.primary_text import tost_cell

    assert tost_cell({"p_equivalence_holm": 0.08, "p_equivalence": 0.02}) == "0.0800 (0.0200)"
    assert tost_cell({"p_equivalence_holm": float("nan"), "p_equivalence": float("nan")}) == "–"


def test_a_contrast_that_changes_only_the_model_is_named_by_how_both_sides_train():
    from emnn.parts.main.primary_text import shared_training

    grid = {"grid": {"l2": [0.1, 1.0]}}
    config = {"methods": {"s": {"model": "lbfgs", **grid},
                          "d": {"model": "lbfgs-deterministic", **grid},
                          "fixed": {"model": "lbfgs-deterministic"},
                          "sgd": {"model": "sgd", **grid}}}  # fmt: skip
    assert shared_training(config, "s", "d") == (
        "each trained by L-BFGS at its cross-validated penalty"
    )
    assert shared_training(config, "s", "fixed") == ""  # one side's penalty is not tuned
    assert shared_training(config, "s", "sgd") == ""  # another optimizer
