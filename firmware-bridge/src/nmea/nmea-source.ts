import { NmeaDecoder, type NmeaDecoderStats } from './decoder.js';
import {
  SerialLineSource,
  type LineDecoder,
  type SerialLineSourceOptions,
} from './serial-line-source.js';

export interface NmeaSourceOptions extends SerialLineSourceOptions {
  /** Host clock for dating GGA before the first RMC/ZDA; injectable for tests. */
  readonly now?: () => number;
}

/**
 * A GNSS receiver speaking NMEA 0183 on a serial port (USB u-blox, a GPS HAT on a Pi UART, a
 * pty). Readings are `GNSS_SIGNALS`, timed by GNSS UTC. Default 9600 baud (u-blox default;
 * many older receivers use 4800).
 */
export class NmeaSource extends SerialLineSource {
  readonly id: string;
  protected readonly protocolName = 'NMEA 0183';
  private decoder: NmeaDecoder | undefined;

  constructor(options: NmeaSourceOptions) {
    super(options);
    this.id = `nmea:${options.path}`;
  }

  /** Counters of the current (or last) open: lines, decoded, ignored, invalid by code. */
  get stats(): NmeaDecoderStats | undefined {
    return this.decoder?.stats;
  }

  protected newDecoder(): LineDecoder {
    const decoder = new NmeaDecoder({
      sourceId: this.id,
      now: (this.options as NmeaSourceOptions).now,
    });
    this.decoder = decoder;
    return {
      decode: (line) => {
        const { verdict, readings } = decoder.decodeLine(line);
        return { valid: verdict.kind !== 'invalid', readings };
      },
    };
  }
}
