/**
 * Child process for the SIGKILL test (outbox-store.kill.test.ts): appends, declares drops and
 * marks receipts in a tight loop until it is killed.
 * Usage: node --import tsx append-loop.fixture.ts <file> <deviceId> <seed>
 */
import { QuotaError } from './errors.js';
import { OutboxStore, type OutboxBatchKind } from './outbox-store.js';
import { chainedBatch, seededRandom } from './test-batches.js';

const [path, deviceId, seed] = process.argv.slice(2);
if (path === undefined || deviceId === undefined || seed === undefined) {
  process.stderr.write('usage: append-loop.fixture.ts <file> <deviceId> <seed>\n');
  process.exit(2);
}
const random = seededRandom(Number(seed));
const store = OutboxStore.open({ path, deviceId, quotaBytes: 64 * 1024, resendAfterMs: 1 });
process.stdout.write(`ready ${store.chainHead().nextSeq}\n`);

for (;;) {
  const r = random();
  const kind: OutboxBatchKind = r < 0.1 ? 'trace' : r < 0.3 ? 'event' : 'routine';
  const declaredDrops = store.pendingDrops().map((d) => d.seq);
  const batch = chainedBatch(store.chainHead(), kind, 41 + Math.floor(random() * 8_000), {
    random,
    declaredDrops,
  });
  try {
    store.appendBatch(batch);
  } catch (err) {
    if (!(err instanceof QuotaError)) throw err;
  }
  if (random() < 0.4) {
    const [next] = store.nextToSend(1);
    if (next)
      store.markReceipted(next.seq, next.hash, new TextEncoder().encode(`receipt ${next.seq}`));
  }
}
