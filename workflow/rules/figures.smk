# Figures: one job per figure; each reads only the tables it draws.


rule figure:
    conda:
        "../envs/emnn.yaml"
    input:
        tables=lambda w: PLAN.figure_inputs(w.name),
        code=provenance.stage_sources("figures"),
    output:
        multiext("results/figures/{name}", ".svg", ".pdf", ".png", ".json"),
    params:
        plan=lambda w: PLAN.figure_json(),
    log:
        "logs/figures/{name}.log",
    wildcard_constraints:
        name=r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)?",
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python -m emnn figure {wildcards.name:q} --plan {params.plan:q} > {log:q} 2>&1"
