/**
 * `/_emulator/client/app.js`: the markdown renderer, then the page logic. One same-origin file, allowed by the
 * page's policy as `script-src 'self'`.
 */
import { CLIENT_APP } from './app-script.js';
import { CLIENT_MARKDOWN } from './markdown.js';

export const CLIENT_SCRIPT = `${CLIENT_MARKDOWN}\n${CLIENT_APP}`;
