/**
 * The MQTT topics between devices and ingestion nodes (docs/protocol.md). A device publishes
 * only to its own batch topic and subscribes only to its own receipt topic; everything a node
 * sends to a device (receipts and resend requests, both signed) goes down that one topic.
 */
export const TOPIC_PREFIX = 'ec/v1';

export function batchTopic(deviceId: string): string {
  return `${TOPIC_PREFIX}/${deviceId}/batch`;
}

export function receiptTopic(deviceId: string): string {
  return `${TOPIC_PREFIX}/${deviceId}/receipt`;
}

/** The wildcard subscription a node consumes batches with. */
export const ALL_BATCHES = `${TOPIC_PREFIX}/+/batch`;

const BATCH_TOPIC = /^ec\/v1\/([0-9a-f]{32})\/batch$/;

/** The device id a batch topic names, or undefined when it is not a batch topic. */
export function deviceOfBatchTopic(topic: string): string | undefined {
  return BATCH_TOPIC.exec(topic)?.[1];
}
