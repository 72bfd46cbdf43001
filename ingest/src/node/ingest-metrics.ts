import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PipelineAdmission } from '../pipeline/pipeline-admission.js';

/** The node's Prometheus metrics (served at /metrics). */
export class IngestMetrics {
  readonly registry = new Registry();
  readonly accepted = new Counter({
    name: 'enginechain_ingest_batches_accepted_total',
    help: 'Batches verified, stored and logged',
    registers: [this.registry],
  });
  readonly duplicates = new Counter({
    name: 'enginechain_ingest_batches_duplicate_total',
    help: 'Batches received again after they were logged',
    registers: [this.registry],
  });
  readonly rejections = new Counter({
    name: 'enginechain_ingest_rejections_total',
    help: 'Refused, quarantined or flagged batches and refused broker operations, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly mqttAuthRefusals = new Counter({
    name: 'enginechain_ingest_mqtt_auth_refusals_total',
    help: 'Refused MQTT CONNECTs by code (docs/errors.md)',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly alerts = new Counter({
    name: 'enginechain_ingest_alerts_total',
    help: 'Quarantined batches that show a second history for a device (fork, bad-prev): alert on any',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly resendRequests = new Counter({
    name: 'enginechain_ingest_resend_requests_total',
    help: 'Signed resend requests sent to devices for the seqs missing before held batches',
    registers: [this.registry],
  });
  readonly receipts = new Counter({
    name: 'enginechain_ingest_receipts_total',
    help: 'Signed receipts sent',
    registers: [this.registry],
  });
  readonly receiptLatency = new Histogram({
    name: 'enginechain_ingest_receive_to_receipt_seconds',
    help: 'Time from receiving a batch to sending its receipt',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });
  readonly logSize = new Gauge({
    name: 'enginechain_ingest_log_size',
    help: 'Leaves in the sidechain log',
    registers: [this.registry],
  });
  readonly checkpointTime = new Gauge({
    name: 'enginechain_ingest_checkpoint_timestamp_seconds',
    help: 'Unix time of the latest signed checkpoint',
    registers: [this.registry],
  });
  readonly connectedDevices = new Gauge({
    name: 'enginechain_ingest_connected_devices',
    help: 'Devices connected to the embedded broker',
    registers: [this.registry],
  });

  /** Gauges of the pipeline's admission: batches and bytes in the pipeline, and waiting. */
  observePipeline(
    admission: Pick<PipelineAdmission, 'inPipeline' | 'bytesInPipeline' | 'waiting'>,
  ): void {
    const gauges: [name: string, help: string, value: () => number][] = [
      ['enginechain_ingest_pipeline_batches', 'Batches received and not yet settled (verified, sequenced, committed or refused)', () => admission.inPipeline],
      ['enginechain_ingest_pipeline_bytes', 'Bytes of the batches received and not yet settled', () => admission.bytesInPipeline],
      ['enginechain_ingest_pipeline_waiting', 'Batches held back because the pipeline is at its limit (senders are being slowed)', () => admission.waiting],
    ]; // prettier-ignore
    for (const [name, help, value] of gauges) {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(value());
        },
      });
    }
  }

  async acceptedCount(): Promise<number> {
    return (await this.accepted.get()).values[0]?.value ?? 0;
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'enginechain_ingest_' });
  }
}
