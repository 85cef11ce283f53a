"""`nnlab adam` (one 1-D optimisation, every step tabulated) and `nnlab adam escape` (question 1.2)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from nnlab.cli.common import build, execute
from nnlab.cli.options import TOOLS, JsonOpt, RunsDirOpt

adam_app = typer.Typer(invoke_without_command=True, no_args_is_help=False)

LrOpt = Annotated[float, typer.Option("--lr", help="Learning rate: α for Adam, η for gd and momentum.")]
Beta1Opt = Annotated[float, typer.Option("--beta1", help="β1: Adam's first-moment decay; the momentum coefficient.")]
Beta2Opt = Annotated[float, typer.Option("--beta2", help="β2: Adam's second-moment decay.")]
EpsOpt = Annotated[float, typer.Option("--eps", help="Adam's ε (0 allowed, as in the assignment).")]
LOpt = Annotated[float, typer.Option("--L", help="Bump: distance from the start O to the local minimum.")]


@adam_app.callback()
def adam(
    ctx: typer.Context,
    fn: Annotated[str, typer.Option("--fn", help="Loss: bump (question 1), relu, sigmoid, abs or quadratic (x²).")] = "bump",
    optimizer: Annotated[str, typer.Option("--optimizer", "-o", help="gd, momentum or adam.")] = "adam",
    x0: Annotated[Optional[float], typer.Option("--x0", help="Start; by default 0 (the point O) for bump, 2 for the others.",
                                                show_default=False)] = None,
    steps: Annotated[int, typer.Option("--steps", help="Number of updates t = 1..steps.")] = 30,
    lr: LrOpt = 0.3,
    beta1: Beta1Opt = 0.9,
    beta2: Beta2Opt = 0.999,
    eps: EpsOpt = 0.0,
    h: Annotated[float, typer.Option("--h", help="Bump height (its width is 2h).")] = 0.5,
    L: LOpt = 1.0,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Optimise a 1-D loss and show g_t, m_t, v_t, m̂_t, v̂_t and x_t for every step.

    A table, one terminal plot of all six against t, and trace.csv + trace.png in the run.
    The bump loss is f(x) = L − x for x < L, h − |x − L − h| for x ≥ L (start O at x = 0).
    """
    if ctx.invoked_subcommand is not None:
        return
    from nnlab.experiments import adam as experiment

    config = build(experiment.AdamConfig, fn=fn, optimizer=optimizer, x0=x0, steps=steps, lr=lr, beta1=beta1,
                   beta2=beta2, eps=eps, h=h, L=L)
    execute("adam", config, experiment.run, runs_dir=runs_dir, json_output=json_output)


@adam_app.command("escape")
def escape(
    lr: Annotated[float, typer.Option("--lr", help="Adam's α.")] = 0.3,
    beta1: Beta1Opt = 0.9,
    beta2: Beta2Opt = 0.999,
    eps: EpsOpt = 0.0,
    L: LOpt = 1.0,
    gd_h: Annotated[float, typer.Option("--gd-h", help="Bump height for the gradient-descent run.")] = 0.5,
    gd_lr: Annotated[float, typer.Option("--gd-lr", help="η for the gradient-descent run.")] = 0.3,
    steps: Annotated[int, typer.Option("--steps", help="Steps each simulated run may take.")] = 200,
    runs_dir: RunsDirOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """The largest bump height h Adam still crosses (bisection, 2 decimals), and what GD does at h = 0.5."""
    from nnlab.experiments import adam as experiment

    config = build(experiment.EscapeConfig, L=L, lr=lr, beta1=beta1, beta2=beta2, eps=eps, gd_h=gd_h,
                   gd_lr=gd_lr, steps=steps)
    execute("adam escape", config, experiment.run_escape, runs_dir=runs_dir, json_output=json_output)


def register(app: typer.Typer) -> None:
    """Join the adam group to the app."""
    app.add_typer(adam_app, name="adam", rich_help_panel=TOOLS,
                  help="A 1-D optimizer lab: gd, momentum, Adam step by step (question 1); `adam escape` for the bump.")
