// A real OpenID Connect provider for the tests: oidc-provider (an OpenID-certified
// implementation) on loopback, with its own login form (any password is accepted for the
// accounts below: the form is the provider's, the checks under test are the service's).
//
// Set by the test that starts it:
//   OP_PORT      the loopback port to listen on
//   OP_CLIENTS   JSON list of {client_id, client_secret, redirect_uris}
//   OP_ACCOUNTS  JSON object: login name -> the claims that account's tokens carry
//   OP_ID_TOKEN_TTL  seconds an ID token lasts (default 3600)
// Each start makes a new signing key with a new key id, so restarting it rotates the key.
import { randomUUID, generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.env.OP_PORT);
const issuer = `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.OP_ACCOUNTS || '{}');
const clients = JSON.parse(process.env.OP_CLIENTS || '[]').map((c) => ({
  grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic', ...c,
}));
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
const claimNames = ['email', 'email_verified', 'name', 'groups', 'roles', 'tid', 'oid', 'hasgroups'];

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [key] },
  cookies: { keys: [randomUUID()] },
  pkce: { required: () => true },
  conformIdTokenClaims: false, // the ID token carries the scopes' claims (as Entra ID's does)
  scopes: ['openid', 'email', 'profile'],
  claims: { openid: ['sub', 'tid', 'oid', 'groups', 'roles', 'hasgroups'], email: ['email', 'email_verified'], profile: ['name'] },
  ttl: { IdToken: Number(process.env.OP_ID_TOKEN_TTL || 3600) },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  // First-party clients: no consent screen after the login form.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(claimNames);
    await grant.save();
    return grant;
  },
});
provider.listen(port, '127.0.0.1', () => { console.log(`listening ${issuer} kid=${key.kid}`); });
