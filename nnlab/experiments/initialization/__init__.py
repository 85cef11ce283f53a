"""`nnlab init` (fashion-mlp-landscape-ae P1): Var[z^l] through a deep net under each initialisation scheme."""
