"""``ProxySimulator``: the simulator contract over a trained proxy, so every agent runs on it unchanged."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from archgym.proxy.model import ProxyModel, load_proxy
from simulators.core import BatchEvaluation, Evaluation, Simulator

__all__ = ["ProxySimulator"]


class ProxySimulator(Simulator):
    """A ``Simulator`` whose costs are a trained proxy's predictions.

    ``proxy`` is a model directory (or a loaded ``ProxyModel``). Given the real ``simulator``, the
    proxy is first checked to have been trained for it -- same class, workload, space, metrics and
    settings (``Simulator.settings``) -- and takes its default design and targets from it; the real
    simulator is never asked to evaluate anything else.
    """

    def __init__(self, proxy: str | os.PathLike[str] | ProxyModel, *, simulator: Simulator | None = None,
                 n_jobs: int = 1) -> None:
        self.model = proxy if isinstance(proxy, ProxyModel) else load_proxy(proxy, n_jobs=n_jobs)
        if simulator is not None:
            self.model.bind(simulator)  # checks it was trained for it; canonical features use its classes
        self.simulator = simulator
        self.space = simulator.space if simulator is not None else self.model.space
        self.metrics = tuple(simulator.metrics) if simulator is not None else self.model.metrics
        self.workload = self.model.workload

    @property
    def settings(self) -> dict[str, Any]:
        """As ``Simulator.settings``, with ``proxy`` always a path when it names a model directory: a bare
        name (``proxy="model"``) is recorded by a dataset as that directory and its digest, as ``./model``
        is, so that runs of two models trained into one directory never pass for one setting."""
        settings = super().settings
        if isinstance(settings.get("proxy"), str):
            settings["proxy"] = Path(settings["proxy"])
        return settings

    def _evaluate(self, design: dict[str, Any]) -> Evaluation:
        encoder = self.model.encoder
        if self.space.discrete:  # the fast path: dict lookups instead of column searches
            features = encoder.from_indices(self.space.encode_indices(design)[None, :])
        else:
            features = encoder.from_columns({k: [v] for k, v in design.items()})
        evaluation = self.model.predict(features)[0]
        if not evaluation.feasible:  # metrics left out rather than NaN, which would break gymnasium's
            return Evaluation(metrics={}, feasible=False, reason=evaluation.reason)  # determinism check
        return evaluation

    def _evaluate_batch(self, indices: np.ndarray) -> BatchEvaluation:
        return self.model.predict(self.model.encoder.from_indices(indices))

    def default_design(self) -> dict[str, Any]:
        return self.simulator.default_design() if self.simulator is not None else super().default_design()

    def default_targets(self) -> dict[str, float]:
        if self.simulator is not None:
            return self.simulator.default_targets()
        return dict(self.model.manifest.default_targets)

    def allowed_values(self, name: str, chosen: Mapping[str, Any]) -> np.ndarray:
        """The real simulator's structural rules (a proxy predicts metrics, not what can be built)."""
        if self.simulator is not None:
            return self.simulator.allowed_values(name, chosen)
        return super().allowed_values(name, chosen)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "backend": "proxy", "proxy": str(self.model.path or ""),
                "env_id": self.model.env_id}
