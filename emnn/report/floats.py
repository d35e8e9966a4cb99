"""The paper's tables as data: caption, columns and rows in paper markup, set by one
macro per format.

Each function turns the rows that context() gathers into a table of the form the
sections agree on (shared-spec "Tables as data"): an anchor, a caption, columns
with a title, an alignment and an optional width (a fraction of the line), an
optional row of column groups, groups of rows separated by a rule, a type size,
and whether it may break across pages. A cell is paper markup (emnn.report.markup;
names through literal(), numbers already formatted) or a dict with its text and
"bold" or "italic"; two extensions serve the existing tables: "rows" (a cell
spanning the rows below it, which hold None in its column) and a line break
written as a newline in the cell's text.
"""

from __future__ import annotations

from functools import partial

from .formats import finite, number
from .markup import literal

num = partial(number, minus="−")


def column(title: str, align: str = "l", width: float | None = None) -> dict:
    return {"title": title, "align": align, "width": width}


def table(anchor, caption, columns, groups, header_groups=None, size="small", long=False):
    return {"anchor": anchor, "caption": caption, "columns": columns, "groups": groups,
            "header_groups": header_groups, "size": size, "long": long}  # fmt: skip


def mean_sd(mean, sd, kind: str) -> str:
    return num(mean, kind) + (f" ± {num(sd, kind)}" if finite(sd) else "")


def interval(low, high, kind: str) -> str:
    return f"\\[{num(low, kind)}, {num(high, kind)}]" if finite(low) and finite(high) else "–"


def grouped(rows: list[dict], cells) -> list[list]:
    """Rows split into groups where a row is marked first; cells(row) gives a row's cells."""
    groups: list[list] = []
    for row in rows:
        if row.get("first", True) or not groups:
            groups.append([])
        groups[-1].append(cells(row))
    return groups


def spanned(row: dict, text: str):
    """The first cell of a group, spanning its rows; None below it."""
    return {"text": literal(text), "rows": row["span"]} if row["first"] else None


def tables(values: dict) -> dict:
    """Every table the sections may place, by anchor."""
    protocol, results = values["protocol"], values["results"]
    found = [datasets(protocol), seeds(protocol), methods(protocol), selection(protocol)]
    found += [summary(metric, results["floors"]) for metric in results["metrics"]]
    found += [stopping(results["convergence"]), convergence(results["convergence"])]
    found += [cross(results["cross"]), sweep(results["sweep_rows"])]
    if values["comparison"]:
        found.append(comparisons(values["comparison"]))
    if values["replication"]:
        found.append(replication(values["replication"]))
    appendix, timing = values["appendix"], values["timing"]
    found += [environment(appendix), figure_provenance(appendix["figures"])]
    found.append(hashes("tab-artifacts", "Artifacts and their SHA-256.", appendix["listing"]))
    found += [fit_times(timing["fit"]), estep_cost(timing["estep"])]
    found.append(hashes("tab-timing-artifacts", "Timing artifacts and their SHA-256 (they "
                        "differ between reruns).", timing["listing"]))  # fmt: skip
    return {t["anchor"]: t for t in found}


def datasets(protocol: dict) -> dict:
    def cells(d):
        source = literal(d["source"])
        if d["source_params"]:
            source += f" ({literal(d['source_params'])})"
        return [literal(d["name"]), source, str(d["n"]), str(d["p"]), str(d["g"]),
                d["class_counts"], literal(d["splits"])]  # fmt: skip

    columns = [column("Dataset", width=0.17), column("Source", width=0.2),
               column("$n$", "r"), column("$p$", "r"), column("$g$", "r"),
               column("Class counts", width=0.1), column("Splits", width=0.26)]  # fmt: skip
    caption = "Datasets: size $n$, features $p$, classes $g$, and splits."
    return table("tab-datasets", caption, columns, [list(map(cells, protocol["datasets"]))])


def seeds(protocol: dict) -> dict:
    rows = [[literal(s["role"]), literal(s["use"]), f"`{literal(s['spawn_key'])}`", str(s["seed"])]
            for s in protocol["seed_rows"]]  # fmt: skip
    columns = [column("Stream"), column("Used for"), column("Spawn key"), column("Seed", "r")]
    caption = (f"Seeds of split 0 of {literal(protocol['seed_dataset'])}, root seed "
               f"{protocol['seed']}.")  # fmt: skip
    return table("tab-seeds", caption, columns, [rows])


