/**
 * `dingkit`: one file per verb in this folder; this one parses the global flags, dispatches, and turns every
 * failure into a message and an exit code (exit-codes.ts). Arguments are parsed with `node:util` parseArgs.
 */

import { isDingTalkError } from '../core/errors.js';
import { redactByName } from '../core/redact.js';
import { DeliveryResolveConflictError } from '../hub/delivery/resolve.js';
import { CliContext, type GlobalFlags, type LocalHubStarter } from './context.js';
import { deliveriesHelp, deliveriesVerb } from './deliveries.js';
import { doctorHelp, doctorVerb } from './doctor.js';
import { emulatorHelp, emulatorVerb } from './emulator.js';
import { eventsHelp, eventsVerb } from './events.js';
import { CliError, EXIT, usage } from './exit-codes.js';
import { fileHelp, fileVerb } from './file.js';
import { hooksHelp, hooksVerb } from './hooks.js';
import { importHelp, importVerb } from './import.js';
import type { CliIo } from './io.js';
import { peopleHelp, peopleVerb } from './people.js';
import { HubApiError, HubUnreachableError } from './remote-hub.js';
import { sendHelp, sendVerb } from './send.js';
import { serveHelp, serveVerb } from './serve.js';
import { taskHelp, taskVerb } from './task.js';
import { terminalSafe } from './terminal-text.js';
import { tokenHelp, tokenVerb } from './token.js';
import { verifyHelp, verifyVerb } from './verify.js';
import { VERSION } from './version.js';

interface Verb {
  summary: string;
  help: string;
  run(args: string[], ctx: CliContext): Promise<number>;
}

const VERBS: Record<string, Verb> = {
  serve: {
    summary: 'run the hub, its HTTP API and the dashboard (npm start)',
    help: serveHelp,
    run: serveVerb,
  },
  emulator: {
    summary: 'run the built-in DingTalk emulator on its own',
    help: emulatorHelp,
    run: emulatorVerb,
  },
  send: { summary: 'send a message to a group or people (bulk: --lines)', help: sendHelp, run: sendVerb },
  task: { summary: 'assign, list, show, edit and move tasks', help: taskHelp, run: taskVerb },
  file: { summary: 'share a file with a group or people', help: fileHelp, run: fileVerb },
  deliveries: {
    summary: 'list deliveries and dead letters; redrive',
    help: deliveriesHelp,
    run: deliveriesVerb,
  },
  events: { summary: 'follow the live change feed (SSE) in the terminal', help: eventsHelp, run: eventsVerb },
  people: { summary: 'list the people directory (names for --to)', help: peopleHelp, run: peopleVerb },
  hooks: {
    summary: 'list hook routes and their last deliveries; post a sample through one',
    help: hooksHelp,
    run: hooksVerb,
  },
  token: {
    summary: 'create, list and revoke API tokens (works on the store)',
    help: tokenHelp,
    run: tokenVerb,
  },
  doctor: {
    summary: 'check config, store, credentials and robot settings (never posts)',
    help: doctorHelp,
    run: doctorVerb,
  },
  import: {
    summary: 'turn a prometheus-webhook-dingtalk config into dingkit config (offline)',
    help: importHelp,
    run: importVerb,
  },
  verify: {
    summary: "check the emulator's contract against this org's DingTalk (read-only unless --group/--me)",
    help: verifyHelp,
    run: verifyVerb,
  },
};

function mainHelp(): string {
  const width = Math.max(...Object.keys(VERBS).map((k) => k.length));
  return `dingkit ${VERSION}: real-time collaboration through DingTalk

Usage: dingkit <command> [options]

Commands:
${Object.entries(VERBS)
  .map(([name, v]) => `  ${name.padEnd(width)}  ${v.summary}`)
  .join('\n')}

Global options:
  --json          machine-readable output on stdout (one JSON document)
  --url URL       hub API base URL (env DINGKIT_URL; default: the configured port on 127.0.0.1)
  --token TOKEN   API token (env DINGKIT_TOKEN; prefer the env var: flags show up in ps)
  --config PATH   config file (env DINGKIT_CONFIG; default ./dingkit.config.{json,yaml,yml})
  -h, --help      help for a command: dingkit <command> --help
  --version

Exit codes: 0 ok, 1 failed, 2 usage, 3 config, 4 hub unreachable, 5 token refused, 6 not found, 7 conflict.`;
}

