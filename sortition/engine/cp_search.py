"""A CP-SAT search within a wall-clock deadline beside its deterministic budget: the budget
decides wherever the deadline is far, and a search the clock cut is a time limit, never a result
(so that equal inputs give equal outputs on every machine)."""

from __future__ import annotations

import time
from typing import Any

from ortools.sat.python import cp_model

from sortition.cancel import solve_cp_sat
from sortition.engine.errors import TimeLimitReached


def search(
    solver: cp_model.CpSolver,
    model: cp_model.CpModel,
    deadline: float | None,
    callback: Any = None,
) -> Any:
    """CP-SAT's search (``cancel.solve_cp_sat``) within ``deadline`` (perf_counter seconds);
    returns its status. TimeLimitReached when the deadline passed before the search or stopped
    it: neither a proof of optimality nor of infeasibility, and the deadline passed or the
    deterministic budget was not spent (CP-SAT's own clock can stop it a millisecond before the
    deadline)."""
    if deadline is not None and time.perf_counter() >= deadline:
        raise TimeLimitReached
    status = solve_cp_sat(solver, model, callback, deadline=deadline)
    if deadline is None or status in (cp_model.OPTIMAL, cp_model.INFEASIBLE):
        return status
    spent = solver.response_proto.deterministic_time >= solver.parameters.max_deterministic_time
    if time.perf_counter() >= deadline or not spent:
        raise TimeLimitReached
    return status
