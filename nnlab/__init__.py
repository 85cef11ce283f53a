"""nnlab: a terminal lab for classic deep-learning experiments."""

__version__ = "0.1.0"
