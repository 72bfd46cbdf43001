export type {
  BatchKind,
  BatchPayload,
  BatchClock,
  ClockSource,
  ClockJumpRecord,
  SignalColumn,
  ColumnValues,
  BatchEvent,
  EventPriority,
  TraceReference,
  DroppedBatch,
  BatchSample,
} from './types.js';
export {
  MAX_BATCH_BYTES,
  BATCH_CONTENT_TYPE,
  ZERO_HASH,
  batchHash,
  signBatch,
  decodeBatch,
  verifyBatch,
  buildBatchPayload,
  type DecodedBatch,
  type BatchHeader,
  type BatchPayloadInput,
} from './signed-batch.js';
export { columnsFromSamples, samplesFromColumns, sampleCount, scaledToNumber } from './columns.js';
export {
  BATCH_FORMAT_VERSION,
  PAYLOAD_KEY,
  COLUMN_KEY,
  COLUMN_TYPE,
  EVENT_KEY,
  DROPPED_KEY,
} from './payload-codec.js';
export { readPayloadColumns, type PayloadColumn } from './payload-reader.js';
