"""oauth-helper: fresh OAuth2 access tokens for the mail clients you already use."""

__version__ = "0.1.0"
PROG = "oauth-helper"  # the command's name, in its messages and usage
