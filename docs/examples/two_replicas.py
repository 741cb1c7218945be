"""An example peer in one module (docs/peers.md, "Adding a scheme"): every subset on two workers.

Classic gradient coding pinned at level 1 — each worker computes two subsets and sends one coded
vector; the master decodes from the first N − 1. As a block vector (all L coordinates at level 1) it
is a :class:`bcgc.schemes.BlockDesign`: its timing under free links, a fixed cost or upload links, its
exact evaluation for i.i.d. laws, and its placement, encoding and decoding in the simulator and the
runtime all come from that base class. Importing this module registers it:

    import two_replicas                     # or: bcgc.schemes.register(TwoReplicas())
    bcgc.peers.compare(law, 8, 1000)        # a "two_replicas" row, on the same common draws
    bcgc.simulate.simulate_all(problem, law, ["bcgc", "two_replicas"])
    bcgc.runtime.train(problem, law, ["two_replicas"], backend="threads")
"""

from __future__ import annotations

from bcgc.schemes import BlockDesign, register
from bcgc.timing.orderstat import single_level_blocks


class TwoReplicas(BlockDesign):
    name = "two_replicas"

    def blocks(self, params, ctx):
        return single_level_blocks(ctx.workers, ctx.coords, 1)


SCHEME = register(TwoReplicas())
