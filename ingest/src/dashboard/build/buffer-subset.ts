/**
 * The few `Buffer` calls shared/src/batch still makes on the verify path (hex and base64url of
 * device ids, UTF-8 lengths), for the browser bundle only: esbuild injects this as the global
 * `Buffer`. Anything else throws, so a new use shows up in the dashboard test, not as wrong
 * bytes. It can go once shared/src/batch uses @noble/hashes' hex helpers (asked for in
 * /work/notes/dashboard-requests.md).
 */
type Encoding = 'hex' | 'base64url' | 'base64' | 'utf8';

function decode(text: string, encoding: Encoding): Uint8Array {
  switch (encoding) {
    case 'hex': {
      // Node's semantics: stop at the first pair that is not hex.
      const out: number[] = [];
      for (let i = 0; i + 1 < text.length; i += 2) {
        const pair = text.slice(i, i + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(pair)) break;
        out.push(Number.parseInt(pair, 16));
      }
      return Uint8Array.from(out);
    }
    case 'base64':
    case 'base64url': {
      const b64 = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
      const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
      return Uint8Array.from(binary, (c) => c.charCodeAt(0));
    }
    case 'utf8':
      return new TextEncoder().encode(text);
  }
}

class BufferBytes extends Uint8Array {
  override toString(encoding: Encoding = 'utf8'): string {
    switch (encoding) {
      case 'hex':
        return Array.from(this, (b) => b.toString(16).padStart(2, '0')).join('');
      case 'base64':
      case 'base64url': {
        let binary = '';
        for (const b of this) binary += String.fromCharCode(b);
        const b64 = btoa(binary);
        return encoding === 'base64'
          ? b64
          : b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      }
      case 'utf8':
        return new TextDecoder().decode(this);
      default:
        throw new TypeError(`Buffer.toString: encoding ${String(encoding)} is not in the subset`);
    }
  }
}

export const Buffer = {
  from(value: unknown, encoding?: Encoding): BufferBytes {
    if (typeof value === 'string') {
      const bytes = decode(value, encoding ?? 'utf8');
      return new BufferBytes(bytes);
    }
    if (value instanceof Uint8Array) return new BufferBytes(value);
    throw new TypeError('Buffer.from: only strings and Uint8Arrays in the dashboard bundle');
  },
  byteLength(text: string, encoding: Encoding = 'utf8'): number {
    return decode(text, encoding).length;
  },
};
