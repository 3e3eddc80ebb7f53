// The identity world of the gateway tests (tests/integration/test_gateway.py), all on 127.0.0.1:
//   - real OpenID providers (the npm package oidc-provider, pinned in package-lock.json), one per
//     issuer, issuing client-credentials JWT access tokens (resource indicators, RFC 8707):
//       github    issuer https://token.actions.githubusercontent.com (served locally; the gateway
//                 reads its JWKS from jwksUri), sub = the workflow's subject claim;
//       k8s       issuer http://127.0.0.1:PORT (an EKS-style cluster issuer with discovery),
//                 sub = system:serviceaccount:NS:SA;
//       entra     issuer {authority}/{tenant}/v2.0, discovery served by the Entra stand-in;
//       untrusted issuer http://127.0.0.1:PORT that no gateway rule names.
//   - a stand-in for GitHub's token request endpoint (ACTIONS_ID_TOKEN_REQUEST_URL): GET with
//     `Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN` and `&audience=`, answering
//     {"value": "<JWT>"} (actions/toolkit packages/core/src/oidc-utils.ts), the JWT from `github`;
//   - a stand-in for the Microsoft Entra ID token endpoint (POST /{tenant}/oauth2/v2.0/token,
//     client_credentials with a jwt-bearer client_assertion checked against the app's federated
//     identity credentials), the access token from `entra`, errors as AADSTS bodies;
//   - control endpoints for the tests: /_control/stats (requests per endpoint), /_control/token
//     (a token from a provider's own token endpoint), /_control/sign (claims signed with an
//     issuer's key: expired or foreign-audience tokens the providers would not issue).
//
//   node server.mjs [--ttl SECONDS] [--github-subject SUB]
// prints one JSON line with the URLs once everything listens, then serves until killed.

import crypto from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';
import { SignJWT, createLocalJWKSet, jwtVerify, decodeJwt, decodeProtectedHeader } from 'jose';

const { values: args } = parseArgs({
  options: {
    ttl: { type: 'string', default: '300' },
    'github-subject': { type: 'string', default: 'repo:octo-org/octo-repo:ref:refs/heads/main' },
  },
});
const ttl = Number.parseInt(args.ttl, 10);
if (!(ttl > 0)) throw new Error(`--ttl must be a positive number of seconds, got ${args.ttl}`);

const TENANT = 'aaaabbbb-0000-cccc-1111-dddd2222eeee';
const APP_CLIENT_ID = '11111111-2222-3333-4444-555555555555';  // AZURE_CLIENT_ID
const SP_OBJECT_ID = '00000000-0000-0000-0000-0000000000aa';   // the app's service principal (oid, sub)
const EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';
// The API app registration the tokens are for: requested by App ID URI or client ID, its v2.0
// access tokens (accessTokenAcceptedVersion 2) carry the client ID as aud.
const API_APP = { uri: 'api://kubeflow-pipelines', client_id: '22222222-3333-4444-5555-666666666666' };
const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
const K8S_PUBLISHER = 'system:serviceaccount:kfp-ci:publisher';
const K8S_EDITOR = 'system:serviceaccount:kubeflow-user-example-com:default-editor';
const SECRET = crypto.randomBytes(24).toString('hex');  // the providers' client secret, never leaves here

const stats = { github: 0, github_refused: 0, entra: 0, entra_refused: 0 };
const issued = [];  // every token handed out, so the tests can look for it in the client's outputs
const requestTokens = new Set([crypto.randomBytes(24).toString('base64url')]);
const [requestToken] = requestTokens;

// An audience travels to oidc-provider as a resource indicator, which must be an absolute URI;
// getResourceServerInfo turns it back into the token's aud.
const resourceOf = (audience) => `urn:kfp-test:aud:${Buffer.from(audience).toString('base64url')}`;
const audienceOf = (resource) => Buffer.from(resource.slice('urn:kfp-test:aud:'.length), 'base64url').toString();

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function newKey(kid) {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}

const publicJwk = ({ kty, n, e, kid, alg, use }) => ({ kty, n, e, kid, alg, use });