def methods(protocol: dict) -> dict:
    def cells(meth):
        configured = f"`{literal(meth['params'])}`"
        if meth["grid"]:
            configured += (f"\ngrid, by {meth['inner_folds']}-fold inner cross-validation on "
                           f"the training part: `{literal(meth['grid'])}`")  # fmt: skip
        defaults = f"`{literal(meth['defaults'])}`" if meth["defaults"] else "–"
        return [f"{literal(meth['label'])}\n`{literal(meth['name'])}`",
                literal(meth["model_text"]), configured, defaults]  # fmt: skip

    columns = [column("Method", width=0.2), column("Model", width=0.2),
               column("Configured", width=0.3), column("Defaults in effect", width=0.22)]  # fmt: skip
    caption = "Methods and their hyperparameters (`l2` is $\\lambda$ of [#eq-objective])."
    return table("tab-methods", caption, columns, [list(map(cells, protocol["methods"]))])


def selection(protocol: dict) -> dict:
    rows = [[literal(r["dataset"]), literal(r["label"]), str(r["inner_folds"]),
             f"`{literal(r['choices'])}`"] for r in protocol["selection"]]  # fmt: skip
    columns = [column("Dataset", width=0.17), column("Method", width=0.3),
               column("Folds", "r"), column("Chosen", width=0.4)]  # fmt: skip
    caption = (
        "Hyperparameters chosen by inner cross-validation on the training part of each split, "
        "and in how many of the splits; “grid edge”: the smallest or largest value of the "
        "grid, where a wider grid might have chosen beyond it."
    )
    return table("tab-selection", caption, columns, [rows])


def summary(metric: dict, floors: list) -> dict:
    kind = metric["kind"]

    def cells(r):
        shown = mean_sd(r["mean"], r["sd"], kind)
        if r["reference"]:
            italic = partial(dict, italic=True)
            return [spanned(r, r["dataset"]), italic(text=literal(r["label"])), "–",
                    str(r["n_splits"]), italic(text=shown), interval(r["low"], r["high"], kind)]  # fmt: skip
        return [spanned(r, r["dataset"]), literal(r["label"]), str(r["n_hidden"]),
                str(r["n_splits"]), {"text": shown, "bold": r["best"]},
                interval(r["low"], r["high"], kind)]  # fmt: skip

    columns = [column("Dataset", width=0.17), column("Method", width=0.27), column("$m$", "r"),
               column("Splits", "r"), column("Mean ± SD", "r"), column("95 % CI", "r")]  # fmt: skip
    caption = (f"{metric['title']} on the test parts ({metric['better']} is better): mean ± SD "
               "over splits and corrected 95 % CI.")  # fmt: skip
    if metric["name"] == "log_loss" and floors:
        caption += " The teacher network (floor) row is a reference, not a trained model."
    return table(metric["anchor"], caption, columns, grouped(metric["rows"], cells))


def stopping(convergence: dict) -> dict:
    # The objective is paper markup (it refers to an equation); the rest are plain text.
    rows = [[literal(r["label"]), r["objective_text"], *(literal(r[k]) for k in ("step", "rule", "cap"))]
            for r in convergence["rules"]]  # fmt: skip
    columns = [column("Method", width=0.17), column("Maximizes", width=0.16),
               column("One iteration", width=0.18), column("Stopping rule", width=0.26),
               column("Cap", width=0.1)]  # fmt: skip
    caption = ("Each method's objective, stopping rule and cap ($\\ell$: the penalized "
               "log-likelihood it maximizes; $\\theta$: its weights and biases).")  # fmt: skip
    return table("tab-stopping", caption, columns, [rows], size="footnotesize")


