import { ReadingQueue, type SignalSource } from '@enginechain/firmware-bridge';

/** A signal source in the test's own process: vehicle speeds the test pushes, stamped now. */
export function pushedSpeedSource(): SignalSource & { push(value: number): void } {
  let queue = new ReadingQueue();
  let open = false;
  return {
    id: 'test:speed',
    get isOpen() {
      return open;
    },
    async open() {
      queue = new ReadingQueue();
      open = true;
    },
    async close() {
      open = false;
      queue.end();
    },
    readings: () => queue,
    push(value: number) {
      queue.push({ name: 'Vehicle.Speed', unit: 'km/h', value, time: Date.now(), source: 'test:speed' }); // prettier-ignore
    },
  };
}
