"""How the study was set up and where its files come from, as tables (emnn.parts.main.floats):
datasets, seeds, methods and the choices of inner cross-validation; the software
environment, the provenance of each figure, SHA-256 listings and wall-clock timings."""

from __future__ import annotations

from ..typeset.floats import column, num, table
from ..typeset.formats import count_text
from ..typeset.markup import literal

# Where each bundled dataset comes from (its name alone repeats the dataset's): scikit-learn's
# digits are the test part of UCI's Optdigits, not all 5,620 images the UCI entry describes.
SOURCES = {
    **{
        name: f"`load_{name}` [@pedregosa2011sklearn] [{origin}]"
        for name, origin in (
            ("iris", "@fisher1936iris"),
            ("wine", "@aeberhard1991wine"),
            ("breast_cancer", "@wolberg1995breast"),
        )
    },
    "digits": (
        "scikit-learn's `load_digits` [@pedregosa2011sklearn]: the 1,797 images (8 × 8) of "
        "the test part of UCI's Optdigits [@alpaydin1998digits]"
    ),
    "teacher": (
        "sampled from a network of stochastic binary hidden units with random weights, the "
        "model class of [#eq-marginal]: $x \\sim N(0, I)$, "
        "$z_h \\sim \\mathrm{Bernoulli}(\\sigma(w_h \\cdot x + b_h))$, "
        "$y \\sim \\mathrm{softmax}(V z + c)$"
    ),
}


def datasets(protocol: dict) -> dict:
    """The datasets table; their splits in a column, or in the caption when every dataset
    is split alike (the same words five times over would be a sentence repeated)."""
    shared = {d["splits"] for d in protocol["datasets"]}
    alike = len(shared) == 1

    def cells(d):
        source = SOURCES.get(d["source"], literal(d["source"]))
        if d["source_params"]:
            source += f" ({literal(d['source_params'])})"
        row = [
            literal(d["name"]),
            source,
            count_text(d["n"]),
            str(d["p"]),
            str(d["g"]),
            d["class_counts"],
        ]
        return row if alike else [*row, literal(d["splits"])]

    columns = [
        column("Dataset", width=0.17),
        column("Source", width=0.2),
        column("$n$", "r"),
        column("$p$", "r"),
        column("$g$", "r"),
        column("Class counts", width=0.1),
    ]
    if alike:
        caption = (
            f"Datasets: size $n$, features $p$ and classes $g$; each split into "
            f"{literal(shared.pop())}."
        )
    else:
        columns.append(column("Splits", width=0.26))
        caption = "Datasets: size $n$, features $p$, classes $g$, and splits."
    return table("tab-datasets", caption, columns, [list(map(cells, protocol["datasets"]))])


def seeds(protocol: dict) -> dict:
    rows = [
        [literal(s["role"]), literal(s["use"]), f"`{literal(s['spawn_key'])}`", str(s["seed"])]
        for s in protocol["seed_rows"]
    ]
    columns = [column("Stream"), column("Used for"), column("Spawn key"), column("Seed", "r")]
    caption = (
        f"Seeds of split 0 of {literal(protocol['seed_dataset'])}, root seed {protocol['seed']}."
    )
    return table("tab-seeds", caption, columns, [rows])


def methods(protocol: dict) -> dict:
    def cells(meth):
        configured = f"`{literal(meth['params'])}`"
        if meth["grid"]:
            configured += (
                f"\ngrid, by {meth['inner_folds']}-fold inner cross-validation on "
                f"the training part: `{literal(meth['grid'])}`"
            )
            if meth.get("inner_params"):
                configured += f", its fits with `{literal(meth['inner_params'])}`"
        defaults = f"`{literal(meth['defaults'])}`" if meth["defaults"] else "–"
        return [
            f"{literal(meth['label'])}\n`{literal(meth['name'])}`",
            literal(meth["model_text"]),
            configured,
            defaults,
        ]

    columns = [
        column("Method", width=0.2),
        column("Model", width=0.2),
        column("Configured", width=0.3),
        column("Defaults in effect", width=0.22),
    ]
    caption = (
        "Methods and their hyperparameters: as configured, and the defaults in effect of "
        "those the method uses; `l2` is the penalty $\\lambda$ of [#eq-objective]."
    )
    return table(
        "tab-methods",
        caption,
        columns,
        [list(map(cells, protocol["methods"]))],
        size="footnotesize",
    )


