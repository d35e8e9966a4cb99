"""Wall-clock cost: one EM iteration against m (a stage of the study, in the timing
appendix only), and the benchmark scripts that measure the study's speed targets.

    estep_cost.py         the cost tables of the timing stage
    figure.py             their figure
    bench.py              `python -m emnn.parts.timing.bench`: E-step and trainer speed
    bench_convergence.py  time to convergence of the exact-likelihood trainers
    bench_scale.py        the approximate E-steps at m = 64
    bench_study.py        the whole study's CPU time and convergence shares
"""
