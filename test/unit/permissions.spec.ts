/**
 * The permission engine against Feast's own permission tests (spec feast-auth-and-permissions.md
 * §8.1–8.3), the exact denial texts of §5.7/§5.9, and larder's deliberate departures from Feast:
 * no intra-communication bypass, `required_tags` enforced against the resource's `tags`.
 */
import { expect } from 'chai';
import { status } from '@grpc/grpc-js';
import type { User } from '../../core/src/auth.ts';
import { FeastPermissionError } from '../../core/src/errors.ts';
import type {
  AuthzedAction,
  DataSource,
  Entity,
  FeatureService,
  FeatureView,
  Permission,
  PermissionResourceType,
  Policy,
} from '../../core/src/registry/model.ts';
import {
  assertPermissions,
  evaluatePolicy,
  InvalidPermissionError,
  matchesActions,
  matchesName,
  matchesRequiredTags,
  permissionMatches,
  pythonActionListRepr,
  pythonClassOf,
  pythonFullMatch,
  pythonStrListRepr,
  pythonStrRepr,
  type ProtectedResource,
} from '../../core/src/permissions/index.ts';
import { fileSource, postgresSource, featureView } from '../support/feature-views.ts';

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

const ALL_TYPES: PermissionResourceType[] = [
  'PROJECT',
  'FEATURE_VIEW',
  'ON_DEMAND_FEATURE_VIEW',
  'BATCH_FEATURE_VIEW',
  'STREAM_FEATURE_VIEW',
  'LABEL_VIEW',
  'ENTITY',
  'FEATURE_SERVICE',
  'DATA_SOURCE',
  'VALIDATION_REFERENCE',
  'SAVED_DATASET',
  'PERMISSION',
];
const ALL_ACTIONS: AuthzedAction[] = [
  'CREATE',
  'DESCRIBE',
  'UPDATE',
  'DELETE',
  'READ_ONLINE',
  'READ_OFFLINE',
  'WRITE_ONLINE',
  'WRITE_OFFLINE',
];
const READ: AuthzedAction[] = ['READ_OFFLINE', 'READ_ONLINE'];

function permission(name: string, fields: Partial<Permission> = {}): Permission {
  return {
    name,
    project: 'p',
    types: [],
    namePatterns: [],
    requiredTags: {},
    actions: ALL_ACTIONS,
    policy: { kind: 'role', roles: ['nobody'] },
    tags: {},
    ...fields,
  };
}

function user(username: string, roles: string[] = [], groups: string[] = [], namespaces: string[] = []): User {
  return { username, roles, groups, namespaces };
}

const roles = (...r: string[]): Policy => ({ kind: 'role', roles: r });

function fvResource(name: string, extra: Partial<FeatureView> = {}): ProtectedResource {
  return { kind: 'featureView', object: { ...featureView(name, fileSource(`${name}_src`, '/x.parquet'), ['id'], ['f'], 0), ...extra } };
}
const batchFv = (name: string) => fvResource(name, { batchFeatureView: true });
const streamFv = (name: string) => fvResource(name, { kind: 'streamFeatureView' });

function fsResource(name: string, tags: Record<string, string> = {}): ProtectedResource {
  const object: FeatureService = { name, project: 'p', projections: [], loggingConfig: null, tags };
  return { kind: 'featureService', object };
}

function dsResource(source: DataSource): ProtectedResource {
  return { kind: 'dataSource', object: source };
}

function entityResource(name: string): ProtectedResource {
  const object: Entity = { name, project: 'p', joinKey: `${name}_id`, valueType: 2 };
  return { kind: 'entity', object };
}

/** One resource of each Python class the engine knows, with the permission type of that class. */
function resourcesByType(name: string): [PermissionResourceType, ProtectedResource][] {
  return [
    ['FEATURE_VIEW', fvResource(name)],
    ['BATCH_FEATURE_VIEW', batchFv(name)],
    ['STREAM_FEATURE_VIEW', streamFv(name)],
    ['FEATURE_SERVICE', fsResource(name)],
    ['DATA_SOURCE', dsResource(fileSource(name, '/x.parquet'))],
    ['ENTITY', entityResource(name)],
  ];
}

/** The error text of an assertPermissions call, or null when it allowed the access. */
function denial(
  permissions: readonly Permission[],
  resource: ProtectedResource,
  actions: readonly AuthzedAction[],
  u: User | null,
): string | null {
  try {
    assertPermissions(permissions, resource, actions, u);
    return null;
  } catch (e) {
    expect(e).to.be.instanceOf(FeastPermissionError);
    return (e as Error).message;
  }
}

const allowed = (...args: Parameters<typeof denial>) => denial(...args) === null;

