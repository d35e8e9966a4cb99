# The mixture of experts (emnn.parts.moe.runs): MoEClassifier by IRLS-EM at two rates, ECM and
# SGD on the main study's paired splits. No training run of the main study is involved,
# so it runs beside them; editing emnn/models/moe*.py re-runs it and nothing else. One
# job per dataset and method, whose runs on every split train together
# (emnn.models.batch); moe_tables gathers the parts into the stage's tables.


rule moe:
    input:
        code=provenance.stage_sources("moe"),
    output:
        multiext("results/moe/{dataset}/{method}/", "runs.csv", "traces.csv", "timing.csv"),
    log:
        "logs/moe/{dataset}/{method}.log",
    benchmark:
        "benchmarks/moe/{dataset}/{method}.tsv"
    conda:
        "../envs/emnn.yaml"
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        spec=lambda w: PLAN.moe_part_json(w.dataset, w.method),
        out=lambda w: f"results/moe/{w.dataset}/{w.method}",
    shell:
        "python -m emnn moe --spec {params.spec:q} --out {params.out:q} > {log:q} 2>&1"


rule moe_tables:
    input:
        parts=[f"{d}/runs.csv" for d in PLAN.moe_part_dirs()],
        code=provenance.stage_sources("moe_tables"),
    output:
        tables=report(PLAN.moe_outputs(), caption="../report/table.rst", category="Tables"),
        timing=PLAN.moe_timing_outputs(),
    log:
        "logs/moe_tables.log",
    conda:
        "../envs/emnn.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        parts=PLAN.moe_part_dirs(),
    shell:
        "python -m emnn moe-tables --parts {params.parts:q} --out results/tables "
        "--timing-out results/tables/timing > {log:q} 2>&1"
