# The m-sweep (study.scaling, emnn.parts.scaling.summary): EM with the exact E-step up to
# exact_max_hidden, with an approximate E-step at every m, and back-propagation at every
# m, on the first n_splits paired splits. Its runs are jobs of the train rule; this stage
# turns them into its tables. `snakemake --cores 4 scaling` builds it alone.


localrules:
    scaling,


rule scaling_tables:
    input:
        runs=PLAN.scaling_run_dirs(),
        code=provenance.stage_sources("scaling"),
    output:
        report(PLAN.scaling_outputs(), caption="../report/table.rst", category="Tables"),
    log:
        "logs/scaling.log",
    conda:
        "../envs/emnn.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        spec=lambda w: PLAN.scaling_json(),
    shell:
        "python -m emnn scaling --spec {params.spec:q} --runs {input.runs:q} "
        "--out results/tables > {log:q} 2>&1"


rule scaling:
    input:
        PLAN.scaling_targets(),