// ---------------------------------------------------------------------------------------------
// Python reprs
// ---------------------------------------------------------------------------------------------

describe('permissions: Python reprs in denial texts', () => {
  it('quotes strings like Python repr', () => {
    expect(pythonStrRepr('reader')).to.equal("'reader'");
    expect(pythonStrRepr("it's")).to.equal(`"it's"`);
    expect(pythonStrRepr(`it's "x"`)).to.equal(`'it\\'s "x"'`);
    expect(pythonStrRepr('a\\b\n\t\r')).to.equal("'a\\\\b\\n\\t\\r'");
    expect(pythonStrRepr('\u0001\u007f\u00a0é日本\u200b')).to.equal("'\\x01\\x7f\\xa0é日本\\u200b'");
    expect(pythonStrRepr('\u{1F600}')).to.equal("'\u{1F600}'");
  });

  it('prints lists of strings and of actions', () => {
    expect(pythonStrListRepr([])).to.equal('[]');
    expect(pythonStrListRepr(['reader', 'writer'])).to.equal("['reader', 'writer']");
    expect(pythonActionListRepr(['READ_OFFLINE'])).to.equal("[<AuthzedAction.READ_OFFLINE: 'read_offline'>]");
    expect(pythonActionListRepr(['DESCRIBE', 'UPDATE'])).to.equal(
      "[<AuthzedAction.DESCRIBE: 'describe'>, <AuthzedAction.UPDATE: 'update'>]",
    );
  });
});

// ---------------------------------------------------------------------------------------------
// §8.1 test_permission.py
// ---------------------------------------------------------------------------------------------

