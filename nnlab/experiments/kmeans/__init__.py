"""k-means as a network (question 1): `config` (light), `run` (training), `report`, `eta`."""
