"""``bcgc simulate``, ``train`` and ``reproduce``: their parsers (light: what they run, and the core
it calls, is imported only when one of them runs, from :mod:`.runs`)."""

from __future__ import annotations

from .. import _validate as V
from .._args import number, output_file, positive, whole
from ..codes import KINDS
from ..runtime.names import BACKENDS, MODES
from ..schemes.running import runtime_schemes
from .commands import add
from .options import data_options, design_file, design_options, link_options, order_options, output, workers_and_model
from .torch_cmd import torch_options
from .train_outputs import output_options, scheme_list


def register(sub) -> dict:
    """Add simulate, train and reproduce."""
    _simulate_parser(sub)
    _train_parser(sub)
    r = add(sub, "reproduce")
    r.add_argument("--quick", action="store_true", help="fewer Monte Carlo draws (every point kept)")
    r.add_argument("--out", default="reproduce", help="output folder")
    r.add_argument("--seed", type=number("--seed", V.SEED), default=0, help="seed of every random draw")
    r.add_argument(
        "--jobs",
        "-j",
        type=whole("--jobs", 1, 1024),
        help="processes computing the pages (default: one per available core); the numbers do not depend on it",
    )
    r.add_argument(
        "--traces",
        metavar="DIR",
        help="folder holding the frontier's trace files "
        "(lambda-sydney-b256-load1.000.csv, alibaba-pai-job1.csv); default: the ones shipped, if any",
    )


def _simulate_parser(sub):
    m = add(sub, "simulate")
    workers_and_model(m)
    data_options(m)
    m.add_argument(
        "--iterations", "-k", type=whole("--iterations", 1, V.MAX_ITERATIONS), default=50, help="gradient steps"
    )
    m.add_argument(
        "--scheme",
        choices=[*runtime_schemes(), "all"],
        default="all",
        help="scheme(s) to simulate (all: every one the design arguments allow, as for train)",
    )
    m.add_argument("--code", choices=KINDS, default="auto", help="gradient code kind per level")
    m.add_argument("--deadline", "-t", type=positive("--deadline"), help="deadline t for the deadline objective")
    design_options(m, "draws of T for the design")
    design_file(m, "run the bcgc scheme with this design document's blocks instead of designing")
    order_options(m)
    torch_options(m)
    m.add_argument("--plot", type=output_file("--plot"), help="write loss against virtual time to this PNG file")
    output(m)


def _train_parser(sub):
    t = add(sub, "train")
    workers_and_model(
        t,
        model_required=False,
        model_help="; the law the design assumes (default: the "
        "--stragglers law; required with replay or natural unless --adapt)",
    )
    _experience_options(t)
    data_options(t)
    t.add_argument(
        "--features",
        type=whole("--features", 1, 100_000),
        help="dimension of the synthetic set (--dataset synthetic only; default: 64)",
    )
    t.add_argument(
        "--iterations", "-k", type=whole("--iterations", 1, V.MAX_ITERATIONS), default=20, help="gradient steps"
    )
    t.add_argument(
        "--scheme",
        type=scheme_list,
        default="bcgc",
        help=f"scheme(s) to train: one of {', '.join(runtime_schemes())}, a comma-separated list, or all (every "
        "one the design arguments allow: bcgc_mm and ucmmc need the runtime objective and the optimal method, "
        "bcgc_mm no --tolerate, none of them --adapt)",
    )
    t.add_argument(
        "--unit", type=number("--unit", V.UNIT), default=0.2, help="seconds of one full-subset gradient under --emulate"
    )
    how = t.add_mutually_exclusive_group()
    for mode, text in zip(
        MODES[:2],
        (
            "sleep so block s is done at (a_n + b_n W_n(s)) · unit (the default)",
            "real computation, stretched by the factor T_n",
        ),
    ):
        how.add_argument(f"--{mode}", dest="mode", action="store_const", const=mode, help=text)
    t.add_argument("--deadline", "-t", type=positive("--deadline"), help="deadline t for the deadline objective")
    design_options(t, "draws of T for the design")
    design_file(t, "start the bcgc scheme with this design document's blocks instead of designing")
    link_options(t)  # emulated per worker; --ingress is refused (run_train)
    order_options(t)
    torch_options(t)
    t.add_argument(
        "--backend",
        choices=[*BACKENDS, "torch-ddp"],
        default="ray",
        help="engine: Ray (processes, clusters), threads, or torch-ddp (the coded all-reduce on N local gloo "
        "processes, a --torch model; docs/torch.md)",
    )
    t.add_argument(
        "--baselines", action="store_true", help="torch-ddp: also run plain DDP and the compute-deadline baseline"
    )
    t.add_argument("--address", help="Ray cluster address (default: a local Ray on this machine)")
    t.add_argument(
        "--cpus-per-worker",
        type=number("--cpus-per-worker", V.NONNEGATIVE),  # 0, the one-machine default, is valid
        default=0.0,
        help="CPUs Ray reserves per worker: 0 lets workers share the cores of one machine, "
        "1 gives each worker a core of a cluster (docs/runtime.md)",
    )
    t.add_argument(
        "--startup-timeout",
        type=positive("--startup-timeout"),
        default=120.0,
        help="seconds Ray's workers may take to start (importing PyTorch on a busy machine takes 20+ s)",
    )
    t.add_argument("--log", type=output_file("--log"), help="write every iteration as a JSON line to this file")
    t.add_argument(
        "--plot", type=output_file("--plot"), help="write loss against wall-clock time per scheme to this PNG file"
    )
    output_options(t)
    output(t)
    t.set_defaults(mode=None)  # --emulate unless --stragglers natural (run_args.experience)


def _experience_options(t):
    """--stragglers, --adapt, --window of ``bcgc train`` (docs/runtime.md)."""
    t.add_argument(
        "--stragglers",
        metavar="WHAT",
        help="what the workers experience: a straggler law (emulated, "
        "the default: --model), replay:path=F.csv[,fixed=P] or replay:name=NAME (a shipped trace) (worker n in "
        "iteration k takes F[k mod rows, n] "
        "/ median(F) · unit; P of it a fixed cost) or natural (no injected delay) (docs/runtime.md)",
    )
    t.add_argument(
        "--adapt",
        nargs="?",
        const=5,
        metavar="K",
        type=whole("--adapt", 1, V.MAX_ITERATIONS),
        help="learn the law during the run: refit from the last --window iterations every K "
        "(default 5) and re-design when the predicted gain outweighs moving data (docs/runtime.md)",
    )
    t.add_argument(
        "--window",
        type=whole("--window", 2, V.MAX_ITERATIONS),
        default=20,
        help="iterations the --adapt fit looks back on (default 20)",
    )


#: each command's runner: (module, function)
COMMANDS = {
    "simulate": ("runs", "run_simulate"),
    "train": ("runs", "run_train"),
    "reproduce": ("runs", "run_reproduce"),
}
