import { assertBytes, ObdError } from './errors.js';
import { dtcFromBytes } from './pids.js';

export { dtcFromBytes };

/** The services that return DTCs: 03 stored, 07 pending, 0A permanent. */
export type DtcService = 0x03 | 0x07 | 0x0a;

/**
 * How the ECU framed its answer. On CAN (ISO 15765-4) one message holds a count byte and then
 * every DTC; on the older buses (J1850, ISO 9141, ISO 14230) each message holds exactly three
 * DTCs, padded with 00 00, and there is no count.
 */
export type DtcFraming = 'can' | 'legacy';

const DTC = /^[PCBU][0-3][0-9A-F]{3}$/;

/** `P0301` to its two bytes (the inverse of `dtcFromBytes`). */
export function dtcToBytes(code: string): Uint8Array {
  if (typeof code !== 'string' || !DTC.test(code)) {
    throw new ObdError('bad-input', `code must look like P0301, got ${JSON.stringify(code)}`);
  }
  const letter = 'PCBU'.indexOf(code[0]!);
  const b1 = (letter << 6) | (Number(code[1]) << 4) | parseInt(code[2]!, 16);
  return Uint8Array.of(b1, parseInt(code.slice(3), 16));
}

/**
 * Decodes the DTCs of a service 03/07/0A reply: one message per ECU on CAN, one or more per ECU
 * on the older buses (pass them all). `0000` entries are padding and skipped; a code reported
 * twice is listed once.
 */
export function decodeDtcResponse(
  service: DtcService,
  messages: readonly Uint8Array[],
  framing: DtcFraming,
): string[] {
  if (service !== 0x03 && service !== 0x07 && service !== 0x0a) {
    throw new ObdError('bad-input', 'service must be 0x03, 0x07 or 0x0A');
  }
  if (!Array.isArray(messages)) throw new ObdError('bad-input', 'messages must be an array');
  if (framing !== 'can' && framing !== 'legacy') {
    throw new ObdError('bad-input', "framing must be 'can' or 'legacy'");
  }
  const seen = new Set<string>();
  messages.forEach((message, m) => {
    assertBytes(message, `messages[${m}]`);
    if (message[0] === 0x7f) {
      throw new ObdError('negative-response', `ECU refused service ${service.toString(16)}`);
    }
    if (message[0] !== service + 0x40) {
      throw new ObdError(
        'wrong-service',
        `messages[${m}] starts with ${message[0]?.toString(16) ?? 'nothing'}, expected ${(service + 0x40).toString(16)}`,
      );
    }
    let pairs: Uint8Array;
    if (framing === 'can') {
      if (message.length < 2) throw new ObdError('bad-dtc', `messages[${m}] has no count byte`);
      const count = message[1]!;
      if (2 + 2 * count > message.length) {
        throw new ObdError(
          'bad-dtc',
          `messages[${m}] announces ${count} DTCs but holds ${Math.floor((message.length - 2) / 2)}`,
        );
      }
      pairs = message.subarray(2, 2 + 2 * count);
    } else {
      if ((message.length - 1) % 2 !== 0) {
        throw new ObdError('bad-dtc', `messages[${m}] has an odd number of DTC bytes`);
      }
      pairs = message.subarray(1);
    }
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      if (pairs[i] === 0 && pairs[i + 1] === 0) continue;
      seen.add(dtcFromBytes(pairs[i]!, pairs[i + 1]!));
    }
  });
  return [...seen];
}
