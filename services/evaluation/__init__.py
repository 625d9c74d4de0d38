"""Evaluation service: error metrics, baselines and metric tables of a run's predictions.

Domain code only so far: `metrics` (the metric definitions), `baselines` (reference
forecasts), `comparison` (skill and ranking) and `tables` (overall, per-step and
aggregated tables of models and baselines on one split).
"""
