"""The XGBoost proxy cost model: trained on a trajectory dataset, it stands in for a simulator.

One ``xgboost`` regressor per metric learns ``design -> metric`` from the feasible rows of a dataset:

- ``features``: design -> feature vector, from the design space alone;
- ``train``: ``train_proxy`` (duplicates dropped, seeded split, early stopping, the best depth per
  metric, log targets for positive metrics, a feasibility classifier when rows are infeasible);
- ``accuracy``: RMSE (and as % of range and mean), MAPE, R^2 and Kendall's tau on held-out rows;
- ``manifest``/``model``: the model directory and its strictly checked ``manifest.json``;
- ``trees``: a numpy walk of the trees for one-design-at-a-time predictions;
- ``simulator``: ``ProxySimulator``, the simulator contract over a model, so
  ``gymnasium.make(env_id, backend="proxy", proxy=MODEL_DIR)`` runs every agent unchanged on it.
"""

from archgym.proxy.accuracy import MetricScore, score_values
from archgym.proxy.features import FeatureEncoder
from archgym.proxy.manifest import FORMAT as PROXY_FORMAT
from archgym.proxy.manifest import TRANSFORMS, FeasibilityModel, MetricModel, ProxyManifest
from archgym.proxy.manifest import VERSION as PROXY_VERSION
from archgym.proxy.model import ProxyModel, ProxyRangeWarning, check_model_dir, load_proxy, simulator_settings
from archgym.proxy.simulator import ProxySimulator
from archgym.proxy.train import DEFAULT_XGB_PARAMS, train_proxy
from archgym.proxy.trees import TreeWalker

__all__ = [
    "DEFAULT_XGB_PARAMS",
    "PROXY_FORMAT",
    "PROXY_VERSION",
    "TRANSFORMS",
    "FeasibilityModel",
    "FeatureEncoder",
    "MetricModel",
    "MetricScore",
    "ProxyManifest",
    "ProxyModel",
    "ProxyRangeWarning",
    "ProxySimulator",
    "TreeWalker",
    "check_model_dir",
    "load_proxy",
    "score_values",
    "simulator_settings",
    "train_proxy",
]
