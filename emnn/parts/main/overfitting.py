"""Whether a better optimum of the training objective meant a worse test log-loss: the
evidence, split by split, that at a fixed penalty the best optimizer can overfit."""

from __future__ import annotations

import pandas as pd
from scipy import stats

from ...typeset.formats import number
from ...typeset.markup import literal
from ...typeset.words import count_of, join
from .results import capped as is_capped
from .results import own_width


def rank_agreement(runs: pd.DataFrame, datasets: list[str], methods: list[str]) -> list[dict]:
    """Per dataset: on how many splits Spearman's correlation, over the methods' runs on
    that split, between the penalized training objective and the test log-loss is
    positive (the higher objective went with the worse test log-loss) and negative."""
    shown = []
    for dataset in datasets:
        chosen = runs[(runs["dataset"] == dataset) & runs["method"].isin(methods)]
        signs = []
        for _, split in chosen.groupby("split"):
            if len(split) < 3:
                continue
            rho = stats.spearmanr(split["train_objective"], split["test_log_loss"]).statistic
            signs.append(rho)
        shown.append({
            "dataset": dataset,
            "worse": sum(r > 0 for r in signs),
            "better": sum(r < 0 for r in signs),
            "n_splits": len(signs),
        })  # fmt: skip
    return shown


def split_counts(rows: list[dict]) -> str:
    """ "0, 3 and 18 of the 20 splits of a, b and c": the split count said once when every
    dataset has the same, else per dataset."""
    sizes = {r["n_splits"] for r in rows}
    if len(sizes) == 1:
        return (f"{join([str(r['worse']) for r in rows])} of the {sizes.pop()} splits of "
                f"{join([literal(r['dataset']) for r in rows])}")  # fmt: skip
    return join([f"{r['worse']} of {r['n_splits']} splits of {literal(r['dataset'])}"
                 for r in rows])  # fmt: skip


def overfitting_sentences(
    runs, summary, plan: dict, methods: list[str], tuned: list[str] = ()
) -> list[str]:
    """Two sentences: the split counts per dataset, then the means on the dataset where
    the agreement is strongest, in order of the training objective reached; a third with
    the test log-loss there of the methods whose penalty inner cross-validation chose."""
    datasets = plan["main"]["datasets"]
    own = own_width(runs, plan)
    rows = rank_agreement(own, datasets, methods)
    if not rows or not any(r["n_splits"] for r in rows):
        return []
    labels = plan["labels"]
    counts = split_counts(rows)
    first = (
        f"Among the {len(methods)} trainers of the exact likelihood, the run that reached the "
        "higher penalized training objective on a split had the worse test log-loss "
        f"(Spearman's rank correlation over the split's runs positive) on {counts}."
    )
    top = max(rows, key=lambda r: (r["worse"] - r["better"], r["dataset"]))
    means = (
        own[(own["dataset"] == top["dataset"]) & own["method"].isin(methods)]
        .groupby("method")[["train_objective", "n_train", "test_log_loss"]]
        .mean()
        .sort_values("train_objective")
    )
    on_top = summary[summary["dataset"] == top["dataset"]].set_index("method")
    capped = {m for m in means.index if m in on_top.index and is_capped(on_top.loc[m])}
    steps = join([
        f"{literal(labels.get(m, m))}{', capped,' if m in capped else ''} "
        f"{number(r.train_objective / r.n_train, 'objective', minus='−')} and "
        f"{number(r.test_log_loss, 'log_loss')}"
        for m, r in means.iterrows()
    ])  # fmt: skip
    second = (
        f"On {literal(top['dataset'])}, in order of the mean training objective per example "
        f"reached, the mean objective and test log-loss are: {steps}."
    )
    extra = []
    main = summary[summary["dataset"] == top["dataset"]]
    baseline = plan["main"].get("baseline")
    for _, row in main.iterrows():
        if row["method"] == baseline:
            extra.append(f"{literal(labels.get(baseline, baseline))}, on the deterministic "
                         f"network, {number(row['log_loss_mean'], 'log_loss')}")  # fmt: skip
        elif str(row.get("reference")) == "True":
            extra.append(f"the teacher network itself {number(row['log_loss_mean'], 'log_loss')}")
    if extra:
        second = second[:-1] + f"; {join(extra)}."
    return [first, second, *tuned_sentence(own, top["dataset"], tuned, labels)]


def tuned_sentence(runs, dataset: str, tuned, labels: dict) -> list[str]:
    """The mean test log-loss on the dataset of each method whose penalty was chosen per
    split, over its converged runs: the test of whether the fixed penalty overfits."""
    shown = []
    for method in tuned:
        own = runs[(runs["dataset"] == dataset) & (runs["method"] == method) & runs["converged"]]
        if len(own):
            text = (f"{number(own['test_log_loss'].mean(), 'log_loss')} for "
                    f"{literal(labels.get(method, method))}")  # fmt: skip
            if "l2" in own and own["l2"].notna().any():
                chosen = own["l2"].value_counts()  # the most frequent choice first
                text += (f", at $\\lambda = {chosen.index[0]:g}$ on "
                         f"{count_of(int(chosen.iloc[0]), len(own), 'splits')}")  # fmt: skip
            shown.append(text)
    if not shown:
        return []
    return [
        "With the penalty chosen per split by inner cross-validation, the mean test log-loss "
        f"of converged runs there is {join(shown)}."
    ]
