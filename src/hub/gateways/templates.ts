/**
 * Liquid templates for hook messages, fenced in. Templates are written by operators but fed by whoever can post
 * to a route, and an override file might come from a shared repository, so:
 *
 * - **no disk at render time**: the override files are read once at start from the one directory the route names
 *   (regular files directly in it: no subdirectories, no symlinks, at most 64 KiB each) into memory, and Liquid's
 *   file system is that map. `{% include %}` / `{% render %}` / `{% layout %}` can name only those files; `/etc/passwd`,
 *   `../x` or an absolute path find nothing and the render fails (then the built-in template is used);
 * - **bounded work**: Liquid's own `parseLimit` (template size), `renderLimit` (render time) and `memoryLimit`
 *   (bytes allocated by loops and filters), and a cap on the output's length;
 * - **own properties only** (`ownPropertyOnly`): `{{ labels.constructor }}` reads nothing from prototypes.
 *
 * A template that fails at render time is logged by the caller and the built-in one is used instead, so a bad
 * template never loses an alert.
 */

import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type FS, Liquid, type Template } from 'liquidjs';
import { ConfigError } from '../../core/errors.js';
import type { Locale } from '../locale.js';
import { DEFAULT_TEMPLATES, type TemplateSet } from './default-templates.js';

export type TemplateKind = 'firing' | 'resolved' | 'event' | 'digest';
const KINDS: readonly TemplateKind[] = ['firing', 'resolved', 'event', 'digest'];

export interface TemplateLimits {
  /** Longest template source. @default 65_536 */
  parseLimit: number;
  /** Render time in ms. @default 250 */
  renderLimit: number;
  /** Liquid's allocation budget. @default 4_000_000 */
  memoryLimit: number;
  /** Longest rendered text (characters); the hub splits long messages, but not endlessly. @default 60_000 */
  maxOutput: number;
}

export const DEFAULT_LIMITS: TemplateLimits = {
  parseLimit: 65_536,
  renderLimit: 250,
  memoryLimit: 4_000_000,
  maxOutput: 60_000,
};

const MAX_FILE = 65_536;
const MAX_FILES = 100;
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Liquid's file system over an in-memory map: nothing outside it exists. */
function memoryFs(files: ReadonlyMap<string, string>): FS {
  const get = (p: string) => files.get(p);
  return {
    exists: async (p) => get(p) !== undefined,
    existsSync: (p) => get(p) !== undefined,
    readFile: async (p) => {
      const t = get(p);
      if (t === undefined) throw new Error('no such template');
      return t;
    },
    readFileSync: (p) => {
      const t = get(p);
      if (t === undefined) throw new Error('no such template');
      return t;
    },
    // Names only: a path (`../x`, `/etc/passwd`, `a/b`) is not a template name and resolves to nothing.
    resolve: (_dir, file, ext) => {
      const name = FILE_NAME.test(file) ? file : '\0invalid';
      return files.has(name) || !ext || name.endsWith(ext) ? name : `${name}${ext}`;
    },
    contains: async (_root, file) => files.has(file),
    containsSync: (_root, file) => files.has(file),
    sep: '/',
    dirname: () => '',
  };
}

/** Reads the allow-listed directory's template files (start-up only). */
export function readTemplateDir(dir: string, baseDir: string = process.cwd()): Map<string, string> {
  const abs = resolve(baseDir, dir);
  const out = new Map<string, string>();
  let names: string[];
  try {
    names = readdirSync(abs);
  } catch {
    throw new ConfigError(`gateways templates.dir: cannot read the directory ${abs}`);
  }
  for (const name of names) {
    if (!FILE_NAME.test(name)) continue;
    const path = resolve(abs, name);
    const st = lstatSync(path);
    // A symlink could point anywhere: only plain files that live in the directory itself are templates.
    if (!st.isFile() || st.isSymbolicLink()) continue;
    if (st.size > MAX_FILE) throw new ConfigError(`gateways templates: ${name} is over ${MAX_FILE} bytes`);
    if (out.size >= MAX_FILES)
      throw new ConfigError(`gateways templates: more than ${MAX_FILES} files in ${abs}`);
    out.set(name, readFileSync(path, 'utf8'));
  }
  return out;
}

