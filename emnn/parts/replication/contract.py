"""What the replication shows the rest of the study: its tables, and the accuracies the
originating study reported, which the main study's introduction quotes. Importing it
loads none of the rebuilt notebooks."""

REPORTED_CORRECT = {"em": 28, "backprop": 29}  # of 30 test rows: 93.33 % and 96.67 %
TABLE_NAMES = ("ablation", "ablation_inits")  # results/tables/<name>.csv
