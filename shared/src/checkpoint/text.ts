/** Small text and base64 helpers for notes and checkpoints; no Node APIs (atob/btoa are global). */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes standard padded base64, or returns undefined. `canonical` also refuses non-zero
 * padding bits, so exactly one text encodes each value (Go's base64.StdEncoding, used by
 * sumdb/note for keys and signatures, accepts them, hence the option).
 */
export function decodeBase64(text: string, canonical: boolean): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  if (canonical && encodeBase64(bytes) !== text) return undefined;
  return bytes;
}

export function encodeBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True for text that is valid Unicode (encodes to UTF-8) without ASCII control characters but "\n". */
export function isCleanText(text: string): boolean {
  return !LONE_SURROGATE.test(text) && !hasControl(text, true);
}

/** A C2SP key name: non-empty, well-formed, no Unicode whitespace, no "+". */
export function isValidKeyName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    !LONE_SURROGATE.test(name) &&
    !/[\s+]/u.test(name) &&
    !hasControl(name, false)
  );
}

/** ASCII control characters (below 0x20), optionally allowing "\n". */
function hasControl(text: string, allowNewline: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && !(allowNewline && c === 0x0a)) return true;
  }
  return false;
}

export const utf8 = new TextEncoder();
