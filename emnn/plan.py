"""What the Snakefile needs to know, computed in one place from the validated config.

The workflow stays thin: it asks this plan for its targets, each job's spec and
each rule's code dependencies, and calls `emnn` commands. Wildcards carry
file-system-safe slugs; the plan maps them back to the names in the config.
"""

from __future__ import annotations

import functools
import json

import numpy as np

from .core import provenance
from .core.errors import ConfigError
from .core.layout import MOE_PARTS, REPORT, TABLES, TIMING_TABLES, run_dir, slug
from .data.datasets import source_of
from .data.splits import n_splits
from .paper import figures, pdf
from .parts.main import contract as main_contract
from .parts.moe import contract as moe_contract
from .parts.replication.contract import TABLE_NAMES as ABLATION_TABLES
from .parts.scaling import contract as scaling_contract
from .study import methods
from .study.checks import check_study
from .study.config import canonical_json
from .study.jobs import figure_plan, job_spec, runs, scaling_runs, study_plan
from .study.methods import exact_e_step


class Plan:
    def __init__(self, config: dict):
        """`config` as validated by emnn.study.config.validate (defaults filled in)."""
        self.config = config
        check_study(config)
        # The main study's and the sweep's runs; study.scaling's are its own target's.
        self.runs = runs(self.config, scaling=False)
        self.scaling_runs = scaling_runs(self.config)
        self.datasets = {slug(name): name for name in self.config["datasets"]}
        self.methods = {slug(name): name for name in self.config["methods"]}
        for kind, names in (("datasets", self.datasets), ("methods", self.methods)):
            if len(names) != len(self.config[kind]):
                raise ConfigError(f"config: two {kind} have names that map to the same file name")
        self.figures = figures.figure_names(figure_plan(self.config))

    # ---------------------------------------------------------------- training

    def run_dirs(self) -> list[str]:
        return [run_dir(*run) for run in self.runs]

    def spec(self, dataset_slug: str, method_slug: str, n_hidden: str) -> str:
        """The job's spec as canonical JSON: passed to `emnn run`, and a rerun trigger."""
        spec = job_spec(
            self.config, self.datasets[dataset_slug], self.methods[method_slug], int(n_hidden)
        )
        return canonical_json(spec)

    def train_inputs(self, dataset_slug: str, method_slug: str) -> list[str]:
        """The code (and data file) a training job depends on."""
        dataset = self.datasets[dataset_slug]
        data_spec = self.config["datasets"][dataset]
        model = self.config["methods"][self.methods[method_slug]]["model"]
        files = provenance.train_sources(methods.model_module(model))
        if source_of(dataset, data_spec) == "csv":
            files.append(data_spec["path"])
        return files

    def _exact_em(self, method_slug: str) -> bool:
        return exact_e_step(self.config["methods"][self.methods[method_slug]])

    def train_memory_mb(self, method_slug: str, n_hidden: str) -> int:
        """Memory to ask a cluster for: exact EM's working blocks grow past m = 16."""
        return 4000 if self._exact_em(method_slug) and int(n_hidden) > 16 else 1000

    def train_minutes(self, dataset_slug: str, method_slug: str, n_hidden: str) -> int:
        """A generous wall-time limit for a cluster: exact EM's cost doubles with each unit."""
        return 30 * 2 ** max(0, int(n_hidden) - 12) if self._exact_em(method_slug) else 30

    # ------------------------------------------------------ tables and figures

    def study_json(self) -> str:
        return json.dumps(study_plan(self.config), sort_keys=True)

    def figure_json(self) -> str:
        return json.dumps(figure_plan(self.config), sort_keys=True)

    def table_outputs(self) -> list[str]:
        return [f"{TABLES}/{name}.csv" for name in main_contract.RESULT_TABLES]

    def timing_table_outputs(self) -> list[str]:
        return [f"{TIMING_TABLES}/{name}.csv" for name in main_contract.TIMING_TABLES]

    def figure_inputs(self, name: str) -> list[str]:
        return figures.inputs(name, figure_plan(self.config))

    def figure_code(self, name: str) -> list[str]:
        """The source files a figure's job depends on: its own painter's, not every part's."""
        return figures.code_files(name)

    def figure_outputs(self, kinds=("svg", "pdf", "png", "json")) -> list[str]:
        return [f"{figures.output_prefix(name)}.{kind}" for name in self.figures for kind in kinds]

    def estep_cost_json(self) -> str:
        cost = self.config["study"]["estep_cost"]
        dataset = cost["dataset"]
        if dataset not in self.config["datasets"]:
            raise ConfigError(f"config: study.estep_cost.dataset '{dataset}' is not defined")
        spec = {"name": dataset, **self.config["datasets"][dataset]}
        e_steps = cost.get("e_steps")
        if e_steps:
            name = e_steps["dataset"]
            if name not in self.config["datasets"]:
                raise ConfigError(
                    f"config: study.estep_cost.e_steps.dataset '{name}' is not defined"
                )
            e_steps = {**e_steps, "dataset": {"name": name, **self.config["datasets"][name]}}
            cost = {**cost, "e_steps": e_steps}
        return canonical_json({**cost, "dataset": spec})

    def estep_cost_outputs(self) -> dict[str, str]:
        """The timing stage's tables: the exact E-step and M-step, and with e_steps one
        whole iteration per kind of E-step."""
        outputs = {"cost": f"{TIMING_TABLES}/estep_cost.csv"}
        if self.config["study"]["estep_cost"].get("e_steps"):
            outputs["iterations"] = f"{TIMING_TABLES}/iteration_cost.csv"
        return outputs

    def ablation_json(self) -> str:
        """The replication's ablation: the root seed, and the dataset with its paired splits."""
        ablation = self.config["study"]["ablation"]
        dataset = ablation["dataset"]
        spec = job_spec(self.config, dataset, next(iter(self.config["methods"])))
        return canonical_json(
            {"seed": spec["seed"], "dataset": spec["dataset"], "n_inits": ablation["n_inits"]}
        )

    def ablation_outputs(self) -> list[str]:
        return [f"{TABLES}/{name}.csv" for name in ABLATION_TABLES] if self.ablation else []

    @property
    def ablation(self) -> bool:
        return "ablation" in self.config["study"]

    def moe_json(self) -> str:
        """The mixture-of-experts stage: the root seed, each method's MoEClassifier
        parameters, and each dataset as the main study's jobs see it (its splits with
        its own overrides), with each method's iteration cap and the number of splits."""
        return canonical_json(self._moe_spec())

    def _moe_spec(self) -> dict:
        moe = self.config["study"]["moe"]
        first = next(iter(self.config["methods"]))
        params = moe_contract.method_params(moe)
        datasets = []
        for name in moe["datasets"]:
            data = job_spec(self.config, name, first)["dataset"]
            limit = moe["limits"].get(name, {})
            cap = limit.get("max_iter", moe["max_iter"])
            caps = {method: cap.get(method, moe["max_iter"]) if isinstance(cap, dict) else cap
                    for method in params}  # fmt: skip
            datasets.append(
                {
                    "dataset": data,
                    "max_iter": caps,
                    "n_splits": min(limit.get("n_splits", np.inf), n_splits(data["splits"])),
                }
            )
        spec = {"seed": self.config["seed"], "methods": params, "datasets": datasets}
        search = moe_contract.method_search(moe)
        return {**spec, "search": search} if search else spec

    def moe_parts(self) -> list[tuple[str, str]]:
        """The stage's jobs, one per dataset (its slug) and method, so that --cores N runs N."""
        if not self.moe:
            return []
        moe = self.config["study"]["moe"]
        return [(slug(d), m) for d in moe["datasets"] for m in moe_contract.method_params(moe)]

    def moe_part_json(self, dataset_slug: str, method: str) -> str:
        """One method on the splits of one dataset (emnn.parts.moe.runs.part_tables)."""
        spec = self._moe_spec()
        (entry,) = [
            e for e in spec["datasets"] if e["dataset"]["name"] == self.datasets[dataset_slug]
        ]
        part = {"seed": spec["seed"], "method": method, "params": spec["methods"][method],
                "dataset": entry["dataset"], "max_iter": entry["max_iter"][method],
                "n_splits": entry["n_splits"]}  # fmt: skip
        search = spec.get("search", {}).get(method)
        if search:
            part["search"] = search
        return canonical_json(part)

    def moe_part_dirs(self) -> list[str]:
        return [f"{MOE_PARTS}/{dataset}/{method}" for dataset, method in self.moe_parts()]

    def moe_outputs(self) -> list[str]:
        if not self.moe:
            return []
        return [f"{TABLES}/{name}.csv" for name in moe_contract.TABLE_NAMES]

    def moe_timing_outputs(self) -> list[str]:
        if not self.moe:
            return []
        return [f"{TIMING_TABLES}/{name}.csv" for name in moe_contract.TIMING_NAMES]

    @property
    def moe(self) -> bool:
        return "moe" in self.config["study"]

    # ------------------------------------------------------------ the m-sweep

    @property
    def scaling(self) -> bool:
        return "scaling" in self.config["study"]

    def scaling_run_dirs(self) -> list[str]:
        return [run_dir(*run) for run in self.scaling_runs]

    def scaling_json(self) -> str:
        return canonical_json(self.config["study"]["scaling"])

    def scaling_outputs(self) -> list[str]:
        return (
            [f"{TABLES}/{name}.csv" for name in scaling_contract.TABLE_NAMES]
            if self.scaling
            else []
        )

    def scaling_targets(self) -> list[str]:
        """What `snakemake scaling` builds: the sweep's tables and figures, and the
        timing appendix's cost figure of the E-steps."""
        names = [n for n in self.figures if n in figures.SCALING_FIGURES]
        drawn = [f"{figures.output_prefix(n)}.{kind}" for n in names
                 for kind in ("svg", "pdf", "png", "json")]  # fmt: skip
        return self.scaling_outputs() + drawn

    # ------------------------------------------------------------------ report

    def config_json(self) -> str:
        return canonical_json(self.config)

    def report_outputs(self) -> list[str]:
        return [
            f"{REPORT}/{name}" for name in ("report.html", "report.tex", "timing.tex", "SHA256SUMS")
        ]

    def pdf_status(self) -> str:
        """The PDF step's output: a one-line file saying whether report.pdf was built."""
        return f"{REPORT}/pdf-status.txt"

    @functools.cached_property
    def _pdf_problem(self) -> str | None:
        return None if self.config["report"]["pdf"] == "off" else pdf.preflight()

    def pdf_unavailable(self) -> str | None:
        """Why the PDF is skipped on this machine (mode "auto"), or None.

        Mode "required" stops here instead, before any job runs."""
        if self._pdf_problem and self.config["report"]["pdf"] == "required":
            raise ConfigError(f"config: report.pdf is 'required' but {self._pdf_problem}")
        return self._pdf_problem

    def pdf_wanted(self) -> bool:
        return self.config["report"]["pdf"] != "off" and not self.pdf_unavailable()

    def targets(self) -> list[str]:
        # The report reads every table and figure, so its outputs pull in every stage.
        wanted = self.report_outputs()
        if self.pdf_wanted():
            wanted.append(self.pdf_status())
        return wanted
