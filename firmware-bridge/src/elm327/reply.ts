/**
 * Pure parsing of ELM327 replies: the text between a command and the `>` prompt in, status or
 * per-ECU messages out. No I/O, so every reply form an adapter gives is tested as data.
 */
import { AdapterError, NoDataError, ProtocolError } from '../source/errors.js';

/** How the adapter frames what it prints; follows from ATH, ATCAF and the protocol. */
export interface ReplyFormat {
  /** ISO 15765-4 (CAN), where ISO-TP applies; false for J1850, ISO 9141, KWP. */
  readonly can: boolean;
  /** Hex digits of the header printed before each frame with ATH1: 3 (11-bit), 8 (29-bit), 6 (legacy); 0 with ATH0. */
  readonly headerDigits: 0 | 3 | 6 | 8;
  /** ATCAF1 (default): the adapter hides PCI bytes and padding when headers are off. */
  readonly autoFormat: boolean;
}

/** One ECU's reply to one request, ISO-TP frames already joined. */
export interface EcuMessage {
  /** The responding ECU's header (`7E8`, `18DAF110`, `486B10`), or `''` with headers off. */
  readonly ecu: string;
  readonly data: Uint8Array;
}

// Status lines, matched after spaces are removed and case folded (ATS0 prints `NODATA`).
const STATUS: readonly [RegExp, (line: string) => AdapterError][] = [
  [/^NODATA$/, () => new NoDataError('NO DATA: the vehicle did not answer this request')],
  [/^\?$/, () => new AdapterError('unsupported', 'the adapter did not understand the command (?)')],
  [/^STOPPED$/, () => new AdapterError('timeout', 'STOPPED: the adapter was interrupted')],
  [
    /^CANERROR$/,
    () =>
      new AdapterError(
        'bus-error',
        'CAN ERROR: check the CAN wiring, the protocol and the ignition',
      ),
  ],
  [/^BUSERROR$/, () => new AdapterError('bus-error', 'BUS ERROR: check the OBD connector wiring')],
  [/^BUSBUSY$/, () => new AdapterError('bus-error', 'BUS BUSY: too much traffic on the bus')],
  [/^FBERROR$/, () => new AdapterError('bus-error', 'FB ERROR: feedback error on the bus lines')],
  [/^DATAERROR/, () => new ProtocolError('DATA ERROR: the reply failed its checksum')],
  [/^<DATAERROR|<RXERROR/, () => new ProtocolError('a frame of the reply was corrupted')],
  [
    /^BUSINIT:?\.*ERROR$/,
    () =>
      new AdapterError(
        'bus-error',
        'BUS INIT: ERROR: the vehicle did not answer the bus initialisation (ignition on?)',
      ),
  ],
  [
    /^UNABLETOCONNECT$/,
    () =>
      new AdapterError(
        'bus-error',
        'UNABLE TO CONNECT: no OBD-II protocol answered: is the ignition on?',
      ),
  ],
  [
    /^BUFFERFULL$/,
    () =>
      new AdapterError(
        'buffer-full',
        'BUFFER FULL: the adapter could not send the reply fast enough',
      ),
  ],
  [
    /^ACTALERT$|^LVRESET$|^LPALERT$/,
    () => new AdapterError('disconnected', 'the adapter reset or went to sleep'),
  ],
  [/^ERR\d\d$/, (l) => new AdapterError('unsupported', `the adapter reported internal error ${l}`)],
];

/** Progress lines that carry no data. */
const NOISE = /^(SEARCHING\.*|BUSINIT:?\.*(OK)?)$/;

/**
 * Splits a raw reply into its lines, dropping the echoed command (ATE1), progress lines
 * (`SEARCHING...`, `BUS INIT: ...OK`), blank lines and bytes that are not printable ASCII
 * (line noise, the NUL some clones send after a reset).
 */
