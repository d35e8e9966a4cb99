"""The verdict sentences follow the tables: two different tables, two different sentences."""

import numpy as np
import pandas as pd

from emnn.parts.main import verdicts
from emnn.parts.main.narrative import cross_discussion

LABELS = {"em": "EM", "sgd": "SGD", "lbfgs": "L-BFGS"}


def comparisons(p_holm, differences):
    return pd.DataFrame(
        {
            "dataset": ["iris", "wine", "digits"],
            "method": "em",
            "baseline": "sgd",
            "metric": "accuracy",
            "mean_difference": differences,
            "p_holm": p_holm,
        }
    )


def test_the_family_verdict_counts_comparisons_after_holm():
    same = verdicts.family_verdict(
        comparisons([1.0, 0.5, 0.2], [0.0, 0.01, -0.02]), ["em"], LABELS, "accuracy", "EM"
    )
    assert same == (
        "EM and SGD show no detectable difference in test accuracy on any dataset after Holm’s "
        "correction: all 3 comparisons have adjusted p ≥ 0.05."
    )
    split = verdicts.family_verdict(
        comparisons([1.0, 0.01, 0.001], [0.0, 0.02, -0.03]), ["em"], LABELS, "accuracy", "EM"
    )
    assert split.startswith("1 of the 3 comparisons of EM with SGD in test accuracy show no")
    assert "; EM is better than SGD on wine; SGD is better than EM on digits." in split


def test_the_family_verdict_names_each_method_that_differs():
    table = pd.concat(
        [
            comparisons([1.0, 1.0, 1.0], [0.0, 0.0, 0.0]),
            comparisons([0.001, 1.0, 0.001], [0.05, 0.0, 0.04]).assign(method="lbfgs"),
        ]
    )
    sentence = verdicts.family_verdict(table, ["em", "lbfgs"], LABELS, "accuracy", "The two")
    assert sentence.startswith("4 of the 6 comparisons of the two with SGD")
    assert sentence.endswith("; L-BFGS is better than SGD on iris and digits.")


def test_for_log_loss_a_lower_value_is_better():
    table = comparisons([0.01, 0.5, 0.5], [-0.1, 0.0, 0.0]).assign(metric="log_loss")
    sentence = verdicts.family_verdict(table, ["em"], LABELS, "log_loss", "EM")
    assert "in test log-loss show no detectable difference" in sentence
    assert sentence.endswith("EM is better than SGD on iris.")


def suboptimality(fast_reaches, slow_reaches):
    rows = []
    for method, reach in (("lbfgs", fast_reaches), ("em", slow_reaches)):
        for n_estep in (1, 10, 100, 1000):
            value = 1e-9 if reach is not None and n_estep >= reach else 1e-3
            rows.append({"dataset": "iris", "method": method, "n_estep": n_estep,
                         "median": value})  # fmt: skip
    return pd.DataFrame(rows)


def test_the_speed_verdict_is_a_ratio_of_e_steps():
    sentence = verdicts.speed_verdict(suboptimality(10, 1000), "lbfgs", "em", LABELS, ["iris"])
    assert "in 100.0× fewer E-step evaluations than EM" in sentence
    assert "1e-6" in sentence
    slower = verdicts.speed_verdict(suboptimality(100, 10), "lbfgs", "em", LABELS, ["iris"])
    assert (
        slower.startswith("EM comes within")
        and "10.0× fewer E-step evaluations than L-BFGS" in slower
    )
    missed = verdicts.speed_verdict(suboptimality(10, None), "lbfgs", "em", LABELS, ["iris"])
    assert missed == (
        "EM does not come within a relative 1e-6 of the split’s reference optimum before it "
        "stops "
        "on iris, where L-BFGS does; L-BFGS reaches the objective at which EM stops in 1000× "
        "fewer E-step evaluations there (median split)."
    )


