/**
 * Boundaries that check themselves (npm test runs this with `npm run check:boundaries`).
 * Imports run one way: domain ← app ← adapters ← compose ← main/cli.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment:
        'src/domain imports only src/domain and decimal.js (pure in-memory arithmetic, for adjusted prices): ' +
        'no other package, no node builtins, no I/O.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { pathNot: ['^src/domain/', '^node_modules/decimal\\.js/'] },
    },
    {
      name: 'app-imports-only-domain',
      comment:
        'src/app imports src/app, src/domain, node:crypto and two pure in-memory packages (lru-cache, ipaddr.js); ' +
        'never an adapter, compose, config or an I/O package (fastify, kysely, ioredis, pg, …): those come in through ports.',
      severity: 'error',
      from: { path: '^src/app/' },
      to: { pathNot: ['^src/(app|domain)/', '^node_modules/(lru-cache|ipaddr\\.js)/', '^(node:)?crypto$'] },
    },
    {
      name: 'no-sideways-adapters',
      comment:
        'An adapter does not import another adapter. The one exception is what several share: ' +
        'the Redis client set-up (adapters/redis/connect.ts), which itself imports no other adapter.',
      severity: 'error',
      from: { path: '^src/adapters/([^/]+)/' },
      to: { path: '^src/adapters/', pathNot: ['^src/adapters/$1/', '^src/adapters/redis/connect\\.ts$'] },
    },
    {
      name: 'adapters-not-composition',
      comment: 'Adapters do not reach back up to the composition root or the entry points.',
      severity: 'error',
      from: { path: '^src/adapters/' },
      to: { path: '^src/(compose|main|cli)\\.ts$' },
    },
    {
      name: 'src-not-test',
      comment: 'Nothing under src imports test code.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve would slip past every rule above.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // node_modules is a symlink in some checkouts: keep packages' paths under node_modules/.
    preserveSymlinks: true,
    enhancedResolveOptions: {
      // src imports './x.js' for './x.ts' (NodeNext); packages such as typebox resolve only through "exports".
      extensionAlias: { '.js': ['.ts', '.js'] },
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      exportsFields: ['exports'],
    },
  },
};
