/**
 * A client process for the SIGKILL tests: opens an SLCAN adapter with `SlcanSource` and reads
 * frames until it is killed, printing `open` once the channel is open and `frames <n>` as they
 * arrive, so the test can kill it mid-stream.
 *
 * Run: node --conditions=source --import tsx kill-reader.test-support.ts <port>
 */
import { SlcanSource } from '@enginechain/firmware-bridge';

const path = process.argv[2];
if (!path) throw new Error('usage: kill-reader.test-support.ts <port>');
const source = new SlcanSource({ path });
await source.open();
process.stdout.write('open\n');
let frames = 0;
for await (const _frame of source.frames()) {
  frames++;
  if (frames % 10 === 0) process.stdout.write(`frames ${frames}\n`);
}
