/** `dingkit people`: the directory names `--to`, `--mention` and task assignees are resolved against. */

import { type CliContext, parse } from './context.js';
import { EXIT } from './exit-codes.js';
import { table } from './io.js';

export const peopleHelp = `Usage: dingkit people

Lists the people directory (names to use with --to, --mention and task assignees).`;

export async function peopleVerb(args: string[], ctx: CliContext): Promise<number> {
  parse(args, {}, false);
  const hub = await ctx.hub();
  const people = await hub.listPeople();
  ctx.out.result(people, () =>
    people.length === 0
      ? 'no people configured'
      : table(
          ['NAME', 'USERID', 'MOBILE', 'UNIONID'],
          people.map((p) => [p.name, p.userId ?? '-', p.mobile ?? '-', p.unionId ?? '-']),
        ),
  );
  return EXIT.ok;
}
