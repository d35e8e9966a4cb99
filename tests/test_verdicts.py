"""The verdict sentences follow the tables: two different tables, two different sentences."""

import pandas as pd

from emnn import verdicts

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


def test_the_difference_verdict_counts_datasets_after_holm():
    same = verdicts.difference_verdict(
        comparisons([1.0, 0.5, 0.2], [0.0, 0.01, -0.02]), "em", LABELS
    )
    assert same == (
        "EM and SGD are indistinguishable in test accuracy on 3 of 3 datasets after Holm's "
        "correction (adjusted p ≥ 0.05)."
    )
    split = verdicts.difference_verdict(
        comparisons([1.0, 0.01, 0.001], [0.0, 0.02, -0.03]), "em", LABELS
    )
    assert "on 1 of 3 datasets" in split
    assert "; EM is better on wine; SGD is better on digits." in split


def test_for_log_loss_a_lower_value_is_better():
    table = comparisons([0.01, 0.5, 0.5], [-0.1, 0.0, 0.0]).assign(metric="log_loss")
    sentence = verdicts.difference_verdict(table, "em", LABELS, metric="log_loss")
    assert "test log-loss on 2 of 3 datasets" in sentence and "EM is better on iris" in sentence


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
        "EM does not come within a relative 1e-6 of the split's best objective before its cap "
        "on iris, where L-BFGS does."
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


def test_the_headline_trainer_is_the_one_that_converged_most():
    table = pd.DataFrame(
        {"method": ["em", "em", "lbfgs", "lbfgs"], "converged": [1, 0, 20, 19],
         "n_splits": [20] * 4}
    )  # fmt: skip
    assert verdicts.most_converged(table, ["em", "lbfgs"]) == ["lbfgs", "em"]
    table["converged"] = 0
    assert verdicts.most_converged(table, ["em", "lbfgs"]) == ["em", "lbfgs"]
