"""The m-sweep: test accuracy and log-loss against m up to 64, exact and approximate EM
side by side.

    contract.py   its table names
    summary.py    the sweep's runs to its tables, the best m per family
    sentences.py  its verdicts as sentences
    units.py      the hidden units each network uses
    section.py    the section's values and tables (values(), tables() for the paper)
    figure.py     its figure
"""
