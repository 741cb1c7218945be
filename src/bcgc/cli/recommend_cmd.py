"""``bcgc recommend``: for a law (or a trace) and a network, the fastest exact scheme and its parameters.

It runs ``compare`` under the links (BCGC by the communication-aware design, every peer tuned under
the same links, common draws) and ranks the schemes that compute the exact gradient with
:func:`bcgc.recommend.recommend`; the oracle (a bound, not a scheme) and ignore-stragglers (an
inexact gradient) are shown apart, never chosen.
"""

from __future__ import annotations

from .. import _validate as V
from .._args import number, whole
from .commands import add
from .options import link_options, output, workers_and_model


def register(sub):
    r = add(sub, "recommend")
    workers_and_model(r)
    r.add_argument(
        "--coords",
        "-L",
        required=True,
        type=number("--coords", V.COORDS),
        help=f"number of coordinates L ({V.COORDS.describe()}): the size of a gradient message",
    )
    link_options(r)
    r.add_argument(
        "--samples",
        type=whole("--samples", 2, V.MAX_SAMPLES),
        default=20_000,
        help="common Monte Carlo draws on which every scheme is tuned and evaluated",
    )
    r.add_argument(
        "--no-mm",
        action="store_true",
        help="leave out bcgc_mm (its design search takes seconds at N = 20, minutes at N = 256)",
    )
    output(r)


#: the runner: (module, function), imported when the command runs
COMMANDS = {"recommend": ("recommend_run", "run_recommend")}
