"""Every scheme as one object, and ONE registry (docs/peers.md, "Adding a scheme").

The protocol (:class:`Scheme`): timing on common draws under free links, a fixed cost or upload links;
the exact form of formula (2)'s family; upload and messages per worker; the tunable parameter and
its tuning; the design a run uses. The registry lists BCGC, uncoded, classic GC, Tandon's partial
scheme, Ferdinand & Draper (two rows), UC-MMC, ignore-stragglers and the oracle bound, plus bcgc_mm, and
uncoded and GC on a speed-proportional data split when workers differ;
``compare``, ``simulate``, ``train`` and ``recommend`` iterate it. A scheme of one's own is one
module: subclass :class:`Scheme` (or :class:`BlockDesign` for a block vector) and :func:`register` it.

Placement, encoding and decoding: :class:`~bcgc.schemes.blocks.BlockScheme` (block vectors) and
:class:`~bcgc.schemes.mm_codec.MMScheme` (bcgc_mm and UC-MMC designs); :class:`~bcgc.schemes.plan.Plan`
puts a scheme and its links together for the simulator and the runtime.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points

from .base import BlockDesign, Context, RedesignImpossible, Scheme, pick
from .bcgc import BCGC
from .bcgc_mm import BCGCMM
from .blocks import BlockScheme
from .ferdinand import Ferdinand
from .gc import ClassicGC
from .ignore import IgnoreStragglers
from .mm_codec import MMScheme
from .oracle import Oracle
from .plan import Plan, make_scheme
from .registry import by_label, get, names, register, runnable, schemes, unregister
from .split import GCSplit, UncodedSplit
from .tandon import TandonPartial
from .ucmmc import UCMMC
from .uncoded import Uncoded

__all__ = [
    "Scheme",
    "BlockDesign",
    "Context",
    "RedesignImpossible",
    "pick",
    "register",
    "unregister",
    "get",
    "by_label",
    "schemes",
    "runnable",
    "names",
    "BlockScheme",
    "MMScheme",
    "Plan",
    "make_scheme",
]

# the built-in schemes, in compare's row order (bcgc_mm last: compare adds its row on request)
for _scheme in (
    BCGC(),
    Uncoded(),
    UncodedSplit(),
    ClassicGC(),
    GCSplit(),
    TandonPartial(),
    Ferdinand("ferdinand_r_L", lambda coords: coords),
    Ferdinand("ferdinand_r_L2", lambda coords: coords // 2),
    UCMMC(),
    IgnoreStragglers(),
    Oracle(),
    BCGCMM(),
):
    register(_scheme, last=True)  # in this order (a scheme of one's own goes before the oracle)


def _load_entry_points() -> None:
    """Schemes of installed packages: each entry point of the group ``bcgc.schemes`` names a module
    that registers its scheme when imported (docs/peers.md, "Adding a scheme")."""
    for ep in entry_points(group="bcgc.schemes"):
        try:
            ep.load()
        except Exception as exc:  # a broken plug-in must not break every command
            warnings.warn(f"bcgc: the scheme plug-in {ep.name!r} ({ep.value}) failed to load: {exc}", stacklevel=2)


_load_entry_points()
