"""Command-line interface (typer): parse arguments, call the pipeline, render, decide the exit code."""