def selection(protocol: dict) -> dict:
    rows = [
        [
            literal(r["dataset"]),
            literal(r["label"]),
            str(r["inner_folds"]),
            f"`{literal(r['choices'])}`",
        ]
        for r in protocol["selection"]
    ]
    columns = [
        column("Dataset", width=0.17),
        column("Method", width=0.3),
        column("Folds", "r"),
        column("Chosen", width=0.4),
    ]
    caption = (
        "Hyperparameters chosen by inner cross-validation on the training part of each split, "
        "and in how many of the splits; “grid edge”: the smallest or largest value of the "
        "grid, where a wider grid might have chosen beyond it."
    )
    return table("tab-selection", caption, columns, [rows], size="footnotesize")


def environment(appendix: dict) -> dict:
    rows = [
        ["commit", f"`{literal(appendix['commit'])}`"],
        ["config sha256 (canonical JSON)", f"`{appendix['config_sha256']}`"],
        ["report code sha256", f"`{appendix['report_code_sha256']}`"],
    ]
    rows += [[literal(name), literal(version)] for name, version in appendix["versions"]]
    columns = [column("Item", width=0.26), column("Value", width=0.7)]
    return table(
        "tab-environment",
        "Code and software environment of this report.",
        columns,
        [rows],
        size="footnotesize",
    )


def common_code(figures: list[dict]) -> list[str]:
    """The code files every figure's drawing depends on, listed once in the appendix."""
    shared = set.intersection(*(set(f["code_files"]) for f in figures)) if figures else set()
    return sorted(shared)


def figure_provenance(figures: list[dict]) -> dict:
    shared = set(common_code(figures))

    def cells(f):
        extra = [name for name in f["code_files"] if name not in shared]
        code = "the common code" + (f" and {literal(', '.join(extra))}" if extra else "")
        lines = [
            f"`{literal(f['command'])}`",
            f"code: {code}; sha256 `{f['code_sha256']}`",
        ]
        lines += [f"input `{literal(path)}`: `{digest}`" for path, digest in f["inputs"]]
        lines.append(
            f"study plan sha256 `{f['study_sha256']}`, seed {f['seed']}, "
            f"emnn {literal(f['emnn_version'])}"
        )
        return [f"[#{f['anchor']}]\n`{literal(f['name'])}`", "\n".join(lines)]

    columns = [column("Figure", width=0.2), column("Provenance", width=0.77)]
    return table(
        "tab-figures",
        "Provenance of the figures.",
        columns,
        [list(map(cells, figures))],
        size="scriptsize",
        long=True,
    )


def hashes(anchor: str, caption: str, listing: list) -> dict:
    rows = [[f"`{literal(path)}`", f"`{digest}`"] for digest, path in listing]
    columns = [column("Path", width=0.37), column("SHA-256")]
    return table(anchor, caption, columns, [rows], size="scriptsize", long=True)


def fit_times(fit: list[dict]) -> dict:
    rows = [
        [
            literal(r["dataset"]),
            literal(r["label"]),
            str(r["n_hidden"]),
            str(r["n_splits"]),
            num(r["fit_seconds_median"], "seconds"),
            num(r["fit_seconds_total"], "seconds"),
            num(r["seconds_per_iteration_median"], "seconds"),
        ]
        for r in fit
    ]
    columns = [
        column("Dataset", width=0.17),
        column("Method", width=0.25),
        column("$m$", "r"),
        column("Splits", "r"),
        column("Median (s)", "r"),
        column("Total (s)", "r"),
        column("Per iteration (s)", "r"),
    ]
    caption = (
        "Wall time in seconds of each job's final fits, which train all its splits together: "
        "a run's share of it, in proportion to its iterations (median and total over splits), and "
        "the median share per iteration or epoch. The inner cross-validation's time is not "
        "included."
    )
    # One row per dataset, method and m: longer than a page in the full study.
    return table("tab-fit-times", caption, columns, [rows], long=True)


def estep_cost(estep: list[dict]) -> dict:
    rows = [
        [
            str(r["n_hidden"]),
            str(r["n"]),
            num(r["e_step_seconds"], "ms"),
            num(r["m_step_seconds"], "ms"),
        ]
        for r in estep
    ]
    columns = [
        column("$m$", "r"),
        column("$n$", "r"),
        column("E-step (ms)", "r"),
        column("M-step (ms)", "r"),
    ]
    caption = "One exact E-step and one Newton M-step, in milliseconds (best of repeated calls)."
    return table("tab-estep-cost", caption, columns, [rows])
