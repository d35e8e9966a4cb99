# The replication's ablation: the originating notebooks rebuilt bug for bug, each
# defect removed in turn, on the original split and the paired splits (no training
# runs of the main study are involved, so it runs beside them).


rule ablation:
    input:
        code=provenance.stage_sources("ablation"),
    output:
        table=report(
            "results/tables/ablation.csv", caption="../report/table.rst", category="Tables"
        ),
        inits="results/tables/ablation_inits.csv",
    log:
        "logs/ablation.log",
    conda:
        "../envs/emnn.yaml"
    resources:
        mem_mb=1000,
        runtime=15,
    params:
        spec=lambda w: PLAN.ablation_json(),
    shell:
        "python -m emnn ablation --spec {params.spec:q} --out {output.table:q} "
        "--inits-out {output.inits:q} > {log:q} 2>&1"
