"""Small scripts that run inside a peer's (or our) bench venv to seed state. Not imported by run.py."""
