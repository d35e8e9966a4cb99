"""The replication's share of the paper, behind the interface every part gives the paper
(emnn.paper.context): values() adds this part's values, tables() its tables as data."""

from __future__ import annotations

from ...typeset.markup import literal
from .findings import abstract_sentence, below_chance, budget_contrasts, reversal
from .sentences import replication, replication_table


def values(config: dict, plan: dict, data: dict) -> dict:
    """The replication section (emnn.parts.replication.sentences): its description is
    prose markup as written; its computed sentences, which carry names from the data, are
    shown as typed."""
    if "ablation" not in plan:
        return {"replication": None}
    tables = data["tables"]
    shown = replication(tables["ablation"], tables["ablation_inits"])
    shown["sentences"] = [literal(sentence) for sentence in shown["sentences"]]
    # The corrected rebuilds at each budget, also for the originating study's claims
    # (paper/originating).
    shown["budgets"] = budget_contrasts(tables["ablation"])
    shown["findings"] = reversal(shown["budgets"]) + below_chance(tables["ablation"])
    shown["abstract"] = abstract_sentence(shown["spread"], shown["budgets"])
    shown["luck"] = {model: literal(sentence) for model, sentence in shown["luck"].items()}
    return {"replication": shown}


def tables(values: dict) -> list[dict]:
    return [replication_table(values["replication"])] if values["replication"] else []
