import { z } from 'zod';
import { MAX_EVIDENCE_BYTES } from '@enginechain/shared';

/**
 * The file `enginechain ingest --config` reads (docs/operating.md lists every key): strict, so
 * a misspelt key stops the node with its name instead of being ignored.
 */
export const nodeConfigSchema = z.strictObject({
  origin: z.string().min(1).optional(),
  database: z.string().min(1).optional(),
  mqtt: z.strictObject({ host: z.string(), port: z.number().int().min(0).max(65_535) }).optional(),
  http: z.strictObject({ host: z.string(), port: z.number().int().min(0).max(65_535) }).optional(),
  broker: z.strictObject({ url: z.string().regex(/^(mqtts?|wss?):\/\//), username: z.string().optional(), password: z.string().optional() }).optional(),
  checkpointIntervalMs: z.number().int().min(10).optional(),
  checkpointEveryEntries: z.number().int().min(1).optional(),
  verifierThreads: z.number().int().min(1).max(64).optional(),
  maxBatchesInPipeline: z.number().int().min(1).optional(),
  maxBytesInPipeline: z.number().int().min(1).optional(),
  maxEvidenceBytes: z.number().int().min(1).max(MAX_EVIDENCE_BYTES).optional(),
  mqtts: z.strictObject({ host: z.string(), port: z.number().int().min(0).max(65_535) }).optional(),
  mqttWs: z.strictObject({ host: z.string(), port: z.number().int().min(0).max(65_535) }).optional(),
  mqttWss: z.strictObject({ host: z.string(), port: z.number().int().min(0).max(65_535) }).optional(),
  tls: z.strictObject({ cert: z.string().optional(), key: z.string().optional(), clientCa: z.string().optional() }).optional(),
  allowPlaintext: z.boolean().optional(),
  advertiseBroker: z.string().regex(/^(mqtts?|wss?):\/\//).optional(),
}); // prettier-ignore

export type NodeConfig = z.infer<typeof nodeConfigSchema>;
