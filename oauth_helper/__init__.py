"""oauth-helper: fresh OAuth2 access tokens for the mail clients you already use."""

__version__ = "0.1.0"