def convergence(convergence: dict) -> dict:
    def cells(r):
        return [spanned(r, r["dataset"]), literal(r["label"]), f"{r['converged']}/{r['n_splits']}",
                num(r["iterations"], "median"), num(r["n_estep"], "median"),
                num(r["exact_objective"], "objective"), num(r["mean_field_objective"], "objective"),
                num(r["gap"], "gap"), num(r["gap_max"], "gap")]  # fmt: skip

    columns = [column("Dataset", width=0.08), column("Method", width=0.23),
               column("Converged", "r"), column("Iterations", "r"), column("E-steps", "r"),
               column("exact", "r"), column("mean-field", "r"), column("median", "r"),
               column("max", "r")]  # fmt: skip
    caption = (
        "Convergence on each dataset: splits that met the method's stopping rule before its cap "
        "(of all splits), median iterations (epochs for back-propagation) and E-steps over "
        "splits, mean final penalized log-likelihood per training example $\\ell/n$ of the "
        "method's own objective (higher is better; exact and mean-field values are not "
        "comparable), and the median and largest gap to the split's best final exact $\\ell/n$."
    )
    groups = [("", 5), ("Final $\\ell/n$", 2), ("Gap to best exact $\\ell/n$", 2)]
    return table("tab-convergence", caption, columns, grouped(convergence["rows"], cells),
                 header_groups=groups, size="footnotesize")  # fmt: skip


def cross(cross: dict) -> dict:
    def cells(r):
        values = [{"text": num(c["value"], c["kind"]), "bold": c["own"]} for c in r["cells"]]
        return [spanned(r, r["dataset"]), literal(r["label"]), literal(r["trained_for"]),
                *values]  # fmt: skip

    columns = [column("Dataset", width=0.08), column("Method", width=0.26),
               column("Trained for"), *[column(t, "r") for t in ["exact", "mean-field"] * 3]]  # fmt: skip
    caption = (
        "Cross-scoring: means over splits of each method's test accuracy, test log-loss and "
        "(unpenalized) training log-loss under the exact predictor [#eq-marginal] and under "
        "the mean-field predictor. Bold: the predictor the method was trained for."
    )
    groups = [("", 3), ("Test accuracy (%)", 2), ("Test log-loss", 2), ("Training log-loss", 2)]
    return table("tab-cross", caption, columns, grouped(cross["rows"], cells),
                 header_groups=groups, size="footnotesize")  # fmt: skip


def sweep(rows: list[dict]) -> dict:
    def cells(r):
        return [literal(r["dataset"]), literal(r["label"]), str(r["n_hidden"]),
                mean_sd(r["accuracy_mean"], r["accuracy_std"], "accuracy"),
                interval(r["accuracy_ci_low"], r["accuracy_ci_high"], "accuracy"),
                mean_sd(r["log_loss_mean"], r["log_loss_std"], "log_loss"),
                num(r["iterations_mean"], "iterations")]  # fmt: skip

    columns = [column("Dataset", width=0.17), column("Method", width=0.22), column("$m$", "r"),
               column("Accuracy (%)", "r"), column("95 % CI", "r"), column("Log-loss", "r"),
               column("Iterations", "r")]  # fmt: skip
    caption = "Sweep over the number of hidden units: mean ± SD over splits and corrected 95 % CI."
    return table("tab-sweep", caption, columns, [list(map(cells, rows))], size="footnotesize")


def comparisons(comparison: dict) -> dict:
    def cells(r):
        test = f"$t = {number(r['t'], 't')}$" if r["test"] == "corrected t" else r["test_text"]
        ci = "undefined" if r["undefined"] else interval(r["ci_low"], r["ci_high"], r["kind"])
        return [literal(r["dataset"]) if r["first"] else "",
                literal(r["label"]) if r["first_metric"] else "", r["metric_text"],
                num(r["mean_difference"], r["kind"]), ci, test, num(r["p_value"], "p"),
                num(r["p_holm"], "p"), "/".join(num(r[k], "int") for k in ("wins", "ties", "losses"))]  # fmt: skip

    columns = [column("Dataset", width=0.09), column("Method", width=0.22), column("Metric"),
               column("Mean diff.", "r"), column("95 % CI", "r"), column("Test"),
               column("$p$", "r"), column("$p_{\\mathrm{Holm}}$", "r"), column("W/T/L", "r")]  # fmt: skip
    label, family = literal(comparison["label"]), comparison["family_size"]
    caption = (
        f"Paired comparison with {label} on the splits of each dataset (W/T/L: splits won, tied "
        f"and lost). $p$: two-sided, unadjusted; $p_{{\\mathrm{{Holm}}}}$: Holm-adjusted over "
        f"the family of all {family} comparisons in this table. “Sign test”: zero-variance "
        f"differences, interval and $t$ undefined."
    )
    return table("tab-comparisons", caption, columns, grouped(comparison["rows"], cells),
                 size="footnotesize", long=True)  # fmt: skip


