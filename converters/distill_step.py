"""`convert --distill`: the options checked before any work, the teacher's soft targets built once, the report.

The fine-tuning of pruning, clustering and QAT then trains against [teacher outputs | labels] with
`distill.distill_loss`. The teacher (by default the input model, before any step changed it) only predicts, so
its outputs are computed once for the whole conversion. Without labels the loss is the soft one alone (alpha 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edgelift.errors import DataError, EdgeliftError, InvalidArgumentError

from .distill import check_alpha, check_temperature, distill_loss, output_is_logits

DEFAULT_TEMPERATURE = 2.0  # measured on the digits CNN pruned 90%: T 4 fine-tuned worse than T 2 (README)
DEFAULT_ALPHA = 0.5
FLAGS = {"teacher": "--teacher", "temperature": "--temperature", "distill_alpha": "--distill-alpha"}


@dataclass
class DistillPlan:
    teacher: str | None  # a Keras model path; None: the input model
    temperature: float
    alpha: float  # as used: 1.0 when the training data has no labels
    labels: bool
    alpha_ignored: float | None = None  # an alpha < 1 asked for, which unlabelled data cannot honour


def check_options(opts) -> tuple[float | None, float | None]:
    """Refuse every bad --distill combination of `opts` (a ConvertOptions being checked) before any work;
    returns the temperature and alpha to use (None, None when distillation is off)."""
    if not opts.distill:
        for key, flag in FLAGS.items():
            value = opts.given.get(key)
            if value is not None:
                shown = f"{value:g}" if isinstance(value, float) else value  # as typed: 3, not 3.0
                raise InvalidArgumentError(f"{flag} {shown} was given without --distill",
                                           hint=f"add --distill to fine-tune against a teacher, or drop {flag}")
        return None, None
    fine_tuning = opts.fine_tuning
    if not fine_tuning:
        raise InvalidArgumentError("--distill changes how pruning, clustering or QAT fine-tune, and none was asked",
                                   hint="add --prune SPARSITY (or --cluster N, or --qat) with --train-data")
    if opts.train_data is None:
        raise InvalidArgumentError(f"--distill fine-tunes {' and '.join(fine_tuning)} on training data, and none "
                                   "was given", hint="pass --train-data DATA (with --distill, labels are optional)")
    temperature = check_temperature(DEFAULT_TEMPERATURE if opts.temperature is None else opts.temperature)
    alpha = check_alpha(DEFAULT_ALPHA if opts.distill_alpha is None else opts.distill_alpha)
    return temperature, alpha


def make_plan(opts, train) -> DistillPlan | None:
    """The plan for checked options and the loaded training data (whose labels decide alpha)."""
    if not opts.distill:
        return None
    labels = train.y is not None
    alpha = opts.distill_alpha
    ignored = alpha if not labels and "distill_alpha" in opts.given and alpha < 1.0 else None
    teacher = None if opts.teacher is None else str(opts.teacher)
    return DistillPlan(teacher, opts.temperature, alpha if labels else 1.0, labels, ignored)


def _shapes(model) -> tuple[tuple, tuple]:
    return tuple(model.inputs[0].shape[1:]), tuple(model.outputs[0].shape[1:])


def _load_teacher(path: str):
    from .load import load_model

    try:
        loaded = load_model(path)
        return loaded, loaded.require_keras("--teacher")
    except EdgeliftError as exc:  # the model loader's words, said about the teacher
        raise type(exc)(f"--teacher: {exc.message}", hint=exc.hint) from None


class Distiller:
    """Soft targets and the loss for every fine-tuning step of one conversion."""

    def __init__(self, plan: DistillPlan, student, input_model, train_xy: tuple[np.ndarray, np.ndarray | None]):
        self.plan = plan
        self._loaded = None
        teacher = input_model
        if plan.teacher is not None:
            self._loaded, teacher = _load_teacher(plan.teacher)
        try:
            self._build(teacher, student, train_xy)
        finally:
            if self._loaded is not None:
                self._loaded.close()

    def _build(self, teacher, student, train_xy) -> None:
        from .train import infer_loss

        (s_in, s_out), (t_in, t_out) = _shapes(student), _shapes(teacher)
        if len(s_out) != 1 or s_out[0] is None or s_out[0] < 2:
            raise DataError(f"--distill matches class scores, and the model outputs shape {s_out}",
                            hint="distill a classifier (outputs of shape (batch, classes)); drop --distill otherwise")
        if (t_in, t_out) != (s_in, s_out):
            who = f"--teacher {self.plan.teacher!r}"
            raise InvalidArgumentError(f"{who} takes inputs {t_in} and outputs {t_out}; the model takes {s_in} and "
                                       f"outputs {s_out}", hint="the teacher must take the same inputs and predict "
                                       "the same classes; drop --teacher to use the input model")
        x, y = train_xy
        n = int(s_out[0])
        from_logits = output_is_logits(student)
        soft = np.asarray(teacher.predict(x, batch_size=256, verbose=0), np.float64).reshape(len(x), n)
        if output_is_logits(teacher) != from_logits:  # the teacher's scores in the student's terms
            soft = _softmax(soft) if not from_logits else np.log(np.clip(soft, 1e-7, 1.0))
        hard = infer_loss(student, y) if self.plan.labels and self.plan.alpha < 1.0 else None
        self.loss = distill_loss(n, self.plan.temperature, self.plan.alpha, from_logits, hard,
                                 label_shape=() if y is None else tuple(np.shape(y)[1:]))
        cols = [soft.astype(np.float32)] + ([] if y is None else [np.asarray(y, np.float32).reshape(len(x), -1)])
        self.train_xy = (x, np.concatenate(cols, axis=1))

    def report(self, final_model, steps: list[str]) -> dict[str, Any]:
        """steps["distill"]: what was used, and the distillation loss of the fine-tuned model on the training data."""
        import tensorflow as tf

        x, packed = self.train_xy
        pred = final_model.predict(x, batch_size=256, verbose=0)
        pred = pred[0] if isinstance(pred, list) else pred
        final = float(self.loss(tf.constant(packed), tf.constant(np.asarray(pred, np.float32))))
        p = self.plan
        return {"teacher": p.teacher or "input model", "temperature": p.temperature, "alpha": p.alpha,
                "labels": p.labels, "alpha_forced": not p.labels, "fine_tuned": steps, "final_loss": final,
                "final_loss_on": f"{len(x)} training samples"}


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def summary_line(info: dict[str, Any]) -> str:
    """The terminal summary's line for steps["distill"]."""
    used = ("soft targets and labels" if info["labels"] else "soft targets only: the training data has no labels")
    return (f"distillation: teacher {info['teacher']}, temperature {info['temperature']:g}, alpha "
            f"{info['alpha']:g} ({used}); final distillation loss {info['final_loss']:.4g} on "
            f"{info['final_loss_on']}")
