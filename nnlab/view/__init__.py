"""Console rendering shared by the CLI and the browser: the console recorder, terminal
images and plots, the run overview, status colours and number formatting.

The run store (nnlab.runs) holds plain data; everything that turns it into something to
look at lives here.
"""
