/**
 * A small multipart/form-data parser for `/media/upload` (docs/dingtalk.md §6.1). Works on the whole body buffer
 * (bounded by the server's body cap); malformed input yields `undefined`, never a throw.
 */
export interface Part {
  name: string;
  filename: string | undefined;
  contentType: string | undefined;
  data: Buffer;
}

export function boundaryOf(contentType: string): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

export function parseMultipart(body: Buffer, boundary: string): Part[] | undefined {
  if (boundary.length === 0 || boundary.length > 200) return undefined;
  const delim = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delim);
  if (pos < 0) return undefined;
  for (let guard = 0; guard < 1000; guard++) {
    pos += delim.length;
    // `--` after a delimiter ends the body.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const headEnd = body.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) return undefined;
    const head = body.subarray(pos, headEnd).toString('utf8');
    const next = body.indexOf(delim, headEnd + 4);
    if (next < 0) return undefined;
    // The part's data ends before the CRLF that precedes the next delimiter.
    const data = body.subarray(headEnd + 4, next >= 2 ? next - 2 : next);
    const disp = /content-disposition:\s*form-data;([^\r\n]*)/i.exec(head)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disp)?.[1];
    if (name === undefined) return undefined;
    const filename = /\bfilename="([^"]*)"/i.exec(disp)?.[1];
    const contentType = /content-type:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim();
    parts.push({ name, filename, contentType, data });
    pos = next;
  }
  return undefined;
}
