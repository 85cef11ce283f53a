"""`nnlab cifar`: a from-scratch CIFAR-10 network with the fast-trainer recipe (question 5.1) and the
subset study (question 5.2). config.py (settings), run.py (preflight, one run or the study),
train.py (one network), recipe.py (its pieces), study.py, report.py."""
