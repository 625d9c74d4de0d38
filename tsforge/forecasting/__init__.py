"""tsforge's forecasting library: pure numpy/pandas/Keras/scikit-learn code, no service.

Windowing and resampling (windowing, resampling), calendar features (calendar),
scaling (scaling), splits (splitting), past output values for baselines (history),
the dataset and feature specs and their proto forms (protos), the estimators with
their specs, training, saving and loading (estimators/), and prediction from a
trained model on new series (prediction). It imports no service, no database, no
object store and no gRPC: import-linter contracts in pyproject.toml keep it so, and a
registered model's bundle needs this library (or only Keras / scikit-learn / numpy).
"""
