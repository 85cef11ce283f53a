"""Question 4's layers in numpy against torch: `config` (light) and `run`."""
