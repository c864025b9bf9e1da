"""The interactive authorization flows of `authorize`: browser (loopback), paste, device (RFC 8628).

Each flow takes a FlowContext (who, which provider and client, which scopes) and returns the
token endpoint's answer (oauth.TokenResponse) or raises one of our errors. Nothing is stored here.
"""
