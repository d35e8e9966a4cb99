"""What the m-sweep shows the rest of the study: its tables (results/tables/<name>.csv)."""

TABLE_NAMES = ["scaling_runs", "scaling", "scaling_best", "scaling_comparisons"]