describe('permissions: matching (Feast test_permission.py)', () => {
  it('test_validity: an empty actions list or an empty policy cannot be loaded (never allow-all)', () => {
    const fv = fvResource('v');
    const noActions = permission('no_actions', { actions: [] });
    const allowAll = permission('allow_all', { policy: { kind: 'allow_all' } });
    for (const [p, text] of [
      [noActions, "The list 'actions' must be non-empty."],
      [allowAll, "The list 'policy' must be non-empty."],
    ] as const) {
      // One bad entry fails every check of the project, even one it would not match.
      const call = () => assertPermissions([permission('ok', { policy: roles('r') }), p], fv, ['READ_OFFLINE'], user('r', ['r']));
      expect(call).to.throw(InvalidPermissionError, text);
      try {
        call();
      } catch (e) {
        expect((e as InvalidPermissionError).code).to.equal(status.FAILED_PRECONDITION);
        expect((e as InvalidPermissionError).permissionName).to.equal(p.name);
      }
    }
  });

  it('test_match_name_patterns', () => {
    expect(matchesName(['name'], null)).to.equal(true); // a nameless resource passes any filter
    expect(matchesName([], 'anything')).to.equal(true);
    expect(matchesName(['name'], 'name')).to.equal(true);
    expect(matchesName(['another'], 'name')).to.equal(false);
    expect(matchesName(['.*me'], 'name')).to.equal(true);
    expect(matchesName(['^na.*'], 'name')).to.equal(true);
    expect(matchesName(['^[\\d].*'], '123_must_start_by_number')).to.equal(true);
    expect(matchesName(['invalid', 'another_invalid'], 'name')).to.equal(false);
    expect(matchesName(['invalid', 'name'], 'name')).to.equal(true);
    expect(matchesName(['name', 'another_invalid'], 'name')).to.equal(true);
    expect(matchesName([' name '], 'name')).to.equal(true); // patterns are trimmed on load
  });

  it('test_match_resource_with_subclasses: each type matches itself, all types, and no other', () => {
    for (const [type, resource] of resourcesByType('r')) {
      expect(permissionMatches(permission('p', { types: [type] }), resource, []), type).to.equal(true);
      expect(permissionMatches(permission('p', { types: ALL_TYPES }), resource, []), type).to.equal(true);
      expect(permissionMatches(permission('p', { types: [] }), resource, []), type).to.equal(true);
      const others = ALL_TYPES.filter((t) => t !== type && !(t === 'FEATURE_VIEW' && type.endsWith('FEATURE_VIEW')));
      expect(permissionMatches(permission('p', { types: others }), resource, []), type).to.equal(false);
    }
    // BatchFeatureView and StreamFeatureView are FeatureViews; the reverse does not hold.
    expect(permissionMatches(permission('p', { types: ['FEATURE_VIEW'] }), batchFv('b'), [])).to.equal(true);
    expect(permissionMatches(permission('p', { types: ['FEATURE_VIEW'] }), streamFv('s'), [])).to.equal(true);
    expect(permissionMatches(permission('p', { types: ['BATCH_FEATURE_VIEW'] }), fvResource('f'), [])).to.equal(false);
    expect(permissionMatches(permission('p', { types: ['STREAM_FEATURE_VIEW'] }), fvResource('f'), [])).to.equal(false);
    expect(permissionMatches(permission('p', { types: ['STREAM_FEATURE_VIEW'] }), batchFv('b'), [])).to.equal(false);
    // Every concrete data source is a DataSource.
    for (const src of [postgresSource('pg', { table: 't' }), { ...fileSource('push', '/x'), type: 'PUSH_SOURCE' }]) {
      expect(permissionMatches(permission('p', { types: ['DATA_SOURCE'] }), dsResource(src), [])).to.equal(true);
    }
    // An unknown type (a newer Feast) matches nothing.
    expect(permissionMatches(permission('p', { types: ['UNKNOWN_12' as PermissionResourceType] }), fvResource('f'), [])).to.equal(false);
  });

  it('test_match_resource_with_subclasses: something that is not a Feast object never matches', () => {
    for (const thing of [null, 'a string', 'ALL', { kind: 'project', object: { name: 'x' } }]) {
      const resource = (thing === null || typeof thing === 'string'
        ? { kind: thing, object: thing }
        : thing) as unknown as ProtectedResource;
      expect(permissionMatches(permission('p', { types: ALL_TYPES }), resource, [])).to.equal(false);
      expect(permissionMatches(permission('p', { types: [] }), resource, [])).to.equal(false);
    }
  });

  it('test_resource_match_with_name_filter, for every type', () => {
    for (const [type] of resourcesByType('x')) {
      const p = permission('p', { types: [type], namePatterns: ['test.*'] });
      const named = (n: string) => new Map(resourcesByType(n)).get(type)!;
      expect(permissionMatches(p, named('test'), []), type).to.equal(true);
      expect(permissionMatches(p, named('test1'), []), type).to.equal(true);
      expect(permissionMatches(p, named('wrongtest'), []), type).to.equal(false);
      expect(permissionMatches({ ...p, namePatterns: ['.*test.*'] }, named('wrongtest'), []), type).to.equal(true);
    }
  });

  it('test_resource_match_with_tags, against the resource tags (as documented)', () => {
    expect(matchesRequiredTags({}, {})).to.equal(true);
    expect(matchesRequiredTags({ owner: 'dev' }, {})).to.equal(false);
    expect(matchesRequiredTags({ owner: 'dev' }, { owner: 'master' })).to.equal(false);
    expect(matchesRequiredTags({ owner: 'dev' }, { owner: 'dev', other: '1' })).to.equal(true);
    expect(matchesRequiredTags({ owner: 'dev', dep: '1' }, { owner: 'dev', other: '1' })).to.equal(false);
    expect(matchesRequiredTags({ owner: 'dev', dep: '1' }, { owner: 'dev', other: '1', dep: '1' })).to.equal(true);
    expect(matchesRequiredTags({ ' owner ': ' dev ' }, { owner: 'dev' })).to.equal(true); // trimmed on load
    expect(matchesRequiredTags({ toString: 'x' }, {})).to.equal(false); // own keys only

    const p = permission('p', { types: ['FEATURE_VIEW', 'FEATURE_SERVICE', 'DATA_SOURCE', 'ENTITY'], requiredTags: { owner: 'dev' } });
    expect(permissionMatches(p, fvResource('v', { tags: { owner: 'dev' } }), [])).to.equal(true);
    expect(permissionMatches(p, fvResource('v', { tags: { owner: 'ops' } }), [])).to.equal(false);
    expect(permissionMatches(p, fsResource('s', { owner: 'dev' }), [])).to.equal(true);
    expect(permissionMatches(p, fsResource('s'), [])).to.equal(false);
    expect(permissionMatches(p, dsResource(fileSource('d', '/x', { tags: { owner: 'dev' } })), [])).to.equal(true);
    expect(permissionMatches(p, dsResource(fileSource('d', '/x')), [])).to.equal(false);
    expect(permissionMatches(p, entityResource('e'), [])).to.equal(false); // entities carry no tags
  });

  it('required_tags restricts real resources (Feast ignores it for them; larder does not)', () => {
    const perms = [
      permission('dev_readers', {
        types: ['FEATURE_VIEW'],
        requiredTags: { team: 'dev' },
        actions: ['READ_OFFLINE'],
        policy: roles('reader'),
      }),
    ];
    const reader = user('r', ['reader']);
    expect(allowed(perms, fvResource('v', { tags: { team: 'dev' } }), ['READ_OFFLINE'], reader)).to.equal(true);
    expect(denial(perms, fvResource('v', { tags: { team: 'ops' } }), ['READ_OFFLINE'], reader)).to.equal(
      "Permission error:\nNo permissions defined to manage [<AuthzedAction.READ_OFFLINE: 'read_offline'>] on <class 'feast.feature_view.FeatureView'>/v.",
    );
  });

  it('test_match_actions: the requested actions must be a subset of the allowed ones', () => {
    const allowedActions: AuthzedAction[] = ['CREATE', 'DELETE'];
    expect(matchesActions(allowedActions, ['CREATE'])).to.equal(true);
    expect(matchesActions(allowedActions, ['DELETE'])).to.equal(true);
    expect(matchesActions(allowedActions, ['CREATE', 'DELETE'])).to.equal(true);
    expect(matchesActions(allowedActions, ['UPDATE'])).to.equal(false);
    expect(matchesActions(allowedActions, ['CREATE', 'UPDATE'])).to.equal(false);
    expect(matchesActions(allowedActions, ['CREATE', 'DELETE', 'UPDATE'])).to.equal(false);
    expect(matchesActions(allowedActions, [])).to.equal(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Name patterns: Python re.fullmatch in JS
// ---------------------------------------------------------------------------------------------

describe('permissions: name patterns behave like Python re.fullmatch', () => {
  // Each expectation was checked against CPython's re.fullmatch.
  const cases: [string, string, boolean][] = [
    ['test.*', 'test1', true],
    ['test.*', 'wrongtest', false],
    ['', '', true],
    ['', 'x', false],
    ['a|b', 'b', true],
    ['a$', 'a\n', false],
    ['a$\n', 'a\n', true], // Python's $ also matches before a final newline
    ['a\\Z', 'a\n', false],
    ['.', '\n', false],
    ['.', '\r', true], // JS's . would refuse \r
    ['(?s).', '\n', true],
    ['\\d', '\u0663', true], // Unicode digits, as Python str patterns
    ['(?a)\\w', 'é', false],
    ['\\w+', 'héllo', true],
    ['\\s', '\u001c', true],
    ['\\s', '\ufeff', false],
    ['(?P<n>a)(?P=n)', 'aa', true],
    ['(?P<n>a)(?P=n)', 'ab', false],
    ['\\Aab\\Z', 'ab', true],
    ['(?i)NAME', 'name', true],
    ['a{', 'a{', true],
    ['a}', 'a}', true],
    ['a]', 'a]', true],
    ['a{}', 'a{}', true],
    ['a{,2}', 'aa', true],
    ['a{,2}', 'aaa', false],
    ['a{,}', 'aaaa', true],
    ['{1}', '{1}', false], // nothing to repeat: invalid in Python
    ['\\-x', '-x', true],
    ['[]a]', ']', true],
    ['[^]]', 'a', true],
    ['[\\w-]', '-', true],
    ['a(?#comment)*', 'aaa', true],
    ['\\x41\\101\\U0001F600', 'AA\u{1F600}', true],
    ['(a)\\1', 'aa', true],
    // Invalid in Python: never match, never throw.
    ['[abc', 'a', false],
    ['\\p{L}', 'a', false],
    ['[\\w-z]', 'a', false],
    ['\\z', '', false],
    ['a**', 'a', false],
    ['(', '(', false],
  ];
  for (const [pattern, name, expected] of cases) {
    it(`${JSON.stringify(pattern)} vs ${JSON.stringify(name)} → ${expected}`, () => {
      expect(pythonFullMatch(pattern, name)).to.equal(expected);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// §8.2 policies and decisions
// ---------------------------------------------------------------------------------------------

describe('permissions: policies (Feast test_policy.py, test_user.py, test_groups_namespaces_auth.py)', () => {
  it('role policy: any of the roles; the explanation is empty exactly when granted', () => {
    const p = roles('reader', 'writer');
    expect(evaluatePolicy(p, user('r', ['reader']))).to.deep.equal({ granted: true, explanation: '' });
    expect(evaluatePolicy(p, user('w', ['writer', 'other']))).to.deep.equal({ granted: true, explanation: '' });
    expect(evaluatePolicy(p, user('x', ['other']))).to.deep.equal({ granted: false, explanation: "Requires roles ['reader', 'writer']" });
    expect(evaluatePolicy(p, user('none'))).to.deep.equal({ granted: false, explanation: "Requires roles ['reader', 'writer']" });
    expect(evaluatePolicy(p, null).granted).to.equal(false);
    expect(evaluatePolicy(p, user('c', ['Reader'])).granted).to.equal(false); // case-sensitive
    expect(evaluatePolicy(roles(), user('r', ['reader'])).granted).to.equal(false);
  });

  it('role policy works when the user also has groups and namespaces', () => {
    expect(evaluatePolicy(roles('admin'), user('u', ['admin'], ['g'], ['ns'])).granted).to.equal(true);
  });

  it('group and namespace policies', () => {
    const g: Policy = { kind: 'group', groups: ['data-team', 'ml'] };
    const n: Policy = { kind: 'namespace', namespaces: ['prod'] };
    expect(evaluatePolicy(g, user('u', [], ['ml'])).granted).to.equal(true);
    expect(evaluatePolicy(g, user('u', [], ['other']))).to.deep.equal({
      granted: false,
      explanation: 'User is not added into the permitted groups',
    });
    expect(evaluatePolicy(g, user('u', ['ml'], [], ['ml'])).granted).to.equal(false); // roles/namespaces are not groups
    expect(evaluatePolicy({ kind: 'group', groups: [] }, user('u', [], ['ml'])).granted).to.equal(false);
    expect(evaluatePolicy(n, user('u', [], [], ['prod'])).granted).to.equal(true);
    expect(evaluatePolicy(n, user('u', [], ['prod']))).to.deep.equal({
      granted: false,
      explanation: 'User is not added into the permitted namespaces',
    });
  });

  it('combined policy: a group match or a namespace match', () => {
    const c: Policy = { kind: 'combined', groups: ['g'], namespaces: ['ns'] };
    expect(evaluatePolicy(c, user('u', [], ['g'])).granted).to.equal(true);
    expect(evaluatePolicy(c, user('u', [], [], ['ns'])).granted).to.equal(true);
    expect(evaluatePolicy(c, user('u', [], ['g'], ['ns'])).granted).to.equal(true);
    expect(evaluatePolicy(c, user('u', ['g'], ['x'], ['y']))).to.deep.equal({
      granted: false,
      explanation: 'User must be in at least one of the permitted groups or namespaces',
    });
  });

  it('allow-all grants anyone (it only exists in memory: Feast cannot load it)', () => {
    expect(evaluatePolicy({ kind: 'allow_all' }, null)).to.deep.equal({ granted: true, explanation: '' });
  });

  it('test_decision_evaluator: the first grant decides with no explanations; all denials are explained in order', () => {
    const fv = fvResource('v');
    const perms = [
      permission('first', { policy: roles('a') }),
      permission('second', { policy: roles('b') }),
      permission('third', { policy: roles('c') }),
    ];
    expect(allowed(perms, fv, ['DESCRIBE'], user('u', ['a']))).to.equal(true);
    expect(allowed(perms, fv, ['DESCRIBE'], user('u', ['c']))).to.equal(true);
    expect(denial(perms, fv, ['DESCRIBE'], user('u', ['z']))).to.equal(
      'Permission error:\n' +
        "Permission first denied execution of ['DESCRIBE'] to FeatureView:v: Requires roles ['a']," +
        "Permission second denied execution of ['DESCRIBE'] to FeatureView:v: Requires roles ['b']," +
        "Permission third denied execution of ['DESCRIBE'] to FeatureView:v: Requires roles ['c']",
    );
  });
});

// ---------------------------------------------------------------------------------------------
// §8.3 enforcement on Feast's shared fixture
// ---------------------------------------------------------------------------------------------

describe('permissions: enforcement (Feast test_decorator.py, test_security_manager.py)', () => {
  const perms: Permission[] = [
    permission('reader', { types: ['FEATURE_VIEW'], policy: roles('reader'), actions: ['DESCRIBE'] }),
    permission('writer', { types: ['FEATURE_VIEW'], policy: roles('writer'), actions: ['UPDATE'] }),
    permission('special', {
      types: ['FEATURE_VIEW'],
      namePatterns: ['special.*'],
      policy: roles('special-reader'),
      actions: ['DESCRIBE', 'UPDATE'],
    }),
    permission('entity_updater', { types: ['ENTITY'], policy: roles('updater'), actions: ['DESCRIBE', 'UPDATE'] }),
    permission('entity_creator', { types: ['ENTITY'], policy: roles('creator'), actions: ['CREATE'] }),
  ];
  const secured = fvResource('secured');
  const specialSecured = fvResource('special-secured');
  const users = {
    r: user('r', ['reader']),
    w: user('w', ['writer']),
    rw: user('rw', ['reader', 'writer']),
    special: user('special', ['reader', 'writer', 'special-reader']),
    updater: user('updater', ['updater']),
    creator: user('creator', ['creator']),
    admin: user('admin', ['updater', 'creator']),
  };
  const INTRA = 'server_intra_com_val';

  it('test_decorator: no user is denied DESCRIBE and UPDATE; r describes, w updates, rw does both', () => {
    for (const a of ['DESCRIBE', 'UPDATE'] as const) expect(allowed(perms, secured, [a], null), a).to.equal(false);
    expect(allowed(perms, secured, ['DESCRIBE'], users.r)).to.equal(true);
    expect(allowed(perms, secured, ['UPDATE'], users.r)).to.equal(false);
    expect(allowed(perms, secured, ['DESCRIBE'], users.w)).to.equal(false);
    expect(allowed(perms, secured, ['UPDATE'], users.w)).to.equal(true);
    expect(allowed(perms, secured, ['DESCRIBE'], users.rw)).to.equal(true);
    expect(allowed(perms, secured, ['UPDATE'], users.rw)).to.equal(true);
  });

  it('no user, no actions: every matching permission denies', () => {
    expect(denial(perms, secured, [], null)).to.equal(
      'Permission error:\n' +
        "Permission reader denied execution of [] to FeatureView:secured: Requires roles ['reader']," +
        "Permission writer denied execution of [] to FeatureView:secured: Requires roles ['writer']",
    );
    expect(allowed(perms, specialSecured, [], null)).to.equal(false);
  });

  it('r + DESCRIBE: both views allowed (reader grants on special-secured although special denies)', () => {
    expect(allowed(perms, secured, ['DESCRIBE'], users.r)).to.equal(true);
    expect(allowed(perms, specialSecured, ['DESCRIBE'], users.r)).to.equal(true);
  });

  it('r + UPDATE and w + DESCRIBE: denied on both views', () => {
    for (const fv of [secured, specialSecured]) {
      expect(allowed(perms, fv, ['UPDATE'], users.r)).to.equal(false);
      expect(allowed(perms, fv, ['DESCRIBE'], users.w)).to.equal(false);
    }
    expect(denial(perms, specialSecured, ['UPDATE'], users.r)).to.equal(
      'Permission error:\n' +
        "Permission writer denied execution of ['UPDATE'] to FeatureView:special-secured: Requires roles ['writer']," +
        "Permission special denied execution of ['UPDATE'] to FeatureView:special-secured: Requires roles ['special-reader']",
    );
  });

  it('rw + [DESCRIBE, UPDATE]: no single permission on secured; special denies on special-secured', () => {
    expect(denial(perms, secured, ['DESCRIBE', 'UPDATE'], users.rw)).to.equal(
      'Permission error:\nNo permissions defined to manage ' +
        "[<AuthzedAction.DESCRIBE: 'describe'>, <AuthzedAction.UPDATE: 'update'>] on <class 'feast.feature_view.FeatureView'>/secured.",
    );
    expect(denial(perms, specialSecured, ['DESCRIBE', 'UPDATE'], users.rw)).to.equal(
      'Permission error:\n' +
        "Permission special denied execution of ['DESCRIBE', 'UPDATE'] to FeatureView:special-secured: Requires roles ['special-reader']",
    );
  });

  it('special + [DESCRIBE, UPDATE]: only special-secured; special + READ+UPDATE: neither', () => {
    expect(allowed(perms, secured, ['DESCRIBE', 'UPDATE'], users.special)).to.equal(false);
    expect(allowed(perms, specialSecured, ['DESCRIBE', 'UPDATE'], users.special)).to.equal(true);
    for (const fv of [secured, specialSecured]) expect(allowed(perms, fv, [...READ, 'UPDATE'], users.special)).to.equal(false);
  });

  it('test_create_entity: only creator and admin may CREATE', () => {
    const e = entityResource('e');
    const expected: Record<string, boolean> = { r: false, w: false, rw: false, special: false, updater: false, creator: true, admin: true };
    for (const [name, u] of Object.entries(users)) expect(allowed(perms, e, ['CREATE'], u), name).to.equal(expected[name]);
    expect(allowed(perms, e, ['CREATE'], null)).to.equal(false);
  });

  it('test_update_entity: only updater and admin may DESCRIBE+UPDATE', () => {
    const e = entityResource('e');
    const expected: Record<string, boolean> = { r: false, w: false, rw: false, special: false, updater: true, creator: false, admin: true };
    for (const [name, u] of Object.entries(users)) expect(allowed(perms, e, ['DESCRIBE', 'UPDATE'], u), name).to.equal(expected[name]);
  });

  describe('the intra-communication bypass does not exist in larder', () => {
    let saved: string | undefined;
    beforeEach(() => {
      saved = process.env.INTRA_COMMUNICATION_BASE64;
      process.env.INTRA_COMMUNICATION_BASE64 = INTRA;
    });
    afterEach(() => {
      if (saved === undefined) delete process.env.INTRA_COMMUNICATION_BASE64;
      else process.env.INTRA_COMMUNICATION_BASE64 = saved;
    });

    it('a user named like the intra-communication value is checked like anyone (Feast would allow all)', () => {
      const intra = user(INTRA);
      for (const fv of [secured, specialSecured]) {
        expect(allowed(perms, fv, ['DESCRIBE'], intra)).to.equal(false);
        expect(allowed(perms, fv, ['UPDATE'], intra)).to.equal(false);
        expect(allowed(perms, fv, ['DESCRIBE', 'UPDATE'], intra)).to.equal(false);
      }
      expect(allowed(perms, entityResource('e'), ['CREATE'], intra)).to.equal(false);
      expect(allowed(perms, entityResource('e'), ['DESCRIBE', 'UPDATE'], intra)).to.equal(false);
      // The Helm chart's constant value gets no bypass either.
      expect(allowed(perms, secured, ['DESCRIBE'], user('aW50cmEtc2VydmVyLWNvbW11bmljYXRpb24='))).to.equal(false);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Exact denial texts and the empty-registry rule (§5.9)
// ---------------------------------------------------------------------------------------------

describe('permissions: denial texts and the empty registry', () => {
  const driver = fvResource('driver_hourly_stats');

  it('a denying policy: the text the Feast client shows, sent as PERMISSION_DENIED', () => {
    const perms = [permission('offline_fv_perm', { types: ['FEATURE_VIEW'], actions: ['READ_OFFLINE'], policy: roles('writer') })];
    let error: unknown;
    try {
      assertPermissions(perms, driver, ['READ_OFFLINE'], user('reader', ['reader']));
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(FeastPermissionError);
    const e = error as FeastPermissionError;
    expect(e.message).to.equal(
      "Permission error:\nPermission offline_fv_perm denied execution of ['READ_OFFLINE'] to FeatureView:driver_hourly_stats: Requires roles ['writer']",
    );
    expect(e.code).to.equal(status.PERMISSION_DENIED);
    expect(e.wireMessage()).to.equal(
      'Flight error: {"module": "feast.errors", "class": "FeastPermissionError", "message": "Permission error:\\n' +
        "Permission offline_fv_perm denied execution of ['READ_OFFLINE'] to FeatureView:driver_hourly_stats: Requires roles ['writer']\"}",
    );
  });

  it('no matching permission: names the actions and the Python class', () => {
    const perms = [permission('fs_only', { types: ['FEATURE_SERVICE'], policy: roles('reader') })];
    const text = (r: ProtectedResource, a: AuthzedAction[] = ['READ_OFFLINE']) => denial(perms, r, a, user('u', ['reader']));
    expect(text(driver)).to.equal(
      "Permission error:\nNo permissions defined to manage [<AuthzedAction.READ_OFFLINE: 'read_offline'>] on <class 'feast.feature_view.FeatureView'>/driver_hourly_stats.",
    );
    expect(text(batchFv('b'), ['WRITE_OFFLINE'])).to.equal(
      "Permission error:\nNo permissions defined to manage [<AuthzedAction.WRITE_OFFLINE: 'write_offline'>] on <class 'feast.batch_feature_view.BatchFeatureView'>/b.",
    );
    expect(text(streamFv('s'))).to.match(/on <class 'feast\.stream_feature_view\.StreamFeatureView'>\/s\.$/);
    expect(text(dsResource(fileSource('driver_stats_source', '/x.parquet')))).to.match(
      /on <class 'feast\.infra\.offline_stores\.file_source\.FileSource'>\/driver_stats_source\.$/,
    );
    expect(text(dsResource(postgresSource('pg', { table: 't' })))).to.match(
      /on <class 'feast\.infra\.offline_stores\.contrib\.postgres_offline_store\.postgres_source\.PostgreSQLSource'>\/pg\.$/,
    );
    expect(text(entityResource('driver'))).to.match(/on <class 'feast\.entity\.Entity'>\/driver\.$/);
  });

  it('the bare class name in policy denials (BatchFeatureView, FileSource, FeatureService)', () => {
    const perms = [permission('all', { policy: roles('writer') })];
    const u = user('u', ['reader']);
    const expectDenied = (r: ProtectedResource, target: string) =>
      expect(denial(perms, r, ['WRITE_OFFLINE'], u)).to.equal(
        `Permission error:\nPermission all denied execution of ['WRITE_OFFLINE'] to ${target}: Requires roles ['writer']`,
      );
    expectDenied(batchFv('b'), 'BatchFeatureView:b');
    expectDenied(streamFv('s'), 'StreamFeatureView:s');
    expectDenied(dsResource(fileSource('src', '/x.parquet')), 'FileSource:src');
    expectDenied(dsResource(postgresSource('pg', { table: 't' })), 'PostgreSQLSource:pg');
    expectDenied(fsResource('svc'), 'FeatureService:svc');
    expectDenied(entityResource('e'), 'Entity:e');
  });

  it('data source classes follow DataSource.from_proto', () => {
    const cls = (extra: Partial<DataSource>) => {
      const c = pythonClassOf(dsResource(fileSource('s', '/x', extra)));
      return `${c.module}.${c.name}`;
    };
    expect(cls({})).to.equal('feast.infra.offline_stores.file_source.FileSource');
    // The registry's embedded copies carry the class path; a fixed type wins over it.
    expect(cls({ dataSourceClassType: 'feast.infra.offline_stores.file_source.FileSource' })).to.equal(
      'feast.infra.offline_stores.file_source.FileSource',
    );
    expect(cls({ type: 'PUSH_SOURCE' })).to.equal('feast.data_source.PushSource');
    expect(cls({ type: 'REQUEST_SOURCE' })).to.equal('feast.data_source.RequestSource');
    expect(cls({ type: 'STREAM_KAFKA' })).to.equal('feast.data_source.KafkaSource');
    expect(cls({ type: 'STREAM_KINESIS' })).to.equal('feast.data_source.KinesisSource');
    expect(cls({ type: 'BATCH_BIGQUERY' })).to.equal('feast.infra.offline_stores.bigquery_source.BigQuerySource');
    expect(cls({ type: 'BATCH_ICEBERG', dataSourceClassType: '' })).to.equal(
      'feast.infra.data_sources.contrib.iceberg_catalog.iceberg_source.IcebergSource',
    );
    expect(cls({ type: 'CUSTOM_SOURCE', dataSourceClassType: 'my.pkg.MySource' })).to.equal('my.pkg.MySource');
    expect(cls({ type: 'CUSTOM_SOURCE', dataSourceClassType: '' })).to.equal('feast.data_source.DataSource');
  });

  it('group, namespace and combined denial explanations', () => {
    const u = user('u', ['r'], ['g0'], ['n0']);
    const perms: Permission[] = [
      permission('by_group', { policy: { kind: 'group', groups: ['g'] } }),
      permission('by_ns', { policy: { kind: 'namespace', namespaces: ['n'] } }),
      permission('by_both', { policy: { kind: 'combined', groups: ['g'], namespaces: ['n'] } }),
    ];
    expect(denial(perms, fsResource('svc'), ['READ_OFFLINE'], u)).to.equal(
      'Permission error:\n' +
        "Permission by_group denied execution of ['READ_OFFLINE'] to FeatureService:svc: User is not added into the permitted groups," +
        "Permission by_ns denied execution of ['READ_OFFLINE'] to FeatureService:svc: User is not added into the permitted namespaces," +
        "Permission by_both denied execution of ['READ_OFFLINE'] to FeatureService:svc: User must be in at least one of the permitted groups or namespaces",
    );
    expect(allowed(perms, fsResource('svc'), ['READ_OFFLINE'], user('u', [], [], ['n']))).to.equal(true);
  });

  it('role names are printed with Python quoting', () => {
    const perms = [permission('q', { policy: roles("o'brien", 'x\\y') })];
    expect(denial(perms, driver, ['READ_OFFLINE'], null)).to.equal(
      `Permission error:\nPermission q denied execution of ['READ_OFFLINE'] to FeatureView:driver_hourly_stats: Requires roles ["o'brien", 'x\\\\y']`,
    );
  });

  it('an empty registry lets any authenticated user through, and nobody else', () => {
    for (const a of [['READ_OFFLINE'], ['WRITE_OFFLINE'], []] as AuthzedAction[][]) {
      expect(allowed([], driver, a, user('alice'))).to.equal(true);
      expect(denial([], driver, a, null)).to.equal(
        'Permission error:\nNo permissions defined and no authenticated user context. Access denied.',
      );
      expect(denial([], driver, a, user(''))).to.equal(
        'Permission error:\nNo permissions defined and no authenticated user context. Access denied.',
      );
    }
  });

  it('with permissions, a missing user is the empty user and is denied by every policy', () => {
    const perms = [permission('p', { policy: roles('reader') })];
    expect(denial(perms, driver, ['READ_OFFLINE'], null)).to.equal(
      "Permission error:\nPermission p denied execution of ['READ_OFFLINE'] to FeatureView:driver_hourly_stats: Requires roles ['reader']",
    );
  });
});
