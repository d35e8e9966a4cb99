"""The reference optimum as the paper says it: how each split's reference was found
(study.main.reference's runs, the best of their own starts) and how near a stationary
point it ends, and how many exact-likelihood runs end below and above it."""

from __future__ import annotations

import pandas as pd

from ...core.tidy import is_true
from ...typeset.formats import number, power_of_ten
from ...typeset.words import join
from .aggregate import OTHER_OPTIMUM

TRAINERS = {"lbfgs": "L-BFGS", "em": "EM"}  # what a reference method's runs are called


def reference_runs(config: dict, name: str) -> str:
    """ "the best of 5 L-BFGS runs": the reference method's starts, by its trainer's name."""
    method = config["methods"][name]
    return f"the best of {method.get('starts', 1)} {TRAINERS[method['model']]} runs"


def reference_name(config: dict, plan: dict) -> str:
    """What the gaps are measured to, as the convergence table's caption names it."""
    name = plan["main"].get("reference")
    if name is None:
        return "the split's best final exact $\\ell/n$ of any method here"
    return (
        f"the split's reference optimum $\\ell^*/n$ ({reference_runs(config, name)} from "
        "initial weights of their own)"
    )


def reference(config: dict, plan: dict, tables: dict) -> str | None:
    """How the reference optimum was found and how near a stationary point it ends, from
    its runs; and, over the exact-likelihood trainers, how many runs end at another
    optimum than it, below and above."""
    name = plan["main"].get("reference")
    runs = tables["runs"]
    if name is None or name not in set(runs["method"]):
        return None
    own = runs[runs["method"] == name]
    gradients = pd.to_numeric(own["gradient_max"], errors="coerce").dropna()
    params = config["methods"][name]["params"]
    tol, cap = params.get("tol"), params.get("max_iter")
    converged = own["converged"].map(is_true)
    met = int(converged.sum())
    capped = int((~converged & (own["iterations"] >= cap)).sum())
    stalled = len(own) - met - capped
    ends = [f"it holds for {met} of its {len(own)} runs"]
    if stalled:
        ends.append(f"{stalled} stop where the line search stalls at working precision")
    if capped:
        ends.append(f"{capped} stop at the cap of {cap:,} iterations")
    table = tables["convergence"]
    exact = table[table["objective"] == "exact"]
    below, above = int(exact["below_reference"].sum()), int(exact["above_reference"].sum())
    return (
        "Each split's reference optimum $\\ell^*$ comes from none of the trainers it grades: "
        f"{reference_runs(config, name)} on the same objective from initial weights of their "
        f"own, each until the largest gradient entry is at most {power_of_ten(tol)} "
        f"({join(ends)}; the entry where they end: median {number(gradients.median(), 'sci')}, "
        f"largest {number(gradients.max(), 'sci')}). Of the {int(exact['n_splits'].sum())} "
        f"runs of the exact-likelihood trainers, {below} end more than "
        f"{OTHER_OPTIMUM:g} nats per example below $\\ell^*$ and {above} above it "
        "([#tab-convergence] counts both)."
    )
