/**
 * `dingkit import prometheus-webhook-dingtalk <config.yml>`: prints the dingkit config fragment for an old
 * prometheus-webhook-dingtalk config (robots, groups, alertmanager routes with the old URL as alias) and lists what
 * it could not carry (import/prometheus-webhook-dingtalk.ts). Works offline on files; talks to no hub.
 *
 * Secrets (the robots' webhook URLs and sign secrets, the generated hook tokens) are never printed: the fragment
 * names them `${ENV}`, and their values go to `--secrets-file` (created new, mode 0600) or nowhere, with a note
 * saying which variables to set.
 */

import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { hookAliasSchema } from '../hub/gateways/config.js';
import type { CliContext } from './context.js';
import { parse } from './context.js';
import { CliError, EXIT, usage } from './exit-codes.js';
import {
  ImportError,
  type ImportResult,
  importPrometheusWebhookDingtalk,
} from './import/prometheus-webhook-dingtalk.js';

export const importHelp = `Usage: dingkit import prometheus-webhook-dingtalk <config.yml> [options]

Turns a prometheus-webhook-dingtalk (v2) config into a dingkit config fragment: per target a robot, a group
and an alertmanager route that also answers the old URL /dingtalk/<target>/send. Prints the fragment (YAML) on
stdout and, on stderr, what could not be carried (Go templates, custom messages, unknown mobiles, unknown keys).
Secrets are never printed: the fragment names them \${ENV}.

Options:
  --secrets-file PATH   write the secret values there as NAME=value lines (a new file, mode 0600)
  --people PATH         a dingkit config whose people map mention.mobiles to names (values are not expanded)
  --allow-from ADDR     an address or CIDR range that may post to the old URLs without credentials
                        (repeatable; default: none, so Alertmanager must send the route's token)

Exit codes: 0 imported, 2 usage, 3 the old config is malformed, 6 a file not found, 7 --secrets-file exists.`;

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(EXIT.notFound, `${what} ${path}: no such file`, 'not_found');
    throw new CliError(EXIT.failure, `${what} ${path}: cannot be read (${code ?? 'error'})`);
  }
}

function peopleOf(path: string): Record<string, { mobile?: unknown }> {
  let doc: unknown;
  try {
    doc = parseYaml(readText(path, '--people'));
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(EXIT.config, `--people ${path}: not valid YAML or JSON`, 'config');
  }
  const people = (doc as { people?: unknown } | null)?.people;
  if (people === undefined) return {};
  if (!people || typeof people !== 'object') {
    throw new CliError(EXIT.config, `--people ${path}: people is not a mapping`, 'config');
  }
  return people as Record<string, { mobile?: unknown }>;
}

/** NAME=value lines, in a file that must not exist yet, readable by its owner only. */
function writeSecrets(path: string, r: ImportResult): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new CliError(
        EXIT.conflict,
        `--secrets-file ${path} exists: give a new path (it is never overwritten)`,
        'exists',
      );
    }
    throw new CliError(EXIT.failure, `--secrets-file ${path}: cannot be created (${code ?? 'error'})`);
  }
  try {
    writeSync(
      fd,
      `# dingkit import prometheus-webhook-dingtalk: secrets for the imported routes. Keep private.\n`,
    );
    for (const s of r.secrets) writeSync(fd, `# ${s.from}\n${s.env}=${s.value}\n`);
  } finally {
    closeSync(fd);
  }
}

export async function importVerb(args: string[], ctx: CliContext): Promise<number> {
  const { values: v, positionals } = parse(args, {
    'secrets-file': { type: 'string' },
    people: { type: 'string' },
    'allow-from': { type: 'string', multiple: true },
  });
  const [format, file, ...rest] = positionals;
  if (format !== 'prometheus-webhook-dingtalk') {
    throw usage(
      format === undefined
        ? 'name what to import from: dingkit import prometheus-webhook-dingtalk <config.yml>'
        : `cannot import from "${format.slice(0, 40)}" (known: prometheus-webhook-dingtalk)`,
    );
  }
  if (file === undefined || rest.length > 0) throw usage('give exactly one config file to import');
  const allowFrom = v['allow-from'] ?? [];
  const checked = hookAliasSchema.safeParse({ target: 'x', allowFrom });
  if (!checked.success) {
    const i = checked.error.issues[0];
    throw usage(`--allow-from ${String(allowFrom[Number(i?.path[1])] ?? '').slice(0, 64)}: ${i?.message}`);
  }
  const source = readText(resolve(ctx.io.cwd, file), 'the config');
  const people = v.people === undefined ? undefined : peopleOf(resolve(ctx.io.cwd, v.people));

  let r: ImportResult;
  try {
    r = importPrometheusWebhookDingtalk(source, { people, allowFrom });
  } catch (e) {
    if (e instanceof ImportError) throw new CliError(EXIT.config, `${file}: ${e.message}`, 'config');
    throw e;
  }
  if (r.config.gateways.routes.length === 0) {
    const why = r.notCarried.map((n) => `${n.path}: ${n.reason}`).join('; ');
    throw new CliError(
      EXIT.config,
      `${file}: no target could be imported (${why.slice(0, 1_000)})`,
      'config',
    );
  }
  const secretsFile = v['secrets-file'] === undefined ? undefined : resolve(ctx.io.cwd, v['secrets-file']);
  if (secretsFile !== undefined) writeSecrets(secretsFile, r);

  const env = r.secrets.map((s) => ({ name: s.env, from: s.from }));
  ctx.out.result(
    { config: r.config, env, notCarried: r.notCarried, ...(secretsFile ? { secretsFile } : {}) },
    () =>
      `# dingkit config fragment imported from ${file} (merge into dingkit.config.yaml)\n` +
      `# Old URLs keep working: POST /dingtalk/<target>/send reaches each route (docs/gateways.md).\n${stringify(r.config)}`,
  );
  if (secretsFile !== undefined) {
    ctx.out.note(`Secrets written to ${secretsFile} (mode 0600): load them into dingkit's environment.`);
  } else {
    ctx.out.note('Set these environment variables before dingkit serve (or rerun with --secrets-file PATH):');
    for (const s of env) {
      ctx.out.note(
        `  ${s.name}  ${s.from.startsWith('generated') ? 'a new random token of 16+ characters (openssl rand -hex 24)' : `the value of ${s.from} in ${file}`}`,
      );
    }
  }
  const tokens = env.filter((s) => s.name.endsWith('_HOOK_TOKEN')).map((s) => s.name);
  ctx.out.note(
    allowFrom.length > 0
      ? `The old URLs take requests from ${allowFrom.join(', ')} without credentials; anyone else needs the route's token.`
      : `The old URLs need the route's token: add http_config.authorization (Bearer, ${tokens.join(', ')}) to Alertmanager's webhook_configs, or rerun with --allow-from ADDR.`,
  );
  if (r.notCarried.length > 0) {
    ctx.out.note(`Not carried (${r.notCarried.length}):`);
    for (const n of r.notCarried) ctx.out.note(`  - ${n.path}: ${n.reason}`);
  }
  return EXIT.ok;
}
