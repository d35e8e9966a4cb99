"""How the paper names each model kind, what one of its iterations is and its stopping
rule, from a method's model and effective hyperparameters (the methods table, the
stopping-rule table and the protocol all say it in these words)."""

from __future__ import annotations

from ..typeset.formats import sci

MODELS = {
    "em": "stochastic binary hidden units, trained by exact EM",
    "lbfgs": (
        "stochastic binary hidden units; the same exact penalized likelihood maximized "
        "directly by L-BFGS (SciPy), its gradient from one E-step by Fisher's identity"
    ),
    "lbfgs-deterministic": (
        "deterministic sigmoid hidden units; their penalized likelihood maximized by the "
        "same L-BFGS (SciPy) from the same initial weights, its gradient by back-propagation"
    ),
    "sgd": "deterministic sigmoid hidden units, trained by minibatch SGD with momentum",
    "sklearn-mlp": (
        "scikit-learn MLPClassifier with logistic hidden units: the deterministic network "
        "with the same penalty"
    ),
}


def model_text(model: str, params: dict) -> str:
    """What a method trains and how, from its model and its effective hyperparameters."""
    text = MODELS.get(model, model)
    if model == "em":
        m_step = params.get("m_step", "newton")
        if m_step == "newton" and params.get("newton_steps") is None:
            text += " with Newton M-steps solved to tolerance"
        elif m_step == "newton":
            steps = params["newton_steps"]
            text += (
                f" with {steps} Newton step{'s' if steps != 1 else ''} per half of the M-step "
                f"(generalized EM)"
            )
        elif m_step == "gradient":
            steps = params.get("inner_steps", 1)
            text += f" with {steps} gradient-ascent step{'s' if steps != 1 else ''} per M-step"
        else:
            text += f" with M-step {m_step}"
        if params.get("acceleration", "none") == "squarem":
            text += ", accelerated by SQUAREM (scheme S3)"
    elif model == "sklearn-mlp":
        solver = params.get("solver", "lbfgs")
        text += (
            ", trained by its full-batch L-BFGS solver" if solver == "lbfgs"
            else f", trained by its {solver} solver"
        )  # fmt: skip
    return text


def stopping_rule(model: str, params: dict) -> dict:
    """A method's own stopping rule, its cap and what one of its iterations is."""
    tol = sci(params.get("tol"))
    patience = params.get("n_iter_no_change")
    if model == "em":
        if params.get("acceleration", "none") == "squarem":
            step, unit = "one SQUAREM cycle (three or more E-steps)", "cycle"
        else:
            step, unit = "one E-step and one M-step", "iteration"
        rule = f"relative change of ℓ per {unit} ≤ {tol}"
        cap = f"{params.get('max_iter')} {unit}s"
    elif model == "lbfgs":
        step = "one quasi-Newton step (one or more E-steps)"
        rule = f"largest |∂ℓ/∂θ| ≤ {tol}"
        cap = f"{params.get('max_iter')} iterations"
    elif model == "lbfgs-deterministic":
        step = "one quasi-Newton step"
        rule = f"largest |∂ℓ/∂θ| ≤ {tol}"
        cap = f"{params.get('max_iter')} iterations"
    elif model == "sgd":
        step = "one epoch"
        rule = f"plateau: training ℓ not up by more than {tol} (relative) for {patience} epochs"
        cap = f"{params.get('max_epochs')} epochs"
    elif model == "sklearn-mlp" and params.get("solver", "lbfgs") == "lbfgs":
        step = "one quasi-Newton step"
        rule = f"largest |∂loss/∂θ| of the mean loss ≤ {tol}, or SciPy's relative-reduction test"
        cap = f"{params.get('max_epochs')} iterations"
    elif model == "sklearn-mlp":
        step = "one epoch"
        rule = (
            f"plateau: training loss per example not down by more than {tol} for {patience} epochs"
        )
        cap = f"{params.get('max_epochs')} epochs"
    else:
        step = rule = cap = "–"
    return {"step": step, "rule": rule, "cap": cap}
