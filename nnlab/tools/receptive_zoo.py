"""nnlab's own conv models, registered for `nnlab receptive --model NAME`."""