export function replyLines(raw: string, command?: string): string[] {
  if (typeof raw !== 'string') throw new AdapterError('bad-input', 'raw must be a string');
  const squash = (s: string) => s.replace(/\s+/g, '').toUpperCase();
  const echo = command === undefined ? undefined : squash(command);
  const lines: string[] = [];
  for (const piece of raw.replace(/[^\x20-\x7e\r\n]/g, '').split(/[\r\n]+/)) {
    let line = piece.trim().replace(/^>+/, '').trim();
    if (line === '') continue;
    const s = squash(line);
    if (echo !== undefined && echo !== '' && s === echo && lines.length === 0) continue;
    // Some adapters put SEARCHING... and the first data on the same line.
    const searching = /^SEARCHING\.*\s*/i.exec(line);
    if (searching) line = line.slice(searching[0].length).trim();
    if (line === '' || NOISE.test(squash(line))) continue;
    lines.push(line);
  }
  return lines;
}

/** The typed error a status line stands for, or undefined when the line is data. */
export function statusError(line: string): AdapterError | undefined {
  const s = line.replace(/\s+/g, '').toUpperCase();
  for (const [pattern, make] of STATUS) if (pattern.test(s)) return make(line.trim());
  return undefined;
}

/** Throws the typed error of the first status line (a reply is either data or one status). */
export function throwIfStatus(lines: readonly string[]): void {
  for (const line of lines) {
    const err = statusError(line);
    if (err) throw err;
  }
}

