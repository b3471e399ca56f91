import { defineConfig } from 'tsup';

const common = { target: 'node20', platform: 'node', sourcemap: true, clean: false } as const;

export default defineConfig([
  {
    ...common,
    entry: {
      index: 'src/index.ts',
      express: 'adapters/express.ts',
      koa: 'adapters/koa.ts',
      fastify: 'adapters/fastify.ts',
      hono: 'adapters/hono.ts',
      redis: 'redis/index.ts',
      testing: 'testing/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    // Shared chunks keep one copy of the error classes, so `instanceof` holds across subpaths.
    splitting: true,
  },
  { ...common, entry: { cli: 'testing/cli.ts', 'fga-guard': 'tools/fga-guard.ts' }, format: ['esm'] },
]);
