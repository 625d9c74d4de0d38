"""The model layer: validated specs, Keras and scikit-learn models, and their training.

`specs` and `trainer` are safe to import anywhere; `keras_models` and `keras_training`
import TensorFlow and belong in worker processes only.
"""
