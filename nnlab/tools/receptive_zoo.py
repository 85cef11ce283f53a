"""nnlab's own conv models, registered for ``nnlab receptive --model NAME``.

To add a model, call ``register_model(name, factory, (C, H, W), description)`` here (or in the
model's own module, imported here). The factory takes no arguments; torch is imported only when
``--model`` is used.
"""

from __future__ import annotations

from nnlab.tools.receptive_model import register_model


def _mnist_cnn():
    from nnlab.core.models.classifiers import CNN

    return CNN()


register_model("mnist-cnn", _mnist_cnn, (1, 28, 28),
               "the MNIST CNN of problem 4.2: conv5 -> pool2 -> conv5 -> pool2 -> fc -> fc")
