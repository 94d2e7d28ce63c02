/**
 * Reads a timonwong/prometheus-webhook-dingtalk config (v2: `targets.<name>.{url, secret, mention, message}`,
 * `templates`, `default_message`, `timeout`) and turns it into a dingkit config fragment: per target a robot (its
 * webhook and sign secret), a group sending through it, and an Alertmanager route whose alias keeps the old URL
 * `/dingtalk/<target>/send` working (docs/gateways.md "Moving from prometheus-webhook-dingtalk").
 *
 * Secrets never enter the fragment: each is an `${ENV}` reference, and its value is returned apart (`secrets`) for
 * the caller to write to the operator's file. A robot's webhook URL is a secret too: its access_token is the
 * credential. Error messages name the key and line, never a value (a YAML error would otherwise quote the line).
 *
 * What cannot be carried is listed, each with its key path and why (`notCarried`): Go templates (dingkit's are
 * Liquid), per-target and default messages, mobiles that name no one in the people directory, unknown keys.
 */

import { randomBytes } from 'node:crypto';
import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { parseWebhookUrl } from '../../api/robot/webhook-url.js';

/** The old tool's target names (config.go: TargetValidNameRE). */
const TARGET_NAME = /^[a-zA-Z][a-zA-Z0-9_-]*$/;
/** The old tool's default message: its built-in "ding.link" templates, which dingkit's built-in ones replace. */
const DEFAULT_TITLE = /^\s*{{\s*template\s+"ding\.link\.title"\s+\.\s*}}\s*$/;
const DEFAULT_TEXT = /^\s*{{\s*template\s+"ding\.link\.content"\s+\.\s*}}\s*$/;

const TOP_KEYS = new Set([
  'targets',
  'templates',
  'template',
  'default_message',
  'timeout',
  'no_builtin_template',
]);
const TARGET_KEYS = new Set(['url', 'secret', 'mention', 'message']);

export class ImportError extends Error {}

export interface ImportSecret {
  /** The environment variable the fragment names. */
  env: string;
  value: string;
  /** Where the value came from, e.g. `targets.webhook1.url` or `generated: the hook token of route webhook1`. */
  from: string;
}

export interface NotCarried {
  /** The key in the old config, e.g. `targets.webhook1.message.text`. */
  path: string;
  reason: string;
}

export interface ImportResult {
  /** The dingkit config fragment: `robots`, `groups`, `gateways.routes`. Secrets only as `${ENV}`. */
  config: {
    robots: Record<string, { webhook: string; secret?: string }>;
    groups: Record<string, { robot: string }>;
    gateways: { routes: Array<Record<string, unknown>> };
  };
  secrets: ImportSecret[];
  notCarried: NotCarried[];
}

export interface ImportOptions {
  /** The dingkit people directory (`people` of a dingkit config) to map `mention.mobiles` to names. */
  people?: Record<string, { mobile?: unknown }> | undefined;
  /** Addresses that may use the old URL without credentials (each route's `alias.allowFrom`). @default [] */
  allowFrom?: readonly string[] | undefined;
  /** Makes the routes' hook tokens (tests pass a fixed one). @default 24 random bytes, hex */
  token?: (() => string) | undefined;
}

type Node = ReturnType<Document['get']>;

const scalarOf = (n: unknown): unknown => (isScalar(n) ? n.value : undefined);

function lineOf(doc: Document, lines: LineCounter, path: readonly (string | number)[]): string {
  const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  const at = node?.range?.[0];
  return at === undefined ? '' : ` (line ${lines.linePos(at).line})`;
}

/** Digits only, without China's +86 (the old tool passed mobiles to DingTalk as written). */
function normalMobile(m: string): string {
  return m.replace(/[\s-]/g, '').replace(/^(\+?86)(?=1\d{10}$)/, '');
}