def test_where_neither_reaches_the_optimum_the_speed_verdict_compares_where_they_stop():
    curves = {"lbfgs": [1e-2, 1e-4, 1e-5, 1e-5], "em": [1e-1, 1e-2, 1e-3, 1e-4]}
    table = pd.DataFrame(
        [{"dataset": "iris", "method": method, "n_estep": n_estep, "median": value}
         for method, values in curves.items()
         for n_estep, value in zip((1, 10, 100, 1000), values, strict=True)]
    )  # fmt: skip
    sentence = verdicts.speed_verdict(table, "lbfgs", "em", LABELS, ["iris"])
    assert sentence == (
        "Neither L-BFGS nor EM comes within a relative 1e-6 of the split’s reference optimum on "
        "iris; L-BFGS "
        "reaches the objective at which EM stops in 100× fewer E-step evaluations there "
        "(median split)."
    )
    curves["lbfgs"] = [1e-1, 1e-2, 1e-3, 1e-4]  # the same curve: no speed-up to claim
    table["median"] = [v for values in curves.values() for v in values]
    sentence = verdicts.speed_verdict(table, "lbfgs", "em", LABELS, ["iris"])
    assert sentence.endswith("in about as many E-step evaluations there (median split).")
    assert verdicts.fewer(np.array([1.1, 2.4]), ".0f") == "up to 2× fewer"
    assert verdicts.fewer(np.array([3.0, 5.2]), ".0f") == "3× to 5× fewer"
    curves["lbfgs"] = [1e-2, 1e-3, 1e-3, 1e-3]  # it never gets as far as EM: no claim
    table["median"] = [v for values in curves.values() for v in values]
    sentence = verdicts.speed_verdict(table, "lbfgs", "em", LABELS, ["iris"])
    assert sentence == (
        "Neither L-BFGS nor EM comes within a relative 1e-6 of the split’s reference optimum "
        "on iris."
    )


def test_the_convergence_verdict_names_who_stopped_at_the_cap():
    table = pd.DataFrame(
        {"method": ["lbfgs", "lbfgs", "em", "em"], "dataset": ["iris", "wine"] * 2,
         "converged": [20, 20, 3, 0], "n_splits": [20] * 4}
    )  # fmt: skip
    sentence = verdicts.convergence_verdict(table, LABELS)
    assert sentence.startswith("L-BFGS met its own stopping rule on every run")
    assert "by EM in 3 of 40 runs" in sentence
    table["converged"] = 20
    assert "cap" not in verdicts.convergence_verdict(table, LABELS)


def test_metrics_that_all_agree_share_one_sentence():
    both = pd.concat(
        [comparisons([1.0, 0.5, 0.2], [0.0, 0.01, -0.02]).assign(metric=m)
         for m in ("accuracy", "log_loss")], ignore_index=True
    )  # fmt: skip
    (sentence,) = verdicts.family_verdicts(both, ["em"], LABELS, "EM")
    assert sentence == (
        "EM and SGD show no detectable difference in test accuracy and test log-loss on any "
        "dataset after Holm’s correction: all 6 comparisons have adjusted p ≥ 0.05."
    )
    both.loc[both.index[-1], "p_holm"] = 0.001  # one log-loss comparison differs
    accuracy, log_loss = verdicts.family_verdicts(both, ["em"], LABELS, "EM")
    assert "no detectable difference in test accuracy on any dataset" in accuracy
    assert log_loss.startswith("2 of the 3 comparisons of EM with SGD in test log-loss")


def test_the_power_caveat_counts_lopsided_comparisons_that_no_test_declares():
    from emnn.parts.main.narrative import power_caveat

    table = comparisons([1.0, 0.5, 0.01], [0.0, 0.01, -0.02]).assign(
        n_splits=20, family_size=3, wins=[2, 16, 1], losses=[3, 4, 19]
    )
    (sentence,) = power_caveat(table)
    assert sentence.startswith("In the secondary comparisons ([#app-comparison]), with 20 splits")
    assert "over 3 comparisons have little power" in sentence
    assert "and 1 of the comparisons without one still go the same way" in sentence  # wine
    table["wins"] = [2, 10, 1]
    assert "and 0 of the comparisons without one" in power_caveat(table)[0]


