/**
 * A hot query built and compiled by Kysely once, then run many times with new values.
 *
 * Kysely builds a query as an immutable tree and compiles it to SQL on every call: for the statements the hub runs
 * once per message (the enqueue's two inserts) that was a tenth of the CPU it spends accepting a message
 * (bench/hub), while the SQL text never changes. A `QueryShape` builds the query with a marker in place of each
 * value, compiles it, and remembers which parameter is which value; `run` then executes the same SQL with the
 * parameters filled in. The query is still written (and type-checked) with Kysely, and the driver still prepares
 * the statement once and caches it (sqlite-driver.ts).
 *
 * A shape compiles for the dialect of the first store it runs on, so each store's owner keeps its own shapes.
 * Only values may vary: anything that changes the SQL itself (a different column list, an `in (...)` list of
 * another length, a null compared with `is`) must be another shape.
 */

import type { Compilable, CompiledQuery, Kysely, QueryResult, Transaction } from 'kysely';
import type { Database } from './schema.js';

/** Stands for the value named `name` while the shape is built. */
class Marker {
  constructor(readonly name: string) {}
}

type Markers<V> = { readonly [K in keyof V]: V[K] };

export class QueryShape<V extends Record<string, unknown>, R> {
  readonly #build: (db: Kysely<Database>, v: Markers<V>) => Compilable<R>;
  /** The SQL and, per parameter, its value's name or its constant; compiled on the first run. */
  #compiled: { sql: CompiledQuery<R>; slots: Array<{ name: string } | { value: unknown }> } | undefined;

  /**
   * @param build the query, with `v`'s fields where its values go. The fields are those of the first `run`'s
   * values; every one must end up as a parameter (checked), and every later run must give the same fields (typed).
   */
  constructor(build: (db: Kysely<Database>, v: Markers<V>) => Compilable<R>) {
    this.#build = build;
  }

  async run(db: Kysely<Database> | Transaction<Database>, values: V): Promise<QueryResult<R>> {
    const c = this.#compile(db, Object.keys(values));
    const parameters = c.slots.map((s) => ('name' in s ? values[s.name] : s.value));
    return db.executeQuery<R>({ ...c.sql, parameters });
  }

  /** Compiled with the dialect of the first database it runs on: a shape belongs to one store. */
  #compile(db: Kysely<Database> | Transaction<Database>, names: readonly string[]) {
    if (this.#compiled) return this.#compiled;
    const markers = Object.fromEntries(names.map((n) => [n, new Marker(n)])) as unknown as Markers<V>;
    const sql = this.#build(db as Kysely<Database>, markers).compile();
    const seen = new Set<string>();
    const slots = sql.parameters.map((p) => {
      if (p instanceof Marker) {
        seen.add(p.name);
        return { name: p.name };
      }
      return { value: p };
    });
    const unused = names.filter((n) => !seen.has(n));
    if (unused.length > 0)
      throw new Error(`query shape: values not used as parameters: ${unused.join(', ')}`);
    this.#compiled = { sql, slots };
    return this.#compiled;
  }
}