// One oidc-provider instance serving `issuer` on its own port.
async function startIssuer(name, issuerFor, clients, extraClaims) {
  const server = http.createServer();
  const port = await listen(server);
  const url = `http://127.0.0.1:${port}`;
  const issuer = issuerFor(url);
  const key = newKey(`${name}-key-1`);
  const provider = new Provider(issuer, {
    clients: clients.map((client_id) => ({
      client_id,
      client_secret: SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_post',
    })),
    jwks: { keys: [key] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => ({
          scope: '',
          audience: audienceOf(resource),
          accessTokenTTL: ttl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    extraTokenClaims: async (_ctx, token) => extraClaims?.(token.clientId),
    ttl: { ClientCredentials: ttl },
  });
  provider.proxy = false;
  server.on('request', provider.callback());
  return { name, url, issuer, key, jwks: createLocalJWKSet({ keys: [publicJwk(key)] }) };
}

// A client-credentials access token from `issuer`'s own token endpoint.
async function issue(issuer, clientId, audience) {
  const response = await fetch(`${issuer.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: SECRET,
      resource: resourceOf(audience),
    }),
    signal: AbortSignal.timeout(10000),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`${issuer.name} token endpoint: ${response.status} ${JSON.stringify(body)}`);
  issued.push(body.access_token);
  return body;
}

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

// Microsoft Entra ID's error body: error, error_description "AADSTS<code>: <message>" followed by
// trace and correlation ids and a timestamp, error_codes, timestamp, trace_id, correlation_id,
// error_uri (learn.microsoft.com/entra/identity-platform/reference-error-codes, "Handling error
// codes in your application").
function aadsts(res, status, error, code, message) {
  const stamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const trace = crypto.randomUUID();
  const correlation = crypto.randomUUID();
  stats.entra_refused += 1;
  send(res, status, {
    error,
    error_description: `AADSTS${code}: ${message}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${correlation}\r\nTimestamp: ${stamp}`,
    error_codes: [code],
    timestamp: stamp,
    trace_id: trace,
    correlation_id: correlation,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
}

const standIn = http.createServer();
const standInPort = await listen(standIn);
const standInUrl = `http://127.0.0.1:${standInPort}`;

const issuers = {
  github: await startIssuer('github', () => GITHUB_ISSUER, [args['github-subject']], (clientId) => {
    // The custom claims GitHub adds (docs.github.com, "OpenID Connect reference").
    const [, repository = 'octo-org/octo-repo', ref = 'refs/heads/main'] =
      /^repo:([^:]+):ref:(.+)$/.exec(clientId) ?? [];
    return {
      repository,
      repository_owner: repository.split('/')[0],
      ref,
      ref_type: 'branch',
      event_name: 'push',
      workflow: 'publish',
      runner_environment: 'github-hosted',
    };
  }),
  k8s: await startIssuer('k8s', (url) => url, [K8S_PUBLISHER, K8S_EDITOR], (clientId) => {
    const [, ns, sa] = /^system:serviceaccount:([^:]+):(.+)$/.exec(clientId) ?? [];
    return { 'kubernetes.io': { namespace: ns, serviceaccount: { name: sa } } };
  }),
  entra: await startIssuer('entra', () => `${standInUrl}/${TENANT}/v2.0`, [SP_OBJECT_ID], () => ({
    oid: SP_OBJECT_ID,
    tid: TENANT,
    azp: APP_CLIENT_ID,
    idtyp: 'app',
    ver: '2.0',
  })),
  untrusted: await startIssuer('untrusted', (url) => url, [args['github-subject']]),
};

// The app registration's federated identity credentials (issuer, subject, audiences), as
// `az ad app federated-credential create` records them.
const federatedCredentials = [
  { issuer: GITHUB_ISSUER, subject: args['github-subject'], audiences: [EXCHANGE_AUDIENCE] },
  { issuer: issuers.k8s.issuer, subject: K8S_PUBLISHER, audiences: [EXCHANGE_AUDIENCE] },
];

async function githubTokenRequest(req, res, url) {
  // GitHub documents the request (Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN, the
  // audience as a query parameter) and the answer's `value`; it does not document its refusals:
  // these are the Azure DevOps service's error shape that the endpoint is built on.
  const auth = req.headers.authorization ?? '';
  if (!auth.startsWith('Bearer ') || !requestTokens.has(auth.slice('Bearer '.length))) {
    stats.github_refused += 1;
    send(res, 401, {
      $id: '1',
      innerException: null,
      message: 'TF400813: The user is not authorized to access this resource.',
      typeName: 'Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, Microsoft.TeamFoundation.Framework.Server',
      typeKey: 'UnauthorizedRequestException',
      errorCode: 0,
      eventId: 3000,
    });
    return;
  }
  stats.github += 1;
  // Without &audience= GitHub's default aud is the repository owner's URL.
  const owner = /^repo:([^/]+)\//.exec(args['github-subject'])?.[1] ?? 'octo-org';
  const audience = url.searchParams.get('audience') || `https://github.com/${owner}`;
  const token = await issue(issuers.github, args['github-subject'], audience);
  send(res, 200, { value: token.access_token });
}

async function entraToken(req, res, tenant) {
  const form = new URLSearchParams(await readBody(req));
  if (tenant !== TENANT) {
    return aadsts(res, 400, 'invalid_request', 90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`);
  }
  if (form.get('grant_type') !== 'client_credentials') {
    return aadsts(res, 400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
  }
  const clientId = form.get('client_id') ?? '';
  if (clientId !== APP_CLIENT_ID) {
    return aadsts(res, 400, 'unauthorized_client', 700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`);
  }
  const scope = form.get('scope') ?? '';
  if (!scope.endsWith('/.default')) {
    return aadsts(res, 400, 'invalid_scope', 1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
  }
  const assertion = form.get('client_assertion');
  if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !assertion) {
    return aadsts(res, 401, 'invalid_client', 7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }
  let claims;
  try {
    claims = decodeJwt(assertion);
    decodeProtectedHeader(assertion);
  } catch {
    return aadsts(res, 401, 'invalid_client', 50027, 'JWT token is invalid or malformed.');
  }
  const now = Math.floor(Date.now() / 1000);
  if (typeof claims.exp === 'number' && claims.exp < now) {
    const iso = (s) => new Date(s * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    return aadsts(res, 400, 'invalid_client', 700024,
      `Client assertion is not within its valid time range. Current time: ${iso(now)}, assertion valid from ${iso(claims.nbf ?? claims.iat ?? now)}, expiry time of assertion ${iso(claims.exp)}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`);
  }
  const audiences = [claims.aud ?? []].flat();
  const match = federatedCredentials.find((fic) => fic.issuer === claims.iss && fic.subject === claims.sub &&
    fic.audiences.some((aud) => audiences.includes(aud)));
  if (!match) {
    // azure/azure-workload-identity docs/book/src/troubleshooting.md quotes this answer.
    return aadsts(res, 400, 'invalid_request', 70021,
      `No matching federated identity record found for presented assertion. Assertion Issuer: '${claims.iss}'. Assertion Subject: '${claims.sub}'. Assertion Audience: '${audiences.join(',')}'. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`);
  }
  const trusted = Object.values(issuers).find((issuer) => issuer.issuer === match.issuer);
  try {
    await jwtVerify(assertion, trusted.jwks, { issuer: match.issuer });
  } catch {
    return aadsts(res, 401, 'invalid_client', 700027, 'Client assertion failed signature validation.');
  }
  const resource = scope.slice(0, -'/.default'.length);
  if (resource !== API_APP.uri && resource !== API_APP.client_id) {
    return aadsts(res, 400, 'invalid_resource', 500011,
      `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`);
  }
  stats.entra += 1;
  const token = await issue(issuers.entra, SP_OBJECT_ID, API_APP.client_id);
  send(res, 200, { token_type: 'Bearer', expires_in: token.expires_in, ext_expires_in: token.expires_in,
    access_token: token.access_token });
}

async function control(req, res, url) {
  if (url.pathname === '/_control/stats') return send(res, 200, stats);
  if (url.pathname === '/_control/issued') return send(res, 200, { tokens: issued, request_tokens: [...requestTokens] });
  const body = req.method === 'POST' ? JSON.parse((await readBody(req)) || '{}') : {};
  const issuer = issuers[body.issuer];
  if (!issuer) return send(res, 400, { error: `unknown issuer ${body.issuer}` });
  if (url.pathname === '/_control/token') {
    return send(res, 200, await issue(issuer, body.client, body.audience));
  }
  if (url.pathname === '/_control/sign') {
    const kid = body.kid ?? issuer.key.kid;
    const key = body.foreign_key ? newKey(kid) : issuer.key;
    const jwt = await new SignJWT({ iss: issuer.issuer, ...body.claims })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
      .sign(crypto.createPrivateKey({ key, format: 'jwk' }));
    issued.push(jwt);
    return send(res, 200, { token: jwt });
  }
  return send(res, 404, { error: 'unknown control endpoint' });
}

standIn.on('request', async (req, res) => {
  const url = new URL(req.url, standInUrl);
  try {
    if (url.pathname.startsWith('/_control/')) return await control(req, res, url);
    if (/^\/_apis\/distributedtask\/hubs\/Actions\/plans\/[^/]+\/jobs\/[^/]+\/idtoken$/.test(url.pathname) &&
        req.method === 'GET') return await githubTokenRequest(req, res, url);
    let match = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (match && req.method === 'POST') return await entraToken(req, res, match[1]);
    match = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname);
    if (match && match[1] === TENANT) {
      // Entra's discovery document names the tenant's issuer and keys.
      return send(res, 200, {
        issuer: issuers.entra.issuer,
        token_endpoint: `${standInUrl}/${TENANT}/oauth2/v2.0/token`,
        jwks_uri: `${issuers.entra.url}/jwks`,
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    return send(res, 404, { error: 'not found' });
  } catch (error) {
    return send(res, 500, { error: String(error?.message ?? error) });
  }
});

console.log(JSON.stringify({
  ready: true,
  stand_in: standInUrl,
  github_request_url: `${standInUrl}/_apis/distributedtask/hubs/Actions/plans/p1/jobs/j1/idtoken?api-version=2.0`,
  github_request_token: requestToken,
  github_subject: args['github-subject'],
  authority_host: `${standInUrl}/`,
  tenant: TENANT,
  client_id: APP_CLIENT_ID,
  entra_subject: SP_OBJECT_ID,
  entra_api: API_APP,
  k8s_publisher: K8S_PUBLISHER,
  k8s_editor: K8S_EDITOR,
  issuers: Object.fromEntries(Object.values(issuers).map((i) => [i.name, { issuer: i.issuer, url: i.url, jwks_uri: `${i.url}/jwks` }])),
}));

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
