"""The ``%cnnlive`` line magic: argparse-style subcommands mirroring the API."""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from IPython.core.magic import Magics, line_magic, magics_class

from ..jobs import JobRunningError, JobStateError, UnknownJobError, manager
from ..jobs.steering import STOP_AFTER
from .choices import DATA_NAMES, MODEL_PRESETS, build_model, parse_floats, parse_maps


def _arg(parse: Any, name: str) -> Any:
    """Wrap a parser for argparse so its message (which names what is valid) is shown."""
    def typed(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    typed.__name__ = name
    return typed


_maps_arg = _arg(parse_maps, "maps")


class UsageError(Exception):
    """Bad options: carries the usage text to show instead of a traceback."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.format_usage()}{self.prog}: error: {message}")

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        raise UsageError(message or "")


def build_parser() -> _Parser:
    p = _Parser(prog="%cnnlive", description="Start, watch and stop cnnlive background jobs.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    t = sub.add_parser("train", help="train a model in the background")
    t.add_argument("--model", default="simple", help=f"{' | '.join(MODEL_PRESETS)} | notebook variable | .keras path")
    t.add_argument("--data", default="digits", help=f"{' | '.join(DATA_NAMES)} | .npz | IDX dir")
    t.add_argument("--epochs", type=int, default=5)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--optimizer", default="rmsprop")
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--schedule", default="power", help="power | exponential | none")
    t.add_argument("--name", default=None)
    t.add_argument("--var", default="model", help="notebook variable that receives the model")
    t.add_argument("--plot", action="store_true", help="show the live dashboard")
    o = sub.add_parser("oip", help="search input patterns (OIP) of a conv layer")
    o.add_argument("--model", default="model", help="notebook variable, .keras path or job id (job:N)")
    o.add_argument("--layer", default="Conv2D_3")
    o.add_argument("--maps", type=_maps_arg, default=0, help="N, N,M,... or all")
    o.add_argument("--steps", type=int, default=200)
    o.add_argument("--wavelengths", default="14,7,3", help="noise length scales in pixels, comma separated")
    o.add_argument("--seed", type=int, default=1)
    o.add_argument("--name", default=None)
    o.add_argument("--plot", action="store_true")
    o.add_argument("--data", default=None, help="judge the OIPs against this data set's test images (quality)")
    d = sub.add_parser("dream", help="carve map patterns into a photo")
    d.add_argument("--model", default="model", help="notebook variable, .keras path or job id (job:N)")
    d.add_argument("--image", default=None, help="path of a photo; default: the bundled flower")
    d.add_argument("--layer", default="Conv2D_3")
    d.add_argument("--maps", type=_maps_arg, default=56)
    d.add_argument("--iterations", type=int, default=4)
    d.add_argument("--levels", type=int, default=1)
    d.add_argument("--size", type=int, default=560)
    d.add_argument("--name", default=None)
    d.add_argument("--plot", action="store_true")
    sub.add_parser("jobs", help="table of jobs")
    for verb, text in (("stop", "graceful stop"), ("cancel", "hard cancel"), ("halt", "stop the job's loop"),
                       ("remove", "forget a finished job"), ("pause", "pause a job at its next safe point"),
                       ("resume", "resume a paused job")):
        s = sub.add_parser(verb, help=text)
        s.add_argument("id", type=int)
        if verb == "stop":
            s.add_argument("--after", default=None, choices=[a for a in STOP_AFTER if a],
                           help="epoch: a training job ends at the end of the current epoch")
    a = sub.add_parser("adjust", help="change a running training job's learning rate and/or epochs")
    a.add_argument("id", type=int)
    a.add_argument("--lr", type=float, default=None, help="learning rate from the next batch")
    a.add_argument("--epochs", type=int, default=None, help="total epochs of the run (not below those done)")
    lg = sub.add_parser("log", help="the job's captured output")
    lg.add_argument("id", type=int)
    lg.add_argument("-n", type=int, default=None, help="last N lines")
    r = sub.add_parser("runs", help="table of the saved runs in the runs folder")
    r.add_argument("--folder", default=None)
    r.add_argument("--kind", default="train", choices=("train", "oip", "dream", "other", "all"))
    c = sub.add_parser("compare", help="overlay jobs (job:N) and saved runs (run folders) in one figure")
    c.add_argument("sources", nargs="+", help="job:N or a run folder (path or name in the runs folder)")
    c.add_argument("--metrics", default=None, help="comma separated, e.g. loss,accuracy")
    e = sub.add_parser("exemplars", help="the data images that drive maps most, beside their OIPs")
    e.add_argument("--model", default="model", help="notebook variable, .keras path or job id (job:N)")
    e.add_argument("--data", default="digits")
    e.add_argument("--layer", default="Conv2D_3")
    e.add_argument("--maps", type=_maps_arg, default=0, help="N, N,M,... or all")
    e.add_argument("-k", type=int, default=9, help="images per map")
    e.add_argument("--oip", default=None, help="an OIP job (job:N) whose patterns go beside them")
    sub.add_parser("help", help="this help")
    return p


def _load_data(name: str) -> Any:
    """``cl.data.load(name)`` (read here, so the magics do not import the package root)."""
    from ..engines.training.data import load

    return load(name)


@magics_class
class CnnliveMagics(Magics):
    """``%cnnlive train|oip|dream|jobs|stop|cancel|halt|pause|resume|adjust|log|remove|runs|compare|exemplars|help``."""

    @line_magic
    def cnnlive(self, line: str) -> Any:
        parser = build_parser()
        try:
            args = parser.parse_args(shlex.split(line))
        except (UsageError, ValueError) as exc:
            print(str(exc).strip() or parser.format_usage())
            return None
        if args.command in (None, "help"):
            print(parser.format_help())
            return None
        try:
            return getattr(self, f"_do_{args.command}")(args)
        except (UnknownJobError, JobRunningError, JobStateError, ValueError, TypeError, FileNotFoundError) as exc:
            print(f"%cnnlive {args.command}: {exc}")
            return None

    # job control
    def _do_jobs(self, args: argparse.Namespace) -> None:
        print(manager().status())

    def _do_stop(self, args: argparse.Namespace) -> None:
        print(manager().stop(args.id, args.after))

    def _do_pause(self, args: argparse.Namespace) -> None:
        print(manager().pause(args.id))

    def _do_resume(self, args: argparse.Namespace) -> None:
        print(manager().resume(args.id))

    def _do_adjust(self, args: argparse.Namespace) -> None:
        print(manager().adjust(args.id, learning_rate=args.lr, epochs=args.epochs))

    def _do_cancel(self, args: argparse.Namespace) -> None:
        print(manager().cancel(args.id))

    def _do_halt(self, args: argparse.Namespace) -> None:
        print(manager().halt(args.id))

    def _do_remove(self, args: argparse.Namespace) -> None:
        job = manager().remove(args.id)
        print(f"job {job.id} removed")

    def _do_log(self, args: argparse.Namespace) -> None:
        print(manager().get(args.id).log(args.n))

    # starting work
    def _resolve_model(self, ref: str) -> Any:
        ns = self.shell.user_ns if self.shell is not None else {}
        if ref.startswith("job:"):
            return manager().get(int(ref[4:]))
        if ref in ns:
            return ns[ref]
        if ref.endswith(".keras"):
            return ref
        names = sorted(k for k, v in ns.items() if type(v).__name__ in ("Sequential", "Functional", "Model"))
        raise ValueError(f"no model named {ref!r} in the notebook; models here: {', '.join(names) or 'none'}"
                         " (or give a .keras path or job:ID)")

    def _do_train(self, args: argparse.Namespace) -> Any:
        from . import api as cl

        data = _load_data(args.data)
        if args.model in MODEL_PRESETS:
            model = build_model(args.model, data.input_shape, data.num_classes)
        else:
            model = self._resolve_model(args.model)
        if self.shell is not None and args.var:
            self.shell.user_ns[args.var] = model
        schedule = None if args.schedule == "none" else args.schedule
        job = cl.train(model, data, epochs=args.epochs, batch_size=args.batch_size,
                       optimizer=args.optimizer, learning_rate=args.lr, lr_schedule=schedule,
                       name=args.name, plot=args.plot)
        print(f"started job {job.id} ({job.name}); the model is in the variable {args.var!r}")
        return job

    def _do_oip(self, args: argparse.Namespace) -> Any:
        from . import api as cl

        waves = parse_floats(args.wavelengths, "wavelengths")
        job = cl.oip(self._resolve_model(args.model), layer=args.layer, maps=args.maps, steps=args.steps,
                     wavelengths=waves, seed=args.seed, name=args.name, plot=args.plot,
                     data=None if args.data is None else _load_data(args.data))
        print(f"started job {job.id} ({job.name})")
        return job

    def _do_dream(self, args: argparse.Namespace) -> Any:
        from . import api as cl

        job = cl.dream(self._resolve_model(args.model), image=args.image, layer=args.layer, maps=args.maps,
                       iterations=args.iterations, levels=args.levels, size=args.size, name=args.name,
                       plot=args.plot)
        print(f"started job {job.id} ({job.name})")
        return job

    # runs, comparison, exemplars
    def _do_runs(self, args: argparse.Namespace) -> Any:
        from . import api as cl

        return cl.runs(args.folder, kind=args.kind)

    def _do_compare(self, args: argparse.Namespace) -> Any:
        from . import api as cl

        sources = [manager().get(int(s[4:])) if s.startswith("job:") else s for s in args.sources]
        metrics = None if args.metrics is None else [m.strip() for m in args.metrics.split(",") if m.strip()]
        return cl.compare(*sources, metrics=metrics)

    def _do_exemplars(self, args: argparse.Namespace) -> Any:
        from . import api as cl

        oip = None if args.oip is None else manager().get(int(args.oip.removeprefix("job:")))
        return cl.exemplars(self._resolve_model(args.model), _load_data(args.data), args.layer, args.maps,
                            args.k, oip=oip)
