"""`nnlab landscape`: the loss surface around an MLP's SGD path (problem 3).
Settings in config.py, the run in run.py, its PNGs and terminal heatmap in figures.py."""
