"""The training screen's loss plot: a run's train and eval losses by step, and for a resumed run
(or one that only scores) the losses its folder holds from before it."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from ...train.runs import STEP_TRAIN
from ...train.training_run import TrainingRun
from .run_folder import EarlierLosses, earlier_losses


class LossPlot(PlotextPlot):
    """Train and eval loss by step, redrawn only when a point came."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.points = 0  # points on the plot, train and eval
        self.steps: list[int] = []  # the train losses' steps on the plot, in order
        self._drawn = (0, 0)
        self._earlier: tuple[TrainingRun, EarlierLosses] | None = None
        self.plt.title("loss")
        self.plt.xlabel("step")

    def forget(self) -> None:
        """A new run is shown: the next draw starts from nothing."""
        self._drawn, self._earlier = (0, 0), None

    def draw(self, run: TrainingRun) -> None:
        """Plot `run`'s losses after its folder's earlier ones, when there are new ones."""
        first = run.train_losses[0][0] if run.train_losses else None
        train, evals = self._earlier_losses(run).before(first)
        train, evals = train + run.train_losses, evals + run.eval_losses
        if (len(train), len(evals)) == self._drawn:
            return
        self._drawn = (len(train), len(evals))
        plt = self.plt
        plt.clear_data()
        if train:
            plt.plot(*zip(*train), label="train", marker="braille")
        if evals:
            plt.plot(*zip(*evals), label="eval", marker="braille")
        self.points = len(train) + len(evals)
        self.steps = [step for step, _ in train]
        self.refresh()

    def _earlier_losses(self, run: TrainingRun) -> EarlierLosses:
        """The losses of the run's folder from before this run, read once: a resumed run's plot
        began at its checkpoint (steps 51-60 of 60: concurrency review), and one that only scores
        shows the training it scores. A new run's folder holds none of its own."""
        if self._earlier is None or self._earlier[0] is not run:
            fresh = not run.resume and STEP_TRAIN in run.steps
            self._earlier = (run, EarlierLosses() if fresh else earlier_losses(run.run_dir))
        return self._earlier[1]
