"""The originating notebooks rebuilt bug for bug, and their defects removed one at a time.

These are named ablations for the replication section, kept apart from the
models a user trains: each rebuild follows DESIGN.md §3 to the letter and keeps
a chosen set of the originating code's defects.

EM (reported 93.33 %): m = 7 stochastic binary hidden units, W (p x m) =
randn after seed 1183 and V (m x g) = randn after seed 202 (legacy seeding), 50
iterations of an exact E-step followed by ONE gradient-ascent step of size
0.005 on the summed Q. Its defects:

* frozen_output: a shadowed loop variable adds the last class's column of the
  V gradient to every column of V, which leaves softmax(V^T z) unchanged: the
  output layer keeps its random initial predictions;
* no_biases: neither layer has a bias;
* raw_features: no standardization;
* mean_field_prediction: predicts with softmax(V^T sigmoid(W^T x)) instead of
  the exact marginal sum_z p(z | x) softmax(V^T z);
* gradient_mstep: one fixed-size gradient step per M-step instead of solving
  each half of Q by Newton's method (emnn.models.mstep, as EMMLPClassifier).

Back-propagation (reported 96.67 %): W1 = randn after seed 202, W2 = randn
after seed 1138, zero biases, per-sample SGD in data order, learning rate
0.005, 30 epochs. Its defects: doubled_derivative (the hidden delta uses
sigmoid'(a) at the activation a = sigmoid(.), the sigmoid applied twice),
b1_gradient_times_p (the b1 gradient is accumulated once per input, so it is
p times too large) and raw_features.

Neither rebuild has a penalty or a stopping rule: the originating code had
none, and they are settings, not defects. The "converged" rows add one, for
a common stopping rule: each corrected rebuild trains until a step lowers its
training loss by less than common.CONVERGED_TOL nats per example. The layers' gradients are
vectorized over examples and configurations; they equal the notebooks'
Python loops to rounding.

    contract.py   what others read: its tables, the accuracies the originating study
                  reported
    section.py    its values and tables for the paper
    common.py     the originating settings, seeds, initial weights and fit
    em.py, backprop.py  the two rebuilds and their defects
    rows.py       the ablation's rows: which defects each removes
    run.py        the ablation stage's tables
    sentences.py  the section's rows, sentences and table
    findings.py   the reversal and the rows below chance, as the paper says them
    figure.py     the accuracies over random initializations
"""

from ...core.lazy import lazy_exports

# The notebooks' API, imported on first use: a module that needs only the replication's
# contract (what other parts read) does not load the rebuilds.
_EXPORTS = {
    "BACKPROP_DEFECTS": ".backprop",
    "backprop_gradients": ".backprop",
    "originating_backprop": ".backprop",
    "BACKPROP_SEEDS": ".common",
    "CONVERGED_TOL": ".common",
    "EM_SEEDS": ".common",
    "OriginatingNetwork": ".common",
    "legacy_randn": ".common",
    "original_init": ".common",
    "random_init": ".common",
    "training_order": ".common",
    "REPORTED_CORRECT": ".contract",
    "EM_DEFECTS": ".em",
    "originating_em": ".em",
    "ABLATION_ROWS": ".rows",
    "AblationRow": ".rows",
    "RowResult": ".rows",
    "ablation_row": ".rows",
    "fit_row": ".rows",
    "init_distribution": ".rows",
    "iris": ".rows",
    "original_split_order": ".rows",
    "run_original": ".rows",
    "run_paired": ".rows",
    "summarize_distribution": ".rows",
}

__all__ = list(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)
