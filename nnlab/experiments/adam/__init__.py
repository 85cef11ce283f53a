"""The 1-D optimizer lab (question 1): `config` (light), `run` (adam, adam escape), `report` (figures)."""
