/**
 * The languages the hub speaks. A chat reply is in the language of the command it answers (inbound/commands.ts
 * tells: Chinese when the command is written in Chinese); what the hub says unasked (announcements, reminders,
 * escalations) is in the configured `locale`.
 *
 * Each area keeps its texts in one catalogue module (inbound/replies.ts, tasks/texts.ts): one interface, one
 * object per locale, so the compiler refuses a text present in one language and missing in the other, and
 * `catalogue.test.ts` checks that none is left empty or untranslated.
 */

export const LOCALES = ['en', 'zh-CN'] as const;

export type Locale = (typeof LOCALES)[number];

/** One object of texts per locale. */
export type Catalogue<T> = { readonly [L in Locale]: T };
