import { vinCheckDigit } from '@enginechain/shared';
import { assertBytes, ObdError } from './errors.js';

/**
 * Service 09 (vehicle information): VIN (info type 02), calibration IDs (04), ECU name (0A).
 *
 * ECUs and adapters wrap the same text in many ways, and tools that slice a fixed range of
 * bytes get it wrong (python-OBD, for one, returns a VIN cut short or shifted by a count byte).
 * So these decoders look for the text instead of trusting positions:
 * - CAN: one message `49 02 01` + 17 characters (the `01` is the number of data items);
 * - older buses: five messages `49 02 <seq>` + 4 bytes, the first padded with `00 00 00`;
 * - padding `00`/`01`/`FF`/spaces before or after the characters, an ISO-TP length or count
 *   byte left in front by an adapter in raw mode, messages in any order.
 */

/** The data of a service 09 reply for `infoType`, messages in sequence order, concatenated. */
function infoTypeData(infoType: number, messages: readonly Uint8Array[]): Uint8Array {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new ObdError('bad-input', 'messages must be a non-empty array');
  }
  const parts: { seq: number; data: Uint8Array }[] = [];
  messages.forEach((message, m) => {
    assertBytes(message, `messages[${m}]`);
    let at = -1;
    for (let i = 0; i + 1 < message.length; i++) {
      if (message[i] === 0x49 && message[i + 1] === infoType) {
        at = i;
        break;
      }
    }
    if (at < 0) {
      if (message[0] === 0x7f) throw new ObdError('negative-response', 'ECU refused service 09');
      throw new ObdError('wrong-service', `messages[${m}] holds no 49 ${hex(infoType)} reply`);
    }
    const body = message.subarray(at + 2);
    parts.push({ seq: body[0] ?? 0, data: body.subarray(1) });
  });
  // Older buses number their messages: drop the number, keep their order. CAN sends one
  // message whose first byte is a count (`01`), which some ECUs omit: keep it, it is not text.
  if (parts.length === 1) {
    const only = messages.length === 1 ? messages[0]! : new Uint8Array();
    const at = only.findIndex((b: number, i: number) => b === 0x49 && only[i + 1] === infoType);
    return only.subarray(at + 2);
  }
  parts.sort((a, b) => a.seq - b.seq);
  const total = parts.reduce((n, p) => n + p.data.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p.data, o);
    o += p.data.length;
  }
  return out;
}

const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
const VIN_CHAR = /[0-9A-HJ-NPR-Z]/;

/**
 * The VIN from a service 09 info type 02 reply (all messages of the answering ECU). Throws
 * `bad-vin` when fewer than 17 VIN characters are there (an adapter that cut a multi-frame
 * reply) or when something other than padding sits among them.
 */
export function decodeVinResponse(messages: readonly Uint8Array[]): string {
  const data = infoTypeData(0x02, messages);
  const chars = Array.from(data, (b) => String.fromCharCode(b));
  let start = 0;
  let end = chars.length;
  while (start < end && !VIN_CHAR.test(chars[start]!)) start++;
  while (end > start && !VIN_CHAR.test(chars[end - 1]!)) end--;
  const text = chars.slice(start, end).join('');
  const bad = [...text].findIndex((c) => !VIN_CHAR.test(c));
  if (bad >= 0) {
    throw new ObdError(
      'bad-vin',
      `byte 0x${hex(text.charCodeAt(bad))} inside the VIN characters ${JSON.stringify(text)}`,
    );
  }
  if (text.length < 17) {
    throw new ObdError(
      'bad-vin',
      `only ${text.length} VIN characters (${JSON.stringify(text)}): the reply was cut short`,
    );
  }
  if (text.length === 17) return text;
  // More than 17: padding made of VIN characters (ASCII '0') in front or a stray character at
  // the end. Prefer the window whose check digit matches, else the last 17 (padding goes first).
  const windows: string[] = [];
  for (let i = 0; i + 17 <= text.length; i++) windows.push(text.slice(i, i + 17));
  const checked = windows.filter((w) => w.charAt(8) === vinCheckDigit(w));
  if (checked.length === 1) return checked[0]!;
  return windows[windows.length - 1]!;
}

function printable(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ''))
    .join('')
    .trim();
}

/**
 * The calibration IDs of a service 09 info type 04 reply: 16-byte fields, each ASCII padded
 * with `00`. An empty field is skipped.
 */
export function decodeCalibrationIds(messages: readonly Uint8Array[]): string[] {
  let data = infoTypeData(0x04, messages);
  // CAN: the first byte is the number of IDs (16 bytes each); older buses have no count.
  if (data.length % 16 === 1) data = data.subarray(1);
  const out: string[] = [];
  for (let i = 0; i < data.length; i += 16) {
    const id = printable(data.subarray(i, i + 16));
    if (id) out.push(id);
  }
  return out;
}

/** The ECU name of a service 09 info type 0A reply (`ECM-EngineControl`). */
export function decodeEcuName(messages: readonly Uint8Array[]): string {
  let data = infoTypeData(0x0a, messages);
  if (data.length % 20 === 1) data = data.subarray(1);
  return printable(data).replace(/\s*-\s*/, '-');
}