export interface RenderedText {
  title: string;
  text: string;
  /** The override failed and the built-in template was used (why: `error`). */
  fallback?: { error: string } | undefined;
}

export class HookTemplates {
  readonly #engine: Liquid;
  readonly #builtin: Record<TemplateKind, Template[]>;
  readonly #titles: Record<TemplateKind, Template[]>;
  readonly #override: Partial<Record<TemplateKind, Template[]>>;
  readonly #limits: TemplateLimits;

  /**
   * `files`: the allow-listed directory's contents (readTemplateDir); `use`: which file overrides which kind.
   * A syntax error in an override is a ConfigError at start, naming the file.
   */
  constructor(o: {
    locale: Locale;
    files?: ReadonlyMap<string, string> | undefined;
    use?: Partial<Record<TemplateKind, string | undefined>> | undefined;
    limits?: Partial<TemplateLimits> | undefined;
  }) {
    this.#limits = { ...DEFAULT_LIMITS, ...(o.limits ?? {}) };
    const files = o.files ?? new Map<string, string>();
    this.#engine = new Liquid({
      fs: memoryFs(files),
      root: [''],
      partials: [''],
      layouts: [''],
      relativeReference: false,
      extname: '',
      cache: true,
      ownPropertyOnly: true,
      strictFilters: true,
      parseLimit: this.#limits.parseLimit,
      renderLimit: this.#limits.renderLimit,
      memoryLimit: this.#limits.memoryLimit,
    });
    const set: TemplateSet = DEFAULT_TEMPLATES[o.locale];
    this.#builtin = Object.fromEntries(KINDS.map((k) => [k, this.#engine.parse(set[k])])) as Record<
      TemplateKind,
      Template[]
    >;
    this.#titles = Object.fromEntries(KINDS.map((k) => [k, this.#engine.parse(set.titles[k])])) as Record<
      TemplateKind,
      Template[]
    >;
    this.#override = {};
    for (const k of KINDS) {
      const name = o.use?.[k];
      if (name === undefined) continue;
      const src = files.get(name);
      if (src === undefined)
        throw new ConfigError(`gateways templates.${k}: no file "${name}" in templates.dir`);
      try {
        this.#override[k] = this.#engine.parse(src, name);
      } catch (e) {
        throw new ConfigError(`gateways templates.${k}: ${name}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  }

  /** Renders `kind` with `ctx`; an override that fails falls back to the built-in template. */
  async render(kind: TemplateKind, ctx: Record<string, unknown>): Promise<RenderedText> {
    const title = clip((await this.#bounded(this.#titles[kind], ctx)).trim(), 64) || kind;
    const own = this.#override[kind];
    if (own) {
      try {
        return { title, text: await this.#bounded(own, ctx) };
      } catch (e) {
        const text = await this.#bounded(this.#builtin[kind], ctx);
        return { title, text, fallback: { error: (e as Error).message.split('\n')[0]!.slice(0, 200) } };
      }
    }
    return { title, text: await this.#bounded(this.#builtin[kind], ctx) };
  }

  /** Renders a template of the caller's (tests of the fences, `dingkit hooks` later). */
  async renderSource(source: string, ctx: Record<string, unknown>): Promise<string> {
    return this.#bounded(this.#engine.parse(source), ctx);
  }

  async #bounded(t: Template[], ctx: Record<string, unknown>): Promise<string> {
    const out = String(await this.#engine.render(t, ctx));
    if (out.length > this.#limits.maxOutput) {
      throw new Error(`template output over ${this.#limits.maxOutput} characters`);
    }
    return out.replace(/\n{3,}/g, '\n\n').trim();
  }
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
