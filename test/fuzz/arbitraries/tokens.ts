/**
 * Bearer tokens and authorization headers for fuzzing the auth path: random strings, JWT-shaped
 * garbage (base64url JSON with odd headers and claims), `alg: none`, a valid token with one part
 * or byte changed, tokens of absurd size. A token signed by the real identity provider with
 * hostile claims is built by the property itself (it needs the provider).
 */
import fc from 'fast-check';

const b64url = (value: unknown): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');

const now = () => Math.floor(Date.now() / 1000);

/** Header JSON a forger would try. */
const jwtHeader = fc.oneof(
  fc.constantFrom(
    { alg: 'none' },
    { alg: 'None', typ: 'JWT' },
    { alg: 'HS256', kid: 'rsa-1' }, // an HMAC "signed" with the public key
    { alg: 'RS256', kid: 'rsa-1' },
    { alg: 'RS256', kid: '../../../etc/passwd' },
    { alg: 'RS256' },
    { alg: 'ES256', kid: 'rsa-1' },
    { alg: 'RS256', kid: 'rsa-1', jku: 'http://127.0.0.1:9/jwks' },
    { alg: 'RS256', kid: 'rsa-1', jwk: { kty: 'oct', k: 'AAAA' } },
    { alg: 'RS256', kid: 'rsa-1', crit: ['b64'], b64: false },
    { alg: 'RS256', kid: 'rsa-1', zip: 'DEF' },
    { alg: 'dir', enc: 'A256GCM' },
  ),
  fc.record({ alg: fc.string({ maxLength: 10 }), kid: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }) }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Claims: Feast-looking ones with hostile values. */
const claims = fc.oneof(
  fc.record(
    {
      preferred_username: fc.oneof(
        fc.constantFrom('rita', 'admin', '', '\u0000'),
        fc.string({ maxLength: 20 }),
        fc.integer(),
        fc.constant(null),
      ),
      azp: fc.constantFrom('feast-client', 'other'),
      exp: fc.oneof(fc.constant(now() + 600), fc.constantFrom(0, -1, 1e308, 2 ** 53, '9999999999', null)),
      resource_access: fc.oneof(fc.constant({ 'feast-client': { roles: ['reader'] } }), fc.jsonValue({ maxDepth: 3 })),
      roles: fc.oneof(fc.constant(['reader']), fc.jsonValue({ maxDepth: 2 })),
      groups: fc.jsonValue({ maxDepth: 2 }),
      iss: fc.string({ maxLength: 30 }),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);

/** What an HTTP/2 header value can carry (grpc-js refuses anything else before sending). */
const printable = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));

const base64ish = fc.string({
  unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('')),
  maxLength: 400,
});

/** A token (the part after "Bearer "). */
export const fuzzedToken: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.string({ unit: printable, maxLength: 100 }) },
  { weight: 1, arbitrary: base64ish },
  // Header.claims.signature, each part possibly garbage.
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.oneof(jwtHeader.map(b64url), base64ish), fc.oneof(claims.map(b64url), base64ish), fc.oneof(fc.constant(''), base64ish))
      .map(([h, c, s]) => `${h}.${c}.${s}`),
  },
  // Too many or too few parts.
  { weight: 1, arbitrary: fc.array(base64ish, { maxLength: 8 }).map((parts) => parts.join('.')) },
  // Huge: past gRPC's metadata limits and any sane JWT (a limit's business: refused, not crashed).
  {
    weight: 1,
    arbitrary: fc.integer({ min: 4_000, max: 2_000_000 }).map((n) => `${b64url({ alg: 'RS256', kid: 'rsa-1' })}.${'A'.repeat(n)}.sig`),
  },
);

/** The authorization header value as sent: usually "Bearer <token>", sometimes not quite. */
export const authorizationHeader = (token: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: token.map((t) => `Bearer ${t}`) },
    { weight: 1, arbitrary: token.map((t) => `bearer  ${t}  `) },
    { weight: 1, arbitrary: token.map((t) => `Basic ${t}`) },
    { weight: 1, arbitrary: token },
    { weight: 1, arbitrary: fc.constantFrom('Bearer', 'Bearer ', '', ' ', 'Bearer a b') },
  );

/** Changes to a valid token: a flipped character, a part swapped out, claims replaced, alg none. */
export const tokenTamper: fc.Arbitrary<(valid: string) => string> = fc.oneof(
  fc.tuple(fc.nat(), fc.constantFrom(...'AZaz09-_.=+/ ~'.split(''))).map(([i, c]) => (t: string) => {
    const at = i % t.length;
    return t.slice(0, at) + c + t.slice(at + 1);
  }),
  claims.map((c) => (t: string) => {
    const [h, , s] = t.split('.');
    return `${h}.${b64url(c)}.${s}`;
  }),
  claims.map((c) => () => `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(c)}.`),
  fc.constant((t: string) => {
    // The valid claims, unsigned.
    const [, c] = t.split('.');
    return `${b64url({ alg: 'none' })}.${c}.`;
  }),
  fc.constant((t: string) => t.split('.').slice(0, 2).join('.')),
  fc.constant((t: string) => `${t}.${t}`),
);
