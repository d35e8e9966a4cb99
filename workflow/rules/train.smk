# Training: one job per dataset, method and number of hidden units, covering all
# its splits (one process per job keeps start-up costs off the many small fits).


rule train:
    input:
        code=lambda w: PLAN.train_inputs(w.dataset, w.method),
    output:
        directory("results/runs/{dataset}/{method}/h{n_hidden}"),
    log:
        "logs/train/{dataset}/{method}/h{n_hidden}.log",
    benchmark:
        "benchmarks/train/{dataset}/{method}/h{n_hidden}.tsv"
    conda:
        "../envs/emnn.yaml"
    resources:
        mem_mb=lambda w: PLAN.train_memory_mb(w.method, w.n_hidden),
        runtime=lambda w: PLAN.train_minutes(w.dataset, w.method, w.n_hidden),
    params:
        spec=lambda w: PLAN.spec(w.dataset, w.method, w.n_hidden),
    shell:
        "python -m emnn run --spec {params.spec:q} --split all --out {output:q} > {log:q} 2>&1"


rule estep_cost:
    input:
        code=provenance.stage_sources("estep_cost"),
    output:
        **PLAN.estep_cost_outputs(),
    log:
        "logs/estep_cost.log",
    benchmark:
        "benchmarks/estep_cost.tsv"
    conda:
        "../envs/emnn.yaml"
    # A wall-clock measurement: on one machine it takes every core, so that no other
    # job runs beside it; under a cluster executor, which has no total of cores, one
    # thread on a node of its own (slurm_extra). A function, so that --unlock, --lint
    # and dry runs need no --cores.
    threads: lambda wildcards: workflow.resource_settings.cores or 1
    resources:
        mem_mb=2000,
        runtime=30,
        slurm_extra="--exclusive",
    params:
        spec=lambda w: PLAN.estep_cost_json(),
        iterations=lambda w, output: (
            f"--iteration-out {output.iterations}" if "iterations" in output.keys() else ""
        ),
    shell:
        "python -m emnn estep-cost --spec {params.spec:q} --out {output.cost:q} "
        "{params.iterations} > {log:q} 2>&1"
