# The paper: HTML and LaTeX from the same data, then the PDF where TeX is installed.


rule report:
    input:
        tables=PLAN.table_outputs(),
        ablation=PLAN.ablation_outputs(),
        moe=PLAN.moe_outputs() + PLAN.moe_timing_outputs(),
        timing=PLAN.timing_table_outputs() + list(PLAN.estep_cost_outputs().values()),
        scaling=PLAN.scaling_outputs(),
        figures=PLAN.figure_outputs(),
        runs=PLAN.run_dirs(),
        code=provenance.stage_sources("report"),
    output:
        PLAN.report_outputs(),
    log:
        "logs/report.log",
    conda:
        "../envs/emnn.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        config=lambda w: PLAN.config_json(),
    shell:
        "python -m emnn report --config-json {params.config:q} --runs {input.runs:q} > {log:q} 2>&1"


rule pdf:
    input:
        tex="report/build/report.tex",
        timing="report/build/timing.tex",
        figures=PLAN.figure_outputs(kinds=["pdf"]),
        code=provenance.stage_sources("pdf"),
    output:
        PLAN.pdf_status(),
    log:
        "logs/pdf.log",
    conda:
        "../envs/emnn.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        mode=config["report"]["pdf"],
    # With mode "auto" a failed build prints one message, keeps the LaTeX log in
    # logs/pdf.log and writes the status file, so the study still succeeds.
    shell:
        "python -m emnn pdf {input.tex:q} --mode {params.mode} --log {log:q} " "--status {output:q}"


# The LaTeX source for a journal or arXiv (emnn.paper.source), on request only:
#   snakemake --cores 1 report/build/paper-source.tar.gz
rule paper_source:
    input:
        tex="report/build/report.tex",
        timing="report/build/timing.tex",
        figures=PLAN.figure_outputs(kinds=["pdf"]),
        code=provenance.stage_sources("paper_source"),
    output:
        "report/build/paper-source.tar.gz",
    log:
        "logs/paper-source.log",
    conda:
        "../envs/emnn.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "python -m emnn paper-source {input.tex:q} --out {output:q} > {log:q} 2>&1"
