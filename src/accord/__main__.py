"""``python -m accord`` (and ``accelerate launch -m accord``) runs the CLI."""

from accord.cli import main

main()
