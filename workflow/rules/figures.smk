# Figures: one job per figure; each reads only the tables it draws and depends only on
# the code that draws it.


rule figure:
    input:
        tables=lambda w: PLAN.figure_inputs(w.name),
        code=lambda w: PLAN.figure_code(w.name),
    output:
        report(
            "results/figures/{name}.svg",
            caption="../report/figure.rst",
            category="Figures",
        ),
        multiext("results/figures/{name}", ".pdf", ".png", ".json"),
    log:
        "logs/figures/{name}.log",
    wildcard_constraints:
        name=r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)?",
    conda:
        "../envs/emnn.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        plan=lambda w: PLAN.figure_json(),
    shell:
        "python -m emnn figure {wildcards.name:q} --plan {params.plan:q} > {log:q} 2>&1"