/** Pulls the global flags out of argv wherever they appear; the rest goes to the verb. */
export function splitGlobals(argv: readonly string[]): {
  flags: GlobalFlags;
  rest: string[];
  version: boolean;
} {
  const flags: GlobalFlags = {
    json: false,
    url: undefined,
    token: undefined,
    config: undefined,
    help: false,
  };
  let version = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (name === '--json') flags.json = true;
    else if (a === '-h' || a === '--help') flags.help = true;
    else if (a === '--version') version = true;
    else if (name === '--url' || name === '--token' || name === '--config') {
      const value = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') throw usage(`${name} needs a value`);
      flags[name.slice(2) as 'url' | 'token' | 'config'] = value;
    } else rest.push(a);
  }
  return { flags, rest, version };
}

interface RunOptions {
  /** Starts an in-process hub when none runs (standalone mode); absent = such commands need a running hub. */
  startLocalHub?: LocalHubStarter;
}

/** Runs one command; resolves to the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIo, o: RunOptions = {}): Promise<number> {
  let ctx: CliContext | undefined;
  let json = argv.includes('--json');
  try {
    const { flags, rest, version } = splitGlobals(argv);
    json = flags.json;
    if (version) {
      io.stdout.write(json ? `${JSON.stringify({ version: VERSION })}\n` : `${VERSION}\n`);
      return EXIT.ok;
    }
    const [name, ...args] = rest;
    if (name === undefined || name === 'help') {
      const topic = name === 'help' ? args[0] : undefined;
      const verb = topic ? VERBS[topic] : undefined;
      if (topic && !verb) throw usage(`unknown command "${topic.slice(0, 30)}"`);
      io.stdout.write(`${verb ? verb.help : mainHelp()}\n`);
      return name === undefined && !flags.help ? EXIT.usage : EXIT.ok;
    }
    const verb = VERBS[name];
    if (!verb) throw usage(`unknown command "${name.slice(0, 30)}" (dingkit --help lists them)`);
    if (flags.help) {
      io.stdout.write(`${verb.help}\n`);
      return EXIT.ok;
    }
    ctx = new CliContext(io, flags, o.startLocalHub);
    return await verb.run(args, ctx);
  } catch (e) {
    const { code, exit, message } = classify(e);
    if (json) io.stdout.write(`${JSON.stringify({ error: { code, message } }, null, 2)}\n`);
    io.stderr.write(`dingkit: ${terminalSafe(message)}\n`);
    if (exit === EXIT.usage && !json) io.stderr.write('(dingkit --help for usage)\n');
    return exit;
  } finally {
    await ctx?.close();
  }
}

function classify(e: unknown): { code: string; exit: number; message: string } {
  if (e instanceof CliError) return { code: e.code, exit: e.exitCode, message: redactByName(e.message) };
  if (e instanceof HubUnreachableError)
    return { code: 'unavailable', exit: EXIT.unavailable, message: e.message };
  if (e instanceof HubApiError) {
    const exit =
      e.status === 401 || e.status === 403
        ? EXIT.auth
        : e.status === 404
          ? EXIT.notFound
          : e.status === 409
            ? EXIT.conflict
            : EXIT.failure;
    const hint = e.status === 401 ? ' (set DINGKIT_TOKEN; create one with: dingkit token create NAME)' : '';
    return { code: e.code, exit, message: `${e.message}${hint}` };
  }
  // Someone settled this parked delivery first, or it is not parked (hub/delivery/resolve.ts).
  if (e instanceof DeliveryResolveConflictError)
    return { code: e.reason, exit: EXIT.conflict, message: e.message };
  if (isDingTalkError(e)) {
    if (e.code === 'CONFIG') return { code: 'config', exit: EXIT.config, message: e.message };
    if (e.code === 'IDEMPOTENCY_CONFLICT')
      return { code: 'idempotency_conflict', exit: EXIT.conflict, message: e.message };
    if (e.code === 'VALIDATION') {
      const conflict = (e as { field?: string }).field === 'state';
      return {
        code: conflict ? 'invalid_transition' : 'invalid_request',
        exit: conflict ? EXIT.conflict : EXIT.failure,
        message: e.message,
      };
    }
    return { code: e.code.toLowerCase(), exit: EXIT.failure, message: e.message };
  }
  return {
    code: 'internal',
    exit: EXIT.failure,
    message: redactByName(e instanceof Error ? e.message : String(e)),
  };
}
