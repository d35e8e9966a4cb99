"""The main study: every MLP trainer on every paired split of every dataset.

contract.py            the tables it writes: what the plan and the paper read
section.py             its values and tables for the paper
aggregate.py           run records to the main tables (results/tables/)
primary.py             the primary analysis: named contrasts, Holm, TOST
verdicts.py            verdict sentences on speed, convergence and families of tests
narrative.py           the Introduction, Discussion, Limitations and Conclusion
results.py             the results section's values, tables as rows
reference.py           the reference optimum as the paper says it
primary_text.py        the primary analysis as the paper says it
overfitting.py         the teacher's overfitting at a fixed penalty
floats.py              the main tables as data
learning_figures.py    learning curves and relative suboptimality
comparison_figures.py  cross-scoring, paired accuracy, the hidden-unit sweep
"""
