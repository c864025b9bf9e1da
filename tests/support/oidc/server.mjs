// panva's oidc-provider (OpenID Certified), configured close to its defaults for oauth-helper's
// conformance tests. Started by tests/support/oidc_server.py; not for any other use.
//
//   node server.mjs            listens on 127.0.0.1, an ephemeral port; prints one JSON line
//                              {"issuer": ..., "name": "oidc-provider", "version": ...} when ready
//
// Environment (each optional):
//   OIDC_SCOPES    space-separated scopes the server knows (default "openid offline_access email
//                  mail"): leave "mail" out to make it drop the mail scope, as a provider would
//                  that does not know it.
//
// What differs from the defaults, and why:
//   - one public native client (token_endpoint_auth_method none, application_type native) with a
//     loopback redirect URI: the server lets it use any port (RFC 8252 section 7.3);
//   - one confidential client "introspector" so the tests can ask the introspection endpoint;
//   - the device flow, revocation and introspection features switched on (off by default);
//   - findAccount: every login name is an account whose `email` is that name (a dev server);
//   - a `mail` scope with no claims, standing for a mail server's scope.
// Everything else (PKCE required for public clients, rotating refresh tokens for public
// clients with replay detection, offline_access only with prompt=consent, id_token with only
// `sub` when an access token is issued, RFC 9207 `iss` in authorization responses, the
// development login and consent pages) is the library's default.

import http from 'node:http';
import { createRequire } from 'node:module';

import Provider from 'oidc-provider';

const require = createRequire(import.meta.url);
const { version } = require('oidc-provider/package.json');

const CLIENT_ID = 'oauth-helper-conformance';
const INTROSPECTOR = { id: 'introspector', secret: 'introspector-secret-for-tests-only' };
const scopes = (process.env.OIDC_SCOPES || 'openid offline_access email mail').split(/\s+/).filter(Boolean);

// Counters the tests read at GET /_test/events (not part of the library).
const events = { refresh: 0, replay: 0, grantErrors: [] };

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1/'],
        grant_types: ['authorization_code', 'refresh_token',
          'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
      },
      {
        client_id: INTROSPECTOR.id,
        client_secret: INTROSPECTOR.secret,
        redirect_uris: ['https://introspector.invalid/cb'],
        grant_types: [],
        response_types: [],
      },
    ],
    scopes,
    // A scope the server knows releases claims; without the email scope, nothing names the user.
    claims: scopes.includes('email') ? { openid: ['sub'], email: ['email', 'email_verified'] } : { openid: ['sub'] },
    features: {
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
    },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: id, email_verified: true };
        },
      };
    },
  });
  provider.proxy = false;
  provider.on('grant.success', (ctx) => {
    if (ctx.oidc.params.grant_type === 'refresh_token') events.refresh += 1;
  });
  provider.on('grant.error', (ctx, error) => {
    const text = `${error.error}: ${error.error_description}`;
    events.grantErrors.push(text);
    if (/already used/.test(text)) events.replay += 1;
  });
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  const app = provider.callback();
  server.on('request', (req, res) => {
    if (req.url === '/_test/events') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(events));
      return;
    }
    app(req, res);
  });
  process.stdout.write(`${JSON.stringify({
    issuer, name: 'oidc-provider', version, client_id: CLIENT_ID,
    introspector: INTROSPECTOR, scopes,
  })}\n`);
});

// The test runner closes our stdin when it is done: stop then, whatever happens to it.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
