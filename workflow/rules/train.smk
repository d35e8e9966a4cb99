# Training: one job per dataset, method and number of hidden units, covering all
# its splits (one process per job keeps start-up costs off the many small fits).


# lint: no conda/container directive, on purpose (see the Snakefile).
rule train:
    input:
        code=lambda w: PLAN.train_inputs(w.dataset, w.method),
    output:
        directory("results/runs/{dataset}/{method}/h{n_hidden}"),
    params:
        spec=lambda w: PLAN.spec(w.dataset, w.method, w.n_hidden),
    log:
        "logs/train/{dataset}/{method}/h{n_hidden}.log",
    benchmark:
        "benchmarks/train/{dataset}/{method}/h{n_hidden}.tsv"
    resources:
        mem_mb=lambda w: PLAN.train_memory_mb(w.method, w.n_hidden),
        runtime=lambda w: PLAN.train_minutes(w.dataset, w.method, w.n_hidden),
    shell:
        "emnn run --spec {params.spec:q} --split all --out {output:q} > {log:q} 2>&1"


# lint: no conda/container directive, on purpose (see the Snakefile).
rule estep_cost:
    input:
        code=provenance.stage_sources("estep_cost"),
    output:
        "results/tables/timing/estep_cost.csv",
    params:
        spec=PLAN.estep_cost_json(),
    log:
        "logs/estep_cost.log",
    benchmark:
        "benchmarks/estep_cost.tsv"
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "emnn estep-cost --spec {params.spec:q} --out {output:q} > {log:q} 2>&1"
