/**
 * The MQTT topics of one device (docs/protocol.md §2). The device publishes only to its batch
 * topic. It subscribes to its receipt topic, on which the node sends signed receipts and
 * signed resend requests, and to its control topic, reserved for node messages that are not
 * about one batch (a resend request may come on either). A broker whose ACL grants only the
 * receipt topic (the node's embedded broker today) refuses the control subscription; the
 * transport carries on without it.
 */
export const TOPIC_PREFIX = 'ec/v1';

export interface DeviceTopics {
  readonly batch: string;
  readonly receipt: string;
  readonly control: string;
}

export function deviceTopics(deviceId: string): DeviceTopics {
  return {
    batch: `${TOPIC_PREFIX}/${deviceId}/batch`,
    receipt: `${TOPIC_PREFIX}/${deviceId}/receipt`,
    control: `${TOPIC_PREFIX}/${deviceId}/control`,
  };
}
