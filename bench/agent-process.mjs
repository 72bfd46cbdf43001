// The agent's pipeline in a process of its own, from the built packages (plain node, no tsx),
// at 100 signals × 10 Hz for 10 s: the RSS an agent on a board would have for this load.
// Prints one JSON line. Run by agent.bench.ts; needs `npm run build` first.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClock, AgentPipeline, BatchSigner, OutboxStore } from '@enginechain/agent';
import { generateDeviceKey } from '@enginechain/shared';

const key = generateDeviceKey();
const outbox = OutboxStore.open({
  path: join(mkdtempSync(join(tmpdir(), 'ec-bench-agent-proc-')), 'outbox.db'),
  deviceId: key.deviceId,
  quotaBytes: 1 << 30,
});
const clock = new AgentClock();
const pipeline = new AgentPipeline({
  signer: new BatchSigner(key, '1HGCM82633A004352', outbox, clock),
  events: {},
  crash: {},
  batching: { maxAgeMs: 10_000, maxSamples: 5_000 },
  rates: {},
});
const rssAtStart = process.memoryUsage().rss;
const cpu0 = process.cpuUsage();
const start = Date.now();
let tick = 0;
let rssMax = 0;
await new Promise((resolve) => {
  const timer = setInterval(() => {
    const t = start + tick * 100;
    for (let s = 0; s < 100; s++) {
      const value = Math.round((50 + 10 * Math.sin(t / 5_000 + s)) * 100) / 100;
      pipeline.push({
        name: `Vehicle.OBD.Signal${s}`,
        value,
        unit: 'km/h',
        time: t,
        sourceTime: t,
        source: 'bench',
      });
    }
    pipeline.tick(t);
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    if (++tick >= 100) {
      clearInterval(timer);
      resolve();
    }
  }, 100);
});
const cpu = process.cpuUsage(cpu0);
outbox.close();
process.stdout.write(
  JSON.stringify({
    rssAtStart,
    rssMax,
    cpuShare: (cpu.user + cpu.system) / 1_000 / (Date.now() - start),
  }) + '\n',
);
