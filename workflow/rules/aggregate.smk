# Aggregation: run records -> tidy tables (results) and timing tables (wall clock).


rule aggregate:
    conda:
        "../envs/emnn.yaml"
    input:
        runs=PLAN.run_dirs(),
        code=provenance.stage_sources("aggregate"),
    output:
        tables=PLAN.table_outputs(),
        timing=PLAN.timing_table_outputs(),
    params:
        study=lambda w: PLAN.study_json(),
    log:
        "logs/aggregate.log",
    resources:
        mem_mb=2000,
        runtime=15,
    shell:
        "python -m emnn aggregate --study {params.study:q} --runs {input.runs:q} "
        "--out results/tables --timing-out results/tables/timing > {log:q} 2>&1"
