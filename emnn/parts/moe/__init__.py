"""The mixture of experts: Ng & McLachlan's claims about training it by EM, tested on
the main study's splits (the estimator is emnn.models.moe).

    contract.py      its methods, labels, tables and figure: what others import
    runs.py          the jobs: train each method on a dataset's splits, write the tables
    comparisons.py   the paired comparisons (one Holm family)
    verdicts.py      the claims' verdicts, computed from the tables
    falls.py         what the falls of the objective are: blow-ups, and the bounded ones
    against_mlp.py   the MoE methods against the MLP, said once for all of them
    section.py       the section's values and tables (values(), tables() for the paper)
    timing_table.py  its table in the timing appendix
    figure.py        the objective against iteration
"""
