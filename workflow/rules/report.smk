# The paper: HTML and LaTeX from the same data, then the PDF where TeX is installed.


# lint: no conda/container directive, on purpose (see the Snakefile).
rule report:
    input:
        tables=PLAN.table_outputs(),
        timing=PLAN.timing_table_outputs() + ["results/tables/timing/estep_cost.csv"],
        figures=PLAN.figure_outputs(),
        runs=PLAN.run_dirs(),
        code=provenance.stage_sources("report"),
    output:
        PLAN.report_outputs(),
    params:
        config=PLAN.config_json(),
    log:
        "logs/report.log",
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "emnn report --config-json {params.config:q} --runs {input.runs:q} > {log:q} 2>&1"


# lint: no conda/container directive, on purpose (see the Snakefile).
rule pdf:
    input:
        tex="report/build/report.tex",
        timing="report/build/timing.tex",
        figures=PLAN.figure_outputs(kinds=["pdf"]),
    output:
        "report/build/report.pdf",
    log:
        "logs/pdf.log",
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "emnn pdf {input.tex:q} > {log:q} 2>&1"
