# The mixture of experts (emnn.moe_study): MoEClassifier by IRLS-EM at two rates, ECM and
# SGD on the main study's paired splits. No training run of the main study is involved,
# so it runs beside them; editing emnn/models/moe*.py re-runs it and nothing else. A
# method's runs on the splits of a dataset train together (emnn.models.batch).


rule moe:
    conda:
        "../envs/emnn.yaml"
    input:
        code=provenance.stage_sources("moe"),
    output:
        tables=PLAN.moe_outputs(),
        timing=PLAN.moe_timing_outputs(),
    params:
        spec=lambda w: PLAN.moe_json(),
    log:
        "logs/moe.log",
    resources:
        mem_mb=1000,
        runtime=30,
    shell:
        "python -m emnn moe --spec {params.spec:q} --out results/tables "
        "--timing-out results/tables/timing > {log:q} 2>&1"
