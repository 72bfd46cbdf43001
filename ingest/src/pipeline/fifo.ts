/**
 * A first-in first-out queue over an array read from a head index, for the pipeline's queues
 * (admission, each device's arrivals, the verifier pool's requests): `Array#shift` moves every
 * element, and thousands wait at once under load. A taken slot is emptied at once, so what was
 * handed on is not kept alive (and promoted by the garbage collector) until the queue drains;
 * the array is compacted when the taken part outgrows the rest.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, left in place; undefined when empty. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  /** Takes the oldest item; undefined when empty. */
  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) this.clear();
    else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
