# Aggregation: run records -> tidy tables (results) and timing tables (wall clock).


rule aggregate:
    input:
        runs=PLAN.run_dirs(),
        code=provenance.stage_sources("aggregate"),
    output:
        tables=report(PLAN.table_outputs(), caption="../report/table.rst", category="Tables"),
        timing=PLAN.timing_table_outputs(),
    log:
        "logs/aggregate.log",
    conda:
        "../envs/emnn.yaml"
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        study=lambda w: PLAN.study_json(),
    shell:
        "python -m emnn aggregate --study {params.study:q} --runs {input.runs:q} "
        "--out results/tables --timing-out results/tables/timing > {log:q} 2>&1"
