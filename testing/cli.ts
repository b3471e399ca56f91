#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createTestKit } from './kit.js';
import type { TestKitSeed } from './seed.js';

const USAGE = 'Usage: fga-guard-testkit [--port 4100] [--host 127.0.0.1] [--seed model.json]';

/**
 * The SDK reads only WORKOS_API_KEY and WORKOS_CLIENT_ID from the environment: host, port and
 * protocol reach it only through its options, so the kit prints the line that passes them. Left
 * unset, the line yields the SDK's defaults (the real API over HTTPS).
 */
const CLIENT_LINE =
  'new WorkOS(process.env.WORKOS_API_KEY, { clientId: process.env.WORKOS_CLIENT_ID, ' +
  'apiHostname: process.env.WORKOS_API_HOSTNAME, port: Number(process.env.WORKOS_API_PORT) || undefined, ' +
  "https: process.env.WORKOS_API_HTTPS !== 'false' })";

/** Bad input ends the process with exit code 2 and a one-line message (no stack). */
function fail(message: string): never {
  process.stderr.write(`fga-guard-testkit: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function readOptions() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: '4100' },
        host: { type: 'string', default: '127.0.0.1' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}

function readSeed(path: string): TestKitSeed {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as TestKitSeed;
  } catch (error) {
    return fail(`cannot read seed ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function main(): Promise<void> {
  const options = readOptions();
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, got ${options.port}`);
  const seed = options.seed === undefined ? undefined : readSeed(options.seed);

  const kit = await createTestKit({ port, host: options.host, seed }).catch((error: unknown) =>
    fail(error instanceof Error ? error.message : String(error)),
  );
  process.stdout.write(
    [
      `fga-guard test kit listening on ${kit.url}`,
      `  clientId: ${kit.clientId}`,
      `  apiKey:   ${kit.apiKey}`,
      `  issuer:   ${kit.issuer}`,
      `  jwksUrl:  ${kit.jwksUrl}`,
      `  machineIssuer: ${kit.machineIssuer}`,
      '',
      `WORKOS_API_KEY=${kit.apiKey}`,
      `WORKOS_CLIENT_ID=${kit.clientId}`,
      // The URL's hostname: an IPv6 host comes in brackets, as the SDK's base URL needs it.
      `WORKOS_API_HOSTNAME=${new URL(kit.url).hostname}`,
      `WORKOS_API_PORT=${kit.port}`,
      'WORKOS_API_HTTPS=false',
      '',
      '// The SDK reads only the first two itself; point a client at the kit with:',
      CLIENT_LINE,
      '',
    ].join('\n'),
  );
  const shutDown = () => {
    void kit.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutDown);
  process.once('SIGTERM', shutDown);
}

void main();
