"""The timing appendix's table of the mixture-of-experts fits: wall-clock times stay out of
the section itself (emnn.parts.moe.section)."""

from __future__ import annotations

from ...typeset.floats import column, table
from ...typeset.formats import number
from ...typeset.markup import literal


def timing_table(fit_summary, summary, datasets, methods, names) -> dict:
    """Wall-clock time of the fits (timing appendix only): to convergence or to the cap."""
    found = {(r["dataset"], r["method"]): r for r in fit_summary.to_dict("records")}
    trained = {(r["dataset"], r["method"]): r for r in summary.to_dict("records")}
    groups = []
    for dataset in datasets:
        group = []
        for method in methods:
            row = found.get((dataset, method))
            if row is None:
                continue
            done = trained.get((dataset, method), {})
            group.append(
                [
                    literal(dataset) if not group else "",
                    names[method],
                    f"{int(done.get('converged', 0))} of {int(row['n_splits'])}",
                    number(row["fit_seconds_median"], "seconds"),
                    number(row["seconds_per_iteration_median"], "ms"),
                    number(row["fit_seconds_total"], "seconds"),
                ]
            )
        if group:
            groups.append(group)
    return table(
        "tab-moe-fit-times",
        (
            "Wall-clock time of the mixture-of-experts fits on one thread. A method's runs "
            "on the splits of a dataset train together, one loop advancing all of them; a "
            "fit's time is its share of theirs, in proportion to its iterations. The median "
            "time of a fit, to its stopping rule or to the cap (the converged runs counted "
            "beside it), the time of one iteration (SGD: one epoch) and the total over the "
            "splits."
        ),
        [
            column("Dataset"),
            column("Method"),
            column("converged", "r"),
            column("fit (s)", "r"),
            column("iteration (ms)", "r"),
            column("total (s)", "r"),
        ],
        groups,
    )
