export { encodeCbor, compareBytes } from './encode.js';
export { decodeCbor, DEFAULT_MAX_BYTES, type CborDecodeOptions } from './decode.js';
export {
  CborTag,
  CborFloat,
  type CborValue,
  type CborKey,
  type CborMap,
  type CborRecord,
} from './types.js';
export {
  WireFormatError,
  WIRE_FORMAT_ERROR_CODES,
  verdictOf,
  type WireFormatErrorCode,
  type Verdict,
} from './wire-format-error.js';
