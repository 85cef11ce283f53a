"""The classifiers: `nnlab cnn` (MNIST CNN, problem 4.2), `nnlab mlp` (Fashion-MNIST MLP, problem 2)
and `nnlab mlp tune` (its Optuna search). Settings in config.py; one module per command."""
