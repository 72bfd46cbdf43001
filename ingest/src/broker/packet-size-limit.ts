import { Duplex } from 'node:stream';
import { MAX_BATCH_BYTES } from '@enginechain/shared';

/**
 * The largest MQTT packet a connection may send the embedded broker: a batch of
 * MAX_BATCH_BYTES with room for its topic, properties and headers. A batch over MAX_BATCH_BYTES
 * but under this still reaches the pipeline and is refused there as `too-large`, counted
 * against its device.
 */
export const MAX_MQTT_PACKET_BYTES = MAX_BATCH_BYTES + 64 * 1024;

/**
 * Follows the MQTT packets in a byte stream by their fixed headers (one type byte, then the
 * remaining length in one to four 7-bit groups: MQTT 3.1.1 §2.2.3, MQTT 5.0 §2.1.4) without
 * parsing them, so a packet's size is known from its first bytes. aedes buffers a whole
 * packet before looking at it, up to the protocol's 256 MiB, even before CONNECT is
 * authenticated: a few connections declaring huge packets would fill the node's memory.
 */
export class MqttPacketScanner {
  /** Where in a packet the next byte falls. */
  private phase: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private lengthBytes = 0;
  /** Body bytes of the current packet still to come. */
  private remaining = 0;

  constructor(readonly maxPacketBytes: number) {
    if (!Number.isSafeInteger(maxPacketBytes) || maxPacketBytes < 2)
      throw new RangeError(`maxPacketBytes: expected an integer ≥ 2, got ${maxPacketBytes}`);
  }

  /**
   * Takes the next bytes of the stream. Returns why the connection must close (a packet over
   * the limit, or a remaining length longer than four bytes), or undefined while all is well.
   */
  feed(chunk: Uint8Array): string | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.phase === 'body') {
        const take = Math.min(this.remaining, chunk.length - i);
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.phase = 'type';
      } else if (this.phase === 'type') {
        i++;
        this.phase = 'length';
        this.length = 0;
        this.lengthBytes = 0;
      } else {
        const b = chunk[i++] as number;
        this.length += (b & 0x7f) * 128 ** this.lengthBytes;
        this.lengthBytes++;
        if (b & 0x80) {
          if (this.lengthBytes === 4) return 'malformed packet: remaining length over four bytes';
          continue;
        }
        const size = 1 + this.lengthBytes + this.length;
        if (size > this.maxPacketBytes)
          return `packet of ${size} bytes declared, over the ${this.maxPacketBytes}-byte limit`;
        this.remaining = this.length;
        this.phase = this.remaining === 0 ? 'type' : 'body';
      }
    }
    return undefined;
  }
}

/**
 * `connection` as aedes should see it: the same bytes both ways, but the moment a packet's
 * header declares it over `maxPacketBytes` the connection is destroyed, before any of its body
 * is buffered, and `onRefused` is told why. Reads follow the consumer's pace (backpressure
 * passes through).
 */
export function limitMqttPackets(
  connection: Duplex,
  maxPacketBytes: number,
  onRefused: (reason: string) => void,
): Duplex {
  return new PacketSizeLimitedConnection(
    connection,
    new MqttPacketScanner(maxPacketBytes),
    onRefused,
  );
}

class PacketSizeLimitedConnection extends Duplex {
  constructor(
    private readonly inner: Duplex,
    scanner: MqttPacketScanner,
    onRefused: (reason: string) => void,
  ) {
    super({ allowHalfOpen: false });
    inner.on('data', (chunk: Buffer) => {
      const refused = scanner.feed(chunk);
      if (refused !== undefined) {
        inner.pause();
        onRefused(refused);
        // Without an error: the refusal is reported above, and aedes treats a close as a
        // disconnect.
        this.destroy();
        return;
      }
      if (!this.push(chunk)) inner.pause();
    });
    // Nothing flows until the consumer reads.
    inner.pause();
    inner.on('end', () => this.push(null));
    inner.on('error', (err) => this.destroy(err));
    inner.on('close', () => this.destroy());
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, done: (err?: Error | null) => void) {
    this.inner.write(chunk, encoding, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.inner.end(done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.inner.destroy();
    done(err);
  }
}