def cross_table(mean_field_test: dict, mean_field_train: float = 0.1) -> pd.DataFrame:
    """cross.csv of one exact-trained method (exact test log-loss 0.2, training 0.3) and
    one mean-field-trained one, with the exact-trained one's mean-field test log-loss
    given per dataset."""
    rows = []
    for dataset, mf_test in mean_field_test.items():
        for method, trained_for in (("em", "exact"), ("sgd", "mean-field")):
            for predictor in ("exact", "mean-field"):
                own = predictor == trained_for
                test = 0.2 if own else (mf_test if trained_for == "exact" else 0.25)
                train = 0.3 if own or trained_for != "exact" else mean_field_train
                rows.append({"dataset": dataset, "method": method, "trained_for": trained_for,
                             "predictor": predictor, "test_log_loss_mean": test,
                             "train_log_loss_mean": train})  # fmt: skip
    return pd.DataFrame(rows)


def test_the_cross_scoring_discussion_follows_the_table():
    datasets = ["a", "b"]
    both = cross_discussion(cross_table({"a": 0.1, "b": 0.3}), datasets)
    assert "a lower training log-loss on every dataset and a lower test log-loss on a" in both[1]
    assert "(higher on b)" in both[1]
    assert both[2].startswith("On b that better fit does not carry to the test part")
    assert "stochastic-unit networks on every dataset:" in both[3]
    mixed = cross_table({"a": 0.1, "b": 0.3})
    flip = (mixed["dataset"] == "b") & (mixed["trained_for"] == "mean-field")
    mixed.loc[flip & (mixed["predictor"] == "exact"), "test_log_loss_mean"] = 0.15
    assert "stochastic-unit networks on a (lower on b):" in cross_discussion(mixed, datasets)[3]
    better = cross_discussion(cross_table({"a": 0.1, "b": 0.1}), datasets)
    assert "lower test log-loss on every dataset." in better[1]
    assert not any("does not follow" in s for s in better)
    looser = cross_discussion(cross_table({"a": 0.3, "b": 0.3}, mean_field_train=0.5), datasets)
    assert "training log-loss on no dataset and a lower test log-loss on no dataset" in looser[1]
    assert not any("does not follow" in s for s in looser)
    assert cross_discussion(cross_table({"a": 0.1}), ["other"]) == []


def test_the_optima_sentence_counts_splits_where_two_converged_trainers_part():
    rows = []
    for split, gap in enumerate([0.0, 5e-4, -3e-4, 2e-5]):  # em minus direct, per example
        rows += [
            {"dataset": "iris", "split": split, "method": "lbfgs", "train_objective": -10.0,
             "n_train": 100},
            {"dataset": "iris", "split": split, "method": "em",
             "train_objective": -10.0 + 100 * gap, "n_train": 100},
        ]  # fmt: skip
    sentence = verdicts.optima_sentence(
        pd.DataFrame(rows), ["iris"], "lbfgs", "em", {"lbfgs": "L", "em": "E"}
    )
    # Below EM by more than 1e-4 per example on one split, above on one, within on two.
    assert sentence.startswith("L and E both meet their stopping rules, yet not at one optimum")
    assert "L ends more than 0.0001 nats per example below E on 1 and above it on 1 of the 4 " in (
        sentence
    )
    # Only the datasets asked for count.
    assert "of the 4 paired runs" in verdicts.optima_sentence(
        pd.concat([pd.DataFrame(rows), pd.DataFrame(rows).assign(dataset="wine")]),
        ["iris"], "lbfgs", "em", {},
    )  # fmt: skip