/** `webhook1` → `WEBHOOK1`, `ops-db` → `OPS_DB`: the part of an env name the config's `${NAME}` accepts. */
function envPart(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

export function importPrometheusWebhookDingtalk(source: string, o: ImportOptions = {}): ImportResult {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    // The parser's own message quotes the offending line, which may hold a webhook token: only where, and what kind.
    const at = lines.linePos(first.pos[0]);
    throw new ImportError(
      `not valid YAML${at ? ` at line ${at.line}, column ${at.col}` : ''} (${first.code})`,
    );
  }
  const root = doc.contents;
  if (!isMap(root)) throw new ImportError('the file is not a YAML mapping (expected `targets:` at the top)');
  const where = (...path: Array<string | number>) => lineOf(doc, lines, path);
  const str = (v: Node, path: string): string => {
    if (isScalar(v) && (typeof v.value === 'string' || typeof v.value === 'number')) return String(v.value);
    throw new ImportError(`${path}: expected a string${where(...path.split('.'))}`);
  };

  const result: ImportResult = {
    config: { robots: {}, groups: {}, gateways: { routes: [] } },
    secrets: [],
    notCarried: [],
  };
  const skip = (path: string, reason: string) => result.notCarried.push({ path, reason });

  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '?';
    if (!TOP_KEYS.has(key)) skip(key, 'unknown key: the old tool would refuse it too (UnmarshalStrict)');
  }
  const timeout = root.get('timeout', true);
  if (timeout !== undefined) {
    skip('timeout', 'dingkit has its own send timeout (dispatcher.sendTimeoutMs) and retries; not carried');
  }
  if (scalarOf(root.get('no_builtin_template', true)) === true) {
    skip('no_builtin_template', 'dingkit always has its built-in templates; not carried');
  }
  const templates: string[] = [];
  const tpl = root.get('template', true);
  if (tpl !== undefined) templates.push(str(tpl, 'template'));
  const tpls = root.get('templates', true);
  if (tpls !== undefined) {
    if (!isSeq(tpls)) throw new ImportError(`templates: expected a list of file paths${where('templates')}`);
    tpls.items.forEach((t, i) => {
      templates.push(str(t as Node, `templates.${i}`));
    });
  }
  for (const t of templates) {
    skip(
      `templates: ${t}`,
      'a Go template file; dingkit templates are Liquid (docs/gateways.md "Templates"): rewrite it',
    );
  }
  const defaultMessage = root.get('default_message', true);
  if (defaultMessage !== undefined) messageNotes(defaultMessage, 'default_message', skip, str);

  const targets = root.get('targets', true);
  if (targets === undefined || targets === null)
    throw new ImportError('no `targets:` in the file: nothing to import');
  if (!isMap(targets))
    throw new ImportError(`targets: expected a mapping of target names${where('targets')}`);
  if (targets.items.length === 0) throw new ImportError('targets: empty: nothing to import');

  const peopleByMobile = new Map<string, string>();
  for (const [name, p] of Object.entries(o.people ?? {})) {
    if (p && typeof p.mobile === 'string') peopleByMobile.set(normalMobile(p.mobile), name);
  }
  const token = o.token ?? (() => randomBytes(24).toString('hex'));
  const usedRoutes = new Set<string>();
  const usedEnv = new Set<string>();
  const unique = (base: string, used: Set<string>, sep: string) => {
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}${sep}${n}`;
    used.add(name);
    return name;
  };

  for (const pair of targets.items) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    const path = `targets.${name}`;
    if (!TARGET_NAME.test(name) || name.length > 64) {
      const at = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
      const line = at === undefined ? '' : ` (line ${lines.linePos(at).line})`;
      throw new ImportError(`${path}: not a valid target name (a letter, then letters, digits, _ -)${line}`);
    }
    const t = pair.value as Node;
    if (!isMap(t)) throw new ImportError(`${path}: expected a mapping with url${where('targets', name)}`);
    for (const p of t.items) {
      const k = isScalar(p.key) ? String(p.key.value) : '?';
      if (!TARGET_KEYS.has(k)) skip(`${path}.${k}`, 'unknown key: not carried');
    }
    const urlNode = t.get('url', true);
    if (urlNode === undefined || urlNode === null)
      throw new ImportError(`${path}.url: required${where('targets', name)}`);
    const url = str(urlNode as Node, `${path}.url`);
    let onOapi: boolean;
    try {
      onOapi = parseWebhookUrl(url, 'import').onOapi;
    } catch (e) {
      // The parser's message names what is wrong, never the token.
      const why = e instanceof Error ? e.message.replace(/^webhook: /, '') : 'invalid';
      skip(
        `${path}.url`,
        `not a DingTalk robot webhook dingkit can send to (${why}); the target is not imported`,
      );
      continue;
    }
    const env = unique(envPart(name), usedEnv, '_');
    const routeName = unique(name.toLowerCase(), usedRoutes, '-');
    const robot: { webhook: string; secret?: string } = { webhook: `\${${env}_ROBOT_WEBHOOK}` };
    result.secrets.push({ env: `${env}_ROBOT_WEBHOOK`, value: url, from: `${path}.url` });
    if (!onOapi) {
      skip(
        `${path}.url`,
        'not on oapi.dingtalk.com: imported as given (dingkit posts to that address); check it is meant',
      );
    }
    const secretNode = t.get('secret', true);
    if (secretNode !== undefined && secretNode !== null) {
      const secret = str(secretNode as Node, `${path}.secret`);
      if (secret.startsWith('SEC')) {
        robot.secret = `\${${env}_ROBOT_SECRET}`;
        result.secrets.push({ env: `${env}_ROBOT_SECRET`, value: secret, from: `${path}.secret` });
      } else {
        skip(
          `${path}.secret`,
          'not a DingTalk sign secret (they start with SEC); left out: set robots.<name>.secret yourself',
        );
      }
    }
    result.config.robots[name] = robot;
    result.config.groups[name] = { robot: name };

    const always: string[] = [];
    const mention = t.get('mention', true);
    if (mention !== undefined && mention !== null) {
      if (!isMap(mention))
        throw new ImportError(`${path}.mention: expected a mapping${where('targets', name, 'mention')}`);
      for (const p of mention.items) {
        const k = isScalar(p.key) ? String(p.key.value) : '?';
        if (k !== 'all' && k !== 'mobiles') skip(`${path}.mention.${k}`, 'unknown key: not carried');
      }
      if (scalarOf(mention.get('all', true)) === true) always.push('all');
      const mobiles = mention.get('mobiles', true);
      if (mobiles !== undefined && mobiles !== null) {
        if (!isSeq(mobiles))
          throw new ImportError(
            `${path}.mention.mobiles: expected a list${where('targets', name, 'mention')}`,
          );
        mobiles.items.forEach((m, i) => {
          const mobile = str(m as Node, `${path}.mention.mobiles.${i}`);
          const person = peopleByMobile.get(normalMobile(mobile));
          if (person !== undefined) always.push(person);
          else {
            skip(
              `${path}.mention.mobiles.${i}`,
              `${mobile} is no one in the people directory${o.people ? '' : ' (none given: --people)'}; add a person with this mobile and name them in mentions.always`,
            );
          }
        });
      }
      if (always.length > 0) {
        skip(
          `${path}.mention`,
          'carried as mentions.always, on firing messages only: dingkit mentions no one on resolved ones',
        );
      }
    }
    const message = t.get('message', true);
    if (message !== undefined && message !== null) messageNotes(message, `${path}.message`, skip, str);

    const hookToken = `${env}_HOOK_TOKEN`;
    result.secrets.push({
      env: hookToken,
      value: token(),
      from: `generated: the hook token of route ${routeName}`,
    });
    const allowFrom = [...(o.allowFrom ?? [])];
    result.config.gateways.routes.push({
      name: routeName,
      kind: 'alertmanager',
      auth: { type: 'bearer', token: `\${${hookToken}}` },
      alias: { target: name, allowFrom },
      targets: { groups: [name] },
      ...(always.length > 0 ? { mentions: { always: [...new Set(always)] } } : {}),
    });
  }
  return result;
}

/** A `message: {title, text}` block: the old defaults map to dingkit's built-in templates; anything else is Go. */
function messageNotes(
  node: Node,
  path: string,
  skip: (path: string, reason: string) => void,
  str: (v: Node, path: string) => string,
): void {
  if (!isMap(node)) throw new ImportError(`${path}: expected a mapping with title and text`);
  for (const p of node.items) {
    const k = isScalar(p.key) ? String(p.key.value) : '?';
    if (k !== 'title' && k !== 'text') {
      skip(`${path}.${k}`, 'unknown key: not carried');
      continue;
    }
    const v = str(p.value as Node, `${path}.${k}`);
    const builtin = k === 'title' ? DEFAULT_TITLE : DEFAULT_TEXT;
    if (!builtin.test(v)) {
      skip(
        `${path}.${k}`,
        'a Go template; dingkit uses its built-in templates here: write a Liquid one in templates.dir to change it',
      );
    }
  }
}
