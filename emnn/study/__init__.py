"""The study as configured, and one training job.

config.py       load, merge and validate the config (config.schema.yaml)
checks.py       what a schema cannot see
jobs.py         what the config asks to run, and each job's spec
methods.py      a model kind and its hyperparameters, built and checked
method_text.py  how the paper names each model and its stopping rule
training.py     one job: a method's networks on a dataset's splits, to run records
selection.py    hyperparameters by inner cross-validation
runs.py         run records as tidy frames; the metrics every part shares
cluster.py      the check before a run on SLURM
"""