function hexBytes(hex: string, line: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9A-Fa-f]*$/.test(hex)) {
    throw new ProtocolError(`not hex data: ${JSON.stringify(line)}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

interface Pending {
  readonly ecu: string;
  readonly length: number;
  data: number[];
  nextSeq: number;
}

/**
 * Turns the data lines of a reply into one message per ECU response, joining ISO-TP frames in
 * both forms an ELM327 prints them:
 * - raw, with headers on or ATCAF0: `7E8 10 14 49 02 01 31 44 34`, `7E8 21 47 ...` (first
 *   frame, consecutive frames by sequence number, per ECU when several answer at once);
 * - formatted, headers off and ATCAF1: `014`, `0: 49 02 01 31 44 34`, `1: 47 ...`.
 * Spaces are optional (ATS0). Flow-control frames and padding are dropped.
 */
export function assembleMessages(lines: readonly string[], format: ReplyFormat): EcuMessage[] {
  if (!Array.isArray(lines)) throw new AdapterError('bad-input', 'lines must be an array');
  const out: EcuMessage[] = [];
  const pending = new Map<string, Pending>();
  let formatted: Pending | undefined;
  const finish = (p: Pending) => {
    out.push({ ecu: p.ecu, data: Uint8Array.from(p.data.slice(0, p.length)) });
  };
  const pciShown = format.can && (format.headerDigits > 0 || !format.autoFormat);

  for (const line of lines) {
    const compact = line.replace(/\s+/g, '');
    // Formatted multi-frame (ATH0, ATCAF1): a 3-digit length line, then `n:` lines.
    if (format.can && !pciShown) {
      if (/^[0-9A-Fa-f]{3}$/.test(compact)) {
        if (formatted) finish(formatted);
        formatted = { ecu: '', length: parseInt(compact, 16), data: [], nextSeq: 0 };
        continue;
      }
      const cont = /^([0-9A-Fa-f]):(.*)$/.exec(compact);
      if (cont) {
        if (!formatted) throw new ProtocolError(`frame ${cont[1]} without a length line`);
        formatted.data.push(...hexBytes(cont[2]!, line));
        if (formatted.data.length >= formatted.length) {
          finish(formatted);
          formatted = undefined;
        }
        continue;
      }
    }
    const ecu = compact.slice(0, format.headerDigits).toUpperCase();
    let bytes = hexBytes(compact.slice(format.headerDigits), line);
    if (!format.can) {
      // J1850/ISO 9141/KWP with headers: the last byte is the frame checksum.
      if (format.headerDigits > 0) bytes = bytes.subarray(0, Math.max(0, bytes.length - 1));
      out.push({ ecu, data: bytes });
      continue;
    }
    if (!pciShown) {
      out.push({ ecu, data: bytes });
      continue;
    }
    const pci = bytes[0];
    if (pci === undefined) throw new ProtocolError(`empty frame: ${JSON.stringify(line)}`);
    switch (pci >> 4) {
      case 0: {
        const length = pci & 0x0f;
        if (length === 0 || length > bytes.length - 1) {
          throw new ProtocolError(
            `single frame length ${length} does not fit: ${JSON.stringify(line)}`,
          );
        }
        out.push({ ecu, data: bytes.slice(1, 1 + length) });
        break;
      }
      case 1: {
        const length = ((pci & 0x0f) << 8) | (bytes[1] ?? 0);
        const prior = pending.get(ecu);
        if (prior) finish(prior);
        pending.set(ecu, { ecu, length, data: [...bytes.subarray(2)], nextSeq: 1 });
        break;
      }
      case 2: {
        const p = pending.get(ecu);
        if (!p)
          throw new ProtocolError(
            `consecutive frame without a first frame from ${ecu || 'the ECU'}`,
          );
        const seq = pci & 0x0f;
        if (seq !== p.nextSeq) {
          throw new ProtocolError(
            `frame ${seq} from ${ecu || 'the ECU'} where ${p.nextSeq} was due`,
          );
        }
        p.nextSeq = (p.nextSeq + 1) & 0x0f;
        p.data.push(...bytes.subarray(1));
        if (p.data.length >= p.length) {
          finish(p);
          pending.delete(ecu);
        }
        break;
      }
      case 3:
        break; // flow control, from the tester side; nothing to keep
      default:
        throw new ProtocolError(`not an ISO-TP frame: ${JSON.stringify(line)}`);
    }
  }
  if (formatted) {
    throw new ProtocolError(
      `multi-frame reply cut short: ${formatted.data.length} of ${formatted.length} bytes`,
    );
  }
  for (const p of pending.values()) {
    throw new ProtocolError(
      `multi-frame reply from ${p.ecu || 'the ECU'} cut short: ${p.data.length} of ${p.length} bytes`,
    );
  }
  return out;
}

/** ATDPN protocol numbers (`A6` = chosen automatically, protocol 6) and their names. */
export const ELM_PROTOCOLS: Readonly<Record<string, string>> = {
  '1': 'SAE J1850 PWM (41.6 kbaud)',
  '2': 'SAE J1850 VPW (10.4 kbaud)',
  '3': 'ISO 9141-2 (5 baud init, 10.4 kbaud)',
  '4': 'ISO 14230-4 KWP (5 baud init, 10.4 kbaud)',
  '5': 'ISO 14230-4 KWP (fast init, 10.4 kbaud)',
  '6': 'ISO 15765-4 CAN (11 bit ID, 500 kbaud)',
  '7': 'ISO 15765-4 CAN (29 bit ID, 500 kbaud)',
  '8': 'ISO 15765-4 CAN (11 bit ID, 250 kbaud)',
  '9': 'ISO 15765-4 CAN (29 bit ID, 250 kbaud)',
  A: 'SAE J1939 CAN (29 bit ID, 250 kbaud)',
  B: 'USER1 CAN (11 bit ID, 125 kbaud)',
  C: 'USER2 CAN (11 bit ID, 50 kbaud)',
};

/** The reply format that follows from a protocol number and the ATH/ATCAF settings. */
export function replyFormat(protocol: string, headers: boolean, autoFormat = true): ReplyFormat {
  const p = protocol.replace(/^A/i, '').toUpperCase();
  if (!(p in ELM_PROTOCOLS)) throw new AdapterError('bad-input', `unknown protocol ${protocol}`);
  const can = /^[6-9ABC]$/.test(p);
  const wide = /^[79A]$/.test(p);
  const headerDigits = !headers ? 0 : !can ? 6 : wide ? 8 : 3;
  return { can, headerDigits, autoFormat };
}
