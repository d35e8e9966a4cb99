"""The time-to-convergence benchmark counts costs as its printout says."""

import numpy as np

from emnn.parts.timing.bench_convergence import WITHIN, _speedup, cost_to_reach, median_of

# rows: (seconds, E-steps, objective)
RUN = np.array([[0.1, 1, -10.0], [0.2, 2, -5.0], [0.3, 3, -1.0], [0.4, 4, -1.0]])


def test_cost_is_the_first_iterate_within_reach_of_the_best():
    cost = cost_to_reach(RUN, "bar", best=-1.0 + 0.5 * WITHIN)
    assert (cost["kind"], cost["e_steps"], cost["seconds"]) == ("exact", 3.0, 0.3)


def test_a_run_that_stopped_short_is_a_lower_bound_or_never():
    capped = cost_to_reach(RUN, "cap", best=0.5)
    stalled = cost_to_reach(RUN, "own", best=0.5)
    assert (capped["kind"], capped["e_steps"]) == ("lower", 4.0)
    assert stalled["kind"] == "never"
    assert capped["gap"] == stalled["gap"] == 3.0


def test_median_is_exact_only_when_lower_bounds_cannot_move_it():
    exact = {"kind": "exact", "e_steps": 10.0}
    lower = {"kind": "lower", "e_steps": 5.0}
    assert median_of([exact, exact, lower], "e_steps") == (10.0, True)
    assert median_of([exact, lower, lower], "e_steps") == (5.0, False)
    never = {"kind": "never", "e_steps": 1.0}
    assert median_of([never, never, exact], "e_steps")[0] == np.inf


def test_speedup_against_a_lower_bound_is_printed_as_a_bound():
    assert _speedup((100.0, True), (10.0, True))[1] == "10.0x"
    assert _speedup((100.0, False), (10.0, True))[1] == ">=10.0x"
    assert _speedup((100.0, True), (10.0, False))[1] == "<=10.0x"
    assert _speedup((100.0, True), (np.inf, False))[1] == "-"
