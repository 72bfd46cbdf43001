export * from './errors.js';
export * from './types.js';
export { parseDbc, messageKey, signalByteRange } from './parse.js';
export { bitSteps, type BitStep } from './bit-layout.js';
export * from './decode.js';
export * from './encode.js';
export { referenceDecodeSignal } from './reference.js';
