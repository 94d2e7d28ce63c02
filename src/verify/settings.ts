/**
 * Emulator settings as a file: the part of `EmulatorOptions` that says how DingTalk answers where nobody could
 * observe it (docs/emulator.md "Limits", docs/dingtalk.md §12). `dingkit verify --emulator-settings` prints one,
 * `dingkit verify --settings FILE` compares an org's DingTalk against one, and `dingkit emulator --settings FILE`
 * starts an emulator that answers by one. Unknown keys are refused, so a typo cannot silently keep a default.
 */

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { DEFAULT_LIMITS } from '../emulator/state.js';
import type { EmulatorLimits } from '../emulator/types.js';

/** The default Todo-done event type (src/emulator/instance.ts, docs/emulator.md, unverified §8). */
export const DEFAULT_TODO_DONE_EVENT_TYPE = 'todo_task_update';

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const limitsSchema = z
  .object(
    Object.fromEntries(Object.keys(DEFAULT_LIMITS).map((k) => [k, count.optional()])) as Record<
      keyof EmulatorLimits,
      z.ZodOptional<typeof count>
    >,
  )
  .strict();

export const emulatorSettingsSchema = z
  .object({
    limits: limitsSchema.optional(),
    todoDoneEventType: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'letters, digits and _ . : - (max 128)')
      .optional(),
  })
  .strict();

/**
 * @example { limits: { unknownRobotErrcode: 400101, otoMaxUsers: 100 }, todoDoneEventType: 'todo_change' }
 */
export type EmulatorSettings = { limits?: EmulatorLimits; todoDoneEventType?: string };

/** Every setting with its value: the given ones over the emulator's defaults. */
export interface ResolvedSettings {
  limits: Required<EmulatorLimits>;
  todoDoneEventType: string;
}

export function resolveSettings(s: EmulatorSettings = {}): ResolvedSettings {
  const limits = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(s.limits ?? {})) {
    if (typeof v === 'number') limits[k as keyof EmulatorLimits] = v;
  }
  return { limits, todoDoneEventType: s.todoDoneEventType ?? DEFAULT_TODO_DONE_EVENT_TYPE };
}

/** Parses settings JSON; errors name the key, never echo the file. */
export function parseEmulatorSettings(value: unknown, where = 'settings'): EmulatorSettings {
  const r = emulatorSettingsSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue?.path.join('.') || '(root)';
    throw new ConfigError(`${where}: ${path}: ${issue?.message ?? 'invalid'}`);
  }
  const out: EmulatorSettings = {};
  if (r.data.limits) {
    const limits: EmulatorLimits = {};
    for (const [k, v] of Object.entries(r.data.limits))
      if (v !== undefined) limits[k as keyof EmulatorLimits] = v;
    out.limits = limits;
  }
  if (r.data.todoDoneEventType !== undefined) out.todoDoneEventType = r.data.todoDoneEventType;
  return out;
}

export function readEmulatorSettings(path: string): EmulatorSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`settings file ${path}: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`settings file ${path}: not JSON`);
  }
  return parseEmulatorSettings(json, `settings file ${path}`);
}
