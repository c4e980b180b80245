"""The Numba compiler pipeline for generated derivatives: Numba's own, without branch pruning.

Numba drops a branch or loop whose test it can decide before typing (`k = 0` then
`while k < 0:`). In a derivative, such a loop's body may be the only place that appends to a
tape, which the backward sweep pops: pruned, the tape's type is never seen, and typing fails.
Branches are kept, so every statement is typed; LLVM still removes the dead code afterwards,
so the machine code is the same.
"""

from __future__ import annotations

from numba.core.compiler import CompilerBase, DefaultPassBuilder
from numba.core.untyped_passes import DeadBranchPrune


class KeepBranches(CompilerBase):
    """`numba.njit(pipeline_class=KeepBranches)`: the nopython pipeline minus DeadBranchPrune."""

    def define_pipelines(self):
        pm = DefaultPassBuilder.define_nopython_pipeline(self.state)
        pm.passes = [(p, why) for p, why in pm.passes if p is not DeadBranchPrune]
        pm.finalize()
        return [pm]
