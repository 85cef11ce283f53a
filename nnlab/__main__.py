"""`python -m nnlab` runs the CLI."""

from nnlab.cli.app import main

if __name__ == "__main__":
    main()