def test_same_target_speed_counts_only_splits_where_both_converged():
    rows = []
    for dataset, pairs in {"a": [(100, 250), (100, 300), (50, 200)], "b": [(400, 100)] * 2}.items():
        for split, (direct, em) in enumerate(pairs):
            # The pair in either order: lbfgs first on a, em first on b.
            first = dataset == "a"
            rows.append({"dataset": dataset, "split": split,
                         "method": "lbfgs" if first else "em", "other": "em" if first else "lbfgs",
                         "n_estep": direct if first else em,
                         "other_n_estep": em if first else direct,
                         "converged": True, "other_converged": True})  # fmt: skip
    table = pd.DataFrame(rows)
    # a: ratios 2.5, 3 and 4 (median 3); b: 0.25 twice, where EM spends fewer.
    sentence = verdicts.same_target_speed(table, "lbfgs", "em", LABELS, 1e-4)
    assert sentence == (
        "From the same initial weights to one objective value (within 0.0001 nats per example "
        "of the lower of their two ends), L-BFGS spends up to 3.0× fewer E-steps than EM "
        "(median split per dataset, over the 5 splits where both met their stopping rule)."
    )
    # Where the other spends fewer, the sentence names it first.
    assert "EM spends 4.0× fewer E-steps than L-BFGS" in verdicts.same_target_speed(
        table[table.dataset == "b"], "lbfgs", "em", LABELS, 1e-4
    )
    # A split on which either run stopped at its cap does not count (read as CSV strings too).
    capped = table[table.dataset == "a"].assign(other_converged=[True, True, "False"])
    assert verdicts.same_target_speed(capped, "lbfgs", "em", LABELS, 1e-4).endswith(
        "L-BFGS spends 2.8× fewer E-steps than EM (median split per dataset, over the 2 "
        "splits where both met their stopping rule)."
    )
    assert verdicts.same_target_speed(table.iloc[0:0], "lbfgs", "em", LABELS, 1e-4) is None


def test_the_e_step_count_gets_its_twin_in_wall_time():
    plan = {"main": {"datasets": ["a", "b"]}, "n_hidden": {"lbfgs": 7, "em": 7, "sgd": 7}}
    fit = [{"dataset": d, "method": m, "n_hidden": h, "fit_seconds_median": t}
           for d, m, h, t in [("a", "lbfgs", 7, 2.0), ("a", "em", 7, 1.0), ("b", "lbfgs", 7, 0.1),
                              ("b", "em", 7, 2.7), ("b", "lbfgs", 3, 100.0), ("a", "sgd", 7, 0.1),
                              ("b", "sgd", 7, 0.03)]]  # fmt: skip
    said = verdicts.converged_time(fit, "lbfgs", "em", "sgd", LABELS, plan)
    # The m = 3 row is not the main width; each ratio is per dataset.
    assert said.startswith("Per dataset, EM's median run takes 0.5× to 27× L-BFGS's and 10× to")
    assert "90× SGD's: counts of E-steps, iterations and epochs leave out" in said
    alone = verdicts.converged_time(fit[:5], "lbfgs", "em", "sgd", LABELS, plan)
    assert "SGD" not in alone  # SGD untimed: only what was timed on every dataset
    assert verdicts.converged_time(fit[:1], "lbfgs", "em", None, LABELS, plan) is None


def test_the_algorithm_answer_counts_the_runs_that_end_below_the_reference():
    convergence = pd.DataFrame({
        "dataset": ["a", "a", "b", "b", "b"], "method": ["lbfgs", "em", "lbfgs", "em", "sgd"],
        "objective": ["exact"] * 4 + ["mean-field"], "n_splits": [20] * 5,
        "below_reference": [3, 10, 5, 12, 0], "above_reference": [0, 0, 1, 0, 0],
    })  # fmt: skip
    said = verdicts.below_reference(convergence, "lbfgs", LABELS, "the best of 5 runs", 1e-4)
    assert said == (
        "On the exact likelihood, 30 of the 80 runs end more than 0.0001 nats per example "
        "below the best of 5 runs on their split, L-BFGS's own 8 of 40 among them, so the "
        "E-steps a trainer spends measure its way to its own stop, not to one common optimum."
    )
    most = convergence.assign(below_reference=[13, 20, 15, 12, 0])  # 60 of 80: most
    assert verdicts.below_reference(most, "lbfgs", LABELS, "the best of 5 runs", 1e-4).startswith(
        "On the exact likelihood, most runs end at a lower optimum than the reference: 60 of "
    )
    assert verdicts.below_reference(convergence.drop(columns="below_reference"), "lbfgs",
                                    LABELS, "x", 1e-4) is None  # fmt: skip