def replication(shown: dict) -> dict:
    def cells(r):
        return [literal(r["name"]), literal(r["original"]), mean_sd(r["mean"], r["sd"], "accuracy"),
                interval(r["low"], r["high"], "accuracy")]  # fmt: skip

    n = shown["n_splits"]
    columns = [column("Row", width=0.38), column("Original split", "r"),
               column("Paired splits: mean ± SD", "r"), column("Range", "r")]  # fmt: skip
    caption = (
        "The originating code rebuilt bug for bug, with one defect removed per row: correct test "
        "predictions on the original split from the original initial weights, and test accuracy "
        f"(%) over {n} split{'s' if n != 1 else ''} of Iris from random initial weights (mean ± "
        "SD, lowest and highest)."
    )
    return table("tab-replication", caption, columns, grouped(shown["rows"], cells))


def environment(appendix: dict) -> dict:
    rows = [["commit", f"`{literal(appendix['commit'])}`"],
            ["config sha256 (canonical JSON)", f"`{appendix['config_sha256']}`"],
            ["report code sha256", f"`{appendix['report_code_sha256']}`"]]  # fmt: skip
    rows += [[literal(name), literal(version)] for name, version in appendix["versions"]]
    columns = [column("Item", width=0.26), column("Value", width=0.7)]
    return table("tab-environment", "Code and software environment of this report.", columns,
                 [rows], size="footnotesize")  # fmt: skip


def figure_provenance(figures: list[dict]) -> dict:
    def cells(f):
        lines = [f"`{literal(f['command'])}`",
                 f"code {literal(f['code_files'])}: `{f['code_sha256']}`"]  # fmt: skip
        lines += [f"input `{literal(path)}`: `{digest}`" for path, digest in f["inputs"]]
        lines.append(f"study plan sha256 `{f['study_sha256']}`, seed {f['seed']}, "
                     f"emnn {literal(f['emnn_version'])}")  # fmt: skip
        return [f"[#{f['anchor']}]\n`{literal(f['name'])}`", "\n".join(lines)]

    columns = [column("Figure", width=0.2), column("Provenance", width=0.77)]
    return table("tab-figures", "Provenance of the figures.", columns,
                 [list(map(cells, figures))], size="scriptsize", long=True)  # fmt: skip


def hashes(anchor: str, caption: str, listing: list) -> dict:
    rows = [[f"`{literal(path)}`", f"`{digest}`"] for digest, path in listing]
    columns = [column("Path", width=0.37), column("SHA-256")]
    return table(anchor, caption, columns, [rows], size="scriptsize", long=True)


def fit_times(fit: list[dict]) -> dict:
    rows = [[literal(r["dataset"]), literal(r["label"]), str(r["n_hidden"]), str(r["n_splits"]),
             num(r["fit_seconds_median"], "seconds"), num(r["fit_seconds_total"], "seconds"),
             num(r["seconds_per_iteration_median"], "seconds")] for r in fit]  # fmt: skip
    columns = [column("Dataset", width=0.17), column("Method", width=0.27), column("$m$", "r"),
               column("Splits", "r"), column("Median (s)", "r"), column("Total (s)", "r"),
               column("Per iteration (s)", "r")]  # fmt: skip
    caption = ("Wall time to convergence (or to the cap) in seconds: median and total over "
               "splits, and median time per iteration or epoch.")  # fmt: skip
    return table("tab-fit-times", caption, columns, [rows])


def estep_cost(estep: list[dict]) -> dict:
    rows = [[str(r["n_hidden"]), str(r["n"]), num(r["e_step_seconds"], "ms"),
             num(r["m_step_seconds"], "ms")] for r in estep]  # fmt: skip
    columns = [column("$m$", "r"), column("$n$", "r"), column("E-step (ms)", "r"),
               column("M-step (ms)", "r")]  # fmt: skip
    caption = ("One exact E-step and one Newton M-step, in milliseconds (best of repeated "
               "calls).")  # fmt: skip
    return table("tab-estep-cost", caption, columns, [rows])
