"""The m-sweep: test accuracy and log-loss against m up to 64, exact and approximate EM
side by side.

    summary.py    the sweep's runs to its tables, the best m per family
    sentences.py  its verdicts as sentences
    units.py      the hidden units each network uses
    section.py    the section's values and tables
    figure.py     its figure
"""
