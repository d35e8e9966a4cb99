"""The floor everything stands on, and knows nothing of any part of the study.

errors.py      the study's errors (StudyError, ConfigError)
names.py       the rule for names a user types, and config keys in messages
layout.py      every path of the study's outputs, and safe file names (slug)
seeds.py       every seed derived from the root seed and names
stats.py       the corrected resampled t-test, Holm, TOST, the sign test, ALPHA
records.py     the run-record format, and byte-stable writes
tidy.py        tidy tables to and from CSV
provenance.py  versions, the commit, and the code each stage depends on
lazy.py        names a package exports, imported on first use
"""
