"""Receptive fields of a conv/pool stack (a calculator: nothing recorded): `config` and `run`."""
