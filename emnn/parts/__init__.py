"""The parts of the study, one folder each, holding the whole path of its results: its
tables, verdicts, figures and section values.

    main/         the MLP trainers on the paired splits, the primary analysis, the
                  hidden-unit sweep
    scaling/      accuracy and log-loss against m up to 64 (the m-sweep)
    moe/          the mixture of experts
    replication/  the originating notebooks rebuilt bug for bug
    timing/       the cost of an EM iteration, and the benchmarks

A part shows the others (and the figures and the paper) only its contract: its table
names and method labels (contract.py), never its trainer; the paper assembles its values
and tables through its section.py (values(), tables()), named in one registry
(emnn.paper.context.PARTS).
"""
