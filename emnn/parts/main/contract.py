"""What the main study shows the rest of the study: the tables its aggregate stage writes,
results (deterministic, results/tables/) and wall-clock timings (results/tables/timing/)."""

RESULT_TABLES = [
    "runs", "summary", "main", "comparisons", "convergence", "cross", "sweep", "curves",
    "suboptimality", "same_target", "primary",
]  # fmt: skip
TIMING_TABLES = ["fit_times", "fit_summary"]
